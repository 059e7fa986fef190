"""The command line as a new user meets it."""

import json
import os
import subprocess
import sys

import pandas as pd

from nlcsim.cli import main


def test_run_prints_mean_and_ci_per_outcome(capsys):
    code = main(["run", "--reps", "3", "--seed", "2", "--set", "schedule.years=1",
                 "--set", "population.schools_per_network=3", "--set", "population.teachers_per_school=8"])
    out = capsys.readouterr().out
    assert code == 0
    assert "baseline, 3 replicate(s), seed 2" in out
    assert "practice_change" in out and "95% CI" in out and " to " in out


def test_run_writes_results_with_seeds_scenario_and_version(tmp_path):
    out = tmp_path / "res"
    code = main(["run", "high_trust", "--reps", "2", "--seed", "9", "--out", str(out),
                 "--set", "schedule.years=1", "--set", "population.schools_per_network=3"])
    assert code == 0
    for name in ("timeseries.csv", "outcomes.csv", "scenario.toml", "run.json", "main_series.png"):
        assert (out / name).stat().st_size > 0, name
    meta = json.loads((out / "run.json").read_text())
    assert meta["seed"] == 9 and meta["replicates"] == 2 and meta["version"]
    assert meta["overrides"] == {"schedule.years": 1, "population.schools_per_network": 3}
    from nlcsim.provenance import model_source
    assert meta["model_source"] == model_source()
    assert meta["replicate_seeds"] == [{"entropy": 9, "spawn_key": [0]}, {"entropy": 9, "spawn_key": [1]}]
    outcomes = pd.read_csv(out / "outcomes.csv")
    assert len(outcomes) == 2 and "practice_change" in outcomes
    ts = pd.read_csv(out / "timeseries.csv")
    assert len(ts) == 2 * 39
    assert "initial = 0.8" in (out / "scenario.toml").read_text()


def test_a_replicate_can_be_rerun_alone_from_its_recorded_seed(tmp_path):
    import nlcsim
    from nlcsim.run import seed_from_record

    out = tmp_path / "res"
    main(["run", "--reps", "2", "--seed", "4", "--out", str(out), "--set", "schedule.years=1",
          "--set", "population.schools_per_network=3"])
    meta = json.loads((out / "run.json").read_text())
    again = nlcsim.run(nlcsim.Scenario.load(out / "scenario.toml"), seed=seed_from_record(meta["replicate_seeds"][1]))
    table = pd.read_csv(out / "outcomes.csv", float_precision="round_trip")
    assert again.outcomes["practice_change"] == table.loc[1, "practice_change"]


def test_scenarios_lists_presets_with_stories(capsys):
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    assert "baseline" in out and "england" in out and "pioneers" in out


def test_console_script_reports_errors_without_traceback():
    proc = subprocess.run([sys.executable, "-m", "nlcsim.cli", "run", "--set", "trust.initial=2"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "trust.initial = 2" in proc.stderr


def test_help_of_every_command_prints(capsys):
    import pytest

    from nlcsim.cli import EXTERNAL

    for argv in (["--help"], *([command, "--help"] for command in ["run", "scenarios", *EXTERNAL])):
        with pytest.raises(SystemExit) as done:
            main(argv)
        assert done.value.code == 0, argv
        assert "usage: nlcsim" in capsys.readouterr().out


SMALL = ["--set", "schedule.years=1", "--set", "population.schools_per_network=3",
         "--set", "population.teachers_per_school=8"]


def test_bad_arguments_are_refused_before_any_run_with_what_is_allowed(tmp_path, capsys, monkeypatch):
    import nlcsim.replicates

    def no_runs(*args, **kwargs):
        raise AssertionError("a run started")

    monkeypatch.setattr(nlcsim.replicates, "run_replicates", no_runs)
    (tmp_path / "a_file").write_text("")
    cases = [
        (["run", "--seed", "-1"], "seed -1: must be a whole number >= 0"),
        (["run", "--reps", "2", "--workers", "0"], "--workers must be at least 1"),
        (["run", "--out", str(tmp_path / "a_file")], "a file is in the way"),
        (["run", "--out", str(tmp_path / "a_file" / "x")], "cannot make this folder"),
        (["compare", "baseline", "high_trust", "--reps", "2", "--seed", "-3"], "seed -3: must be a whole number >= 0"),
        (["compare", "baseline", "high_trust", "--reps", "2", "--out", str(tmp_path / "a_file" / "r.html")],
         "a file is in the way"),
    ]
    for argv, message in cases:
        if argv[1:2] == ["--seed"]:  # a seed is checked where the seeds are made
            monkeypatch.undo()
        assert main([*argv, *SMALL]) == 2, argv
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (argv, err)
        monkeypatch.setattr(nlcsim.replicates, "run_replicates", no_runs)


def test_a_preset_name_means_the_preset_whatever_the_current_folder_holds(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "baseline").mkdir()  # e.g. the --out of an earlier run
    (tmp_path / "high_trust").write_text("not toml at all [")
    assert main(["run", "baseline", *SMALL]) == 0
    assert main(["run", "high_trust", *SMALL]) == 0
    capsys.readouterr()
    assert main(["run", str(tmp_path), *SMALL]) == 2
    err = capsys.readouterr().err
    assert "this is a folder" in err and "Traceback" not in err


def test_a_new_machine_is_told_that_the_first_run_compiles(tmp_path):
    """With no compiled loop cached (an empty numba cache), the commands that run the
    model say that the first run compiles them; where they are cached, nothing is said."""
    say = "from nlcsim.cli import _say_if_compiling; _say_if_compiling()"
    fresh = subprocess.run([sys.executable, "-c", say], capture_output=True, text=True, timeout=120,
                           env={**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)})
    assert fresh.returncode == 0 and "first run on this machine: compiling the model's loops" in fresh.stderr
    main(["run", "--set", "schedule.years=1", "--set", "population.schools_per_network=3"])  # caches them here
    warm = subprocess.run([sys.executable, "-c", say], capture_output=True, text=True, timeout=120)
    assert warm.returncode == 0 and warm.stderr == ""
