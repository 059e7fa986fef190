"""Is the working code faster than an earlier version?  Both run in one process, in turn.

    python benchmarks/versus.py e889429                      # baseline, 30 pairs of runs
    python benchmarks/versus.py e889429 --scenario england --pairs 8
    python benchmarks/versus.py HEAD~3 --networks 10 --weeks 150 --threads 1
    python benchmarks/versus.py HEAD~1 --kernel mechanisms.trust._decay --scenario england --weeks 120

On a shared machine the same code runs 10-30% faster or slower from one hour
to the next, so the figures of two benchmark runs cannot tell two versions
apart.  Here the earlier version's package is taken from git (``git archive``
of ``nlcsim/`` with the scenarios and patterns its data links to) into a
cache folder, imported under another name beside the working package, and
the two run the same scenario and seed in turn, alternating which goes
first.  Each run is a model built and stepped through the weeks
(``NLCModel(scenario, seed)``, ``step()``), nothing else.

Reports the best time of each, the median over the pairs of the working
code's time divided by the earlier one's, and whether the two give the same
weekly time series to the bit (an optimisation must; a deliberate change to
the model does not, and must regenerate the pins).  The earlier version's
compiled loops are cached with its copy, so only its first comparison pays
for compiling them.

With ``--kernel module.function`` (a function of the package that the
model calls from Python code, such as a compiled loop: ``mechanisms.trust._decay``)
only that function is compared: the working model runs with the working
function and with the earlier version's in its place, in turn, and only the
time spent in its calls is counted (from ``--from-week`` on).  So each
version meets each week's own input, in the state of the caches the model
leaves it: a loop timed on one input again and again flatters its branches,
which the processor learns, and copies of its input made for a call sit in
the caches otherwise than the model's own arrays do.  The earlier
function must take the arguments the working code gives it.
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path


HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "nlcsim" / "versions"
TREES = ("nlcsim", "scenarios", "experiments")  # the package and what its data folder links to


def resolve(rev: str) -> str:
    """The full commit id of ``rev`` in this checkout; a clear error where there is none."""
    done = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0 or not done.stdout.strip():
        raise SystemExit(f"versus.py: {rev!r} is not a commit of the git checkout at {ROOT}")
    return done.stdout.strip()


def package_of(commit: str) -> str:
    """Extract ``commit``'s package (once) as ``nlcsim_<id>`` in the cache, put it on the
    path and return its name.  Its imports of ``nlcsim`` are renamed to it, so that it
    uses none of the working package's code.  The copy is made in a folder of its own
    and moved into place whole, so that an interrupted or concurrent extraction never
    leaves half a package to be used."""
    name = f"nlcsim_{commit[:10]}"
    home = CACHE / commit
    if not (home / name / "__init__.py").is_file():
        listed = subprocess.run(["git", "ls-tree", "--name-only", commit], cwd=ROOT, capture_output=True,
                                text=True, check=True).stdout.split()
        archive = subprocess.run(["git", "archive", "--format=tar", commit, *[t for t in TREES if t in listed]],
                                 cwd=ROOT, capture_output=True, check=True).stdout
        CACHE.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f"{commit[:10]}-", dir=CACHE))
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            if hasattr(tarfile, "data_filter"):  # Python 3.11.4 and later
                tar.extractall(work, filter="data")
            else:
                tar.extractall(work)
        for path in (work / "nlcsim").rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            renamed = re.sub(r"\b(from|import) nlcsim\b", rf"\1 {name}", text)
            if renamed != text:
                path.write_text(renamed, encoding="utf-8")
        (work / "nlcsim").rename(work / name)
        if home.exists() and not (home / name / "__init__.py").is_file():
            shutil.rmtree(home, ignore_errors=True)  # what an older, broken copy left
        try:
            work.rename(home)
        except OSError:  # another comparison put its copy in place first
            shutil.rmtree(work, ignore_errors=True)
    sys.path.insert(0, str(home))
    return name


def one_run(package, scenario, seed: int, weeks: int) -> tuple[float, object]:
    """Build and step one model; the seconds it took and its weekly time series."""
    start = time.perf_counter()
    model = package.NLCModel(scenario, seed=seed)
    for _ in range(weeks):
        model.step()
    took = time.perf_counter() - start
    return took, model.timeseries


def kernel_of(package: str, dotted: str):
    """``package.<module>``'s function ``dotted`` = ``module.function``; a clear error where there is none."""
    module_name, _, name = dotted.rpartition(".")
    try:
        module = importlib.import_module(f"{package}.{module_name}" if module_name else package)
        return module, getattr(module, name)
    except (ImportError, AttributeError):
        raise SystemExit(f"versus.py: --kernel {dotted}: no function {name!r} in {package}.{module_name} "
                         f"(give module.function inside the package, e.g. mechanisms.trust._decay)") from None


