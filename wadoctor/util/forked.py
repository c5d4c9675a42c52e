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
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from typing import BinaryIO, NoReturn, TypeVar

_STOPS = {signal.SIGINT, signal.SIGTERM}
_PIPE_BYTES = 1 << 20  # a chunk of rows, or its results, whole in a pipe (Linux's pipe-max-size by default)
_DEPTH = 2  # chunks a worker holds at most: the one it judges, and the next one, waiting in its pipe
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
            pid, read = _fork(_work(function, parts[worker::workers], None))
            pids.append(pid)
            streams.append(read)
        for number, part in enumerate(parts):
            yield from _results_of(function, streams, number % workers, part)
        finished = True
    finally:
        _stop(streams, pids, finished)


def stream_map(function: Callable[[Job], Result], jobs: Iterable[Job], workers: int,
               chunk: int) -> Iterator[Result]:
    """`map(function, jobs)` over jobs that arrive as they are read (the rows of a database
    stream), `chunk` at a time, across `workers` forked processes; results in job order.
    A worker holds up to two chunks: the one it judges and the next, already in its pipe, so
    it never waits for the parent between chunks. The next is sent ahead only when its pipe
    holds it whole (`_choose`), so neither side ever waits on a full pipe of the other. A
    worker that fails or dies gets no more: the parent does its chunks itself. One chunk's
    worth of jobs is done here. When reading the jobs fails, the results of those read come
    first, then the error."""
    import pickle

    parts = chunked(jobs, chunk)
    first = next(parts, [])
    try:
        second = next(parts, [])
    except Exception:
        yield from map(function, first)
        raise
    parts = chain((first, second), parts)
    if workers < 2 or not second:  # a chunk's worth of jobs or fewer is simply done here
        for part in parts:
            yield from map(function, part)
        return
    streams: list[BinaryIO | None] = []
    senders: list[BinaryIO | None] = []
    room: list[int] = []  # each worker's job pipe, in bytes
    pids: list[int] = []
    held: deque[tuple[int, list[Job]]] = deque()  # (worker, or -1 for the parent; chunk), oldest first
    failure: Exception | None = None
    finished = False
    try:
        while True:
            try:
                part = next(parts, [])  # chunked yields no empty chunk
            except Exception as exc:  # noqa: BLE001 - the jobs read before it still count: raised once they are done
                failure = exc
                break
            if not part:
                break
            data = pickle.dumps(part, pickle.HIGHEST_PROTOCOL)
            if len(pids) < workers:
                job_read, job_write, size = _pipe()
                # the new worker closes every sender's end it inherits: a worker must see the end
                # of its own jobs when the parent closes its sender, and no other worker hold it open
                inherited = tuple(sender.fileno() for sender in senders if sender is not None)
                pid, read = _fork(_work(function, None, job_read), close=(job_write, *inherited))
                os.close(job_read)
                pids.append(pid)
                streams.append(read)
                senders.append(os.fdopen(job_write, "wb"))
                room.append(size)
                worker = len(pids) - 1
            else:
                while (chosen := _choose(held, senders, streams, room, len(data))) is None:
                    oldest, done = held.popleft()
                    yield from _results_of(function, streams, oldest, done)
                worker = chosen
            if not _send(senders, streams, worker, data):
                worker = -1  # done here, in its turn
            held.append((worker, part))
        while held:
            worker, done = held.popleft()
            yield from _results_of(function, streams, worker, done)
        finished = True
        if failure is not None:
            raise failure
    finally:
        if not finished:  # first: a closing sender would wait on a worker that no longer reads
            for pid in pids:
                _kill(pid)
        for sender in senders:
            if sender is not None:
                try:
                    sender.close()
                except OSError:
                    pass
        _stop(streams, pids, finished)


def chunked(jobs: Iterable[Job], size: int) -> Iterator[list[Job]]:
    """Jobs `size` at a time; when reading them fails, the jobs read so far come first."""
    part: list[Job] = []
    try:
        for job in jobs:
            part.append(job)
            if len(part) == size:
                yield part
                part = []
    except Exception:
        if part:
            yield part
        raise
    if part:
        yield part


