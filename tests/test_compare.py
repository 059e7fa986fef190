"""`nlcsim compare`: options share their replicate seeds, differences are paired, the report is forwardable."""

import json

import numpy as np
import pandas as pd
import pytest

import nlcsim
from nlcsim import Scenario
from nlcsim.cli import main as cli_main
from nlcsim.reports.compare import DEFAULT_OUTCOMES, READING, compare, stopping_sentence

# Small and fast, with one funded year and one year after, so that survival after funding shows.
SMALL = {"population.schools_per_network": 3, "population.teachers_per_school": 8,
         "schedule.years": 2, "funding.years": 1.0}


@pytest.fixture(scope="module")
def policy_options():
    """baseline, high trust and heads-only leadership with fixed seeds (8 matched replicates)."""
    return compare(["baseline", "high_trust", "heads_only_leadership"], reps=8, seed=11, overrides=SMALL, workers=1)


@pytest.fixture(scope="module")
def html_report(policy_options, tmp_path_factory):
    return policy_options.write(tmp_path_factory.mktemp("report") / "options.html")


def test_every_option_runs_with_the_same_replicate_seeds(policy_options):
    for label, runs in policy_options.runs.items():
        assert [r.seed for r in runs] == [{"entropy": 11, "spawn_key": [r]} for r in range(8)], label
    again = nlcsim.run(policy_options.options["high_trust"], seed=np.random.SeedSequence(11).spawn(8)[5])
    assert again.outcomes == policy_options.runs["high_trust"][5].outcomes


def test_a_scenario_compared_with_itself_shows_no_detectable_difference(tmp_path):
    copy = tmp_path / "baseline_again.toml"
    copy.write_text(Scenario.load("baseline").to_toml().replace('name = "baseline"', 'name = "baseline_again"'))
    result = compare(["baseline", str(copy)], reps=3, seed=2, overrides=SMALL, workers=1,
                     outcomes=["practice_change", "mean_trust", "active_schools_share"])
    table = result.table()
    alt = table[table["option"] == "baseline_again"]
    assert len(alt) == len(result.outcomes)
    assert ((alt["diff_low"] <= 0) & (alt["diff_high"] >= 0)).all()
    assert (alt["verdict"] == "no detectable difference").all()
    summary = result.summary()[0]
    assert summary["changes"] == [] and len(summary["noise"]) == len(result.outcomes)
    assert result.parameter_differences().empty
    text = result.write(tmp_path / "self.md").read_text()
    assert "No detectable difference in practice change" in text
    assert "does better on 0 of" in text and "worse on 0" in text


def test_high_trust_and_heads_only_leadership_move_the_outcomes_the_brief_expects(policy_options):
    trust = {n: policy_options.effect("high_trust", n) for n in ("joint_work_share", "mean_trust")}
    assert all(e["diff_low"] > 0 and e["verdict"] == "better" for e in trust.values()), trust
    heads = {n: policy_options.effect("heads_only_leadership", n)
             for n in ("active_schools_share", "learning_leadership", "engagement")}
    assert all(e["diff_high"] < 0 and e["verdict"] == "worse" for e in heads.values()), heads
    assert policy_options.effect("heads_only_leadership", "active_schools_share")["p_better"] < 0.5
    words = {s["option"]: s for s in policy_options.summary()}
    assert any(c["phrase"] == "the share of joint work over the run" and c["verb"] == "raises"
               for c in words["high_trust"]["changes"])
    assert words["heads_only_leadership"]["schools"].startswith("It keeps")
    assert list(policy_options.parameter_differences()["parameter"]) == ["trust.initial", "leadership.distribution"]


def test_survival_after_funding_starts_at_one_and_never_rises(policy_options):
    survival = policy_options.survival()
    assert set(survival["option"]) == set(policy_options.labels)
    for _, s in survival.groupby("option"):
        assert s["still_active"].iloc[0] == 1.0
        assert (np.diff(s["still_active"].to_numpy()) <= 1e-12).all()
        assert ((s["low"] <= s["still_active"] + 1e-12) & (s["still_active"] <= s["high"] + 1e-12)).all()


