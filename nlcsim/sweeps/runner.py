"""Running a sweep: plan the runs, skip those already on disk, stream the rest to Parquet.

The runner never holds more than one chunk of results: finished runs are
written every ``chunk_runs`` runs or ``flush_seconds`` seconds, whichever
comes first, so an interruption loses at most that much work and memory does
not grow with the number of runs.  Which runs still need doing is read back
from the committed chunks, so running the same command again after a crash,
``kill -9`` or a lost worker does exactly the missing runs: none lost, none
repeated.
"""

from __future__ import annotations

import collections
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import numpy as np
import pandas as pd

from .. import __version__
from ..errors import UserError
from ..provenance import model_source, package_versions
from ..scenario import Scenario, ScenarioError
from .designs import DESIGN_STREAM, RAW, design_overrides, make_design, salib_problem
from .executors import DaskExecutor, ProcessExecutor, SerialExecutor, WorkerLost
from .experiment import ANALYSIS_KEYS, Experiment, ExperimentError, load_experiment
from .models import FunctionModel, ScenarioModel, point_replicate, run_id_of, run_seed
from .store import FORMAT, ResultsStore
from .words import plural

MAX_ATTEMPTS = 3          # a run whose worker dies this many times, the run alone in flight, is recorded as failed
MAX_BATCH = 64            # runs per task at most (bounds the work lost with a worker)
RUN_SEED_RULE = "numpy.random.SeedSequence(experiment_seed, spawn_key=(point, replicate))"


@dataclass
class SweepSummary:
    """What a sweep did; ``str()`` gives the lines the command prints."""

    out: Path
    experiment: str
    design: str
    points: int
    replicates: int
    runs: int
    done_before: int
    ran: int
    failed: int
    failed_total: int
    lost_workers: int
    seconds: float
    executor: str

    @property
    def complete(self) -> bool:
        return self.done_before + self.ran == self.runs

    def __str__(self) -> str:
        lines = [f"{self.experiment}: {self.design} design, {plural(self.points, 'point')} x "
                 f"{plural(self.replicates, 'replicate')} = {plural(self.runs, 'run')}"]
        if self.ran:
            lines.append(f"  this session: {plural(self.ran, 'run')} in {self.seconds:.1f} s "
                         f"({self.ran / self.seconds:.2f} runs/s) on {self.executor}")
        else:
            lines.append("  this session: nothing left to run")
        if self.done_before:
            lines.append(f"  resumed: {plural(self.done_before, 'run')} already on disk, not run again")
        if self.lost_workers:
            lines.append(f"  lost workers: {plural(self.lost_workers, 'batch', 'batches')} resubmitted "
                         "after a worker died")
        lines.append(f"  failed runs: {self.failed_total} of {self.done_before + self.ran} recorded"
                     + (" (status 'failed', error text in the outcomes table)" if self.failed_total else ""))
        lines.append(f"  {'complete' if self.complete else 'INCOMPLETE: run the same command again to resume'}; "
                     f"results in {self.out}/")
        return "\n".join(lines)


def _json_ready(obj):
    return json.loads(json.dumps(obj, default=str))


def _check_points(exp: Experiment, design: pd.DataFrame) -> None:
    """Every point must make a valid scenario: found before any run, not as thousands of failures."""
    problems = []
    for point, overrides in enumerate(design_overrides(design, exp.keys)):
        try:
            exp.base_scenario.with_overrides(overrides)
        except ScenarioError as err:
            where = ", ".join(f"{k}={v!r}" for k, v in overrides.items())
            problems.extend(f"point {point} ({where}): {p}" for p in err.problems)
            if len(problems) >= 10:
                problems.append("... (stopped after 10 problems)")
                break
    if problems:
        raise ExperimentError(exp.source, problems)


