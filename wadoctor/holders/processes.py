"""One pass over the process table, gathering only what holder evidence needs.

psutil gives names, command lines, working folders and start times. Open descriptors are
read from /proc/<pid>/fd by following each link (a stat: the file's real identity, whatever
mount namespace the process runs in) and kept only when they are on a device the checked
folders live on; only those are then read as paths, for display. So a busy server with
thousands of descriptors costs one stat each and little memory, and a gateway in a container
is matched as surely as one on the host. Processes that vanish or refuse inspection mid-scan
are counted, never fatal.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import psutil

from wadoctor.holders.namespaces import FileId, devices_under, same_view

# Runtimes a gateway runs in: only these are tied to a session by their command line or
# environment (a shell or an editor naming the folder proves nothing).
RUNTIMES = re.compile(r"^(node|nodejs|bun|deno|python[0-9.]*|pypy[0-9.]*|java|ts-node|tsx|go|main)$")
# ...and only JavaScript ones by their working folder: a Baileys server keeps no file open, so
# its folder is the evidence; Python and Go gateways keep their SQLite store open instead, and
# every Python tool run from a project folder would otherwise "hold" the sessions below it.
JS_RUNTIMES = re.compile(r"^(node|nodejs|bun|deno|ts-node|tsx)$")


@dataclass
class OpenFile:
    file: FileId
    path: str  # as the process sees it (inside its container, if any)


@dataclass
class ProcessInfo:
    pid: int
    ppid: int
    name: str
    exe: str | None
    cmdline: list[str]
    cwd: str | None  # as the process sees it
    user: str | None
    started: float | None
    open_files: list[OpenFile] = field(default_factory=list)
    environ: list[str] = field(default_factory=list)  # values only
    same_view: bool = True  # sees the filesystem as we do (not in another mount namespace)

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


def _open_files(pid: int, devices: set[int]) -> list[OpenFile] | None:
    """Descriptors on `devices`, by identity and seen path; None when the fd table may not be read."""
    folder = f"/proc/{pid}/fd"
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return None
    found = []
    for entry in entries:
        try:
            st = entry.stat()  # follows the link: the open file itself, in any namespace
        except OSError:
            continue
        if st.st_dev in devices:
            try:
                found.append(OpenFile((st.st_dev, st.st_ino), os.readlink(entry.path)))
            except OSError:
                continue
    return found


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
    devices = devices_under(roots)
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
        files = _open_files(process.pid, devices)
        if files is None or process.cwd is None and process.pid != 1:
            uninspected += 1
        process.open_files = files or []
        if process.is_runtime:
            process.environ = _environ_values(process.pid)
        if process.open_files or process.is_runtime or process.is_chromium_main:
            process.same_view = same_view(process.pid)
        processes[process.pid] = process
    return ProcessTable(processes, uninspected)
