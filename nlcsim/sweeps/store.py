"""The results folder of a sweep: Parquet chunks written atomically, and what produced them.

Layout::

    OUT/
      manifest.json         design, factors, seeds, package versions, sessions
      experiment.toml       the experiment file as written
      base_scenario.toml    the fully resolved base scenario (defaults + [fixed])
      design.parquet        one row per point
      outcomes/part-SSS-NNNNNN.parquet     one row per run, keyed by run_id
      timeseries/part-SSS-NNNNNN.parquet   optional, same chunk names

Every file is written to a temporary name and moved into place with
``os.replace``, which is atomic: a reader (or a resumed sweep) sees a whole
chunk or none of it.  An outcomes chunk is the commit record of its runs; a
time-series chunk is written first and counts only once its outcomes twin
exists, so a kill between the two loses nothing and duplicates nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import socket
import time
import warnings
from pathlib import Path
from typing import Any, Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import UserError
from .words import plural

OUTCOMES, TIMESERIES = "outcomes", "timeseries"
FORMAT = 1


def write_atomic(path: Path, data) -> None:
    """Write ``data`` (bytes, or any buffer such as a pyarrow Buffer) to ``path`` so that the file
    is either the old one or the whole new one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_parquet_atomic(path: Path, frame: pd.DataFrame) -> None:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink, compression="zstd")
    write_atomic(path, sink.getvalue())  # a pyarrow Buffer: written without a copy to bytes