def test_a_baseline_given_as_a_path_is_the_option_already_listed():
    path = str(Scenario.load("baseline").source)
    result = compare(["baseline", "high_trust"], baseline=path, reps=2, seed=2, overrides=SMALL, workers=1,
                     outcomes=["practice_change"])
    assert result.labels == ["baseline", "high_trust"] and result.baseline == "baseline"
    result = compare(["high_trust", "baseline"], baseline=path, reps=2, seed=2, overrides=SMALL, workers=1,
                     outcomes=["practice_change"])
    assert result.labels == ["baseline", "high_trust"]


def test_the_report_says_when_each_outcome_is_read(html_report):
    text = html_report.read_text()
    assert "after two school years (MORI 2004 timing)" in text  # improved teaching
    assert "over the whole run" in text  # joint work
    assert "at the end of the run" in text  # practice change


def test_confidence_intervals_of_shares_stay_within_0_and_1_and_of_weeks_above_0():
    from nlcsim.replicates import outcome_ci
    from nlcsim.reports.plots import band

    m, lo, hi, _ = outcome_ci("learning_leadership", [0.7, 1.0, 1.0])
    assert 0.0 <= lo < m < hi == 1.0
    m, lo, hi, _ = outcome_ci("practice_change", [-0.2, 0.01, 0.02])  # a gain can be negative: not cut
    assert lo < -0.2
    m, lo, hi, _ = outcome_ci("weeks_to_dormant", [0.0, 0.0, 90.0])  # no time is negative
    assert lo == 0.0 < m < hi
    ts = pd.DataFrame({"week": [0, 0, 0], "joint_work_share": [0.0, 0.0, 0.9], "pupil_outcome": [0.0, 0.0, 0.9]})
    b = band(ts, "joint_work_share")
    assert b["low"].iloc[0] == 0.0 and b["high"].iloc[0] <= 1.0
    assert band(ts, "pupil_outcome")["low"].iloc[0] < 0  # an effect size is not cut


def test_the_report_file_is_checked_before_any_run_and_options_get_a_scenario_file_each(tmp_path):
    from nlcsim.errors import UserError
    from nlcsim.reports.compare import report_path
    from nlcsim.reports.compare_report import scenario_files

    assert report_path(tmp_path / "x.md") == (tmp_path / "x.md", "md")
    assert report_path(tmp_path / "x", "md") == (tmp_path / "x.md", "md")
    with pytest.raises(UserError, match="cannot go in a .html file"):
        report_path(tmp_path / "x.html", "md")
    with pytest.raises(UserError, match="is a folder"):
        report_path(tmp_path, "html")  # a folder without an ending
    (tmp_path / "dir.html").mkdir()
    with pytest.raises(UserError, match="is a folder"):
        report_path(tmp_path / "dir.html")
    assert scenario_files(["a b", "a_b", "a/b"]) == {"a b": "a_b.toml", "a_b": "a_b-2.toml", "a/b": "a_b-3.toml"}


def test_every_default_outcome_states_which_way_is_better():
    assert set(DEFAULT_OUTCOMES) <= set(READING) <= set(nlcsim.OUTCOMES)
    assert READING["practice_change"][0] == 1 and READING["network_dormant"][0] == -1


def test_auto_replicates_stop_at_the_width_or_the_cap_and_say_which():
    wide = compare(["baseline", "high_trust"], reps="auto", seed=3, overrides=SMALL, workers=1,
                   ci_width=10.0, max_reps=9, batch=3)
    assert wide.reps == 3 and wide.stopping["reason"] == "width"
    narrow = compare(["baseline", "high_trust"], reps="auto", seed=3, overrides=SMALL, workers=1,
                     ci_width=1e-9, max_reps=5, batch=3)
    assert narrow.reps == 5 and narrow.stopping["reason"] == "cap"
    assert [h["replicates"] for h in narrow.stopping["history"]] == [3, 5]
    # batches keep common random numbers: the first replicates are those of the smaller run
    assert [r.outcomes for r in narrow.runs["high_trust"][:3]] == [r.outcomes for r in wide.runs["high_trust"]]
    assert "the cap was reached" in stopping_sentence(narrow)
    # the primaries are practice change (a 0-1 scale) and a share, which the report shows in points
    assert "narrower than 10 (1000 percentage points for shares)" in stopping_sentence(wide)
    last = narrow.stopping["history"][-1]
    widest = f"{100 * last['widest_ci']:.3g} percentage points" if last["outcome"] == "active_schools_share" \
        else f"{last['widest_ci']:.3g}"
    assert f"the widest CI is {widest} (" in stopping_sentence(narrow)


