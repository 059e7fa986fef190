"""Memory of a long sweep: does peak RSS stay flat as runs accumulate?

    python benchmarks/sweep_memory.py                 # 10,000 runs, 2 workers
    python benchmarks/sweep_memory.py --runs 2000 --workers 1

Runs one small network (3 schools of 8 teachers, one school year) 10,000
times with end-of-run outcomes only, on local worker processes, and samples
the resident memory of the runner and of its workers every 0.2 s.  Results
stream to Parquet in chunks, so the runner's memory should not grow with the
number of runs done.  Prints a Markdown table (RSS after each tenth of the
runs) and writes it, with the machine's description, to
benchmarks/results/sweep_memory.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from nlcsim import __version__
from nlcsim.sweeps import sweep

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import machine  # noqa: E402  (a sibling module: benchmarks/ is a folder of scripts)

SMALL = {"population.schools_per_network": 3, "population.teachers_per_school": 8, "schedule.years": 1,
         "funding.years": 0.5}


def committed_runs(out: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.read_metadata(p).num_rows for p in (out / "outcomes").glob("part-*.parquet"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    out = Path(tempfile.mkdtemp(prefix="nlcsim-sweep-memory-")) / "results"
    experiment = {"experiment": {"name": "sweep_memory", "design": "grid", "replicates": args.runs, "seed": 1},
                  "fixed": SMALL, "factors": [{"key": "trust.initial", "levels": [0.5]}],
                  "record": {"timeseries_every": 0}}
    me = psutil.Process()
    samples: list[tuple[float, int, int, int]] = []   # seconds, runs on disk, runner RSS, workers' RSS
    stop = threading.Event()

    def sample() -> None:
        start = time.monotonic()
        while not stop.is_set():
            workers = 0
            for child in me.children(recursive=True):
                try:
                    workers += child.memory_info().rss
                except psutil.NoSuchProcess:
                    pass
            runs = committed_runs(out) if (out / "outcomes").is_dir() else 0
            samples.append((time.monotonic() - start, runs, me.memory_info().rss, workers))
            stop.wait(0.2)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    summary = sweep(experiment, out, workers=args.workers, progress=False)
    stop.set()
    watcher.join()
    samples.append((samples[-1][0], summary.runs, me.memory_info().rss, 0))
    mb = 2**20
    rows = []
    for tenth in range(1, 11):
        target = args.runs * tenth // 10
        upto = [s for s in samples if s[1] <= target]
        rows.append({"runs_on_disk": target,
                     "runner_rss_mb": round(max(s[2] for s in upto) / mb, 1),
                     "workers_rss_mb": round(max(s[3] for s in upto) / mb, 1)})
    report = {"runs": args.runs, "workers": args.workers, "seconds": round(summary.seconds, 1),
              "runs_per_second": round(summary.ran / summary.seconds, 2), "failed": summary.failed_total,
              "peak_runner_rss_mb": round(max(s[2] for s in samples) / mb, 1),
              "peak_workers_rss_mb": round(max(s[3] for s in samples) / mb, 1),
              "by_runs": rows, "version": __version__, "machine": machine(),
              "scenario": "baseline with " + ", ".join(f"{k}={v}" for k, v in SMALL.items())}
    print(f"{args.runs} end-only runs on {args.workers} worker(s): {report['seconds']} s, "
          f"{report['runs_per_second']} runs/s, {summary.failed_total} failed")
    print("| runs on disk | peak runner RSS so far (MB) | peak RSS of the workers so far (MB) |")
    print("|---:|---:|---:|")
    for row in rows:
        print(f"| {row['runs_on_disk']:,} | {row['runner_rss_mb']} | {row['workers_rss_mb']} |")
    results = Path(__file__).resolve().parent / "results"
    results.mkdir(exist_ok=True)
    (results / "sweep_memory.json").write_text(json.dumps(report, indent=2))
    shutil.rmtree(out.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
