"""The one door: scenarios load, override, round-trip, and bad input is named precisely."""

from pathlib import Path

import pytest

from nlcsim import PARAMS, Scenario, ScenarioError, presets
from nlcsim.cli import main as cli_main
from nlcsim.scenario import MECHANISMS, parameter_table_markdown, preset_names

BAD = Path(__file__).parent / "data" / "bad_scenarios"

# file -> fragments the message must contain (besides the file name)
EXPECTED = {
    "unknown_key": ["trust.intial", "did you mean 'initial'"],
    "unknown_section": ["[trustt]", "did you mean 'trust'"],
    "trust_above_one": ["trust.initial = 1.5", "from 0 to 1"],
    "trust_negative": ["trust.initial = -0.1", "from 0 to 1"],
    "trust_is_text": ["trust.initial = 'high'", "a number from 0 to 1"],
    "depth_is_bool": ["collaboration.depth = True", "a number from 0 to 1"],
    "schools_float": ["population.schools_per_network = 11.5", "a whole number"],
    "networks_zero": ["population.networks = 0", "from 1 to"],
    "funding_negative": ["funding.level = -1.0", "from 0 to 10"],
    "weeks_too_many": ["schedule.weeks_per_year = 60", "from 1 to 52"],
    "broken_toml": ["not valid TOML"],
    "duplicate_key": ["not valid TOML"],
    "section_not_table": ["[trust] must be a table"],
    "mechanism_not_bool": ["mechanisms.trust = 'off'", "true or false"],
    "unknown_mechanism": ["mechanisms.gossip", "mechanisms are"],
    "event_unknown_kind": ["events[0].kind = 'earthquake'", "funding_cut"],
    "event_negative_week": ["events[0].week = -3", ">= 0"],
    "event_after_run": ["events[0].week = 100", "39 weeks"],
    "event_missing_level": ["events[0].level = None", "funding_change needs a level"],
    "event_level_on_wrong_kind": ["events[0].level", "only funding_change"],
    "event_unknown_field": ["events[0].teacher", "event keys are"],
    "events_not_array": ["[[events]]"],
    "meta_not_text": ["meta.story = 42", "must be text"],
    "nan_value": ["trust.initial = nan"],
    "many_problems": ["3 problems", "trust.initial = 2.0", "collaboration.depth = -1", "leadership.distrbution"],
    "event_network_out_of_range": ["events[0].network = 3", "population.networks = 1"],
    "not_utf8": ["not UTF-8"],
}


def test_every_bad_file_has_an_expectation():
    files = {p.stem for p in BAD.glob("*.toml")}
    assert files == set(EXPECTED)
    assert len(files) >= 20


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_scenario_is_rejected_with_a_precise_message(name):
    path = BAD / f"{name}.toml"
    with pytest.raises(ScenarioError) as err:
        Scenario.load(path)
    message = str(err.value)
    assert str(path) in message
    for fragment in EXPECTED[name]:
        assert fragment in message, (fragment, message)


def test_cli_reports_a_bad_scenario_without_a_traceback(capsys):
    code = cli_main(["run", str(BAD / "many_problems.toml")])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    assert "trust.initial = 2.0" in err and "collaboration.depth = -1" in err


def test_cli_rejects_bad_overrides(capsys):
    assert cli_main(["run", "--set", "trust.initial=7"]) == 2
    assert "trust.initial = 7" in capsys.readouterr().err
    assert cli_main(["run", "--set", "trust.initial"]) == 2
    assert cli_main(["run", "no_such_preset"]) == 2
    assert "presets are" in capsys.readouterr().err


def test_set_values_are_read_as_toml_and_plain_decimals():
    from nlcsim.scenario import parse_sets

    assert parse_sets(["trust.initial=.5", "funding.years=5.", "mechanisms.pupils=false", "meta.name=x y"]) == {
        "trust.initial": 0.5, "funding.years": 5.0, "mechanisms.pupils": False, "meta.name": "x y"}
    assert parse_sets(["trust.initial=0.1.2"]) == {"trust.initial": "0.1.2"}  # refused later, by the range check


def test_every_preset_loads_and_tells_a_story():
    names = preset_names()
    for required in ("baseline", "england", "high_trust", "low_trust", "storytelling_only", "joint_work",
                     "heads_only_leadership", "distributed_leadership", "funding_cut_early",
                     "exclusive_pioneers", "cohesive_no_enquiry", "isolated_schools"):
        assert required in names
    for name, story in presets().items():
        assert story and not story.startswith("(invalid"), name


def test_a_scenario_states_only_what_differs_from_the_defaults():
    sc = Scenario.load("high_trust")
    assert sc["trust.initial"] == 0.8
    assert sc.trust.initial == 0.8
    for p in PARAMS:
        if p.name != "trust.initial":
            assert sc[p.name] == p.default


def test_overrides_apply_and_are_validated():
    sc = Scenario.load("baseline", overrides={"trust.initial": 0.8, "mechanisms.trust": False})
    assert sc["trust.initial"] == 0.8 and sc["mechanisms.trust"] is False
    with pytest.raises(ScenarioError, match=r"trust.initial = 3: .* \(an override, not in the file\)"):
        Scenario.load("baseline", overrides={"trust.initial": 3})
    with pytest.raises(ScenarioError, match=r"'trust.intial' \(did you mean 'trust.initial'\?\) \(an override"):
        Scenario.load("baseline", overrides={"trust.intial": 0.3})


def test_resolved_scenario_round_trips_through_toml(tmp_path):
    sc = Scenario.load("funding_cut_early", overrides={"trust.initial": 0.7})
    path = tmp_path / "resolved.toml"
    path.write_text(sc.to_toml())
    again = Scenario.load(path)
    assert again.to_dict() == sc.to_dict()
    assert again.events == [{"week": 78, "kind": "funding_cut"}]


def test_scenarios_that_differ_only_in_when_an_event_happens_differ():
    early = Scenario.from_dict({"events": [{"week": 13, "kind": "funding_cut"}]})
    late = Scenario.from_dict({"events": [{"week": 20, "kind": "funding_cut"},
                                          {"week": 5, "kind": "head_leaves", "school": 2}]})
    assert early.diff(late) == {"events": ("funding_cut at week 13",
                                           "head_leaves (school 2) at week 5; funding_cut at week 20")}
    assert Scenario.from_dict({}).flat()["events"] == "none"


def test_every_parameter_is_documented_with_unit_range_and_meaning():
    for p in PARAMS:
        assert p.unit and p.meaning
        assert p.low is not None and p.high is not None and p.low <= p.default <= p.high, p.name
    assert set(MECHANISMS) == set(Scenario.load("baseline").to_dict()["mechanisms"])


def test_tables_in_odd_are_in_sync_with_the_code():
    from nlcsim.docs import BLOCKS, ODD, render

    text = ODD.read_text()
    for name in BLOCKS:
        assert f"<!-- {name}:start -->" in text, name
    assert render(text) == text, "docs/ODD.md is out of date: run python -m nlcsim.docs"
    assert parameter_table_markdown() in text