def test_markdown_report_has_png_figures_and_the_numbers_beside_it(policy_options, tmp_path):
    path = policy_options.write(tmp_path / "options.md")
    files = tmp_path / "options_files"
    text = path.read_text()
    for figure in ("effects", "timeseries", "distributions", "survival"):
        assert f"options_files/{figure}.png" in text
        assert (files / f"{figure}.png").stat().st_size > 1000
    summary = pd.read_csv(files / "summary.csv")
    assert {"mean", "ci_low", "ci_high", "diff", "diff_low", "diff_high", "p_better", "verdict"} <= set(summary.columns)
    assert len(pd.read_csv(files / "replicates.csv")) == 3 * 8
    meta = json.loads((files / "comparison.json").read_text())
    assert meta["seed"] == 11 and meta["version"] == nlcsim.__version__
    from nlcsim.provenance import model_source
    assert meta["model_source"] == model_source()
    assert meta["seeds"][2] == {"entropy": 11, "spawn_key": [2]}
    assert meta["scenarios"]["high_trust"]["trust"]["initial"] == 0.8
    assert Scenario.load(files / "scenarios" / "heads_only_leadership.toml") == policy_options.options["heads_only_leadership"]


def test_cli_writes_the_report_in_parallel_with_the_results_of_one_process(tmp_path, capsys):
    out = tmp_path / "cli.html"
    sets = [a for k, v in SMALL.items() for a in ("--set", f"{k}={v}")]
    code = cli_main(["compare", "baseline", "high_trust", "--reps", "2", "--seed", "5", "--workers", "2",
                     "--outcomes", "practice_change,mean_trust", *sets, "--out", str(out)])
    assert code == 0 and out.exists()
    assert "against baseline" in capsys.readouterr().out
    parallel = pd.read_csv(tmp_path / "cli_files" / "replicates.csv", float_precision="round_trip",
                           dtype={"spawn_key": str})
    serial = compare(["baseline", "high_trust"], reps=2, seed=5, overrides=SMALL, workers=1).values()
    pd.testing.assert_frame_equal(parallel, serial, check_dtype=False)


def test_cli_rejects_unknown_outcomes_and_single_replicates(tmp_path, capsys):
    out = tmp_path / "cli.html"
    code = cli_main(["compare", "baseline", "high_trust", "--outcomes", "practise_change", "--out", str(out)])
    assert code == 2 and "unknown outcome(s) practise_change" in capsys.readouterr().err
    code = cli_main(["compare", "baseline", "high_trust", "--reps", "1", "--out", str(out)])
    assert code == 2 and "at least 2 replicates" in capsys.readouterr().err


def test_html_report_is_self_contained(html_report):
    html = html_report.read_text()
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html
    assert html.count('src="data:image/png;base64,') == 4
    assert "@media print" in html and "<script" not in html


