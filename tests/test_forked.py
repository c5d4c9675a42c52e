"""Forked workers (wadoctor.util.forked): results in job order, and a worker's death or failure
costs time, never results, never a stray process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from tests.conftest import REPO
from wadoctor.util.forked import ordered_map, stream_map

PARENT = os.getpid()


@pytest.fixture
def no_stray_workers():
    """Every worker forked during the test is gone (reaped, not a zombie) when it ends."""
    before = {p.pid for p in psutil.Process().children()}
    yield
    assert {p.pid for p in psutil.Process().children()} <= before


def _square_with_pid(job: int) -> tuple[int, int]:
    return job * job, os.getpid()


@pytest.mark.parametrize("jobs, workers, chunk", [(100, 2, 3), (5, 4, 1), (1, 2, 1), (0, 2, 1), (7, 1, 2)])
def test_results_come_in_job_order_from_the_workers(jobs, workers, chunk, no_stray_workers):
    results = list(ordered_map(_square_with_pid, list(range(jobs)), workers, chunk))
    assert [square for square, _ in results] == [n * n for n in range(jobs)]
    if jobs > 1 and workers > 1:
        assert PARENT not in {pid for _, pid in results}
        assert len({pid for _, pid in results}) == min(workers, -(-jobs // chunk))


def _dies_on_seven(job: int) -> int:
    if job == 7 and os.getpid() != PARENT:
        os.kill(os.getpid(), signal.SIGKILL)
    return job + 1


def test_a_killed_worker_s_jobs_are_done_by_the_parent(no_stray_workers):
    assert list(ordered_map(_dies_on_seven, list(range(40)), 2, 2)) == list(range(1, 41))


def _fails_on_three(job: int) -> int:
    if job == 3:
        raise ValueError(f"bad job {job}")
    return job


def test_a_failure_in_a_worker_is_raised_in_the_parent(no_stray_workers):
    results = ordered_map(_fails_on_three, list(range(10)), 2, 1)
    assert [next(results) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(ValueError, match="bad job 3"):
        next(results)
    results.close()


def _slow(job: int) -> int:
    time.sleep(0.2)
    return job


def test_results_left_unread_stop_the_workers(no_stray_workers):
    results = ordered_map(_slow, list(range(50)), 2, 1)
    assert next(results) == 0
    started = time.monotonic()
    results.close()
    assert time.monotonic() - started < 2  # killed, not waited for through 10 s of jobs


def test_ctrl_c_stops_the_parent_and_every_worker(tmp_path):
    """SIGINT to the whole process group, as a terminal sends it: the parent reports an
    interruption, no worker is left running, none goes on as a copy of the parent."""
    script = tmp_path / "run.py"
    script.write_text(
        "import os, signal, sys, time\n"
        "from wadoctor.util.forked import ordered_map\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)  # as on a terminal, even if started ignoring it\n"
        "def slow(job):\n"
        "    time.sleep(0.05)\n"
        "    return os.getpid()\n"
        "try:\n"
        "    for pid in ordered_map(slow, list(range(400)), 2, 1):\n"
        "        print(pid, flush=True)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', os.getpid(), flush=True)\n"
    )
    run = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=REPO,
                           start_new_session=True)
    workers = {int(run.stdout.readline()) for _ in range(4)}
    os.killpg(run.pid, signal.SIGINT)
    rest = run.communicate(timeout=30)[0].split("\n")
    assert [line for line in rest if line.startswith("interrupted")] == [f"interrupted {run.pid}"]
    for pid in workers:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def _rows(count: int):
    """Jobs that exist only as they are read, as a database's rows do."""
    yield from range(count)


@pytest.mark.parametrize("jobs, workers, chunk", [(1000, 2, 7), (5, 3, 1), (1, 2, 4), (0, 2, 3), (9, 1, 2)])
def test_streamed_jobs_come_back_in_order_from_the_workers(jobs, workers, chunk, no_stray_workers):
    results = list(stream_map(_square_with_pid, _rows(jobs), workers, chunk))
    assert [square for square, _ in results] == [n * n for n in range(jobs)]
    if jobs > chunk and workers > 1:
        assert PARENT not in {pid for _, pid in results}
        assert len({pid for _, pid in results}) == min(workers, -(-jobs // chunk))


def test_streamed_jobs_of_a_killed_worker_are_done_by_the_parent(no_stray_workers):
    assert list(stream_map(_dies_on_seven, _rows(60), 2, 3)) == list(range(1, 61))


def test_a_failure_in_a_streaming_worker_is_raised_in_the_parent(no_stray_workers):
    results = stream_map(_fails_on_three, _rows(10), 2, 1)
    assert [next(results) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(ValueError, match="bad job 3"):
        next(results)


def test_streamed_results_left_unread_stop_the_workers(no_stray_workers):
    results = stream_map(_square_with_pid, _rows(10_000), 2, 10)
    next(results)
    results.close()


def _rows_failing_at(count: int):
    yield from range(count)
    raise ConnectionError(f"server gone after row {count}")


@pytest.mark.parametrize("count, workers, chunk", [(0, 2, 4), (4, 2, 4), (8, 2, 4), (10, 2, 4), (57, 2, 4), (57, 1, 4)])
def test_jobs_read_before_the_stream_fails_are_all_done_then_the_error_raised(count, workers, chunk, no_stray_workers):
    """A database stream that breaks midway: every row that came is judged, in order, and
    only then does the failure reach the caller (who reports the source)."""
    done = []
    with pytest.raises(ConnectionError, match=f"after row {count}"):
        for square, _ in stream_map(_square_with_pid, _rows_failing_at(count), workers, chunk):
            done.append(square)
    assert done == [n * n for n in range(count)]



_SIZED = """
import random, sys
from wadoctor.util.forked import stream_map

chooser = random.Random(int(sys.argv[1]))
sizes = [chooser.choice([0, 10, 300_000, 900_000, 1_100_000, 3_000_000]) for _ in range(40)]


def rows():
    for number, size in enumerate(sizes):
        yield number, bytes(size)


def echo(job):
    return job[0], bytes(sizes[-1 - job[0]])


results = list(stream_map(echo, rows(), 2, 1))
assert [number for number, _ in results] == list(range(len(sizes)))
assert [len(data) for _, data in results] == sizes[::-1]
print("in order")
"""


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_chunks_and_results_larger_than_a_pipe_never_wait_on_each_other(seed):
    """A worker is sent its next chunk ahead only when its pipe holds it whole: chunks and
    results from nothing to several times a pipe (1 MiB), in any mix, all come back in order.
    In a process of its own: a parent and a worker waiting on each other's pipe would hang
    (a blocked write to a pipe does not even see a signal)."""
    run = subprocess.run([sys.executable, "-c", _SIZED, str(seed)], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert run.returncode == 0 and run.stdout == "in order\n", run.stderr
