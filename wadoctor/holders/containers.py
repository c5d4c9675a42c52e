"""Which container a process runs in, named as its runtime names it, without a daemon call.

The id comes from the process's cgroup path; name and image from the files the runtime keeps
on the host, read only (each runtime's layout is one row of RUNTIMES). Where the host keeps
nothing readable, the id alone is shown.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from wadoctor.core.model import Container

# cgroup v1 (cgroupfs: /docker/<id>; systemd: docker-<id>.scope), cgroup v2, Podman
# (libpod-<id>), CRI-O (crio-<id>), containerd and Kubernetes (kubepods...<id>).
_CGROUP_ID = re.compile(r"(?:docker[-/]|containerd[-/]|libpod-|crio-|cri-containerd-|kubepods.*?[-/])"
                        r"([0-9a-f]{64}|[0-9a-f]{12,63})")
_KUBE_POD = re.compile(r"kubepods")
STATE_CAP = 4 << 20  # a runtime's state file larger than this is not read


def _load(path: str) -> Any:
    try:
        with open(path, "rb") as handle:
            return json.loads(handle.read(STATE_CAP))
    except (OSError, ValueError):
        return None


def _docker(full_id: str) -> Container | None:
    root = (_load("/etc/docker/daemon.json") or {}).get("data-root") or "/var/lib/docker"
    config = _load(os.path.join(root, "containers", full_id, "config.v2.json"))
    if not isinstance(config, dict):
        return None
    host = _load(os.path.join(root, "containers", full_id, "hostconfig.json"))
    restart = host.get("RestartPolicy") if isinstance(host, dict) else None
    policy = restart.get("Name") if isinstance(restart, dict) else None
    return Container(full_id[:12], (config.get("Name") or "").lstrip("/") or None,
                     (config.get("Config") or {}).get("Image"), "docker",
                     None if policy is None else policy not in ("", "no"))


def _podman(full_id: str) -> Container | None:
    for root in ("/var/lib/containers/storage", "/run/containers/storage"):
        listing = _load(os.path.join(root, "overlay-containers", "containers.json"))
        for row in listing if isinstance(listing, list) else []:
            if isinstance(row, dict) and row.get("id") == full_id:
                names = row.get("names") or [None]
                return Container(full_id[:12], names[0], (row.get("metadata") and _image_of(row)), "podman")
    return None


def _image_of(row: dict[str, Any]) -> str | None:
    try:
        return json.loads(row["metadata"]).get("image-name")
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def _containerd(full_id: str) -> Container | None:
    """containerd's task bundles; Kubernetes writes the pod and container names as annotations."""
    for namespace in ("k8s.io", "moby", "default"):
        spec = _load(f"/run/containerd/io.containerd.runtime.v2.task/{namespace}/{full_id}/config.json")
        if isinstance(spec, dict):
            notes = spec.get("annotations") or {}
            pod, name = notes.get("io.kubernetes.cri.sandbox-name"), notes.get("io.kubernetes.cri.container-name")
            label = f"{pod}/{name}" if pod and name else pod or name
            return Container(full_id[:12], label, notes.get("io.kubernetes.cri.image-name"),
                             "kubernetes" if pod else "containerd", True if pod else None)
    return None


# One row per runtime, tried in order: where each keeps a container's name and image.
RUNTIMES: tuple[Callable[[str], Container | None], ...] = (_docker, _podman, _containerd)


@lru_cache(maxsize=256)
def describe(full_id: str) -> Container:
    for runtime in RUNTIMES:
        found = runtime(full_id)
        if found is not None:
            return found
    return Container(full_id[:12])


def container_of(pid: int, text: str) -> Container | None:
    """The container a process runs in, when its cgroup (`text`) names one."""
    match = _CGROUP_ID.search(text)
    if match is None:
        return None
    found = describe(match[1])
    if found.name is None and _KUBE_POD.search(text):
        return Container(found.id, _pod_name(pid), found.image, "kubernetes", True)
    return found


def _pod_name(pid: int) -> str | None:
    """Kubernetes sets HOSTNAME to the pod's name in every container's environment."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            for item in handle.read().split(b"\0"):
                if item.startswith(b"HOSTNAME="):
                    return item[9:].decode(errors="replace") or None
    except OSError:
        pass
    return None
