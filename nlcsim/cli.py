"""Command line: argument parsing only; every command calls a function the API exposes.

Commands of other layers (sweep, analyze, compare, validate, app, animate) live
in their own modules, each with ``add_arguments(parser)`` and ``main(args)``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .errors import UserError, make_folder
from .scenario import ScenarioError, parse_sets

# Commands that run the model, and so may compile its loops on a new machine.
RUNS_MODEL = {"run", "sweep", "compare", "validate", "app", "animate"}

# command -> (module, one-line help)
EXTERNAL = {
    "sweep": ("nlcsim.sweeps.cli", "run a declarative experiment (grid, lhs, sobol, morris, list)"),
    "analyze": ("nlcsim.sweeps.analyze_cli", "sensitivity indices and scenario discovery for a sweep"),
    "compare": ("nlcsim.reports.compare", "compare scenarios in a report a policy team can forward"),
    "validate": ("nlcsim.reports.validate", "run the pattern-oriented validation and write its report"),
    "app": ("nlcsim.app.serve", "the trainer app in the browser"),
    "animate": ("nlcsim.app.animate", "an animation of a run for slides (GIF or MP4)"),
}


def _cmd_run(args) -> int:
    from .replicates import run_replicates, summarise, write_results

    if args.reps < 1:
        raise UserError("--reps must be at least 1")
    if args.workers < 1:
        raise UserError("--workers must be at least 1")
    if args.out:  # a folder that cannot be made fails now, not after the runs
        make_folder(args.out, "--out")
    overrides = parse_sets(args.set)
    runs = run_replicates(args.scenario, seed=args.seed, reps=args.reps, overrides=overrides, workers=args.workers)
    sc = runs[0].scenario
    table = summarise(runs)
    print(f"nlcsim: {sc.name}, {args.reps} replicate(s), seed {args.seed}, "
          f"{sc.schedule.years} years ({sc.weeks} weeks), {runs[0].timeseries['teachers'].iloc[0]} teachers")
    width = max(len(n) for n in table.index)
    print(f"{'outcome':<{width}}  {'mean':>10}  {'95% CI':>23}")
    for name, row in table.iterrows():
        ci = f"({row.ci_low:.4g} to {row.ci_high:.4g})" if args.reps > 1 else ""
        print(f"{name:<{width}}  {row['mean']:>10.4g}  {ci:>23}")
    if args.out:
        path = write_results(runs, args.out, args.seed, overrides)
        print(f"results written to {path}/")
    return 0


def _cmd_scenarios(args) -> int:
    from .scenario import presets

    items = presets()
    width = max(map(len, items)) if items else 0
    for name, story in items.items():
        print(f"{name:<{width}}  {story}")
    return 0


def _say_if_compiling() -> None:
    """On a machine where the model's compiled loops are not cached yet, say that the
    first run compiles them (once, about half a minute), so that the wait is explained."""
    from . import model  # noqa: F401  (imports every mechanism, and so every compiled loop)
    from .jit import nothing_cached

    if nothing_cached():
        print("nlcsim: first run on this machine: compiling the model's loops (once, about half a minute; "
              "later runs load them)", file=sys.stderr, flush=True)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser.  A command of ``EXTERNAL`` gets its own arguments (and its module is
    imported) only when it is ``command``, the one being run; the others are listed
    with their one-line help, so that a light command does not load the heavy ones."""
    parser = argparse.ArgumentParser(prog="nlcsim", description="Networked Learning Communities simulation")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("run", help="run a scenario (default: baseline) and print outcomes with 95%% CIs")
    p.add_argument("scenario", nargs="?", default="baseline", help="preset name or path to a TOML file")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a parameter, e.g. trust.initial=0.8")
    p.add_argument("--seed", type=int, default=1, help="seed from which replicate seeds are spawned")
    p.add_argument("--reps", type=int, default=1, help="number of replicates")
    p.add_argument("--workers", type=int, default=1, help="processes to run replicates in")
    p.add_argument("--out", help="folder for timeseries.csv, outcomes.csv, scenario.toml, run.json, main_series.png")
    p.set_defaults(func=_cmd_run)
    p = sub.add_parser("scenarios", help="list the preset scenarios and their stories")
    p.set_defaults(func=_cmd_scenarios)
    for name, (module, help_) in EXTERNAL.items():
        p = sub.add_parser(name, help=help_)
        if name == command:
            mod = importlib.import_module(module)
            mod.add_arguments(p)
            p.set_defaults(func=mod.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    if args.command in RUNS_MODEL:
        _say_if_compiling()
    try:
        return int(args.func(args) or 0)
    except (ScenarioError, UserError) as err:
        print(f"nlcsim {args.command}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader left (nlcsim run | head): nothing more to say
        sys.stdout = None
        return 1
    except OSError as err:  # a file or folder that cannot be read or written
        where = f": {err.filename}" if err.filename else ""
        print(f"nlcsim {args.command}: error: {err.strerror or err}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