def _identity_differences(stored: Mapping, current: Mapping) -> list[str]:
    out = []
    for key in sorted(set(stored) | set(current)):
        a, b = stored.get(key), current.get(key)
        if a == b:
            continue
        if key == "base_scenario" and isinstance(a, Mapping) and isinstance(b, Mapping):
            try:
                diff = Scenario.from_dict(a).diff(Scenario.from_dict(b))
                keys = ", ".join(f"{k}: {x!r} -> {y!r}" for k, (x, y) in list(diff.items())[:8])
                out.append(f"the base scenario resolves differently now ({keys or 'meta or events'}); "
                           "the preset, [fixed] or the model's defaults changed")
                continue
            except ScenarioError:
                pass
        out.append(f"{key}: {a!r} on disk, {b!r} now")
    return out


def _make_model(exp: Experiment, model: Callable | None):
    if model is not None:
        return FunctionModel(model)
    cols = tuple(exp.timeseries_columns) if exp.timeseries_columns else None
    return ScenarioModel(exp.base_scenario, exp.timeseries_every, cols, model_source())


def _make_executor(model, seed: int, workers: int | None, scheduler: str | None, client):
    if scheduler is not None or client is not None:
        return DaskExecutor(model, seed, scheduler=scheduler, client=client)
    if workers is None:
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if workers == 1:
        return SerialExecutor(model, seed)
    return ProcessExecutor(model, seed, workers)


def _pending(overrides: list[dict], replicates: int, done: set[int]) -> Iterator[tuple[int, int, int, dict]]:
    """The runs not yet done, in run_id order, with their point's overrides."""
    for point, point_overrides in enumerate(overrides):
        for replicate in range(replicates):
            run_id = run_id_of(point, replicate, replicates)
            if run_id not in done:
                yield (run_id, point, replicate, point_overrides)


@dataclass
class _Tally:
    """What a session has saved so far: runs and failed runs in committed chunks, lost workers."""

    ran: int = 0
    failed: int = 0
    lost: int = 0


class _ChunkWriter:
    """Collects finished runs and writes them as one atomic chunk at a time.

    Runs are counted in ``tally`` only once their chunk is committed, so the
    counts match the disk even when the session is interrupted.
    """

    def __init__(self, store: ResultsStore, session: int, design: pd.DataFrame, keys: list[str],
                 outcome_names: list[str] | None, tally: _Tally):
        self.store, self.session, self.tally = store, session, tally
        self.seq = store.next_seq(session)
        self.keys = keys
        self.factor_values = {k: design[k].to_numpy() for k in keys}
        self.outcome_names = outcome_names
        self.records: list[dict] = []
        self.last = time.monotonic()

    def add(self, record: dict) -> None:
        self.records.append(record)

    def due(self, chunk_runs: int, flush_seconds: float) -> bool:
        return len(self.records) >= chunk_runs or (
            bool(self.records) and time.monotonic() - self.last >= flush_seconds)

    def flush(self) -> None:
        self.last = time.monotonic()
        if not self.records:
            return
        recs = sorted(self.records, key=lambda r: r["run_id"])
        points = np.array([r["point"] for r in recs], dtype=np.int64)
        frame = pd.DataFrame({
            "run_id": np.array([r["run_id"] for r in recs], dtype=np.int64),
            "point": points,
            "replicate": np.array([r["replicate"] for r in recs], dtype=np.int64),
            "status": pd.array([r["status"] for r in recs], dtype="string"),
            "error": pd.array([r["error"] for r in recs], dtype="string"),
            "seconds": np.array([r["seconds"] for r in recs], dtype=float),
        })
        for k in self.keys:
            frame[k] = self.factor_values[k][points]
        names = self.outcome_names or list(dict.fromkeys(n for r in recs for n in r["outcomes"]))
        columns = {}
        for name in names:
            values = [r["outcomes"].get(name, np.nan) for r in recs]
            try:
                columns[name] = np.array(values, dtype=float)
            except (TypeError, ValueError):
                columns[name] = values
        frame = pd.concat([frame, pd.DataFrame(columns, index=frame.index)], axis=1)
        series = [r["timeseries"].assign(run_id=r["run_id"], point=r["point"], replicate=r["replicate"])
                  for r in recs if r.get("timeseries") is not None]
        ts = None
        if series:
            ts = pd.concat(series, ignore_index=True)
            ts = ts[["run_id", "point", "replicate", *[c for c in ts.columns if c not in ("run_id", "point", "replicate")]]]
        self.store.write_chunk(self.session, self.seq, frame, ts)
        self.seq += 1
        self.records = []
        self.tally.ran += len(recs)
        self.tally.failed += sum(r["status"] != "ok" for r in recs)


