"""One pass over the process table, reading only what holder evidence needs.

Everything comes straight from /proc, a few small reads per process: its stat line (name,
parent, start time), its command line, and its descriptors, each followed with a stat (the
file's real identity, whatever mount namespace the process runs in) and kept only when it is
on a device the checked folders live on; only those are read as paths, for display. A
runtime's working folder and environment are read too, and a holder's user when it is named.
So a busy server with thousands of descriptors costs one stat each, and a gateway in a
container is matched as surely as one on the host. Processes that vanish or refuse inspection
mid-scan are counted, never fatal.

A process manager may rewrite its workers' titles (PM2 shows `node /app/gateway.js` as one
argument, and `PM2 v7: God Daemon` for itself), so what a process runs is read from its
executable too, never from its title alone.
"""

from __future__ import annotations

import json
import os
import pwd
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from wadoctor.holders.namespaces import FileId, devices_under, same_view

# Runtimes a gateway runs in: only these are tied to a session by their command line or
# environment (a shell or an editor naming the folder proves nothing).
RUNTIMES = re.compile(r"^(node|nodejs|bun|deno|python[0-9.]*|pypy[0-9.]*|java|ts-node|tsx|go|main)$")
# ...and only JavaScript ones by their working folder: a Baileys server keeps no file open, so
# its folder is the evidence; Python and Go gateways keep their SQLite store open instead, and
# every Python tool run from a project folder would otherwise "hold" the sessions below it.
JS_RUNTIMES = re.compile(r"^(node|nodejs|bun|deno|ts-node|tsx)$")
# Runtime options whose next argument is a value, not the script: `node -r dotenv/config app.js`.
VALUE_OPTIONS = frozenset({"-r", "--require", "--import", "--loader", "--experimental-loader", "-C",
                           "--conditions", "--env-file", "--inspect-port", "-W", "-X"})
# ...and those whose value is the program itself: `node -e CODE`, `python -m module`.
PROGRAM_OPTIONS = frozenset({"-e", "--eval", "-p", "--print", "-c", "-m"})
ENV_CAP = 1 << 20  # an environment larger than this is not read
CGROUP_CAP = 1 << 16


@dataclass
class OpenFile:
    file: FileId
    path: str  # as the process sees it (inside its container, if any)


@dataclass
class ProcessInfo:
    pid: int
    ppid: int
    name: str
    cmdline: list[str]
    started: float | None
    open_files: list[OpenFile] = field(default_factory=list)
    environ: dict[str, str] = field(default_factory=dict)  # of runtimes only; secret: never shown
    same_view: bool = True  # sees the filesystem as we do (not in another mount namespace)

    @cached_property
    def exe(self) -> str | None:
        """The executable, as the process sees it: what it runs, whatever its title says."""
        try:
            return os.readlink(f"/proc/{self.pid}/exe").removesuffix(" (deleted)")
        except OSError:
            return None

    @cached_property
    def argv(self) -> list[str]:
        """The command line; a title rewritten into one argument (`node /app/gateway.js`, as
        PM2 sets it) split back into words."""
        if len(self.cmdline) == 1 and " " in self.cmdline[0].strip():
            return self.cmdline[0].split()
        return self.cmdline

    @cached_property
    def script(self) -> str | None:
        """What a runtime runs: its script (as written, relative to its working folder), a
        module (`-m:pkg`) or inline code (`-e:...`); PM2 workers say it in their environment.
        None for a runtime with nothing to run (a REPL) and for other processes."""
        if not self.is_runtime:
            return None
        pm2 = self.pm2.get("pm_exec_path")
        if isinstance(pm2, str) and pm2:
            return pm2
        args = iter(self.argv[1:])
        for arg in args:
            if arg in PROGRAM_OPTIONS:
                return f"{arg.lstrip('-')[0]}:{next(args, '')}"
            if arg in VALUE_OPTIONS:
                next(args, None)
            elif not arg.startswith("-"):
                return arg
            elif arg == "--":
                return next(args, None)
        return None

    @cached_property
    def pm2(self) -> dict[str, object]:
        """What PM2 told the process it runs as (name, pm_id, exec_mode, pm_exec_path,
        autorestart): plain variables in fork mode, one JSON `pm2_env` in cluster mode."""
        if "pm2_env" in self.environ:
            try:
                found = json.loads(self.environ["pm2_env"])
            except ValueError:
                return {}
            return found if isinstance(found, dict) else {}
        if "pm_id" in self.environ:
            return {k: v for k, v in self.environ.items()
                    if k in ("name", "pm_id", "exec_mode", "pm_exec_path", "pm_cwd", "autorestart")}
        return {}

    @cached_property
    def cwd(self) -> str | None:
        """The working folder as the process sees it (inside its container, if any)."""
        try:
            return os.readlink(f"/proc/{self.pid}/cwd")
        except OSError:
            return None

    @cached_property
    def cgroup(self) -> str:
        """/proc/PID/cgroup: the container and the systemd unit the process runs in."""
        raw = _read(f"/proc/{self.pid}/cgroup", CGROUP_CAP)
        return raw.decode(errors="replace") if raw else ""

    @cached_property
    def user(self) -> str | None:
        try:
            uid = os.stat(f"/proc/{self.pid}").st_uid
        except OSError:
            return None
        try:
            return pwd.getpwuid(uid).pw_name
        except KeyError:
            return str(uid)

    @cached_property
    def names(self) -> frozenset[str]:
        """What the process is called: its name, its first argument, its executable."""
        first = os.path.basename(self.argv[0]) if self.argv else ""
        return frozenset(n for n in (self.name, first, os.path.basename(self.exe or "")) if n)

    @cached_property
    def is_runtime(self) -> bool:
        return any(RUNTIMES.match(n) for n in self.names)

    @cached_property
    def is_js_runtime(self) -> bool:
        return any(JS_RUNTIMES.match(n) for n in self.names)

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