def test_report_shows_summary_tables_and_every_figure_in_chromium(html_report, artifacts, chromium):
    requested = []
    page = chromium.new_page(viewport={"width": 1200, "height": 900})
    page.on("request", lambda r: requested.append(r.url))
    page.goto(html_report.as_uri())
    page.wait_for_load_state("load")
    summary = page.locator("#summary")
    assert summary.is_visible()
    assert "high_trust" in summary.inner_text() and "95% CI" in summary.inner_text()
    assert summary.locator(".option").count() == 2
    assert "raises the share of joint work" in summary.inner_text().lower()
    for table in ("table.options-table", "table.outcome-table", "table.survival-table",
                  "table.parameter-table"):
        assert page.locator(table).is_visible(), table
        assert page.locator(f"{table} tbody tr").count() >= 2, table
    images = page.locator("img")
    assert images.count() == 4
    for k in range(images.count()):
        image = images.nth(k)
        image.scroll_into_view_if_needed()
        assert image.is_visible()
        assert image.evaluate("img => img.complete && img.naturalWidth > 0 && img.naturalHeight > 0")
        box = image.bounding_box()
        assert box and box["width"] > 300 and box["height"] > 100
    page.screenshot(path=str(artifacts / "compare_report.png"), full_page=True)
    page.emulate_media(media="print")
    page.pdf(path=str(artifacts / "compare_report.pdf"), format="A4", print_background=True)
    assert all(url.startswith(("file:", "data:")) for url in requested), requested
    assert (artifacts / "compare_report.png").stat().st_size > 10_000
    assert (artifacts / "compare_report.pdf").read_bytes()[:4] == b"%PDF"


def test_the_reports_command_line_reproduces_the_comparison_exactly():
    """The command printed in a report gives back the same options, seeds and overrides, so the same numbers."""
    import shlex

    from nlcsim.cli import build_parser
    from nlcsim.reports import compare as compare_module
    from nlcsim.reports.compare_report import command_line
    from nlcsim.scenario import parse_sets

    overrides = {**SMALL, "schedule.years": 1, "mechanisms.pupils": False, "trust.initial": 0.123456789012345}
    first = compare(["baseline", "high_trust"], reps=2, seed=5, overrides=overrides, workers=1,
                    outcomes=["mean_trust", "practice_change"])
    words = shlex.split(command_line(first))
    assert words[:2] == ["nlcsim", "compare"]
    args = build_parser("compare").parse_args(words[1:])
    assert parse_sets(args.set) == overrides
    again = compare(args.scenarios, baseline=args.baseline, reps=compare_module._reps_value(args.reps),
                    seed=args.seed, outcomes=compare_module._list_value(args.outcomes),
                    primary=compare_module._list_value(args.primary), overrides=parse_sets(args.set), workers=1)
    pd.testing.assert_frame_equal(again.table(), first.table())


def test_a_command_line_that_cannot_reproduce_a_python_comparison_says_why():
    from nlcsim.reports.compare_report import command_line

    # Changed after loading: loading their files again (with no shared overrides) gives other scenarios.
    changed = Scenario.load("baseline", overrides={**SMALL, "trust.initial": 0.9})
    result = compare([changed, Scenario.load("baseline", overrides=SMALL)], reps=2, seed=2, workers=1,
                     outcomes=["mean_trust"])
    text = command_line(result)
    assert "(from Python: options baseline, baseline (2) differ from their files" in text
    mixed = compare([changed, "baseline"], reps="auto", batch=3, max_reps=3, seed=2, workers=1, outcomes=["mean_trust"],
                    primary=["mean_trust"])
    assert "(from Python: options baseline differ from their files" in command_line(mixed)
    assert "batches of 3 replicates" in command_line(mixed)
    plain = compare(["baseline", "high_trust"], reps=2, seed=2, workers=1, overrides=SMALL, outcomes=["mean_trust"])
    assert "from Python" not in command_line(plain)