def _pipe() -> tuple[int, int, int]:
    """A pipe made to hold a chunk whole where Linux allows: (read end, write end, the bytes
    it holds; 0 when that is not known, and then nothing is sent ahead through it)."""
    read, write = os.pipe()
    try:
        import fcntl

        return read, write, fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    except (ImportError, AttributeError, OSError):  # not Linux, or over the user's pipe-max-size
        return read, write, 0


def _choose(held: deque[tuple[int, list[Job]]], senders: list[BinaryIO | None], streams: list[BinaryIO | None],
            room: list[int], size: int) -> int | None:
    """The worker to send a chunk of `size` pickled bytes to now: one with nothing to do, else
    one judging a single chunk whose pipe holds this one whole (a worker waiting for the
    parent to take its results has read all it was sent, so the write cannot wait on it).
    None: none can take it yet; -1: every worker is gone, and the parent does it."""
    if len(held) >= _DEPTH * len(senders):
        return None
    alive = [w for w in range(len(senders)) if senders[w] is not None and streams[w] is not None]
    if not alive:
        return -1
    outstanding = Counter(worker for worker, _ in held)
    idle = [w for w in alive if not outstanding[w]]
    ahead = [w for w in alive if outstanding[w] == 1 and size <= room[w]]
    return next(iter(idle or ahead), None)


def _fork(body: Callable[[int], NoReturn], close: tuple[int, ...] = ()) -> tuple[int, BinaryIO]:
    """A worker running `body(write end of its results pipe)`: (pid, read end). The results
    pipe holds a chunk's results whole where Linux allows: the worker goes on to its next
    chunk while the parent is busy."""
    read, write, _ = _pipe()
    # Ctrl-C or SIGTERM waits until each side knows which it is: a worker stopped before
    # then would run on as a second copy of the parent.
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
    try:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a stop from here on ends this worker only
                for fd in (read, *close):
                    os.close(fd)
                body(write)
            finally:
                os._exit(code)  # no atexit handlers, no flushing of the parent's buffered output
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    os.close(write)
    _running.add(pid)
    return pid, os.fdopen(read, "rb")


def _send(senders: list[BinaryIO | None], streams: list[BinaryIO | None], worker: int, data: bytes) -> bool:
    """Hand a worker its next chunk, pickled; False once it has failed or is gone."""
    sender = senders[worker] if worker >= 0 and streams[worker] is not None else None
    if sender is None:
        return False
    try:
        sender.write(data)
        sender.flush()
        return True
    except OSError:
        senders[worker] = None
        return False


def _results_of(function: Callable[[Job], Result], streams: list[BinaryIO | None], worker: int,
                part: Sequence[Job]) -> list[Result]:
    results: list[Result] | None = _receive(streams, worker) if worker >= 0 else None
    return [function(job) for job in part] if results is None else results


def _stop(streams: list[BinaryIO | None], pids: list[int], finished: bool) -> None:
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


def _work(function: Callable[[Job], Result], parts: list[Sequence[Job]] | None,
          jobs: int | None) -> Callable[[int], NoReturn]:
    """The worker: each chunk's results, pickled as soon as done; the chunks are `parts`
    (shared with the parent at the fork) or read one by one from the `jobs` pipe."""

    def body(write: int) -> NoReturn:
        import pickle

        gc.disable()  # a short life that makes no cycles worth collecting: and a collection would
        # write to every object it passes, copying each page shared with the parent
        source = os.fdopen(jobs, "rb") if jobs is not None else None
        with os.fdopen(write, "wb") as out:
            for part in parts if parts is not None else _incoming(source):
                pickle.dump([function(job) for job in part], out, pickle.HIGHEST_PROTOCOL)
                out.flush()
        os._exit(0)

    return body


def _incoming(source: BinaryIO | None) -> Iterator[list[Job]]:
    import pickle

    while True:
        try:
            yield pickle.load(source)  # type: ignore[arg-type]
        except EOFError:
            return


def _reap(pid: int, kill: bool) -> None:
    """Wait for a worker; one whose results are no longer wanted is killed first."""
    if kill:
        _kill(pid)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    _running.discard(pid)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
