"""A fast subset of the pattern-oriented validation: every pattern keeps its direction.

The full validation (``nlcsim validate``, 30 replicates per arm, the
programme-sized network) is a command, not a test.  Here every pattern file in
experiments/patterns/ runs on a small network (four schools of ten teachers)
with a few replicates and fixed seeds, and each check's point estimate must lie
on the expected side: a change to the model that breaks a pattern fails here.
Levels (pattern 10) are held to a band three times the file's tolerance,
because a small network is not the programme.
"""

import json

import numpy as np
import pytest

from nlcsim import Scenario

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
    assert "Pattern files: `experiments/patterns/`" in text


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


def pattern_text(number=1, seed="5", arm="", check="", scenario_arm=""):
    """A small valid pattern file (two arms, one check) with lines added where asked."""
    return (f'[pattern]\nnumber = {number}\ntitle = "Tiny"\nclaim = "c"\nsource = "s"\nreplicates = 2\nseed = {seed}\n'
            f'[[arm]]\nname = "low trust"\noverrides = {{ "trust.initial" = 0.2 }}\n{arm}\n'
            f'[[arm]]\nname = "high trust"\n{scenario_arm}\n'
            f'[[check]]\noutcome = "joint_work_share"\ncontrast = {{ "high trust" = 1, "low trust" = -1 }}\n'
            f'expect = "above"\n{check}\n')


def test_two_pattern_files_with_the_same_number_are_rejected(tmp_path):
    (tmp_path / "a.toml").write_text(pattern_text(number=7))
    (tmp_path / "b.toml").write_text(pattern_text(number=7))
    with pytest.raises(PatternError) as err:
        load_patterns(tmp_path)
    text = str(err.value)
    assert "a.toml" in text and "b.toml" in text and "number = 7" in text
    with pytest.raises(PatternError, match="number = 7"):
        run_patterns([load_pattern(tmp_path / "a.toml"), load_pattern(tmp_path / "b.toml")])


def test_values_of_the_wrong_type_are_problems_not_crashes(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(pattern_text(arm="level = \"high\"", scenario_arm="overrides = 5", check='than = "x"')
                   + '[[check]]\noutcome = "joint_work_share"\ncontrast = { "high trust" = 1 }\nexpect = "near"\n'
                     'target = "0.5"\ntolerance = [0.1]\nlabel = 3\n')
    with pytest.raises(PatternError) as err:
        load_pattern(bad)
    text = str(err.value)
    assert "arm[1].overrides = 5: must be a table of scenario keys" in text
    assert "arm[0].level = 'high': must be a number" in text
    assert "check[0].than = 'x': must be a number" in text
    assert "check[1].target = '0.5': must be a number" in text
    assert "check[1].tolerance = [0.1]: must be a number" in text
    assert "check[1].label = 3: must be text" in text
    head = tmp_path / "head.toml"
    head.write_text(pattern_text().replace("seed = 5\n", 'seed = 5\noverrides = "x"\nseries = 5\nscenario = 3\n'))
    with pytest.raises(PatternError) as err:
        load_pattern(head)
    text = str(err.value)
    assert "pattern.overrides = 'x': must be a table" in text and "pattern.series = 5: must be a list" in text
    assert "pattern.scenario = 3: must be a preset name or a path" in text
    terms = tmp_path / "terms.toml"
    terms.write_text(pattern_text().replace('contrast = { "high trust" = 1, "low trust" = -1 }',
                                            'contrast = [{ arm = "high trust", weight = 1, weeks = 5 }]'))
    with pytest.raises(PatternError, match=r"check\[0\]\.contrast\[0\]\.weeks = 5: must be \[first, last\)"):
        load_pattern(terms)


def test_overrides_may_be_written_with_unquoted_dotted_keys(tmp_path):
    path = tmp_path / "dotted.toml"
    path.write_text(pattern_text(scenario_arm="overrides = { trust.initial = 0.8, mechanisms.pupils = false }"))
    high = next(a for a in load_pattern(path).arms if a.name == "high trust")
    assert high.overrides == {"trust.initial": 0.8, "mechanisms.pupils": False}
    assert high.scenario["trust.initial"] == 0.8 and high.scenario["mechanisms.pupils"] is False


def test_an_arms_scenario_path_is_read_from_the_pattern_files_folder(tmp_path, monkeypatch):
    folder = tmp_path / "patterns"
    folder.mkdir()
    (folder / "small.toml").write_text("[population]\nteachers_per_school = 10\n[trust]\ninitial = 0.8\n")
    (folder / "01_tiny.toml").write_text(pattern_text(scenario_arm='scenario = "small.toml"',
                                                      arm='scenario = "low_trust"'))
    monkeypatch.chdir(tmp_path)  # not the pattern file's folder
    pattern = load_pattern(folder / "01_tiny.toml")
    assert pattern.arm("high trust").scenario["population.teachers_per_school"] == 10
    assert pattern.arm("low trust").scenario.name == Scenario.load("low_trust").name  # a preset by name
    # The folder's scenario file is not mistaken for a pattern file.
    assert [p.slug for p in load_patterns(folder)] == ["01_tiny"]


def test_a_missing_scenario_is_named_with_the_value_given(tmp_path):
    (tmp_path / "p.toml").write_text(pattern_text(scenario_arm='scenario = "small.toml"'))
    with pytest.raises(PatternError) as err:
        load_pattern(tmp_path / "p.toml")
    assert "arm[1] (high trust): scenario = 'small.toml': no such scenario file or preset" in str(err.value)


@pytest.mark.parametrize("seed, shown", [("-5", "-5"), ("1.5", "1.5"), ('"one"', "'one'")])
def test_a_seed_that_is_not_a_whole_number_from_zero_is_a_problem(tmp_path, seed, shown):
    (tmp_path / "p.toml").write_text(pattern_text(seed=seed))
    with pytest.raises(PatternError) as err:
        load_pattern(tmp_path / "p.toml")
    assert f"pattern.seed = {shown}: must be a whole number >= 0" in str(err.value)


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory):
    """validate() on a folder of one small pattern, whose arms differ in their overrides."""
    folder = tmp_path_factory.mktemp("tiny") / "my patterns"
    folder.mkdir()
    (folder / "01_tiny.toml").write_text(pattern_text(scenario_arm='overrides = { "trust.initial" = 0.8 }'))
    out = folder.parent / "out"
    results = validate(out, reps=2, directory=folder, overrides={**SMALL, "schedule.years": 1})
    return folder, out, results


def test_validation_json_holds_every_arms_resolved_scenario(tiny_report):
    folder, out, results = tiny_report
    arms = json.loads((out / "validation.json").read_text())["patterns"][0]["arms"]
    pattern = results[0].pattern
    assert set(arms) == {"low trust", "high trust"}
    for name, arm in arms.items():
        again = Scenario.from_dict(arm["resolved_scenario"])
        assert again == pattern.arm(name).scenario
        assert len(again.values()) == len(Scenario.load("baseline").values())
    assert arms["low trust"]["resolved_scenario"]["trust"]["initial"] == 0.2
    assert arms["high trust"]["resolved_scenario"]["trust"]["initial"] == 0.8
    assert arms["high trust"]["resolved_scenario"]["population"]["teachers_per_school"] == 10


def test_the_report_names_the_pattern_folder_it_read(tiny_report):
    folder, out, _ = tiny_report
    text = (out / "report.md").read_text()
    assert f"Pattern files: `{folder}`." in text
    assert "experiments/patterns" not in text
