"""Process managers and tools: never holders themselves, named beside what they run.

A PM2 God daemon, `pm2 logs`, nodemon, `npm start`, a shell, tini or systemd may sit in a
gateway's folder or above it in the process tree; none of them speaks to WhatsApp, and
signalling one (or what it restarts at once) breaks more than it fixes. Each row of ROLES says
how to recognise one and whether it restarts what it runs; `managers_of` walks a holder's
ancestors, its cgroup and its container to name who would bring it back, and how to stop it
for good.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from wadoctor.core.model import Container, Manager
from wadoctor.holders.processes import ProcessInfo, ProcessTable
from wadoctor.util.masking import mask_args


@dataclass(frozen=True)
class Role:
    """What a process is when it is not a gateway: a manager runs others, a tool only looks."""

    name: str
    kind: str  # manager | tool
    restarts: bool | None  # brings back what it runs when that dies (None: depends on its settings)
    comms: tuple[str, ...] = ()  # the process name (or executable) is one of these
    scripts: tuple[str, ...] = ()  # a runtime's script, by file name or a folder in its path
    title: str | None = None  # a title the manager gives itself (regex, from its start)


ROLES: tuple[Role, ...] = (
    Role("pm2", "manager", True, title=r"PM2 v[\w.-]+: God Daemon"),
    Role("pm2-runtime", "manager", True, scripts=("pm2-runtime", "pm2-docker", "pm2-dev")),
    Role("pm2", "tool", None, scripts=("pm2", "/pm2/bin/")),  # pm2 logs, monit, list, start ...
    Role("nodemon", "manager", False, scripts=("nodemon", "/nodemon/bin/")),  # restarts on changes only
    Role("ts-node-dev", "manager", False, scripts=("ts-node-dev", "tsnd", "/ts-node-dev/")),
    Role("forever", "manager", True, scripts=("forever", "/forever/bin/", "/forever-monitor/")),
    Role("npm", "manager", False, scripts=("npm", "npm-cli.js", "npx", "npx-cli.js", "/npm/bin/")),
    Role("yarn", "manager", False, scripts=("yarn", "yarn.js", "yarn.cjs", "/yarn/bin/", "/corepack/")),
    Role("pnpm", "manager", False, scripts=("pnpm", "pnpm.cjs", "pnpx", "/pnpm/bin/")),
    Role("corepack", "manager", False, scripts=("corepack",)),
    Role("supervisord", "manager", True, comms=("supervisord",), scripts=("supervisord",)),
    Role("systemd", "manager", None, comms=("systemd",)),
    Role("containerd-shim", "manager", None, comms=("containerd-shim", "containerd-shim-runc-v2",
                                                     "containerd-shim-runc-v1", "conmon")),
    Role("init", "manager", False, comms=("tini", "dumb-init", "docker-init", "catatonit", "s6-svscan")),
    Role("supervise", "manager", True, comms=("s6-supervise", "runsv", "runsvdir")),
    Role("shell", "manager", False, comms=("sh", "bash", "dash", "zsh", "ash", "ksh", "fish", "busybox")),
)
_TITLES = [(re.compile(role.title), role) for role in ROLES if role.title]
# the table by process name and by script file name, first row first; then folder patterns
_BY_COMM = {comm: role for role in reversed(ROLES) for comm in role.comms}
_BY_SCRIPT = {name: role for role in reversed(ROLES) for name in role.scripts if "/" not in name}
_SCRIPT_FOLDERS = [(folder, role) for role in ROLES for folder in role.scripts if "/" in folder]
_REPL = Role("REPL", "tool", None)  # a runtime with nothing to run: a person at a prompt


def role_of(process: ProcessInfo) -> Role | None:
    """The process's role if it is a manager or a tool; None for what may be a gateway."""
    title = process.cmdline[0] if process.cmdline else ""
    for pattern, role in _TITLES:
        if pattern.match(title) or pattern.match(process.name):
            return role
    if not process.is_runtime:
        return next((_BY_COMM[n] for n in (process.name, os.path.basename(process.exe or "")) if n in _BY_COMM), None)
    script = process.script
    if script is None:
        return _REPL
    found = _BY_SCRIPT.get(os.path.basename(script))
    if found is None and "/" in script:
        found = next((role for folder, role in _SCRIPT_FOLDERS if folder in f"/{script}"), None)
    return found


