"""Pin the outcomes of a few runs, so that no optimisation changes results unnoticed.

    python benchmarks/pin_outcomes.py            # (re)write tests/data/pinned_outcomes.json
    python benchmarks/pin_outcomes.py --check    # compare the model now with the pins

Each pinned case is a scenario and a seed, with settings and a run length
where given: the baseline (every mechanism on) and a small England-like
programme of several networks with timed events (tests/data/england_small.toml)
over their whole runs; every other preset, and the baseline with each
mechanism switched off in turn, over shorter runs.  For each, the pin holds the final value of
a few outcome columns and a SHA-256 of the whole weekly time series (every
column, every week, as float64 bytes).  tests/test_pinned_outcomes.py reruns
the cases and compares.

After any deliberate change to the model (a mechanism, a default, the order
of random draws), regenerate the pins with this script and commit the new
file with the change.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

import nlcsim
from nlcsim.scenario import MECHANISMS

REPO = Path(__file__).resolve().parent.parent
PINS = REPO / "tests" / "data" / "pinned_outcomes.json"
# The presets other than the two pinned over whole runs.
PRESETS = tuple(sorted(p.stem for p in (REPO / "scenarios").glob("*.toml") if p.stem not in ("baseline", "england")))
CASES = (
    {"scenario": "baseline", "seed": 1},
    {"scenario": "baseline", "seed": 2},
    {"scenario": "baseline", "seed": 3},
    {"scenario": "tests/data/england_small.toml", "seed": 1},
    {"scenario": "tests/data/england_small.toml", "seed": 2},
    # Every other preset over its whole run; England over half a year; and over 150 weeks
    # the baseline with each mechanism switched off in turn, and the paths only some
    # settings take (thinned transfer, learning outside the network, exclusive
    # membership with fully distributed leadership).
    *({"scenario": name, "seed": 11} for name in PRESETS),
    {"scenario": "england", "seed": 1, "run_weeks": 26},
    *({"scenario": "baseline", "seed": 5, "run_weeks": 150, "overrides": {f"mechanisms.{m}": False}}
      for m in MECHANISMS),
    {"scenario": "baseline", "seed": 6, "run_weeks": 150,
     "overrides": {"knowledge.transfer_chance": 0.5, "enquiry.outside_rate": 0.01}},
    {"scenario": "baseline", "seed": 7, "run_weeks": 150,
     "overrides": {"membership.inclusive": 0.0, "leadership.distribution": 1.0}},
)
FINAL_COLUMNS = ("practice_change", "knowledge_created", "knowledge_reach", "joint_work_share", "mean_trust",
                 "cross_school_ties", "engagement", "active_schools_share", "pupil_outcome", "teachers")


def scenario_of(case: dict) -> nlcsim.Scenario:
    name = case["scenario"]
    path = REPO / name
    return nlcsim.Scenario.load(path if path.suffix == ".toml" else name, overrides=case.get("overrides"))


def timeseries_hash(timeseries) -> str:
    """SHA-256 of the column names and the float64 bytes of every value, row by row."""
    digest = hashlib.sha256(",".join(timeseries.columns).encode())
    digest.update(np.ascontiguousarray(timeseries.to_numpy(dtype=np.float64)).tobytes())
    return digest.hexdigest()


def fingerprint(case: dict) -> dict:
    """What is pinned for one case: final values of a few columns and the hash of the whole series."""
    result = nlcsim.run(scenario_of(case), seed=case["seed"], weeks=case.get("run_weeks"))
    ts = result.timeseries
    return {
        **case,
        "weeks": int(len(ts)),
        "final": {c: float(ts[c].iloc[-1]) for c in FINAL_COLUMNS},
        "timeseries_sha256": timeseries_hash(ts),
    }


def pins() -> dict:
    return {
        "about": "Outcomes pinned by benchmarks/pin_outcomes.py; regenerate with it after any deliberate model change.",
        "nlcsim": nlcsim.__version__,
        "numpy": np.__version__,
        "cases": [fingerprint(c) for c in CASES],
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the pinned file instead of writing it")
    args = ap.parse_args(argv)
    now = pins()
    if args.check:
        old = json.loads(PINS.read_text())
        same = [a == b for a, b in zip(old["cases"], now["cases"])]
        for case, ok in zip(now["cases"], same):
            print(f"{'same   ' if ok else 'CHANGED'} {case['scenario']} seed {case['seed']}")
        return 0 if all(same) and len(old["cases"]) == len(now["cases"]) else 1
    PINS.parent.mkdir(parents=True, exist_ok=True)
    PINS.write_text(json.dumps(now, indent=2) + "\n")
    print(f"wrote {PINS.relative_to(REPO)} ({len(now['cases'])} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