class ResultsStore:
    """One sweep's results folder."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    # -- paths ------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def chunk_files(self, table: str = OUTCOMES) -> list[Path]:
        """Committed chunks of a table (time-series chunks only where their outcomes twin exists)."""
        folder = self.root / table
        if not folder.is_dir():
            return []
        files = sorted(p for p in folder.glob("part-*.parquet"))
        if table == TIMESERIES:
            committed = {p.name for p in self.chunk_files(OUTCOMES)}
            files = [p for p in files if p.name in committed]
        return files

    # -- creation and sessions -----------------------------------------
    def create(self, manifest: dict[str, Any], experiment_text: str, base_toml: str | None,
               design: pd.DataFrame) -> None:
        """Write everything that describes the sweep; the manifest last, as its commit."""
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / OUTCOMES).mkdir(exist_ok=True)
        (self.root / TIMESERIES).mkdir(exist_ok=True)
        self.write_experiment_text(experiment_text)
        if base_toml is not None:
            write_atomic(self.root / "base_scenario.toml", base_toml.encode("utf-8"))
        else:  # a custom model's sweep replacing one of the model (see runner._prepare)
            (self.root / "base_scenario.toml").unlink(missing_ok=True)
        write_parquet_atomic(self.root / "design.parquet", design)
        self.write_manifest(manifest)

    def write_experiment_text(self, text: str) -> None:
        write_atomic(self.root / "experiment.toml", text.encode("utf-8"))

    def read_manifest(self) -> dict[str, Any]:
        if not self.exists():
            raise UserError(f"{self.root}: not a sweep results folder (no manifest.json)")
        return json.loads(self.manifest_path.read_text(encoding="utf-8"))

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        write_atomic(self.manifest_path, json.dumps(manifest, indent=2, default=str).encode("utf-8"))

    def read_design(self) -> pd.DataFrame:
        return pq.read_table(self.root / "design.parquet").to_pandas()

    def start_session(self, info: dict[str, Any]) -> int:
        """Record a new session (who ran what, where, with which version); returns its number."""
        manifest = self.read_manifest()
        sessions = manifest.setdefault("sessions", [])
        info = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "host": socket.gethostname(),
                "pid": os.getpid(), "python": platform.python_version(), **info}
        sessions.append(info)
        self.write_manifest(manifest)
        return len(sessions)

    def end_session(self, session: int, info: dict[str, Any]) -> None:
        manifest = self.read_manifest()
        manifest["sessions"][session - 1].update(info, ended=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        self.write_manifest(manifest)

    def close_interrupted_sessions(self) -> list[tuple[int, str | None]]:
        """Mark the sessions that never ended (their runner was killed: ``kill -9``, a lost node) as
        interrupted; returns their numbers and start times.

        Call it holding :meth:`lock`: no runner is then alive to end them.  The end time is
        unknown and stays ``null``; ``ran`` and ``failed`` are counted from the session's
        committed chunks, the runs it saved.
        """
        manifest = self.read_manifest()
        dead = [(n, s) for n, s in enumerate(manifest.get("sessions", []), 1) if "ended" not in s]
        for number, session in dead:
            status = [pq.read_table(p, columns=["status"]).column("status").to_pylist()
                      for p in self.session_chunks(number)]
            session.update(ended=None, interrupted=True, ran=sum(map(len, status)),
                           failed=sum(st != "ok" for chunk in status for st in chunk))
        if dead:
            self.write_manifest(manifest)
        return [(number, session.get("started")) for number, session in dead]

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the folder for one runner at a time (released by the OS if the runner dies):
        ``flock`` on POSIX, a byte-range lock (``msvcrt.locking``) on Windows."""
        self.root.mkdir(parents=True, exist_ok=True)
        fh = open(self.root / ".lock", "a+")
        try:
            unlock = _lock_file(fh)
            if unlock is None:
                raise UserError(f"{self.root}: another sweep is writing to this folder right now")
            try:
                yield
            finally:
                unlock()
        finally:
            fh.close()

    def clean(self) -> int:
        """Remove what an interrupted runner left half-done: temp files, uncommitted time-series chunks."""
        removed = 0
        for table in (OUTCOMES, TIMESERIES):
            folder = self.root / table
            if folder.is_dir():
                for p in folder.glob(".*.tmp"):
                    p.unlink(missing_ok=True)
                    removed += 1
        committed = {p.name for p in self.chunk_files(OUTCOMES)}
        folder = self.root / TIMESERIES
        if folder.is_dir():
            for p in folder.glob("part-*.parquet"):
                if p.name not in committed:
                    p.unlink(missing_ok=True)
                    removed += 1
        return removed

    # -- chunks -----------------------------------------------------------
    def write_chunk(self, session: int, seq: int, outcomes: pd.DataFrame,
                    timeseries: pd.DataFrame | None) -> Path:
        name = f"part-{session:03d}-{seq:06d}.parquet"
        if timeseries is not None and len(timeseries):
            write_parquet_atomic(self.root / TIMESERIES / name, timeseries)
        path = self.root / OUTCOMES / name
        write_parquet_atomic(path, outcomes)   # the commit of these runs
        return path

    def done_runs(self) -> tuple[set[int], int]:
        """Run ids already recorded, and how many ids were recorded more than once (should be 0)."""
        done: set[int] = set()
        repeated = 0
        for path in self.chunk_files(OUTCOMES):
            ids = pq.read_table(path, columns=["run_id"]).column("run_id").to_pylist()
            before = len(done)
            done.update(ids)
            repeated += len(ids) - (len(done) - before)
        return done, repeated

    def session_chunks(self, session: int) -> list[Path]:
        """The outcome chunks a session committed (named ``part-<session>-<seq>.parquet``)."""
        return sorted((self.root / OUTCOMES).glob(f"part-{session:03d}-*.parquet"))

    def next_seq(self, session: int) -> int:
        return len(self.session_chunks(session))

    def column_names(self, table: str = OUTCOMES) -> list[str]:
        """The columns of a table's committed chunks (read from their schemas only), in first-seen order."""
        names: dict[str, None] = {}
        for p in self.chunk_files(table):
            names.update(dict.fromkeys(pq.read_schema(p).names))
        return list(names)

    def read_table(self, table: str = OUTCOMES, columns: list[str] | None = None) -> pd.DataFrame:
        """All committed chunks of a table as one DataFrame sorted by run_id."""
        files = self.chunk_files(table)
        if not files:
            return pd.DataFrame(columns=["run_id"])
        frames = []
        wanted = None if columns is None else list(dict.fromkeys(["run_id", *columns]))
        for p in files:
            chunk = pq.ParquetFile(p)  # its footer read once, for the schema and the read
            names = None if wanted is None else [c for c in wanted if c in chunk.schema_arrow.names]
            frames.append(chunk.read(columns=names).to_pandas())  # only the columns asked for are read
        df = pd.concat(frames, ignore_index=True)
        sort = ["run_id", "week"] if table == TIMESERIES and "week" in df else ["run_id"]
        df = df.sort_values(sort, kind="stable").reset_index(drop=True)
        if table == OUTCOMES and df["run_id"].duplicated().any():
            n = int(df["run_id"].duplicated().sum())
            warnings.warn(f"{self.root}: {plural(n, 'run')} recorded twice; keeping the first record of each",
                          stacklevel=2)
            df = df.drop_duplicates("run_id", keep="first").reset_index(drop=True)
        return df


def _lock_file(fh):
    """Take an exclusive lock on the open file ``fh`` without waiting; returns what
    releases it, or None if another process holds it."""
    try:
        import fcntl
    except ImportError:
        import msvcrt  # Windows: lock the file's first byte

        fh.seek(0)
        try:
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return None

        def unlock():
            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)

        return unlock
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return None
    return lambda: fcntl.flock(fh, fcntl.LOCK_UN)
