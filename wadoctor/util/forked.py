"""One function over many jobs in forked worker processes, the results streamed in job order.

multiprocessing.Pool cost a plain check three helper threads, a pickle of every job and its
imports: about a twentieth of the CPU of a check of 300 sessions. Here the workers are forked
once everything is imported, take their jobs from the memory they share with the parent, and
send back only results, each worker on its own pipe. A worker that fails or dies sends
nothing more; the parent then does that worker's remaining jobs itself, so a failure raises
where it can be reported and a killed worker costs time, never sessions.
"""

from __future__ import annotations

import gc
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from typing import BinaryIO, NoReturn, TypeVar

_STOPS = {signal.SIGINT, signal.SIGTERM}
Job = TypeVar("Job")
Result = TypeVar("Result")
_running: set[int] = set()  # this process's workers not yet reaped


def running_workers() -> frozenset[int]:
    """The pids of this process's workers alive now: a holder scan made while they read
    session files must not take them for gateways holding those files."""
    return frozenset(_running)


def ordered_map(function: Callable[[Job], Result], jobs: Sequence[Job], workers: int,
                chunk: int = 1) -> Iterator[Result]:
    """`map(function, jobs)` across `workers` forked processes, `chunk` jobs per message;
    workers take chunks in turn, so the parent can read them in order as they arrive. With
    one worker's worth of jobs or fewer, the jobs are simply done here."""
    parts = [jobs[start:start + chunk] for start in range(0, len(jobs), chunk)]
    workers = min(workers, len(parts))
    if workers < 2:
        yield from map(function, jobs)
        return
    streams: list[BinaryIO | None] = []
    pids: list[int] = []
    finished = False
    try:
        for worker in range(workers):
            read, write = os.pipe()
            # Ctrl-C or SIGTERM waits until each side knows which it is: a worker stopped
            # before then would run on as a second copy of the parent.
            mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
            try:
                pid = os.fork()
                if pid == 0:
                    _work(function, parts[worker::workers], read, write, mask)
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            os.close(write)
            pids.append(pid)
            _running.add(pid)
            streams.append(os.fdopen(read, "rb"))
        for number, part in enumerate(parts):
            results = _receive(streams, number % workers)
            yield from [function(job) for job in part] if results is None else results
        finished = True
    finally:
        for stream in streams:
            if stream is not None:
                stream.close()
        for pid in pids:
            _reap(pid, kill=not finished)


def _receive(streams: list[BinaryIO | None], worker: int) -> list[Result] | None:
    """A worker's next chunk of results, or None once it has failed or died."""
    import pickle  # not at import: a run with nothing to share out forks no worker

    stream = streams[worker]
    if stream is None:
        return None
    try:
        return pickle.load(stream)
    except (EOFError, pickle.UnpicklingError, OSError):
        stream.close()
        streams[worker] = None
        return None


def _work(function: Callable[[Job], Result], parts: list[Sequence[Job]], read: int, write: int,
          mask: set[signal.Signals]) -> NoReturn:
    """The worker: each chunk's results, pickled as soon as done; never returns to the caller."""
    import pickle

    gc.disable()  # a short life that makes no cycles worth collecting: and a collection would
    # write to every object it passes, copying each page shared with the parent
    code = 1
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a stop from here on ends this worker only
        os.close(read)
        with os.fdopen(write, "wb") as out:
            for part in parts:
                pickle.dump([function(job) for job in part], out, pickle.HIGHEST_PROTOCOL)
                out.flush()
        code = 0
    finally:
        os._exit(code)  # no atexit handlers, no flushing of the parent's buffered output


def _reap(pid: int, kill: bool) -> None:
    """Wait for a worker; one whose results are no longer wanted is killed first."""
    if kill:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    _running.discard(pid)
