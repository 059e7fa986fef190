"""``nlcsim sweep EXPERIMENT [--out DIR] [--workers N | --scheduler ADDRESS] [--resume]``.

Argument parsing only: the work is :func:`nlcsim.sweeps.sweep`.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path


def add_arguments(parser) -> None:
    parser.description = ("Run every run of an experiment file and stream the results to Parquet. "
                          "Running the same command again resumes an interrupted sweep: no run is lost or repeated.")
    parser.add_argument("experiment", help="experiment file, e.g. experiments/trust_depth_grid.toml")
    parser.add_argument("--out", help="results folder (default: results/<experiment name>)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N",
                       help="local worker processes (default: all cores; 1 = run in this process)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (see README: Sweeps)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the sweep in --out (an error if there is none to continue)")
    parser.add_argument("--chunk", type=int, default=200, metavar="RUNS",
                        help="runs per Parquet chunk (default 200); a chunk is also written every 10 s")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _stop_on_sigterm(signum, frame):
    # batch schedulers send SIGTERM before the kill: save the finished runs first
    raise KeyboardInterrupt


def main(args) -> int:
    from . import sweep
    from .experiment import load_experiment
    from .runner import check_arguments

    check_arguments(workers=args.workers, chunk_runs=args.chunk,
                    names={"workers": "--workers", "chunk_runs": "--chunk"})
    exp = load_experiment(args.experiment)
    out = Path(args.out) if args.out else Path("results") / exp.name
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        summary = sweep(exp, out, workers=args.workers, scheduler=args.scheduler, resume=args.resume,
                        progress=not args.no_progress, chunk_runs=args.chunk)
    except KeyboardInterrupt:
        print(f"stopped: finished runs are saved in {out}/; run the same command again to resume",
              file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(summary)
    print(f"analyse with: nlcsim analyze {out}")
    return 0 if summary.complete else 1