def run_timing(package, scenario, seed: int, weeks: int, dotted: str, function, first: int) -> tuple[float, int, object]:
    """A run of the working model in which ``dotted`` is ``function``: the seconds spent in
    its calls from week ``first`` on (summed over threads), their number, and the weekly
    time series."""
    module, working = kernel_of("nlcsim", dotted)
    name = dotted.rpartition(".")[2]
    week = [0]
    spent: list[float] = []  # appending is safe from the threads that run a phase's parts

    def timed(*args, **kwargs):
        if week[0] < first:
            return function(*args, **kwargs)
        start = time.perf_counter()
        out = function(*args, **kwargs)
        spent.append(time.perf_counter() - start)
        return out

    setattr(module, name, timed)
    try:
        model = package.NLCModel(scenario, seed=seed)
        for week[0] in range(weeks):
            model.step()
    finally:
        setattr(module, name, working)
    return sum(spent), len(spent), model.timeseries


def compare_kernel(args, versions: dict, scenarios: dict, weeks: int) -> int:
    """``--kernel``: runs of the working model alternating the working function with the
    earlier version's, each timed where the model calls it."""
    functions = {k: kernel_of(v.__name__, args.kernel)[1] for k, v in versions.items()}
    working = versions["working"]
    scenario = scenarios["working"]
    series = {"working": run_timing(working, scenario, args.seed, weeks, args.kernel, functions["working"],
                                    args.from_week)}  # compiles; unmeasured
    try:
        series[args.rev] = run_timing(working, scenario, args.seed, weeks, args.kernel, functions[args.rev],
                                      args.from_week)
    except Exception as err:  # noqa: BLE001 - whatever the earlier function makes of the arguments, say so
        raise SystemExit(f"versus.py: --kernel {args.kernel}: {args.rev}'s function does not take what the working "
                         f"code gives it ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}); "
                         f"compare whole runs instead") from None
    calls = series["working"][1]
    if calls == 0:
        raise SystemExit(f"versus.py: --kernel {args.kernel} was not called from Python code in weeks "
                         f"{args.from_week}-{weeks - 1} (a loop that only compiled code calls cannot be watched: "
                         f"with one thread, phases call their loops from one compiled call)")
    same = series["working"][2].equals(series[args.rev][2])
    times: dict[str, list[float]] = {k: [] for k in versions}
    ratios = []
    for p in range(args.pairs):
        order = list(versions) if p % 2 == 0 else list(versions)[::-1]
        took = {k: run_timing(working, scenario, args.seed, weeks, args.kernel, functions[k], args.from_week)[0]
                for k in order}
        for k, t in took.items():
            times[k].append(t)
        ratios.append(took["working"] / took[args.rev])
    counted = weeks - args.from_week
    print(f"{args.kernel}, {args.scenario}, seed {args.seed}: {args.pairs} pairs of runs of the working model, "
          f"the function of each version in turn; its {calls} calls in weeks {args.from_week}-{weeks - 1} timed, "
          f"threads {os.environ.get('NLCSIM_THREADS', 'all CPUs')}")
    for k, t in times.items():
        print(f"  {k:>12s}: best {1e3 * min(t) / counted:.4f} ms a week, median {1e3 * statistics.median(t) / counted:.4f} ms")
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else (ratios[0], ratios[0], ratios[0])
    print(f"  working / {args.rev}: median of the pairs' ratios {statistics.median(ratios):.3f} "
          f"(quartiles {quartiles[0]:.3f}-{quartiles[2]:.3f}), best against best "
          f"{min(times['working']) / min(times[args.rev]):.3f}")
    print("  results: the same weekly time series to the bit" if same else
          "  results: the weekly time series differ (a change to the model: regenerate the pins)")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("rev", help="the earlier version: a commit, tag or branch of this checkout")
    ap.add_argument("--scenario", default="baseline", help="a preset name (default: baseline)")
    ap.add_argument("--networks", type=int, help="population.networks for both (default: the scenario's)")
    ap.add_argument("--weeks", type=int, help="weeks a run (default: the scenario's)")
    ap.add_argument("--pairs", type=int, default=30, help="pairs of runs (default: 30)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, help="NLCSIM_THREADS for both (default: as set, else the CPUs)")
    ap.add_argument("--kernel", metavar="MODULE.FUNCTION",
                    help="compare one function on arrays (e.g. mechanisms.trust._decay) on each week's own "
                         "arguments, instead of whole runs")
    ap.add_argument("--from-week", type=int, default=0, help="with --kernel: the first week whose calls are timed")
    args = ap.parse_args(argv)
    if args.pairs < 1:
        ap.error("--pairs: give 1 or more")
    if args.from_week < 0:
        ap.error("--from-week: give 0 or more")
    if args.threads is not None:
        os.environ["NLCSIM_THREADS"] = str(args.threads)

    commit = resolve(args.rev)
    print(f"preparing {args.rev} ({commit[:10]}) ...", file=sys.stderr, flush=True)
    versions = {"working": importlib.import_module("nlcsim"),
                args.rev: importlib.import_module(package_of(commit))}
    overrides = {"population.networks": args.networks} if args.networks else {}
    scenarios = {k: v.Scenario.load(args.scenario, overrides=overrides) for k, v in versions.items()}
    weeks = args.weeks or scenarios["working"].weeks
    if args.kernel:
        return compare_kernel(args, versions, scenarios, weeks)
    series = {k: one_run(v, scenarios[k], args.seed, weeks)[1] for k, v in versions.items()}  # compiles; unmeasured
    same = series["working"].equals(series[args.rev])

    times: dict[str, list[float]] = {k: [] for k in versions}
    ratios = []
    for p in range(args.pairs):
        order = list(versions) if p % 2 == 0 else list(versions)[::-1]
        took = {k: one_run(versions[k], scenarios[k], args.seed, weeks)[0] for k in order}
        for k, t in took.items():
            times[k].append(t)
        ratios.append(took["working"] / took[args.rev])

    what = f"{args.scenario}" + (f", {args.networks} networks" if args.networks else "") + f", {weeks} weeks"
    print(f"{what}, seed {args.seed}, {args.pairs} pairs of runs in turn, "
          f"threads {os.environ.get('NLCSIM_THREADS', 'all CPUs')}")
    for k, t in times.items():
        print(f"  {k:>12s}: best {min(t):.4f} s, median {statistics.median(t):.4f} s")
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else None
    print(f"  working / {args.rev}: median of the pairs' ratios {statistics.median(ratios):.3f} "
          f"(quartiles {quartiles[0]:.3f}-{quartiles[2]:.3f}), "
          f"best against best {min(times['working']) / min(times[args.rev]):.3f}"
          if len(ratios) > 1 else
          f"  working / {args.rev}: {ratios[0]:.3f}")
    print("  results: the same weekly time series to the bit" if same else
          "  results: the weekly time series differ (a change to the model: regenerate the pins)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
