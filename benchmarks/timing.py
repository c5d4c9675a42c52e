"""How the benchmarks time a command against the tool it is compared with.

wadoctor is byte-compiled first, as `pip install` leaves an installed copy: an editable
install run with PYTHONDONTWRITEBYTECODE set (as on these machines) never writes .pyc files,
so every run would compile some 30 modules from source again, about 40 ms of CPU on each
start that no installed wadoctor pays. The commands compared take turns, best of several
rounds: on a shared machine the same command varies by a third from one minute to the next,
and taking turns gives both the same minutes.
"""

from __future__ import annotations

import compileall
import resource
import site
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "wadoctor"


def byte_compile() -> None:
    compileall.compile_dir(PACKAGE, quiet=1)


def installed(work: Path) -> Path:
    """The `bin` folder of a fresh virtual environment holding wadoctor as `pip install .`
    leaves it (byte-compiled, its C helpers built, a console script), where start-up is
    measured: an editable install adds a finder that every Python start of that environment
    pays (10 ms here). Its dependencies are the project environment's, put on the path by a
    .pth line, which does not run that environment's own .pth files."""
    venv = work / "installed"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    target = subprocess.run([venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                            check=True, capture_output=True, text=True).stdout.strip()
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
                    "--no-deps", str(ROOT)], check=True)
    (Path(target) / "wadoctor-dependencies.pth").write_text(site.getsitepackages()[0] + "\n")
    return venv / "bin"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(command: list[str]) -> tuple[float, float]:
    """(wall, CPU of the process and its children); output goes to a pipe, not /dev/null,
    which GNU grep detects and stops early for."""
    cpu, start = _children_cpu(), time.perf_counter()
    subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start, _children_cpu() - cpu


def best_of(commands: list[list[str]], repeat: int) -> list[tuple[float, float]]:
    """(best wall time, best CPU time) of each command over `repeat` rounds after a warm-up
    run of each, the commands taking turns in every round."""
    for command in commands:
        _run(command)
    best = [(float("inf"), float("inf"))] * len(commands)
    for _ in range(repeat):
        for i, command in enumerate(commands):
            wall, cpu = _run(command)
            best[i] = (min(best[i][0], wall), min(best[i][1], cpu))
    return best


def peak_rss_mib() -> float:
    """The largest resident set of any child so far."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


# Forks the command and says its peak RSS: a child forked from the benchmark itself would
# count the benchmark's own pages too, which the kernel keeps in the figure across exec.
_LAUNCHER = ("import os, resource, sys\n"
             "pid = os.fork()\n"
             "if pid == 0:\n    os.execvp(sys.argv[1], sys.argv[1:])\n"
             "os.waitpid(pid, 0)\n"
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)")


def measured(command: list[str] | str) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB of the command and whatever it ran), its output read
    through a pipe and dropped."""
    argv = ["sh", "-c", command] if isinstance(command, str) else command
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-S", "-c", _LAUNCHER, *argv], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    while process.stdout.read(1 << 20):
        pass
    peak = process.stderr.read().split()[-1]
    process.wait()
    return time.perf_counter() - start, int(peak) / 1024
