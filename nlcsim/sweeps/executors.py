"""Executors: where batches of runs are computed (this process, local processes, a Dask cluster).

Every executor offers the same three calls: ``submit(batch)``, ``wait(timeout)``
which returns finished batches as ``(batch, records)`` or ``(batch, WorkerLost)``,
and ``close()``.  A lost worker (killed, out of memory, crashed) never loses
runs: its batches come back as ``WorkerLost`` and the runner submits them again.
Anything else going wrong in the machinery (a worker that cannot import
nlcsim, a scheduler that went away) stops the sweep with :class:`SweepAborted`;
what was finished is already on disk and the same command resumes.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import multiprocessing as mp
import os
import threading
import time
from typing import Any

from ..errors import UserError
from .models import run_batch


class WorkerLost(Exception):
    """The worker computing a batch died before returning it."""


class SweepAborted(UserError):
    """The sweep cannot go on; finished runs are saved and the same command resumes."""


class SerialExecutor:
    """Runs each batch in this process when it is waited for (no parallelism, no pickling)."""

    label = "serial"

    def __init__(self, model, seed: int):
        self.model, self.seed = model, seed
        self.slots = 1
        self._queue: list[list] = []

    @property
    def inflight(self) -> int:
        return len(self._queue)

    def submit(self, batch: list) -> None:
        self._queue.append(batch)

    def wait(self, timeout: float) -> list[tuple[list, Any]]:
        if not self._queue:
            return []
        batch = self._queue.pop(0)
        return [(batch, run_batch(self.model, self.seed, batch))]

    def close(self) -> None:
        self._queue.clear()


# -- local processes ------------------------------------------------------
_WORKER: dict[str, Any] = {}


def _watch_runner(runner_pid: int) -> None:
    """Leave when the runner is gone (kill -9 included) instead of idling as an orphan."""
    while True:
        time.sleep(1.0)
        try:
            os.kill(runner_pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:  # the pid was reused by another user's process: ours is gone
            os._exit(0)


def _init_worker(model, seed: int, runner_pid: int) -> None:
    _WORKER["model"], _WORKER["seed"] = model, seed
    if os.name == "posix":  # os.kill(pid, 0) only probes on POSIX
        threading.Thread(target=_watch_runner, args=(runner_pid,), daemon=True).start()


def _run_in_worker(batch: list) -> list[dict]:
    return run_batch(_WORKER["model"], _WORKER["seed"], batch)


def _context():
    """forkserver: workers start from a clean server process, safe beside the runner's threads."""
    methods = mp.get_all_start_methods()
    if "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["nlcsim.sweeps.models", "nlcsim.run"])
        return ctx
    return mp.get_context("spawn")


class ProcessExecutor:
    """A pool of local worker processes (default: one per core)."""

    def __init__(self, model, seed: int, workers: int):
        self.model, self.seed, self.workers = model, seed, workers
        self.slots = 2 * workers   # keep every worker fed while results travel back
        self.label = f"processes({workers})"
        self._futures: dict[cf.Future, list] = {}
        self._refused: list[list] = []   # batches a broken pool would not take
        self._pool = self._new_pool()

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=_context(),
                                      initializer=_init_worker, initargs=(self.model, self.seed, os.getpid()))

    @property
    def inflight(self) -> int:
        return len(self._futures) + len(self._refused)

    def submit(self, batch: list) -> None:
        try:
            self._futures[self._pool.submit(_run_in_worker, batch)] = batch
        except cf.process.BrokenProcessPool:
            # a worker died since the last wait: the next wait renews the pool and submits it there
            self._refused.append(batch)

    def wait(self, timeout: float) -> list[tuple[list, Any]]:
        out, broken = [], bool(self._refused)
        if not self._futures and not broken:
            return []
        done = cf.wait(list(self._futures), timeout=0 if broken else timeout,
                       return_when=cf.FIRST_COMPLETED)[0] if self._futures else set()
        for fut in done:
            batch = self._futures.pop(fut)
            try:
                out.append((batch, fut.result()))
            except cf.process.BrokenProcessPool:
                out.append((batch, WorkerLost("a worker process died")))
                broken = True
            except Exception as err:
                raise SweepAborted(f"the worker processes failed outside any run: {type(err).__name__}: {err}") from err
        if broken:  # the pool is unusable: every batch still in it is lost with it
            for fut, batch in self._futures.items():
                out.append((batch, WorkerLost("a worker process died")))
            self._futures.clear()
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            refused, self._refused = self._refused, []
            for batch in refused:  # never started: not an attempt
                self.submit(batch)
        return out

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._futures.clear()