FOLDER = "results folder"  # the ``what`` of an ExperimentError about --out


def _refuse_foreign_folder(store: ResultsStore) -> None:
    """A folder with no manifest may hold only what a runner killed while creating it left
    behind (no runs); anything else is not ours to write into."""
    own = {".lock", "experiment.toml", "base_scenario.toml", "design.parquet", "outcomes", "timeseries"}
    if store.root.exists() and any(p.name not in own and not p.name.endswith(".tmp") for p in store.root.iterdir()) \
            or any(store.root.glob("*/part-*.parquet")):
        raise ExperimentError(str(store.root), ["the folder exists and is not a sweep results folder; "
                                                "choose an empty or new --out"], FOLDER)


def _refresh_analysis(exp: Experiment, store: ResultsStore, manifest: dict) -> None:
    """Take up an edited ``[analysis]`` section of the same experiment (it decides no run), so
    that ``nlcsim analyze`` reads what the file now says; the stored file is replaced too."""
    stored, now = manifest["experiment"], _json_ready(exp.describe())
    changed = [k for k in ANALYSIS_KEYS if stored.get(k) != now.get(k)]
    if not changed:
        return
    stored.update({k: now.get(k) for k in ANALYSIS_KEYS})
    store.write_experiment_text(exp.text)
    store.write_manifest(manifest)
    print(f"note: [analysis] {', '.join(changed)} changed in the experiment file; {store.root} now records "
          "the new settings (no run depends on them)", file=sys.stderr)


def _prepare(exp: Experiment, store: ResultsStore, model_label: str, custom: bool,
             resume: bool = False) -> pd.DataFrame:
    """Create the results folder, or check that the one on disk holds this very experiment.

    A folder with no manifest has been checked by :func:`sweep` before its lock (no
    ``--resume`` there, nothing foreign in it).  A manifest of another experiment (or
    model) under which no run was ever recorded, as a sweep whose scheduler could not be
    reached leaves, is replaced unless ``resume``: there is nothing in it to keep."""
    identity = _json_ready(exp.identity())
    if store.exists():
        manifest = store.read_manifest()
        other_experiment = manifest.get("fingerprint") != exp.fingerprint()
        made_by = manifest.get("model_source")
        other_model = not custom and made_by is not None and made_by != model_source()
        if (other_experiment or other_model) and not resume and not store.chunk_files():
            what = "another experiment" if other_experiment else "a sweep of another model"
            print(f"note: {store.root} held {what} with no runs recorded; replacing it with this one",
                  file=sys.stderr)
        else:
            if other_experiment:
                diffs = _identity_differences(manifest.get("identity", {}), identity)
                raise ExperimentError(str(store.root), [
                    "this folder holds the results of a different experiment; use another --out, or restore "
                    "the experiment as it was" + (". What differs: " + "; ".join(diffs) if diffs else "")], FOLDER)
            if manifest.get("version") != __version__:
                print(f"note: {store.root} was started with nlcsim {manifest.get('version')}, "
                      f"this is {__version__}", file=sys.stderr)
            if other_model:
                raise ExperimentError(str(store.root), [
                    f"the model has changed since these results were made (model source {made_by} on disk, "
                    f"{model_source()} now): resuming would mix runs of two models; use another --out, or resume "
                    "with the code that made them"], FOLDER)
            _refresh_analysis(exp, store, manifest)
            return store.read_design()
    design = make_design(exp)
    if not custom:
        _check_points(exp, design)
    manifest = {
        "format": FORMAT, "package": "nlcsim", "version": __version__, "versions": package_versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "experiment": _json_ready(exp.describe()), "experiment_file": "experiment.toml",
        "base_scenario_file": "base_scenario.toml" if exp.base_scenario is not None else None,
        "model": model_label, "model_source": None if custom else model_source(),
        "fingerprint": exp.fingerprint(), "identity": identity,
        "points": int(len(design)), "replicates": exp.replicates, "runs": int(len(design)) * exp.replicates,
        "run_id": "point * replicates + replicate",
        "seeds": {"experiment_seed": exp.seed, "run_seed": RUN_SEED_RULE,
                  "design_seed": f"numpy.random.SeedSequence(experiment_seed, spawn_key=(0x{DESIGN_STREAM:X},))"},
        "salib_problem": salib_problem(exp) if exp.design in ("lhs", "sobol", "morris") else None,
        "raw_columns": [RAW + k for k in exp.keys] if exp.design in ("lhs", "sobol", "morris") else [],
        "sessions": [],
    }
    store.create(manifest, exp.text, exp.base_scenario.to_toml() if exp.base_scenario is not None else None, design)
    return design


