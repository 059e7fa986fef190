"""Throughput of a sweep: runs per second of the baseline network, and Dask's cost per run.

    python benchmarks/sweep_throughput.py             # 1,000 runs at 1 and 2 workers, and on Dask
    python benchmarks/sweep_throughput.py --runs 100  # a quick look

1. A 1,000-run sweep of the baseline (one network of 11 schools over seven
   years, end-of-run outcomes only) in this process (1 worker), on 2 local
   worker processes, and on a Dask LocalCluster of 2 single-threaded worker
   processes.  Wall time includes starting the workers.
2. Dask's overhead per run: a sweep of a function that does nothing, so that
   all the time is the machinery (scheduling, moving results, writing
   Parquet), on the same LocalCluster and, for comparison, on local processes.

Writes benchmarks/results/sweep_throughput.json with the machine's description.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from nlcsim import __version__
from nlcsim.sweeps import sweep

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sweep_memory import machine  # noqa: E402


def nothing(params, seed):
    """A model that costs nothing: what remains is the sweep machinery."""
    return {"y": 0.0}


def timed(experiment, out: Path, **kwargs) -> dict:
    start = time.perf_counter()
    summary = sweep(experiment, out, progress=False, **kwargs)
    wall = time.perf_counter() - start
    assert summary.complete and summary.failed_total == 0, summary
    return {"runs": summary.runs, "wall_seconds": round(wall, 2), "runs_per_second": round(summary.runs / wall, 3),
            "executor": summary.executor}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--empty-runs", type=int, default=5000)
    args = parser.parse_args(argv)
    from distributed import Client, LocalCluster

    tmp = Path(tempfile.mkdtemp(prefix="nlcsim-sweep-throughput-"))
    baseline = {"experiment": {"name": "throughput", "design": "grid", "replicates": args.runs, "seed": 1},
                "factors": [{"key": "trust.initial", "levels": [0.5]}], "record": {"timeseries_every": 0}}
    empty = {"experiment": {"name": "empty", "design": "grid", "replicates": args.empty_runs, "seed": 1},
             "factors": [{"key": "x", "levels": [0.0]}]}
    report = {"version": __version__, "machine": machine(), "baseline_runs": {}, "empty_runs": {}}
    report["baseline_runs"]["1 worker (in process)"] = timed(baseline, tmp / "b1", workers=1)
    print(report["baseline_runs"])
    report["baseline_runs"]["2 local processes"] = timed(baseline, tmp / "b2", workers=2)
    print(report["baseline_runs"])
    report["empty_runs"]["1 worker (in process)"] = timed(empty, tmp / "e1", workers=1, model=nothing)
    report["empty_runs"]["2 local processes"] = timed(empty, tmp / "e2", workers=2, model=nothing)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        report["baseline_runs"]["Dask LocalCluster, 2 workers x 1 thread"] = timed(baseline, tmp / "bd", client=client)
        print(report["baseline_runs"])
        report["empty_runs"]["Dask LocalCluster, 2 workers x 1 thread"] = timed(empty, tmp / "ed", client=client,
                                                                                model=nothing)
    for name, row in report["empty_runs"].items():
        row["ms_per_run"] = round(1000 * row["wall_seconds"] / row["runs"], 3)
    procs = report["baseline_runs"]["2 local processes"]["wall_seconds"]
    dask = report["baseline_runs"]["Dask LocalCluster, 2 workers x 1 thread"]["wall_seconds"]
    report["dask_minus_processes_ms_per_baseline_run"] = round(1000 * (dask - procs) / args.runs, 2)
    print(json.dumps(report, indent=2))
    results = Path(__file__).resolve().parent / "results"
    results.mkdir(exist_ok=True)
    (results / "sweep_throughput.json").write_text(json.dumps(report, indent=2))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
