"""Throughput of a sweep: runs per second of the baseline network, and Dask's cost per run.

    python benchmarks/sweep_throughput.py             # 1,000 runs at 1 and 2 workers, and on Dask
    python benchmarks/sweep_throughput.py --runs 100  # a quick look

1. A 1,000-run sweep of the baseline (one network of 11 schools over seven
   years, end-of-run outcomes only) in this process (1 worker), on 2 local
   worker processes, and on a Dask LocalCluster of 2 single-threaded worker
   processes.  Wall time includes starting the workers.
2. Dask's overhead per run: a sweep of a function that does nothing, so that
   all the time is the machinery (scheduling, moving results, writing
   Parquet), on the same LocalCluster and, for comparison, on local processes:
   once as the runner batches runs into tasks, once with one run per task.

``--parts baseline`` or ``--parts overhead`` runs one part and keeps the other
part's figures from the last report.  Every figure carries the load average
of the machine before and after it, because a shared machine's load changes
wall times.  Writes benchmarks/results/sweep_throughput.json with the
machine's description.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

from nlcsim import __version__
from nlcsim.sweeps import runner, sweep

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import machine  # noqa: E402


def nothing(params, seed):
    """A model that costs nothing: what remains is the sweep machinery."""
    return {"y": 0.0}


def timed(experiment, out: Path, **kwargs) -> dict:
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    summary = sweep(experiment, out, progress=False, **kwargs)
    wall = time.perf_counter() - start
    assert summary.complete and summary.failed_total == 0, summary
    return {"runs": summary.runs, "wall_seconds": round(wall, 2), "runs_per_second": round(summary.runs / wall, 3),
            "ms_per_run": round(1000 * wall / summary.runs, 3), "executor": summary.executor,
            "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)]}


def baseline_part(runs: int, tmp: Path) -> dict:
    from distributed import Client, LocalCluster

    experiment = {"experiment": {"name": "throughput", "design": "grid", "replicates": runs, "seed": 1},
                  "factors": [{"key": "trust.initial", "levels": [0.5]}], "record": {"timeseries_every": 0}}
    out = {"1 worker (in process)": timed(experiment, tmp / "b1", workers=1)}
    out["2 local processes"] = timed(experiment, tmp / "b2", workers=2)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        out["Dask LocalCluster, 2 workers x 1 thread"] = timed(experiment, tmp / "bd", client=client)
    print(json.dumps(out, indent=2))
    return out


def overhead_part(runs: int, tmp: Path) -> dict:
    from distributed import Client, LocalCluster

    experiment = {"experiment": {"name": "empty", "design": "grid", "replicates": runs, "seed": 1},
                  "factors": [{"key": "x", "levels": [0.0]}]}
    out = {}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        for batching, limit in (("batched", runner.MAX_BATCH), ("one run per task", 1)):
            with mock.patch.object(runner, "MAX_BATCH", limit):
                out[f"1 worker (in process), {batching}"] = timed(experiment, tmp / f"e1{limit}", workers=1,
                                                                  model=nothing)
                out[f"2 local processes, {batching}"] = timed(experiment, tmp / f"e2{limit}", workers=2,
                                                              model=nothing)
                out[f"Dask LocalCluster 2 x 1, {batching}"] = timed(experiment, tmp / f"ed{limit}", client=client,
                                                                    model=nothing)
    print(json.dumps(out, indent=2))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--empty-runs", type=int, default=5000)
    parser.add_argument("--parts", default="baseline,overhead")
    args = parser.parse_args(argv)
    results = Path(__file__).resolve().parent / "results"
    results.mkdir(exist_ok=True)
    path = results / "sweep_throughput.json"
    report = json.loads(path.read_text()) if path.exists() else {}
    report.update(version=__version__, machine=machine())
    tmp = Path(tempfile.mkdtemp(prefix="nlcsim-sweep-throughput-"))
    parts = args.parts.split(",")
    if "baseline" in parts:
        report["baseline_runs"] = baseline_part(args.runs, tmp)
    if "overhead" in parts:
        report["empty_runs"] = overhead_part(args.empty_runs, tmp)
    path.write_text(json.dumps(report, indent=2))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