def sweep(experiment: str | Path | Mapping | Experiment, out: str | Path | None = None, *,
          workers: int | None = None, scheduler: str | None = None, client=None, resume: bool = False,
          progress: bool = True, chunk_runs: int = 200, flush_seconds: float = 10.0,
          model: Callable | None = None) -> SweepSummary:
    """Run an experiment, or the runs of it still missing in ``out``.

    ``workers``: local processes (default: all cores; 1 = in this process).
    ``scheduler``: a Dask scheduler address (``tcp://host:8786``); or pass a
    ``distributed.Client`` as ``client``.  ``model``: sweep a plain function
    ``f(params, seed) -> {outcome: value}`` instead of the nlcsim model.

    Results go to ``out`` (default ``results/<experiment name>``); read them
    with :func:`nlcsim.sweeps.load_results`.
    """
    check_arguments(workers=workers, chunk_runs=chunk_runs)
    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment, custom_model=model is not None)
    store = ResultsStore(out if out is not None else Path("results") / exp.name)
    if store.root.exists() and not store.root.is_dir():
        raise ExperimentError(str(store.root), ["this is a file; --out takes a folder"], FOLDER)
    if not store.exists():  # checked before the lock, which makes the folder and leaves a .lock in it
        if resume:
            raise ExperimentError(str(store.root), ["--resume: there is no sweep here to resume (no manifest.json)"],
                                  FOLDER)
        _refuse_foreign_folder(store)
    runner_model = _make_model(exp, model)
    with store.lock():
        design = _prepare(exp, store, runner_model.label, model is not None, resume)
        store.clean()
        for number, started in store.close_interrupted_sessions():
            print(f"note: session {number} in {store.root} (started {started}) stopped without ending, "
                  "as after kill -9: recorded as interrupted", file=sys.stderr)
        done, repeated = store.done_runs()
        if repeated:
            print(f"warning: {plural(repeated, 'run')} recorded twice in {store.root}; the loader keeps the first",
                  file=sys.stderr)
        n_points, replicates = len(design), exp.replicates
        total = n_points * replicates
        todo = total - len(done)
        start = time.perf_counter()
        executor = None
        tally = _Tally()
        session = 0
        finished = False
        try:
            if todo > 0:
                executor = _make_executor(runner_model, exp.seed, workers, scheduler, client)
                session = store.start_session({"executor": executor.label, "runs_to_do": todo,
                                               "version": __version__})
                _run(exp, design, done, total, store, session, executor, runner_model, chunk_runs,
                     flush_seconds, progress, tally)
            finished = True
        finally:
            if executor is not None:
                executor.close()
            seconds = time.perf_counter() - start
            if session:  # also after an interrupt: the counts are those of the committed chunks
                end = {"ran": tally.ran, "failed": tally.failed, "lost_workers": tally.lost,
                       "seconds": round(seconds, 3)}
                if not finished:  # Ctrl-C, SIGTERM (which the command turns into an exception), an error
                    end["interrupted"] = True
                store.end_session(session, end)
        failed_total = _count_failed(store)
    return SweepSummary(store.root, exp.name, exp.design, n_points, replicates, total, len(done), tally.ran,
                        tally.failed, failed_total, tally.lost, seconds,
                        executor.label if executor else "nothing to run")