# -- Dask distributed -----------------------------------------------------
def _check_address(address: str) -> None:
    """A ValueError where distributed cannot read ``address`` as a scheduler's: an
    unknown scheme, or a host without a whole-number port (tcp, the default, tls, ws
    and wss).  Read with distributed's own functions, before a Client is made: a
    Client first starts an event loop in a thread and only then reads the address."""
    from distributed.comm.addressing import get_address_host_port, parse_address
    from distributed.comm.registry import get_backend

    scheme, _ = parse_address(address)  # tcp where none is given
    get_backend(scheme)
    if scheme in ("tcp", "tls", "ws", "wss"):
        get_address_host_port(address)


class DaskExecutor:
    """Batches as Dask tasks on a distributed cluster (an address, or a Client you made).

    Dask reschedules the tasks of a worker that dies (up to the scheduler's
    ``allowed-failures``); if it gives up (``KilledWorker``) the batch comes back
    as WorkerLost and the runner resubmits it.
    """

    RECONNECT_SECONDS = 120

    def __init__(self, model, seed: int, scheduler: str | None = None, client=None):
        from distributed import Client

        self.model, self.seed = model, seed
        self._own = client is None
        try:
            if client is None and isinstance(scheduler, str):
                _check_address(scheduler)  # before Client starts its event loop
            self.client = client if client is not None else Client(scheduler, timeout="30s")
        except (OSError, TimeoutError) as err:
            raise UserError(f"cannot reach the Dask scheduler at {scheduler}: {err}") from None
        except ValueError as err:  # distributed's reading of the address
            raise UserError(f"--scheduler {scheduler}: not a scheduler address ({err}); "
                            "give HOST:PORT or tcp://HOST:PORT") from None
        workers = max(1, sum(self.client.nthreads().values()))
        self.slots = 2 * workers
        self.label = f"dask({self.client.scheduler.address}, {workers} threads)"
        self._futures: dict[Any, list] = {}
        self._keys = itertools.count()
        self._token = f"{os.getpid()}-{time.time_ns()}"
        self._disconnected_since: float | None = None

    @property
    def inflight(self) -> int:
        return len(self._futures)

    def submit(self, batch: list) -> None:
        n = next(self._keys)
        key = f"nlcsim-run-{batch[0][0]}-{self._token}-{n}"
        fut = self.client.submit(run_batch, self.model, self.seed, batch, key=key, pure=False)
        self._futures[fut] = batch
        if n % 64 == 63:  # adaptive clusters grow and shrink: follow them
            self.slots = 2 * max(1, sum(self.client.nthreads().values()))

    def wait(self, timeout: float) -> list[tuple[list, Any]]:
        from distributed import wait as dask_wait
        from distributed.client import FutureCancelledError

        if not self._futures:
            return []
        try:
            dask_wait(list(self._futures), timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            self._check_connected()
            return []
        except cf.CancelledError:  # the scheduler dropped our tasks
            if self.client.status != "running":
                raise SweepAborted("lost the connection to the Dask scheduler; the runs finished so far "
                                   "are saved") from None
        out = []
        for fut in [f for f in self._futures if f.done()]:
            batch = self._futures.pop(fut)
            try:
                out.append((batch, fut.result()))
            except Exception as err:
                name = type(err).__name__
                if name == "KilledWorker":
                    out.append((batch, WorkerLost(str(err))))
                elif isinstance(err, (FutureCancelledError, cf.CancelledError)) and self.client.status == "running":
                    out.append((batch, WorkerLost(str(err))))
                elif self.client.status != "running":
                    raise SweepAborted(f"lost the Dask scheduler ({name}: {err})") from err
                else:
                    raise SweepAborted(f"the Dask workers failed outside any run: {name}: {err}") from err
        return out

    def _check_connected(self) -> None:
        """A client reconnects by itself for a while; past that the scheduler is gone."""
        if self.client.status == "running":
            self._disconnected_since = None
            return
        if self.client.status in ("closing", "closed"):
            raise SweepAborted(f"lost the Dask scheduler (client {self.client.status})")
        now = time.monotonic()
        self._disconnected_since = self._disconnected_since or now
        if now - self._disconnected_since > self.RECONNECT_SECONDS:
            raise SweepAborted(f"lost the Dask scheduler for more than {self.RECONNECT_SECONDS} s")

    def close(self) -> None:
        try:
            if self._futures and self.client.status == "running":
                self.client.cancel(list(self._futures))
        except Exception:  # closing after a lost scheduler: nothing left to cancel
            pass
        finally:
            self._futures.clear()
            if self._own:
                self.client.close()
