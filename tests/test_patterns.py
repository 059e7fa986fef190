"""A fast subset of the pattern-oriented validation: every pattern keeps its direction.

The full validation (``nlcsim validate``, 30 replicates per arm, the
programme-sized network) is a command, not a test.  Here every pattern file in
experiments/patterns/ runs on a small network (four schools of ten teachers)
with a few replicates and fixed seeds, and each check's point estimate must lie
on the expected side: a change to the model that breaks a pattern fails here.
Levels (pattern 10) are held to a band three times the file's tolerance,
because a small network is not the programme.
"""

import numpy as np
import pytest

from nlcsim.reports.validate import (INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, PatternError, evaluate,
                                     load_pattern, load_patterns, pattern_files, run_patterns, validate)

SMALL = {"population.schools_per_network": 4, "population.teachers_per_school": 10}
REPS = 3


@pytest.fixture(scope="module")
def results():
    return {r.pattern.number: r for r in run_patterns(load_patterns(overrides=SMALL), reps=REPS, workers=2)}


def direction_holds(cr) -> bool:
    c = cr.check
    if c.expect == "above":
        return cr.estimate > c.than
    if c.expect == "below":
        return cr.estimate < c.than
    if c.expect == "near":
        return abs(cr.estimate - c.target) <= 3 * c.tolerance
    levels = cr.curve["level"].to_numpy()
    return levels[0] < cr.peak[0] < levels[-1] and min(cr.drops[0][0], cr.drops[1][0]) > 0


def test_there_is_one_pattern_file_for_each_of_the_ten_patterns(results):
    assert sorted(results) == list(range(1, 11))


@pytest.mark.parametrize("number", range(1, 11))
def test_each_pattern_keeps_its_direction_on_a_small_network(results, number):
    failed = [f"{cr.check.outcome} ({cr.check.label or cr.check.describe()}): {cr.estimate:.4g}, "
              f"expected {cr.check.expectation()}" for cr in results[number].checks if not direction_holds(cr)]
    assert not failed, f"pattern {number}: " + "; ".join(failed)


def test_every_arm_of_a_pattern_runs_the_same_replicate_seeds(results):
    table = results[1].outcomes
    seeds = table.groupby("arm")["spawn_key"].apply(tuple)
    assert seeds.nunique() == 1 and len(seeds.iloc[0]) == REPS


def test_the_report_has_a_verdict_an_effect_with_its_ci_and_a_figure_per_pattern(tmp_path):
    out = validate(tmp_path, reps=2, only=["10"], overrides={**SMALL, "schedule.years": 2})
    text = (tmp_path / "report.md").read_text()
    assert "## Pattern 10" in text and "95% CI" in text
    assert (tmp_path / "pattern_10.png").stat().st_size > 1000
    assert (tmp_path / "outcomes.csv").exists() and (tmp_path / "validation.json").exists()
    assert out[0].verdict in (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE)
    # The command it quotes is the one that was run, overrides included (no flag sets them).
    assert "`nlcsim validate --reps 2 --only 10 (from Python, with overrides on every arm: " in text
    assert "schedule.years = 2" in text


def test_the_report_quotes_a_custom_pattern_folder(tmp_path):
    folder = tmp_path / "my patterns"
    folder.mkdir()
    source = next(p for p in pattern_files() if p.name.startswith("10_"))
    (folder / source.name).write_bytes(source.read_bytes())
    validate(tmp_path / "out", reps=2, directory=folder, overrides={**SMALL, "schedule.years": 2})
    text = (tmp_path / "out" / "report.md").read_text()
    assert f"`nlcsim validate --reps 2 --patterns '{folder}'" in text


def test_verdicts_follow_the_confidence_interval(results):
    import dataclasses

    r = results[1]
    check = r.pattern.checks[0]
    assert evaluate(r.pattern, check, r.outcomes).estimate > 0
    flipped = dataclasses.replace(check, terms=tuple(dataclasses.replace(t, weight=-t.weight) for t in check.terms))
    assert evaluate(r.pattern, flipped, r.outcomes).verdict == NOT_REPRODUCED
    far = dataclasses.replace(check, expect="above", than=1e6)
    assert evaluate(r.pattern, far, r.outcomes).verdict == NOT_REPRODUCED
    wide = dataclasses.replace(check, expect="near", target=float(np.mean(evaluate(r.pattern, check, r.outcomes).values)),
                               tolerance=1e6)
    assert evaluate(r.pattern, wide, r.outcomes).verdict == REPRODUCED


def test_a_bad_pattern_file_names_the_file_and_every_problem(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[pattern]\nnumber = 1\ntitle = "t"\nclaim = "c"\nsource = "s"\nreplicates = 1\nseed = 1\n'
                   '[[arm]]\nname = "a"\noverrides = { "trust.initial" = 3.0 }\n'
                   '[[check]]\noutcome = "no_such_outcome"\ncontrast = { "b" = 1 }\nexpect = "sideways"\n')
    with pytest.raises(PatternError) as err:
        load_pattern(bad)
    text = str(err.value)
    assert "bad.toml" in text and "replicates = 1" in text and "trust.initial = 3.0" in text
    assert "sideways" in text


def test_validate_command_rejects_a_single_replicate(capsys):
    from nlcsim.cli import main

    assert main(["validate", "--reps", "1"]) == 2
    assert "at least 2" in capsys.readouterr().err


def test_validate_command_names_an_empty_pattern_folder(tmp_path, capsys):
    from nlcsim.cli import main

    assert main(["validate", "--patterns", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "no pattern files" in capsys.readouterr().err
