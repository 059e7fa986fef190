"""``nlcsim analyze RESULTS_DIR [--outcome NAME ...] [--target "OUTCOME >= VALUE"] [--out DIR]``.

Argument parsing only: the work is :func:`nlcsim.sweeps.analysis.analyze`.
"""

from __future__ import annotations


def add_arguments(parser) -> None:
    parser.description = ("Sobol or Morris indices with 95% CIs (SALib), grid heatmaps and scenario "
                          "discovery (PRIM) for the results of `nlcsim sweep`. Failed runs are counted "
                          "and their handling is stated in the report.")
    parser.add_argument("results", help="a sweep results folder (the --out of nlcsim sweep)")
    parser.add_argument("--outcome", action="append", metavar="NAME",
                        help="outcome to analyse (repeatable; default: [analysis] outcomes of the "
                             "experiment, else a few key outcomes)")
    parser.add_argument("--target", metavar="EXPR",
                        help='scenario discovery target, e.g. "active_schools_share >= 0.5" '
                             "(default: [analysis] target of the experiment)")
    parser.add_argument("--min-density", type=float, metavar="D",
                        help="PRIM: least share of passing runs in the chosen box (default 0.8)")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples for the CIs (default 1000)")
    parser.add_argument("--out", help="folder for the CSV, PNG and summary files (default: RESULTS/analysis)")
    parser.add_argument("--no-plots", action="store_true", help="tables and summary only")


def main(args) -> int:
    from ..errors import UserError
    from .analysis import analyze

    if args.min_density is not None and not 0 < args.min_density <= 1:
        raise UserError("--min-density must be above 0 and at most 1")
    if args.resamples < 10:
        raise UserError("--resamples must be at least 10")
    result = analyze(args.results, outcomes=args.outcome, target=args.target, min_density=args.min_density,
                     out=args.out, plots=not args.no_plots, resamples=args.resamples)
    print(result.text, end="")
    print(f"\nfiles written to {result.out}/: " + ", ".join(sorted({p.name for p in result.files})))
    return 0