def _open_files(pid: int, devices: set[int]) -> list[tuple[FileId, str]] | None:
    """(identity, /proc link) of descriptors on `devices`; None when the fd table may not be read."""
    try:
        entries = list(os.scandir(f"/proc/{pid}/fd"))
    except OSError:
        return None
    found = []
    for entry in entries:
        try:
            st = entry.stat()  # follows the link: the open file itself, in any namespace
        except OSError:
            continue
        if st.st_dev in devices:
            found.append(((st.st_dev, st.st_ino), entry.path))
    return found


def _seen_paths(process: ProcessInfo, files: list[tuple[FileId, str]],
                known: dict[FileId, str]) -> list[OpenFile]:
    """Each open file with the path its process sees. Processes that see the filesystem as we
    do share the paths already read: a hundred workers on one store cost one readlink."""
    opened = []
    for file, link in files:
        path = known.get(file) if process.same_view else None
        if path is None:
            try:
                path = os.readlink(link)
            except OSError:
                continue
            if process.same_view:
                known[file] = path
        opened.append(OpenFile(file, path))
    return opened


def _environ(pid: int) -> dict[str, str]:
    """A process's environment: its values may name a session, a few names say who manages it."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            raw = handle.read(ENV_CAP)
    except OSError:
        return {}
    pairs = (item.partition("=") for item in raw.decode(errors="replace").split("\0") if item)
    return {name: value for name, _, value in pairs}


def _boot_time() -> float:
    try:
        with open("/proc/stat", "rb") as handle:
            for line in handle:
                if line.startswith(b"btime "):
                    return float(line.split()[1])
    except OSError:
        pass
    return 0.0


def _read(path: str, cap: int = -1) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read(cap)
    except OSError:
        return None


def _process(pid: int, boot: float, ticks: int) -> ProcessInfo | None:
    """Name, parent and start time from /proc/PID/stat (the name may hold spaces and parens:
    it ends at the last ')'), and the command line; None when the process is gone."""
    raw = _read(f"/proc/{pid}/stat")
    if raw is None:
        return None
    head, _, rest = raw.rpartition(b")")
    fields = rest.split()
    name = head.partition(b"(")[2].decode(errors="replace")
    # a title set over argv (`process.title`, as PM2 does) leaves the rest of the old area as NULs
    args = (_read(f"/proc/{pid}/cmdline") or b"").rstrip(b"\0")
    cmdline = [a.decode(errors="replace") for a in args.split(b"\0")] if args else []
    if len(name) == 15 and cmdline:  # the kernel cuts names at 15 characters
        if os.path.basename(cmdline[0]).startswith(name):
            name = os.path.basename(cmdline[0])
        elif cmdline[0].startswith(name) and " " in name:  # a title (`node /app/gw.js`, by PM2)
            name = os.path.basename(cmdline[0].split()[0])
    try:
        return ProcessInfo(pid=pid, ppid=int(fields[1]), name=name, cmdline=cmdline,
                           started=boot + int(fields[19]) / ticks if boot else None)
    except (IndexError, ValueError):
        return None


def scan_processes(roots: Sequence[str]) -> ProcessTable:
    """Everything needed to find holders of sessions under `roots` (absolute, resolved)."""
    devices = devices_under(roots)
    me = os.getpid()
    boot, ticks = _boot_time(), os.sysconf("SC_CLK_TCK")
    processes: dict[int, ProcessInfo] = {}
    known: dict[FileId, str] = {}
    uninspected = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        process = _process(int(entry), boot, ticks)
        if process is None:
            continue
        files = _open_files(process.pid, devices)
        if files is None:
            if process.cmdline:  # kernel threads have neither descriptors nor a command line
                uninspected += 1
            files = []
        if files or process.is_runtime or process.is_chromium_main:
            process.same_view = same_view(process.pid)
        process.open_files = _seen_paths(process, files, known)
        if process.is_runtime:
            process.environ = _environ(process.pid)
        processes[process.pid] = process
    return ProcessTable(processes, uninspected)