def managers_of(pid: int, table: ProcessTable, roles: Callable[[int], Role | None],
                container: Container | None) -> list[Manager]:
    """Who runs the holder, nearest first: managers among its ancestors, its systemd unit,
    its container. A shell or an init in between is passed over, not named."""
    found: list[Manager] = []
    process = table.processes[pid]
    for ancestor in table.ancestors(pid):
        role = roles(ancestor)
        parent = table.processes.get(ancestor)
        if role is None or parent is None or role.kind != "manager" or role.name in ("shell", "init"):
            continue
        if role.name == "systemd":
            break  # the unit, from the cgroup, says more than the manager itself
        found.append(_pm2(process, parent) if role.name == "pm2" else _named(role, parent))
    unit = systemd_unit(process.cgroup)
    if unit is not None:
        found.append(Manager("systemd", f"systemd unit {unit}", f"systemctl stop {shlex.quote(unit)}",
                             unit_restarts(unit)))
    if container is not None:
        name = container.name or container.id
        stop = {"kubernetes": f"kubectl scale the workload of pod {name} to zero"}.get(
            container.runtime or "", f"{container.runtime or 'docker'} stop {shlex.quote(name)}")
        found.append(Manager("container", f"container {name}", stop, container.restarts))
    return found


def _pm2(worker: ProcessInfo, daemon: ProcessInfo) -> Manager:
    """A PM2 app: its name and id from the worker's environment, PM2_HOME from the daemon's
    (its title, cut to the length of its first command line, may not hold it whole), so the
    stop command reaches the right daemon."""
    env = worker.pm2
    name, pm_id, mode = env.get("name"), env.get("pm_id"), env.get("exec_mode")
    details = ", ".join(filter(None, [f"app {name}" if name else None, f"id {pm_id}" if pm_id is not None else None,
                                      "cluster mode" if mode == "cluster_mode" else None]))
    home = daemon.environ.get("PM2_HOME") or worker.environ.get("PM2_HOME") or ""
    prefix = f"PM2_HOME={shlex.quote(home)} " if home and not home.rstrip("/").endswith("/.pm2") else ""
    target = shlex.quote(str(name if name is not None else pm_id))
    restarts = str(env.get("autorestart", "true")).lower() != "false"
    return Manager("pm2", f"pm2 ({details})" if details else "pm2", f"{prefix}pm2 stop {target}", restarts,
                   scale=f"{prefix}pm2 scale {target} 1" if mode == "cluster_mode" else None)


def _named(role: Role, process: ProcessInfo) -> Manager:
    words = mask_args([os.path.basename(w) if i == 0 else w for i, w in enumerate(process.argv[1:3])])
    label = f"{role.name} ({' '.join(words)})" if role.name in ("npm", "yarn", "pnpm") and words else role.name
    return Manager(role.name, label, f"kill {process.pid}", role.restarts)


def systemd_unit(cgroup: str) -> str | None:
    """The system service a process belongs to, from its cgroup (`/system.slice/x.service`);
    user sessions and the user manager itself are not units that run gateways."""
    for line in cgroup.splitlines():
        for part in reversed(line.rpartition(":")[2].split("/")):
            if part.endswith(".service") and not part.startswith("user@"):
                return part
    return None


@lru_cache(maxsize=64)
def unit_restarts(unit: str) -> bool | None:
    """Whether systemd restarts the unit's main process when it dies (its Restart= setting);
    None where systemd cannot be asked."""
    if not os.path.isdir("/run/systemd/system"):
        return None
    try:
        shown = subprocess.run(["systemctl", "show", "--property=Restart", "--value", unit],
                               capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = shown.stdout.strip()
    return None if shown.returncode or not value else value != "no"