def test_survival_is_measured_from_a_programme_wide_funding_cut_as_the_model_measures_it(tmp_path):
    # The cut at week 13 ends the money 26 weeks before funding.years would: the report's
    # years after funding, its survival curve and the model's weeks_to_dormant all start there.
    path = tmp_path / "cut_at_13.toml"
    path.write_text('[meta]\nname = "cut_at_13"\n\n[[events]]\nweek = 13\nkind = "funding_cut"\n', encoding="utf-8")
    result = compare(["baseline", str(path)], reps=3, seed=4, overrides=SMALL, workers=1, outcomes=["mean_trust"])
    cut = result.labels[1]
    sc = result.options[cut]
    assert (sc.funding_end_week, sc.money_end_week, sc.weeks) == (39, 13, 78)
    assert result.years_after_funding(cut) == 65 / 39 and result.years_after_funding("baseline") == 1.0
    outcomes = result._outcomes(cut)
    assert (outcomes["weeks_to_dormant"] <= 65).all()
    assert (outcomes.loc[outcomes["network_dormant"] == 0, "weeks_to_dormant"] == 65).all()  # censored at the end
    weeks = result.survival().query("option == @cut")["weeks_after_funding"]
    assert weeks.max() <= 65
    # The options differ in their events, and the report says what the events are, not how many.
    events = result.parameter_differences().set_index("parameter").loc["events"]
    assert (events["baseline"], events[cut]) == ("none", "funding_cut at week 13")
    assert result.summary()[0]["parameters"] == ["events none \u2192 funding_cut at week 13"]


def test_parameters_csv_keeps_whole_numbers_whole_beside_fractions(tmp_path):
    path = tmp_path / "brokers.toml"
    path.write_text('[meta]\nname = "brokers"\n\n[population]\nbrokers_per_school = 2\n\n'
                    '[trust]\ninitial = 0.45\n', encoding="utf-8")
    result = compare(["baseline", str(path)], reps=2, seed=4, outcomes=["mean_trust"], workers=1, overrides=SMALL)
    rows = result.parameter_differences().to_csv(index=False).splitlines()[1:]
    assert rows[0].startswith("population.brokers_per_school,") and rows[0].endswith(",1,2")
    assert rows[1].startswith("trust.initial,") and rows[1].endswith(",0.5,0.45")


def test_levels_in_a_sentence_agree_with_the_difference_beside_them():
    from nlcsim.reports.compare import difference_decimals, difference_text, level_text, matching_decimals
    name = "improved_teaching_share"
    # 71.6% against 68.1%: shown whole they differ by 4 points, while the difference, 3.5, shows as 3 or 4
    level, base, low, high = 0.716, 0.681, 0.013, 0.057
    d = matching_decimals(name, level, base, level - base, difference_decimals(name, level - base, low, high))
    assert d == 1
    assert difference_text(name, level - base, low, high, signed=False, decimals=d)[0] == "3.5 percentage points"
    assert (level_text(name, level, decimals=d), level_text(name, base, decimals=d)) == ("71.6%", "68.1%")
    # where whole numbers agree, they are kept
    assert matching_decimals(name, 0.42, 0.35, 0.07, 0) == 0


def test_a_cut_in_one_network_does_not_end_the_programmes_money():
    sc = Scenario.from_dict({"events": [{"week": 13, "kind": "funding_cut", "network": 0}]})
    assert sc.money_end_week == sc.funding_end_week


def test_options_of_different_lengths_are_flagged_and_scenario_files_name_the_shared_settings(tmp_path):
    from nlcsim.reports.compare_report import _length_note, _scenario_toml

    path = tmp_path / "short.toml"
    path.write_text('[meta]\nname = "short"\nstory = "A short programme."\n\n[schedule]\nyears = 3\n', encoding="utf-8")
    shared = {"population.schools_per_network": 3, "population.teachers_per_school": 8, "funding.years": 1.0}
    result = compare(["baseline", str(path)], reps=2, seed=4, outcomes=["mean_trust"], workers=1, overrides=shared)
    assert _length_note(result).startswith("The options run for different lengths (3 and 7 years).")
    toml = _scenario_toml(result, "short")
    assert toml.startswith(f"# short as run in this comparison: {path} with population.schools_per_network = 3, ")
    assert 'story = "A short programme."' in toml
    (tmp_path / "as_run.toml").write_text(toml, encoding="utf-8")
    assert Scenario.load(tmp_path / "as_run.toml") == result.options["short"]  # the file reruns the option as run
    same = compare(["baseline", "high_trust"], reps=2, seed=4, outcomes=["mean_trust"], workers=1,
                   overrides={**shared, "schedule.years": 2})
    assert _length_note(same) == ""
