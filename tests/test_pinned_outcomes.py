"""The model's results do not change unnoticed.

The pins in tests/data/pinned_outcomes.json are written by
``python benchmarks/pin_outcomes.py``.  A failure here means the model now
computes something else for the same scenario and seed.  If that is a
deliberate model change, regenerate the pins with that script and commit
them with the change; if it came from an optimisation, the optimisation is
wrong.
"""

import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PINS = json.loads((REPO / "tests" / "data" / "pinned_outcomes.json").read_text())


def _pin_script():
    spec = importlib.util.spec_from_file_location("pin_outcomes", REPO / "benchmarks" / "pin_outcomes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pin_outcomes = _pin_script()


CASE_KEYS = ("scenario", "seed", "run_weeks", "overrides")


def case_of(pinned: dict) -> dict:
    return {k: pinned[k] for k in CASE_KEYS if k in pinned}


def case_id(pinned: dict) -> str:
    more = "".join(f"-{k.split('.')[-1] if k.startswith('mechanisms.') else k}={v}"
                   for k, v in pinned.get("overrides", {}).items())
    return f"{Path(pinned['scenario']).stem}-seed{pinned['seed']}{more}"


def test_every_pinned_case_is_still_pinned():
    assert [case_of(c) for c in PINS["cases"]] == list(pin_outcomes.CASES)


@pytest.mark.parametrize("pinned", PINS["cases"], ids=case_id)
def test_a_pinned_run_gives_the_same_outcomes(pinned):
    now = pin_outcomes.fingerprint(case_of(pinned))
    assert now["weeks"] == pinned["weeks"]
    assert now["final"] == pinned["final"], (
        "final outcomes changed; after a deliberate model change run `python benchmarks/pin_outcomes.py`")
    assert now["timeseries_sha256"] == pinned["timeseries_sha256"], (
        "the weekly time series changed; after a deliberate model change run `python benchmarks/pin_outcomes.py`")


ENGLAND = [c for c in PINS["cases"] if c["scenario"] == "england"]


@pytest.mark.parametrize("threads", ["1", "2", "3"])
def test_the_england_pin_holds_whatever_the_number_of_threads(threads, monkeypatch):
    # England is large enough for the exchanges' draws, practice targets, influence,
    # decay and the weekly record to run in parts on threads (nlcsim.jit.in_parts).
    assert ENGLAND
    monkeypatch.setenv("NLCSIM_THREADS", threads)
    pinned = ENGLAND[0]
    now = pin_outcomes.fingerprint(case_of(pinned))
    assert now["final"] == pinned["final"]
    assert now["timeseries_sha256"] == pinned["timeseries_sha256"]
