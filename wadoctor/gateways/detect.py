"""Recognising a gateway's application folder from what it keeps there.

Read in order of certainty: the gateway's own `package.json` or `go.mod`, then a compose
file's `image:`, then a library the app depends on (whatsapp-web.js, venom-bot). Only files
already listed by discovery are opened, each capped, so a folder that is not an app costs
nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from wadoctor.gateways.known import GATEWAYS
from wadoctor.gateways.layout import Gateway
from wadoctor.stores.files import read_capped

MANIFEST_CAP = 1 << 20
COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
MARKERS = frozenset({"package.json", "go.mod", *COMPOSE_FILES})
IMAGE = re.compile(r"""^\s*image:\s*["']?([^\s"'#]+)""", re.MULTILINE)
MODULE = re.compile(r"^module\s+(\S+)", re.MULTILINE)


@dataclass(frozen=True)
class AppFolder:
    """A folder recognised as a gateway's application folder."""

    path: Path
    gateway: Gateway
    version: str | None
    evidence: str


def detect(path: Path, names: Iterable[str]) -> AppFolder | None:
    """The gateway whose application folder `path` is, given the names it holds."""
    present = MARKERS.intersection(names)
    if not present:
        return None
    package = _json(path / "package.json") if "package.json" in present else None
    for gateway in GATEWAYS:  # an app that is a gateway, before one that uses a library
        if found := _own_package(path, gateway, package, present) or _image(path, gateway, present):
            return found
    for gateway in GATEWAYS:
        if found := _dependency(path, gateway, package):
            return found
    return None


def _json(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(read_capped(path, MANIFEST_CAP))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _text(path: Path) -> str:
    try:
        return read_capped(path, MANIFEST_CAP).decode("utf-8", "replace")
    except OSError:
        return ""


def _own_package(path: Path, gateway: Gateway, package: dict[str, object] | None,
                 present: set[str]) -> AppFolder | None:
    if package is not None and package.get("name") in gateway.packages:
        version = package.get("version")
        return AppFolder(path, gateway, version if isinstance(version, str) else None,
                         f"package.json names {package['name']}")
    if "go.mod" in present and (module := MODULE.search(_text(path / "go.mod"))):
        if module[1] in gateway.packages:
            return AppFolder(path, gateway, None, f"go.mod module {module[1]}")
    return None


def _image(path: Path, gateway: Gateway, present: set[str]) -> AppFolder | None:
    for name in COMPOSE_FILES:
        if name not in present:
            continue
        for reference in IMAGE.findall(_text(path / name)):
            image, tag = _split_image(reference)
            if image in gateway.images:
                return AppFolder(path, gateway, tag, f"{name} runs image {image}")
    return None


def _split_image(reference: str) -> tuple[str, str | None]:
    """`ghcr.io/org/app:1.2@sha256:...` -> ("org/app", "1.2"): registry, tag and digest apart."""
    reference = reference.split("@", 1)[0]
    first, _, rest = reference.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        reference = rest
    name, _, tag = reference.rpartition(":") if ":" in reference.rsplit("/", 1)[-1] else (reference, "", "")
    return name, tag or None


def _dependency(path: Path, gateway: Gateway, package: dict[str, object] | None) -> AppFolder | None:
    if package is None:
        return None
    for section in ("dependencies", "devDependencies"):
        deps = package.get(section)
        if not isinstance(deps, dict):
            continue
        for dependency in gateway.packages:
            if dependency in deps:
                installed = _json(path / "node_modules" / dependency / "package.json") or {}
                version = installed.get("version") or deps[dependency]
                return AppFolder(path, gateway, version if isinstance(version, str) else None,
                                 f"package.json depends on {dependency}")
    return None
