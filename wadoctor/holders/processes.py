"""One pass over the process table, gathering only what holder evidence needs.

psutil gives names, command lines, working folders and start times; open descriptors are
read straight from /proc/<pid>/fd and kept only when they point under the folders being
checked, so a busy server with thousands of descriptors costs little memory. Processes that
vanish or refuse inspection mid-scan are counted, never fatal.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import psutil

# Runtimes a gateway runs in: only these are tied to a session by their command line or
# environment (a shell or an editor naming the folder proves nothing).
RUNTIMES = re.compile(r"^(node|nodejs|bun|deno|python[0-9.]*|pypy[0-9.]*|java|ts-node|tsx|go|main)$")
# ...and only JavaScript ones by their working folder: a Baileys server keeps no file open, so
# its folder is the evidence; Python and Go gateways keep their SQLite store open instead, and
# every Python tool run from a project folder would otherwise "hold" the sessions below it.
JS_RUNTIMES = re.compile(r"^(node|nodejs|bun|deno|ts-node|tsx)$")
_CONTAINER = re.compile(r"(?:docker[-/]|containerd[-/]|libpod-|crio-|kubepods.*?[-/])([0-9a-f]{12,64})")


@dataclass
class ProcessInfo:
    pid: int
    ppid: int
    name: str
    exe: str | None
    cmdline: list[str]
    cwd: str | None
    user: str | None
    started: float | None
    open_paths: list[str] = field(default_factory=list)
    environ: list[str] = field(default_factory=list)  # values only

    def _names(self) -> set[str]:
        first = os.path.basename(self.cmdline[0]) if self.cmdline else ""
        return {n for n in (self.name, os.path.basename(self.exe or ""), first) if n}

    @property
    def is_runtime(self) -> bool:
        return any(RUNTIMES.match(n) for n in self._names())

    @property
    def is_js_runtime(self) -> bool:
        return any(JS_RUNTIMES.match(n) for n in self._names())

    @property
    def is_chromium_main(self) -> bool:
        """The browser process of a Chromium: it owns the profile; helpers carry --type=."""
        return any(a.startswith("--user-data-dir=") for a in self.cmdline) and not any(
            a.startswith("--type=") for a in self.cmdline)


@dataclass
class ProcessTable:
    processes: dict[int, ProcessInfo]
    uninspected: int  # processes whose details were denied (run as root to see them all)

    def ancestors(self, pid: int) -> Iterable[int]:
        seen: set[int] = set()
        while pid in self.processes and pid not in seen:
            seen.add(pid)
            pid = self.processes[pid].ppid
            if pid:
                yield pid


def container_of(pid: int) -> str | None:
    """The container a process runs in, when its cgroup path names one."""
    try:
        with open(f"/proc/{pid}/cgroup") as handle:
            match = _CONTAINER.search(handle.read())
    except OSError:
        return None
    return match[1][:12] if match else None


def _open_paths(pid: int, prefixes: tuple[str, ...]) -> list[str] | None:
    """Paths of descriptors under `prefixes`; None when the fd table may not be read."""
    folder = f"/proc/{pid}/fd"
    try:
        fds = os.listdir(folder)
    except OSError:
        return None
    paths = []
    for fd in fds:
        try:
            target = os.readlink(f"{folder}/{fd}")
        except OSError:
            continue
        if target.startswith(prefixes):
            paths.append(target)
    return paths


def _environ_values(pid: int) -> list[str]:
    """The values of a process's environment (the names do not matter for matching)."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            raw = handle.read()
    except OSError:
        return []
    return [item.partition(b"=")[2].decode(errors="replace") for item in raw.split(b"\0") if item]


def scan_processes(roots: Sequence[str]) -> ProcessTable:
    """Everything needed to find holders of sessions under `roots` (absolute, resolved)."""
    prefixes = tuple(r.rstrip("/") + "/" for r in roots) + tuple(roots)
    me = os.getpid()
    processes: dict[int, ProcessInfo] = {}
    uninspected = 0
    attrs = ["pid", "ppid", "name", "exe", "cmdline", "cwd", "username", "create_time"]
    for proc in psutil.process_iter(attrs, ad_value=None):
        info = proc.info
        if info["pid"] == me:
            continue
        process = ProcessInfo(
            pid=info["pid"], ppid=info["ppid"] or 0, name=info["name"] or "", exe=info["exe"],
            cmdline=info["cmdline"] or [], cwd=info["cwd"], user=info["username"], started=info["create_time"],
        )
        paths = _open_paths(process.pid, prefixes)
        if paths is None or process.cwd is None and process.pid != 1:
            uninspected += 1
        process.open_paths = paths or []
        if process.is_runtime:
            process.environ = _environ_values(process.pid)
        processes[process.pid] = process
    return ProcessTable(processes, uninspected)