def check_arguments(workers: int | None = None, chunk_runs: int = 1,
                    names: Mapping[str, str] | None = None) -> None:
    """Refuse ``workers`` or ``chunk_runs`` below 1 before anything is written.

    ``names`` gives the name to show for each, e.g. ``{"workers": "--workers"}`` on the command line.
    """
    names = {"workers": "workers =", "chunk_runs": "chunk_runs =", **(names or {})}
    problems = []
    if workers is not None and workers < 1:
        problems.append(f"{names['workers']} {workers!r}: must be at least 1 worker process "
                        "(1 = run in this process)")
    if chunk_runs < 1:
        problems.append(f"{names['chunk_runs']} {chunk_runs!r}: must be at least 1 run per chunk")
    if problems:
        raise UserError("; ".join(problems))


def _count_failed(store: ResultsStore) -> int:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    n = 0
    for path in store.chunk_files():
        status = pq.read_table(path, columns=["status"]).column("status")
        n += int(pc.sum(pc.equal(status, "failed")).as_py() or 0)
    return n


def _run(exp, design, done, total, store, session, executor, model, chunk_runs, flush_seconds, progress,
         tally: _Tally) -> None:
    """Run the pending runs; ``tally`` counts what reaches the disk (kept if interrupted)."""
    from tqdm.auto import tqdm

    keys = exp.keys
    pending = _pending(design_overrides(design, keys), exp.replicates, done)
    writer = _ChunkWriter(store, session, design, keys, model.outcome_names(), tally)
    retry: collections.deque = collections.deque()
    attempts: collections.Counter = collections.Counter()
    remaining = total - len(done)
    seconds_per_run = None
    target = 0.0 if isinstance(executor, SerialExecutor) else (1.0 if isinstance(executor, DaskExecutor) else 0.25)
    failed = 0   # for the progress bar; the session's counts are in tally
    bar = tqdm(total=total, initial=len(done), unit="run", desc=exp.name, disable=not progress,
               smoothing=0.05, mininterval=0.5, dynamic_ncols=True, file=sys.stderr)

    def batch_size() -> int:
        if not target or not seconds_per_run:
            return 1
        by_time = int(target / max(seconds_per_run, 1e-6))
        return max(1, min(MAX_BATCH, by_time, remaining // max(executor.slots, 1) or 1))

    # A dead worker takes every batch in flight with it, so a loss says nothing of who caused it.
    # The runs of lost batches are run again one at a time, each alone in flight: a death then
    # belongs to that run, and only such deaths count as its attempts.
    alone = None  # the run id in flight alone, if any

    try:
        while True:
            while executor.inflight < executor.slots and alone is None:
                if retry:
                    if executor.inflight:
                        break  # once the runs in flight are back
                    batch = [retry.popleft()]
                    alone = batch[0][0]
                else:
                    batch = [spec for _, spec in zip(range(batch_size()), pending)]
                if not batch:
                    break
                remaining -= len(batch)
                executor.submit(batch)
            if executor.inflight == 0:
                break
            for batch, result in executor.wait(timeout=0.5):
                was_alone = len(batch) == 1 and batch[0][0] == alone
                if was_alone:
                    alone = None
                if isinstance(result, WorkerLost):
                    tally.lost += 1
                    for spec in batch:
                        attempts[spec[0]] += was_alone
                        if attempts[spec[0]] >= MAX_ATTEMPTS:
                            writer.add({"run_id": spec[0], "point": spec[1], "replicate": spec[2],
                                        "status": "failed", "seconds": float("nan"), "outcomes": {},
                                        "timeseries": None,
                                        "error": f"WorkerLost: the worker running this run alone died {MAX_ATTEMPTS} "
                                                 f"times (killed, out of memory or crashed): {result}"})
                            failed += 1
                            bar.update(1)
                        else:
                            retry.append(spec)
                            remaining += 1
                    continue
                for record in result:
                    writer.add(record)
                    if record["status"] != "ok":
                        failed += 1
                    elif np.isfinite(record["seconds"]):
                        s = record["seconds"]
                        seconds_per_run = s if seconds_per_run is None else 0.9 * seconds_per_run + 0.1 * s
                bar.update(len(result))
                if failed:
                    bar.set_postfix_str(f"failed {failed}", refresh=False)
            if writer.due(chunk_runs, flush_seconds):
                writer.flush()
    finally:
        writer.flush()
        bar.close()


def rerun(results: str | Path, run_id: int):
    """Run one run of a finished (or unfinished) sweep again, alone, from its id.

    Returns the :class:`nlcsim.RunResult`; its outcomes equal the stored row
    when the model is the one that made it (a warning says when it is not).
    """
    from ..run import run

    store = ResultsStore(results)
    manifest = store.read_manifest()
    if manifest.get("base_scenario_file") is None:
        raise ExperimentError(str(results), ["this sweep ran a custom model function; call it yourself with "
                                             "nlcsim.sweeps.models.run_seed(seed, point, replicate)"])
    replicates = manifest["replicates"]
    if isinstance(run_id, bool) or not isinstance(run_id, (int, np.integer)) or not 0 <= run_id < manifest["runs"]:
        raise ExperimentError(str(results), [f"run_id = {run_id!r}: must be a whole number from 0 to "
                                             f"{manifest['runs'] - 1}"])
    made_by = manifest.get("model_source")
    if made_by is not None and made_by != model_source():
        print(f"warning: the model has changed since {results} was made (model source {made_by} there, "
              f"{model_source()} now): this run may not equal the stored one", file=sys.stderr)
    point, replicate = point_replicate(run_id, replicates)
    design = store.read_design()
    keys = [f["key"] for f in manifest["experiment"]["factors"]]
    overrides = design_overrides(design.iloc[[point]], keys)[0]
    base = Scenario.load(store.root / manifest["base_scenario_file"])
    return run(base.with_overrides(overrides), seed=run_seed(manifest["seeds"]["experiment_seed"], point, replicate))


def load_results(results: str | Path, table: str = "outcomes", columns: list[str] | None = None) -> pd.DataFrame:
    """A sweep's results as a pandas DataFrame sorted by run id.

    ``table="outcomes"``: one row per run (run_id, point, replicate, status,
    error, seconds, the factors, every outcome).  ``table="timeseries"``: the
    recorded weeks of every run.  ``columns`` reads only those columns.
    """
    if table not in ("outcomes", "timeseries"):
        raise ExperimentError(str(results), [f"table = {table!r}: must be 'outcomes' or 'timeseries'"])
    if isinstance(columns, str):  # one column named
        columns = [columns]
    store = ResultsStore(results)
    store.read_manifest()
    df = store.read_table(table, columns)
    missing = [c for c in columns or [] if c not in df.columns]
    if missing and len(df):
        raise ExperimentError(str(results), [f"columns: no {', '.join(map(repr, missing))} in the {table} table; "
                                             f"it has {', '.join(store.column_names(table))}"])
    return df


def load_manifest(results: str | Path) -> dict[str, Any]:
    """The manifest of a sweep: experiment, design, seeds, versions, sessions."""
    return ResultsStore(results).read_manifest()
