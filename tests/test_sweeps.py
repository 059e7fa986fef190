"""Sweeps: the same results on any executor, nothing lost or repeated after kills, honest analysis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import tomli_w

import nlcsim
from nlcsim.sweeps import ExperimentError, analyze, load_experiment, load_manifest, load_results, rerun, sweep
from nlcsim.sweeps.models import run_seed

TINY = {"population.schools_per_network": 3, "population.teachers_per_school": 8, "schedule.years": 1,
        "funding.years": 0.5}


def tiny_grid(replicates=2, every=13, seed=7):
    return {"experiment": {"name": "tiny", "design": "grid", "replicates": replicates, "seed": seed},
            "fixed": dict(TINY),
            "factors": [{"key": "trust.initial", "levels": [0.2, 0.8]},
                        {"key": "collaboration.depth", "low": 0.1, "high": 0.9, "steps": 3}],
            "record": {"timeseries_every": every}}


def recorded_run_ids(out: Path) -> list[int]:
    """Every run id in every committed chunk, duplicates included (read raw, not through the loader)."""
    return [i for p in sorted((out / "outcomes").glob("part-*.parquet"))
            for i in pq.read_table(p, columns=["run_id"]).column("run_id").to_pylist()]


def without_timing(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["seconds"])


@pytest.fixture(scope="module")
def dask_client():
    """A real LocalCluster: 2 worker processes of 1 thread, shared by this module's Dask tests."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=50)
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def test_serial_two_processes_and_dask_give_identical_tables(tmp_path, dask_client):
    exp = tiny_grid()
    serial = sweep(exp, tmp_path / "serial", workers=1, progress=False)
    sweep(exp, tmp_path / "procs", workers=2, progress=False)
    sweep(exp, tmp_path / "dask", client=dask_client, progress=False)
    assert serial.runs == 12 and serial.ran == 12 and serial.failed_total == 0
    reference = load_results(tmp_path / "serial")
    assert list(reference["run_id"]) == list(range(12))
    for other in ("procs", "dask"):
        pd.testing.assert_frame_equal(without_timing(reference), without_timing(load_results(tmp_path / other)))
        pd.testing.assert_frame_equal(load_results(tmp_path / "serial", "timeseries"),
                                      load_results(tmp_path / other, "timeseries"))
    assert set(reference["status"]) == {"ok"}
    assert set(nlcsim.OUTCOMES) <= set(reference.columns)


def test_rerun_keeps_whole_number_factors_whole_beside_decimal_ones(tmp_path):
    exp = {"experiment": {"name": "mixed", "design": "grid", "replicates": 1, "seed": 3},
           "fixed": {k: v for k, v in TINY.items() if k != "population.teachers_per_school"},
           "factors": [{"key": "population.teachers_per_school", "levels": [6, 8]},
                       {"key": "trust.initial", "levels": [0.3]}]}
    sweep(exp, tmp_path / "s", workers=1, progress=False)
    table = load_results(tmp_path / "s").set_index("run_id")
    again = rerun(tmp_path / "s", 1)
    assert again.scenario.population.teachers_per_school == 8
    assert again.outcomes["practice_change"] == table.loc[1, "practice_change"]


def test_any_run_can_be_rerun_alone_from_its_id(tmp_path):
    sweep(tiny_grid(every=0), tmp_path / "s", workers=1, progress=False)
    table = load_results(tmp_path / "s").set_index("run_id")
    manifest = load_manifest(tmp_path / "s")
    assert manifest["seeds"]["experiment_seed"] == 7
    run_id = 7                                  # point 3, replicate 1
    again = rerun(tmp_path / "s", run_id)
    assert again.seed == {"entropy": 7, "spawn_key": [3, 1]}
    for name, value in again.outcomes.items():
        assert table.loc[run_id, name] == pytest.approx(value, nan_ok=True, rel=0, abs=0)
    # and by hand, from nothing but the stored scenario, the design and the seed rule
    base = nlcsim.Scenario.load(tmp_path / "s" / "base_scenario.toml")
    by_hand = nlcsim.run(base.with_overrides({"trust.initial": table.loc[run_id, "trust.initial"],
                                              "collaboration.depth": table.loc[run_id, "collaboration.depth"]}),
                         seed=run_seed(7, 3, 1))
    assert by_hand.outcomes == again.outcomes


def test_sigkill_of_the_runner_then_the_same_command_completes_every_run_once(tmp_path):
    import psutil

    exp_file = tmp_path / "exp.toml"
    exp_file.write_text(tomli_w.dumps({
        "experiment": {"design": "grid", "replicates": 10, "seed": 3}, "fixed": TINY,
        "factors": [{"key": "trust.initial", "levels": [0.2, 0.5, 0.8]}, {"key": "enquiry.level", "levels": [0.0, 1.0]}]}))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "nlcsim.cli", "sweep", str(exp_file), "--out", str(out),
               "--workers", "2", "--chunk", "3", "--no-progress"]
    runner = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(recorded_run_ids(out) if (out / "outcomes").is_dir() else []) < 6:
        assert runner.poll() is None, "the sweep finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    workers = psutil.Process(runner.pid).children(recursive=True)
    os.kill(runner.pid, signal.SIGKILL)
    runner.wait()
    before = recorded_run_ids(out)
    assert 0 < len(before) < 60
    # the runner's worker processes leave with it rather than idling as orphans
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "resumed" in done.stdout
    ids = recorded_run_ids(out)
    assert sorted(ids) == list(range(60))           # every run, each exactly once
    killed, resumed = load_manifest(out)["sessions"]
    assert killed["interrupted"] is True and killed["ended"] is None and killed["ran"] == len(before)
    assert "interrupted" not in resumed and resumed["ended"]
    # runs from before and after the kill are what the run alone gives
    table = load_results(out).set_index("run_id")
    for run_id in (before[0], next(i for i in range(60) if i not in before)):
        alone = rerun(out, run_id)
        assert table.loc[run_id, "practice_change"] == alone.outcomes["practice_change"]


def test_a_killed_dask_worker_does_not_stop_the_sweep(tmp_path, dask_client):
    exp = tiny_grid(replicates=8, every=0)
    exp["fixed"]["schedule.years"] = 2
    out = tmp_path / "dask"
    result = {}
    thread = threading.Thread(target=lambda: result.update(
        summary=sweep(exp, out, client=dask_client, progress=False, chunk_runs=2, flush_seconds=0.2)))
    thread.start()
    deadline = time.monotonic() + 60
    while not (out / "outcomes").is_dir() or not recorded_run_ids(out):
        assert time.monotonic() < deadline and thread.is_alive()
        time.sleep(0.02)
    busy = [w for w, keys in dask_client.processing().items() if keys]
    pids = dask_client.run(os.getpid)
    victim = pids[busy[0] if busy else next(iter(pids))]
    done_at_kill = len(recorded_run_ids(out))
    os.kill(victim, signal.SIGKILL)
    thread.join(120)
    assert not thread.is_alive()
    assert done_at_kill < 48
    summary = result["summary"]
    assert summary.complete and summary.failed_total == 0
    assert sorted(recorded_run_ids(out)) == list(range(48))
    assert victim not in dask_client.run(os.getpid).values()


def test_a_killed_local_worker_process_does_not_stop_the_sweep(tmp_path):
    import psutil

    exp = tiny_grid(replicates=10, every=0)
    out = tmp_path / "procs"
    killed = []

    def kill_one_worker():
        me = psutil.Process()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            workers = [p for p in me.children(recursive=True) if "forkserver" in " ".join(p.cmdline())
                       and p.ppid() != me.pid]
            if workers and (out / "outcomes").is_dir() and recorded_run_ids(out):
                os.kill(workers[0].pid, signal.SIGKILL)
                killed.append(workers[0].pid)
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_one_worker, daemon=True)
    killer.start()
    summary = sweep(exp, out, workers=2, progress=False, chunk_runs=2, flush_seconds=0.2)
    killer.join(5)
    assert killed
    assert summary.complete and summary.failed_total == 0
    assert sorted(recorded_run_ids(out)) == list(range(60))


def test_a_pool_broken_between_wait_and_submit_takes_the_batch_to_a_new_pool():
    """A worker can die after one wait and before the next submit: that batch is run, not lost."""
    from nlcsim.sweeps.executors import ProcessExecutor
    from nlcsim.sweeps.models import ScenarioModel

    model = ScenarioModel(nlcsim.Scenario.load("baseline").with_overrides(TINY))
    executor = ProcessExecutor(model, seed=3, workers=1)
    try:
        batch = [(0, 0, 0, {})]
        executor.submit(batch)
        first = []
        while not first:
            first = executor.wait(timeout=5)
        (_, records), = first
        worker, = executor._pool._processes.values()
        worker.kill()
        deadline = time.monotonic() + 30
        while not executor._pool._broken and time.monotonic() < deadline:
            time.sleep(0.01)
        assert executor._pool._broken
        executor.submit(batch)           # the broken pool refuses it: kept, not raised
        assert executor.inflight == 1
        again = []
        while not again:
            again = executor.wait(timeout=5)
        (_, rerun_records), = again
        assert rerun_records[0]["status"] == "ok"
        assert rerun_records[0]["outcomes"] == records[0]["outcomes"]
        assert executor.inflight == 0
    finally:
        executor.close()


def linear_a(params, seed):
    return {"y": params["a"]}


def test_only_the_run_that_kills_its_worker_is_recorded_as_failed(tmp_path, monkeypatch):
    """A dead worker takes every batch in flight with it; the runs beside the guilty one must not pay."""
    from nlcsim.sweeps import runner
    from nlcsim.sweeps.executors import WorkerLost
    from nlcsim.sweeps.models import run_batch

    class Pool:  # four batches in flight; run 20 kills the pool whenever it is among them
        label, slots = "pool that run 20 kills", 4

        def __init__(self, model, seed):
            self.model, self.seed, self.batches = model, seed, []

        @property
        def inflight(self):
            return len(self.batches)

        def submit(self, batch):
            self.batches.append(batch)

        def wait(self, timeout):
            if any(spec[0] == 20 for b in self.batches for spec in b):
                lost, self.batches = self.batches, []
                return [(b, WorkerLost("killed")) for b in lost]
            batch = self.batches.pop(0)
            return [(batch, run_batch(self.model, self.seed, batch))]

        def close(self):
            self.batches = []

    monkeypatch.setattr(runner, "_make_executor", lambda model, seed, *args: Pool(model, seed))
    exp = {"experiment": {"name": "k", "design": "grid", "replicates": 4, "seed": 3},
           "factors": [{"key": "a", "levels": [float(i) for i in range(10)]}]}
    summary = sweep(exp, tmp_path / "k", model=linear_a, workers=2, progress=False)
    table = load_results(tmp_path / "k")
    assert sorted(table["run_id"]) == list(range(40))
    failed = table[table["status"] != "ok"]
    assert list(failed["run_id"]) == [20] and summary.failed_total == 1
    assert "alone died 3 times" in failed["error"].iloc[0]


def ishigami(params, seed):
    """Ishigami and Homma (1990), A = 7, B = 0.1; its Sobol indices are known exactly."""
    x1, x2, x3 = params["x1"], params["x2"], params["x3"]
    return {"y": np.sin(x1) + 7.0 * np.sin(x2) ** 2 + 0.1 * x3 ** 4 * np.sin(x1)}


def test_sobol_indices_of_the_ishigami_function_match_the_known_values(tmp_path):
    exp = {"experiment": {"name": "ishigami", "design": "sobol", "samples": 1024, "seed": 11},
           "factors": [{"key": k, "low": -np.pi, "high": np.pi} for k in ("x1", "x2", "x3")]}
    sweep(exp, tmp_path / "ish", workers=1, progress=False, model=ishigami, chunk_runs=2000)
    result = analyze(tmp_path / "ish")
    indices = {(i, f): v for i, f, v in zip(result.sobol["index"], result.sobol["factor"], result.sobol["value"])}
    known_s1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
    known_st = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}
    for factor in known_s1:
        assert indices[("S1", factor)] == pytest.approx(known_s1[factor], abs=0.05)
        assert indices[("ST", factor)] == pytest.approx(known_st[factor], abs=0.05)
    s2 = {(f, g): v for f, g, v in zip(result.sobol["factor"], result.sobol["factor2"], result.sobol["value"])}
    assert s2[("x1", "x3")] == pytest.approx(0.2437, abs=0.08)   # the only interaction
    assert (tmp_path / "ish" / "analysis" / "sobol_y.png").stat().st_size > 0
    assert (result.sobol["conf"] > 0).all()


def fails_in_a_corner(params, seed):
    if params["a"] > 0.8 and params["b"] > 0.5:
        raise ValueError("no network survives here")
    return {"y": 2 * params["a"] + params["b"]}


def test_failed_runs_are_recorded_counted_and_their_handling_reported(tmp_path):
    exp = {"experiment": {"name": "corner", "design": "sobol", "samples": 64, "seed": 5},
           "factors": [{"key": "a", "low": 0.0, "high": 1.0}, {"key": "b", "low": 0.0, "high": 1.0}],
           "analysis": {"target": "y >= 1.5"}}
    summary = sweep(exp, tmp_path / "c", workers=1, progress=False, model=fails_in_a_corner)
    table = load_results(tmp_path / "c")
    failed = table[table["status"] == "failed"]
    assert summary.complete and summary.failed_total == len(failed) > 0
    assert failed["error"].str.startswith("ValueError: no network survives here").all()
    assert failed["y"].isna().all()
    assert "failed runs" in str(summary)
    result = analyze(tmp_path / "c", plots=False)
    assert result.accounting["failed"] == len(failed)
    assert f"{len(failed)} failed" in result.text
    assert "Saltelli blocks" in result.text and "dropped whole" in result.text
    used = int(result.text.split(" of 64 Saltelli")[0].split()[-1])
    assert 0 < used < 64
    assert f"{len(failed)} failed and 0 non-finite runs left out" in result.text


def linear(params, seed):
    return {"y": 4.0 * params["a"] + 1.0 * params["b"] + 0.0 * params["c"]}


def test_morris_screening_ranks_factors_by_their_effect(tmp_path):
    exp = {"experiment": {"name": "linear", "design": "morris", "samples": 12, "levels": 4, "seed": 2},
           "factors": [{"key": k, "low": 0.0, "high": 1.0} for k in ("a", "b", "c")]}
    sweep(exp, tmp_path / "m", workers=1, progress=False, model=linear)
    result = analyze(tmp_path / "m")
    mu_star = result.morris.set_index("factor")["mu_star"]
    assert mu_star["a"] == pytest.approx(4.0) and mu_star["b"] == pytest.approx(1.0)
    assert mu_star["c"] == pytest.approx(0.0)
    assert (tmp_path / "m" / "analysis" / "morris_y.png").exists()


def test_scenario_discovery_finds_the_passing_region_and_grids_get_heatmaps(tmp_path):
    exp = {"experiment": {"name": "region", "design": "grid", "replicates": 1, "seed": 1},
           "factors": [{"key": "a", "low": 0.0, "high": 1.0, "steps": 11},
                       {"key": "b", "low": 0.0, "high": 1.0, "steps": 11}]}
    sweep(exp, tmp_path / "g", workers=1, progress=False,
          model=region_model)
    result = analyze(tmp_path / "g", target="inside >= 1")
    box = result.discovery["box"]
    assert result.discovery["density"] >= 0.8 and result.discovery["coverage"] >= 0.8
    assert 0.4 < box.loc["a", "min"] <= 0.6 and 0.3 <= box.loc["b", "max"] < 0.5
    strict = analyze(tmp_path / "g", target="inside >= 1", min_density=1.0, out=tmp_path / "strict").discovery
    assert strict["density"] == 1.0 and strict["coverage"] == 1.0
    assert 0.5 < strict["box"].loc["a", "min"] <= 0.6 and 0.3 <= strict["box"].loc["b", "max"] < 0.4
    for name in ("discovery.png", "heatmap_inside.png", "grid_means.csv", "summary.md", "discovery_box.csv"):
        assert (tmp_path / "g" / "analysis" / name).exists()


def test_a_grid_over_an_on_off_switch_gets_its_heatmap(tmp_path):
    exp = {"experiment": {"name": "switch", "design": "grid", "replicates": 1, "seed": 3}, "fixed": dict(TINY),
           "factors": [{"key": "mechanisms.trust", "levels": [True, False]},
                       {"key": "trust.initial", "levels": [0.3, 0.7]}]}
    sweep(exp, tmp_path / "s", workers=1, progress=False)
    result = analyze(tmp_path / "s", outcomes=["mean_trust"])
    assert (tmp_path / "s" / "analysis" / "heatmap_mean_trust.png").stat().st_size > 1000
    assert len(result.grid) == 4


def test_a_new_analysis_leaves_none_of_an_earlier_ones_files_and_lhs_asks_for_a_target(tmp_path):
    exp = {"experiment": {"name": "region", "design": "lhs", "samples": 40, "replicates": 1, "seed": 1},
           "factors": [{"key": "a", "low": 0.0, "high": 1.0}, {"key": "b", "low": 0.0, "high": 1.0}]}
    sweep(exp, tmp_path / "l", workers=1, progress=False, model=region_model)
    folder = tmp_path / "l" / "analysis"
    (folder.parent / "analysis").mkdir()
    (folder / "my_notes.txt").write_text("mine")
    analyze(tmp_path / "l", target="inside >= 1")
    assert (folder / "discovery_box.csv").exists() and (folder / "discovery.png").exists()
    text = analyze(tmp_path / "l").text  # no target this time: no box, and no old box left beside the new summary
    assert "give a target" in text
    assert not (folder / "discovery_box.csv").exists() and not (folder / "discovery.png").exists()
    assert (folder / "my_notes.txt").read_text() == "mine"


def test_an_edited_analysis_section_is_taken_up_by_the_next_sweep_and_analyze(tmp_path, capsys):
    exp = {"experiment": {"name": "region", "design": "lhs", "samples": 20, "replicates": 1, "seed": 1},
           "factors": [{"key": "a", "low": 0.0, "high": 1.0}, {"key": "b", "low": 0.0, "high": 1.0}],
           "analysis": {"target": "inside >= 1"}}
    sweep(exp, tmp_path / "l", workers=1, progress=False, model=region_model)
    exp["analysis"] = {"target": "inside <= 0", "mass_min": 0.1}  # decides no run: the same experiment
    summary = sweep(exp, tmp_path / "l", workers=1, progress=False, model=region_model)
    assert summary.ran == 0 and summary.complete
    assert "[analysis] target, mass_min changed" in capsys.readouterr().err
    manifest = load_manifest(tmp_path / "l")
    assert (manifest["experiment"]["target"], manifest["experiment"]["mass_min"]) == ("inside <= 0", 0.1)
    assert 'target = "inside <= 0"' in (tmp_path / "l" / "experiment.toml").read_text()
    assert "## Scenario discovery: inside <= 0" in analyze(tmp_path / "l").text


def test_analyze_command_prints_the_report_and_rejects_unknown_outcomes(tmp_path, capsys):
    from nlcsim.cli import main

    exp = {"experiment": {"name": "region", "design": "grid", "seed": 1},
           "factors": [{"key": "a", "levels": [0.0, 0.7]}, {"key": "b", "levels": [0.1, 0.9]}]}
    sweep(exp, tmp_path / "g", workers=1, progress=False, model=region_model)
    assert main(["analyze", str(tmp_path / "g"), "--no-plots", "--target", "inside >= 1"]) == 0
    out = capsys.readouterr().out
    assert "Runs: 4 planned" in out and "Scenario discovery: inside >= 1" in out
    assert main(["analyze", str(tmp_path / "g"), "--outcome", "outside"]) == 2
    assert "unknown outcome(s) outside" in capsys.readouterr().err
    assert main(["analyze", str(tmp_path / "g"), "--target", "inside => 1"]) == 2


def region_model(params, seed):
    return {"inside": float(params["a"] >= 0.6 and params["b"] <= 0.3)}


def test_the_same_command_refuses_a_changed_experiment(tmp_path):
    sweep(tiny_grid(every=0), tmp_path / "s", workers=1, progress=False)
    changed = tiny_grid(every=0, seed=8)
    with pytest.raises(ExperimentError, match="different experiment"):
        sweep(changed, tmp_path / "s", workers=1, progress=False)
    summary = sweep(tiny_grid(every=0), tmp_path / "s", workers=1, progress=False)
    assert summary.ran == 0 and summary.done_before == 12
    with pytest.raises(ExperimentError, match="no sweep here to resume"):
        sweep(tiny_grid(every=0), tmp_path / "new", workers=1, progress=False, resume=True)


def test_results_of_another_model_are_not_resumed_and_a_worker_with_another_model_does_not_run(tmp_path, capsys):
    import json

    from nlcsim.provenance import model_source
    from nlcsim.sweeps.models import ScenarioModel, run_batch

    out = tmp_path / "s"
    sweep(tiny_grid(replicates=1, every=0), out, workers=1, progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model_source"] == model_source()
    manifest["model_source"] = "0" * 16  # as if an earlier model had made them
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ExperimentError, match="the model has changed since these results were made"):
        sweep(tiny_grid(replicates=1, every=0), out, workers=1, progress=False)
    rerun(out, 0)
    assert "may not equal the stored one" in capsys.readouterr().err
    other = ScenarioModel(nlcsim.Scenario.load("baseline", overrides=TINY), model_source="0" * 16)
    [record] = run_batch(other, 7, [(0, 0, 0, {})])
    assert record["status"] == "failed" and "another nlcsim model" in record["error"]


EXPERIMENTS = sorted((Path(__file__).resolve().parent.parent / "experiments").glob("*.toml"))


@pytest.mark.parametrize("path", EXPERIMENTS, ids=[p.stem for p in EXPERIMENTS])
def test_shipped_experiments_are_valid_and_every_point_makes_a_valid_scenario(path):
    from nlcsim.sweeps.designs import make_design
    from nlcsim.sweeps.runner import _check_points

    exp = load_experiment(path)
    design = make_design(exp)
    _check_points(exp, design)
    assert len(design) > 0 and exp.text.lstrip().startswith("#")


def test_morris_screening_covers_every_numeric_parameter():
    path = Path(__file__).resolve().parent.parent / "experiments" / "morris_screening.toml"
    keys = set(load_experiment(path).keys)
    numeric = {p.name for p in nlcsim.PARAMS if p.kind in (int, float)}
    assert not numeric - keys, f"add these parameters to {path.name}: {sorted(numeric - keys)}"


BAD = {
    "unknown_key": ('[experiment]\ndesign = "grid"\n[[factors]]\nkey = "trust.intial"\nlevels = [0.1]\n',
                    ["factors[0] (trust.intial)", "did you mean 'trust.initial'"]),
    "bad_design": ('[experiment]\ndesign = "factorial"\n[[factors]]\nkey = "trust.initial"\nlevels = [0.1]\n',
                   ["experiment.design = 'factorial'", "grid, lhs, sobol, morris, list"]),
    "sobol_not_power_of_two": ('[experiment]\ndesign = "sobol"\nsamples = 100\n[[factors]]\n'
                               'key = "trust.initial"\nlow = 0.0\nhigh = 1.0\n', ["power of 2", "64 or 128"]),
    "range_outside_parameter": ('[experiment]\ndesign = "lhs"\nsamples = 10\n[[factors]]\n'
                                'key = "trust.initial"\nlow = 0.0\nhigh = 1.5\n',
                                ["factors[0] (trust.initial).high", "trust.initial = 1.5", "from 0 to 1"]),
    "levels_in_sampled_design": ('[experiment]\ndesign = "lhs"\nsamples = 10\n[[factors]]\n'
                                 'key = "trust.initial"\nlevels = [0.1, 0.2]\n', ["give low and high"]),
    "no_factors": ('[experiment]\ndesign = "grid"\n', ["no factors"]),
    "not_toml": ('[experiment\ndesign = "grid"\n', ["not valid TOML"]),
    "bad_target": ('[experiment]\ndesign = "grid"\n[[factors]]\nkey = "trust.initial"\nlevels = [0.1]\n'
                   '[analysis]\ntarget = "__import__(\'os\')"\n', ["analysis.target", "OUTCOME OP NUMBER"]),
    "whole_number_parameter": ('[experiment]\ndesign = "grid"\n[[factors]]\nkey = "population.networks"\n'
                               'levels = [1, 2.5]\n', ["population.networks = 2.5", "whole number"]),
    "repeated_level": ('[experiment]\ndesign = "grid"\n[[factors]]\nkey = "trust.initial"\nlevels = [0, 0.0, 1]\n',
                       ["levels = [0, 0.0, 1]", "a level is repeated"]),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_experiment_files_give_clear_errors(tmp_path, name, capsys):
    text, expected = BAD[name]
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    with pytest.raises(ExperimentError) as err:
        load_experiment(path)
    message = str(err.value)
    assert str(path) in message
    for piece in expected:
        assert piece in message
    from nlcsim.cli import main

    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "1"]) == 2
    stderr = capsys.readouterr().err
    assert expected[0] in stderr and "Traceback" not in stderr
    assert not (tmp_path / "o").exists()


def test_a_point_that_makes_an_invalid_scenario_is_caught_before_any_run(tmp_path):
    exp = tiny_grid(every=0)
    exp["fixed"]["funding.years"] = 0.5
    exp["factors"].append({"key": "schedule.years", "levels": [1, 2]})
    del exp["fixed"]["schedule.years"]
    exp["experiment"]["base"] = str(tmp_path / "with_event.toml")
    (tmp_path / "with_event.toml").write_text('[[events]]\nweek = 50\nkind = "funding_cut"\n')
    with pytest.raises(ExperimentError, match=r"point 0 .*events\[0\]\.week = 50"):
        sweep(exp, tmp_path / "o", workers=1, progress=False)


def test_end_only_sweep_runs_measure_only_the_weeks_the_outcomes_read(monkeypatch):
    """Without a stored time series a sweep's run is an outcomes-only run: the same outcomes as a full run."""
    from nlcsim.sweeps.models import ScenarioModel

    run_module = sys.modules["nlcsim.run"]  # the module (the package's attribute of that name is the function)
    asked = []
    real = run_module.run
    monkeypatch.setattr(run_module, "run", lambda *a, **k: asked.append(k.get("series", True)) or real(*a, **k))
    base = nlcsim.Scenario.load("baseline", overrides=TINY)
    seed = run_seed(7, 0, 0)
    end_only, _ = ScenarioModel(base).run({}, seed)
    with_series, ts = ScenarioModel(base, timeseries_every=13).run({}, seed)
    assert asked == [False, True]
    assert end_only == with_series and len(ts) > 2


def test_analysis_records_its_provenance_and_settings(tmp_path, capsys):
    import json

    from nlcsim.cli import main

    exp = {"experiment": {"name": "corner", "design": "sobol", "samples": 16, "seed": 5},
           "factors": [{"key": "a", "low": 0.0, "high": 1.0}, {"key": "b", "low": 0.0, "high": 1.0}]}
    sweep(exp, tmp_path / "c", workers=1, progress=False, model=fails_in_a_corner)
    table = load_results(tmp_path / "c")
    n_failed = int((table["status"] != "ok").sum())
    assert 0 < n_failed < len(table)
    for out in ("one", "two"):
        assert main(["analyze", str(tmp_path / "c"), "--out", str(tmp_path / out), "--no-plots",
                     "--resamples", "50"]) == 0
    capsys.readouterr()
    summary = json.loads((tmp_path / "one" / "summary.json").read_text())
    prov, settings = summary["provenance"], summary["settings"]
    assert prov["nlcsim_version"] == nlcsim.__version__
    assert prov["results"] == str((tmp_path / "c").resolve()) and prov["experiment"] == "corner"
    assert prov["experiment_seed"] == 5
    assert prov["runs_analysed"] == {"ok": len(table) - n_failed, "failed": n_failed}
    assert settings["resamples"] == 50 and isinstance(settings["seed"], int) and settings["seed"] > 0
    assert settings["conf_level"] == 0.95
    md = (tmp_path / "one" / "summary.md").read_text()
    assert (f"Provenance: nlcsim {nlcsim.__version__}; results {prov['results']} (experiment corner, seed 5); "
            f"{len(table) - n_failed} ok and {n_failed} failed runs analysed; bootstrap CIs from 50 resamples, "
            f"seed {settings['seed']}.") in md
    # the recorded seed makes the bootstrap CIs repeatable
    assert (tmp_path / "one" / "sobol_indices.csv").read_text() == (tmp_path / "two" / "sobol_indices.csv").read_text()


def test_an_interrupted_session_records_the_runs_it_saved_and_resumes_exactly(tmp_path):
    calls = []

    def stops_after_seven(params, seed):
        calls.append(params["a"])
        if len(calls) == 8:
            raise KeyboardInterrupt      # as Ctrl-C (or SIGTERM, which the command turns into this)
        if len(calls) == 3:
            raise ValueError("one failed run")
        return {"y": params["a"]}

    exp = {"experiment": {"name": "stop", "design": "grid", "replicates": 2, "seed": 4},
           "factors": [{"key": "a", "levels": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]}]}
    out = tmp_path / "s"
    with pytest.raises(KeyboardInterrupt):
        sweep(exp, out, workers=1, progress=False, model=stops_after_seven, chunk_runs=3)
    saved = recorded_run_ids(out)
    session, = load_manifest(out)["sessions"]
    assert len(saved) == 7 and session["ran"] == len(saved)
    assert session["failed"] == 1 == int((load_results(out)["status"] == "failed").sum())
    assert session["interrupted"] is True and session["ended"]  # stopped, with its end time
    summary = sweep(exp, out, workers=1, progress=False, model=linear_in_a, chunk_runs=3)
    assert summary.done_before == 7 and summary.ran == 5 and summary.complete
    assert sorted(recorded_run_ids(out)) == list(range(12))
    stopped, resumed = load_manifest(out)["sessions"]
    assert [stopped["ran"], resumed["ran"]] == [7, 5] and "interrupted" not in resumed


def linear_in_a(params, seed):
    return {"y": params["a"]}


def test_sweep_command_refuses_bad_arguments_before_writing_anything(tmp_path, capsys):
    from nlcsim.cli import main
    from nlcsim.errors import UserError

    path = tmp_path / "exp.toml"
    path.write_text(tomli_w.dumps(tiny_grid(every=0)))
    out = tmp_path / "o"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "0"]) == 2
    err = capsys.readouterr().err
    assert "--workers 0: must be at least 1" in err and "problem in the experiment" not in err
    assert not out.exists()
    with pytest.raises(UserError, match="workers = 0"):
        sweep(tiny_grid(every=0), out, workers=0, progress=False)
    assert not out.exists()
    with pytest.raises(ExperimentError, match="no sweep here to resume"):
        sweep(tiny_grid(every=0), out, workers=1, progress=False, resume=True)
    assert not out.exists()


def test_sweep_command_errors_name_the_flag(tmp_path, capsys):
    from nlcsim.cli import main

    path = tmp_path / "exp.toml"
    path.write_text(tomli_w.dumps(tiny_grid(every=0)))
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "1", "--chunk", "0"]) == 2
    err = capsys.readouterr().err
    assert "--chunk 0: must be at least 1" in err and "chunk_runs" not in err
    assert not (tmp_path / "o").exists()


def test_an_experiment_whose_only_factor_is_invalid_is_not_said_to_have_no_factors(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[experiment]\ndesign = "grid"\n[[factors]]\nkey = "trust.intial"\nlevels = [0.1]\n')
    with pytest.raises(ExperimentError) as err:
        load_experiment(path)
    assert err.value.problems == [p for p in err.value.problems if "trust.intial" in p]
    assert len(err.value.problems) == 1 and "no factors" not in str(err.value)


def test_a_grid_cell_whose_runs_all_failed_is_listed_with_its_failures(tmp_path):
    exp = {"experiment": {"name": "c", "design": "grid", "replicates": 3, "seed": 1},
           "factors": [{"key": "a", "levels": [0.1, 0.5, 0.9]}, {"key": "b", "levels": [0.1, 0.5, 0.9]}],
           "analysis": {"outcomes": ["y"]}}
    sweep(exp, tmp_path / "c", workers=1, progress=False, model=fails_in_a_corner)
    grid = analyze(tmp_path / "c", plots=False).grid
    assert len(grid) == 9
    corner = grid[(grid["a"] == 0.9) & (grid["b"] == 0.9)].iloc[0]
    assert corner["n"] == 0 and corner["failed"] == 3 and np.isnan(corner["mean"])
    assert (grid.drop(corner.name)["n"] == 3).all()


def test_a_malformed_scheduler_address_is_a_user_error(tmp_path):
    from nlcsim.errors import UserError

    for address in ("notanaddress", "http://127.0.0.1:8799", "127.0.0.1:87x"):
        with pytest.raises(UserError, match="not a scheduler address"):
            sweep(tiny_grid(), tmp_path / "s", scheduler=address, progress=False)


def test_a_whole_number_factor_takes_every_value_of_its_range_equally_often():
    from nlcsim.sweeps.designs import make_design

    exp = load_experiment({"experiment": {"name": "i", "design": "lhs", "samples": 2000, "seed": 2},
                           "factors": [{"key": "population.brokers_per_school", "low": 0, "high": 3}]})
    shares = make_design(exp)["population.brokers_per_school"].value_counts(normalize=True).sort_index()
    assert list(shares.index) == [0, 1, 2, 3] and np.allclose(shares, 0.25, atol=0.01)
    with pytest.raises(ExperimentError, match="only 2 whole numbers from 0 to 1"):
        load_experiment({"experiment": {"name": "g", "design": "grid"},
                         "factors": [{"key": "population.brokers_per_school", "low": 0, "high": 1, "steps": 5}]})


def test_load_results_and_rerun_refuse_what_they_cannot_honour(tmp_path):
    sweep(tiny_grid(replicates=1, every=0), tmp_path / "t", workers=1, progress=False)
    one = load_results(tmp_path / "t", columns="practice_change")
    assert list(one.columns) == ["run_id", "practice_change"] and len(one) == 6
    with pytest.raises(ExperimentError, match="no 'nosuch' in the outcomes table"):
        load_results(tmp_path / "t", columns=["practice_change", "nosuch"])
    for bad in (3.7, "2", True, 6):
        with pytest.raises(ExperimentError, match="must be a whole number from 0 to 5"):
            rerun(tmp_path / "t", bad)


def test_an_experiment_given_from_python_may_hold_numpy_values():
    exp = load_experiment({"experiment": {"name": "g", "design": "grid", "replicates": np.int64(2)},
                           "factors": [{"key": "population.brokers_per_school", "levels": np.arange(3)},
                                       {"key": "trust.initial", "low": np.float32(0.25), "high": 0.75,
                                        "steps": np.int64(3)}]})
    assert exp.replicates == 2 and exp.factors[0].levels == (0, 1, 2) and exp.factors[1].grid_levels() == [0.25, 0.5, 0.75]
    with pytest.raises(ExperimentError, match="not plain data"):
        load_experiment({"experiment": {"name": "g", "design": "grid"},
                         "factors": [{"key": "trust.initial", "levels": [object()]}]})


def test_design_settings_of_another_design_are_refused():
    for key, value in (("levels", 3), ("second_order", False)):
        with pytest.raises(ExperimentError, match=f"experiment.{key}: only a"):
            load_experiment({"experiment": {"name": "g", "design": "grid", key: value},
                             "factors": [{"key": "trust.initial", "levels": [0.2, 0.8]}]})


def test_a_folder_that_is_not_a_results_folder_is_refused_and_left_as_it_was(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("my notes")
    with pytest.raises(ExperimentError, match="not a sweep results folder"):
        sweep(tiny_grid(replicates=1, every=0), folder, workers=1, progress=False)
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_a_scheduler_that_cannot_be_reached_leaves_nothing_that_blocks_a_corrected_experiment(
        tmp_path, monkeypatch, capsys):
    import distributed

    from nlcsim.cli import main

    def unreachable(address, **kwargs):
        raise OSError(f"Timed out trying to connect to {address} after 30 s")

    monkeypatch.setattr(distributed, "Client", unreachable)   # as a real one after its 30 s timeout
    path, out = tmp_path / "exp.toml", tmp_path / "o"
    path.write_text(tomli_w.dumps(tiny_grid(replicates=1, every=0)))
    command = ["sweep", str(path), "--out", str(out), "--no-progress"]
    assert main([*command, "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:1" in capsys.readouterr().err
    corrected = tiny_grid(replicates=1, every=0)
    corrected["factors"][0]["levels"] = [0.3, 0.6]
    path.write_text(tomli_w.dumps(corrected))
    assert main([*command, "--workers", "1", "--resume"]) == 2     # --resume continues; there is nothing to continue
    assert "different experiment" in capsys.readouterr().err
    assert main([*command, "--workers", "1"]) == 0
    assert "with no runs recorded; replacing it with this one" in capsys.readouterr().err
    assert load_manifest(out)["experiment"]["factors"][0]["levels"] == [0.3, 0.6]
    assert sorted(load_results(out)["trust.initial"].unique()) == [0.3, 0.6]
    assert sorted(recorded_run_ids(out)) == list(range(6))


def test_a_session_that_never_ended_is_recorded_as_interrupted_on_the_next_start(tmp_path, capsys):
    import json

    exp = {"experiment": {"name": "k", "design": "grid", "replicates": 2, "seed": 4},
           "factors": [{"key": "a", "levels": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]}]}
    out = tmp_path / "s"
    sweep(exp, out, workers=1, progress=False, model=linear_in_a, chunk_runs=3)
    # as kill -9 leaves it: the last chunk never written, the session never ended
    (out / "outcomes" / "part-001-000003.parquet").unlink()
    manifest = json.loads((out / "manifest.json").read_text())
    started = manifest["sessions"][0]["started"]
    manifest["sessions"][0] = {k: v for k, v in manifest["sessions"][0].items()
                               if k not in ("ran", "failed", "lost_workers", "seconds", "ended")}
    (out / "manifest.json").write_text(json.dumps(manifest))
    summary = sweep(exp, out, workers=1, progress=False, model=linear_in_a, chunk_runs=3)
    assert summary.done_before == 9 and summary.ran == 3 and summary.complete
    assert "session 1" in capsys.readouterr().err
    killed, resumed = load_manifest(out)["sessions"]
    assert killed["started"] == started and killed["ended"] is None      # no end time made up
    assert killed["interrupted"] is True and killed["ran"] == 9 and killed["failed"] == 0
    assert "interrupted" not in resumed and resumed["ended"] and resumed["ran"] == 3
    sweep(exp, out, workers=1, progress=False, model=linear_in_a)   # nothing to do, nothing to mark again
    assert load_manifest(out)["sessions"] == [killed, resumed]


def test_a_count_of_one_is_singular_in_what_a_sweep_and_its_analysis_print(tmp_path):
    import re

    from nlcsim.sweeps import SweepSummary

    one_of_each = SweepSummary(out=tmp_path, experiment="e", design="grid", points=1, replicates=1, runs=2,
                               done_before=1, ran=1, failed=0, failed_total=0, lost_workers=1, seconds=1.0,
                               executor="serial")
    exp = {"experiment": {"name": "c", "design": "grid", "replicates": 1, "seed": 1},
           "factors": [{"key": "a", "levels": [0.1, 0.9]}, {"key": "b", "levels": [0.9]}]}
    sweep(exp, tmp_path / "c", workers=1, progress=False, model=fails_in_a_corner)   # 1 of its 2 runs fails
    analysed = analyze(tmp_path / "c", outcomes=["y"], target="y >= 1", plots=False).text
    text = f"{one_of_each}\n{analysed}"
    assert "1 point x 1 replicate = 2 runs" in text and "this session: 1 run in" in text
    assert "resumed: 1 run already on disk" in text and "1 batch resubmitted" in text
    assert "(2 points x 1 replicate)" in text and "1 ok and 1 failed run analysed" in text
    assert "for 1 outcome in grid_means.csv (1 failed run left out" in text
    assert "PRIM over 1 finished run (1 failed and 0 non-finite runs left out); the target holds in 1 run" in text
    assert not re.search(r"\b1 (runs|replicates|points|samples|levels|outcomes|batches)\b|\((s|es)\)", text)


def test_the_manifest_records_only_the_design_settings_its_design_reads(tmp_path):
    ranged = [{"key": "a", "low": 0.0, "high": 1.0}, {"key": "b", "low": 0.0, "high": 1.0}]
    designs = {"grid": ({}, [{"key": "a", "levels": [0.0, 1.0]}]),
               "list": ({}, [{"key": "a", "levels": [0.0, 1.0]}]),
               "lhs": ({"samples": 8}, ranged), "sobol": ({"samples": 8}, ranged),
               "morris": ({"samples": 4, "levels": 4}, ranged)}
    settings = {"grid": set(), "list": {"points"}, "lhs": {"samples"}, "sobol": {"samples", "second_order"},
                "morris": {"samples", "levels"}}
    for design, (head, factors) in designs.items():
        data = {"experiment": {"name": design, "design": design, **head}, "factors": factors}
        if design == "list":
            data["points"] = [{"a": 0.0}, {"a": 1.0}]
        described = load_experiment(data, custom_model=True).describe()
        assert {"samples", "second_order", "levels", "points"} & set(described) == settings[design], design
    sweep({"experiment": {"name": "g", "design": "grid"}, "factors": [{"key": "a", "levels": [0.0, 1.0]}]},
          tmp_path / "g", workers=1, progress=False, model=linear_in_a)
    assert not {"samples", "second_order", "levels", "points"} & set(load_manifest(tmp_path / "g")["experiment"])


def test_a_folder_whose_manifest_records_every_design_setting_still_resumes_and_analyses(tmp_path):
    """Manifests written before only the settings a design reads were recorded hold them all."""
    import json

    for design, head, factors in (
            ("grid", {"replicates": 2}, [{"key": "a", "levels": [0.0, 1.0, 2.0]}, {"key": "b", "levels": [0.5]}]),
            ("morris", {"samples": 4, "levels": 4}, [{"key": "a", "low": 0.0, "high": 1.0},
                                                     {"key": "b", "low": 0.0, "high": 1.0}])):
        exp = {"experiment": {"name": design, "design": design, "seed": 2, **head}, "factors": factors}
        out = tmp_path / design
        sweep(exp, out, workers=1, progress=False, model=linear_in_a, chunk_runs=2)
        table = load_results(out)
        sorted((out / "outcomes").glob("part-*.parquet"))[-1].unlink()          # an unfinished sweep
        manifest = json.loads((out / "manifest.json").read_text())
        old = {"samples": None, "second_order": True, "levels": 4, "points": None}
        manifest["experiment"] = {**old, **manifest["experiment"]}
        (out / "manifest.json").write_text(json.dumps(manifest))
        summary = sweep(exp, out, workers=1, progress=False, model=linear_in_a, chunk_runs=2)
        assert summary.ran == 2 and summary.complete and summary.failed_total == 0, design
        pd.testing.assert_frame_equal(without_timing(load_results(out)), without_timing(table))
        assert load_manifest(out)["experiment"]["second_order"] is True    # the record on disk is left as it was
        analyze(out, outcomes=["y"], plots=False, resamples=20)


def test_a_heatmap_over_two_of_three_factors_does_not_count_the_third_factors_levels_as_replicates():
    from nlcsim.sweeps.analysis import grid_cells, marginal_cells

    rng = np.random.default_rng(0)
    table = pd.DataFrame([{"a": a, "b": b, "c": c, "status": "ok", "y": a + b + c + rng.normal(0, 0.1)}
                          for a in (0, 1) for b in (0, 1) for c in (0, 10) for _ in range(5)])
    pooled = grid_cells(table, ["a", "b"], "y")
    cells = marginal_cells(grid_cells(table, ["a", "b", "c"], "y"), ["a", "b"])
    assert np.allclose(cells["mean"], pooled["mean"])  # equal replicates: the same means
    # the spread between c = 0 and c = 10 is not noise: pooled runs give a half-width near 4, the points' errors 0.06
    assert (pooled["half_width"] > 3).all() and (cells["half_width"] < 0.2).all()
    one_failed = table.assign(status=np.where((table["a"] == 0) & (table["b"] == 0) & (table["c"] == 10), "failed", "ok"))
    gap = marginal_cells(grid_cells(one_failed, ["a", "b", "c"], "y"), ["a", "b"])
    assert np.isnan(gap["mean"].iloc[0]) and np.isfinite(gap["mean"].iloc[1:]).all()


def test_a_folder_takes_one_runner_at_a_time_and_is_free_again_after(tmp_path):
    from nlcsim.errors import UserError
    from nlcsim.sweeps.store import ResultsStore

    with ResultsStore(tmp_path / "r").lock():
        with pytest.raises(UserError, match="another sweep is writing to this folder right now"):
            with ResultsStore(tmp_path / "r").lock():
                pass
    with ResultsStore(tmp_path / "r").lock():  # released when the first runner let go
        pass


def test_without_flock_the_folder_is_locked_as_on_windows(tmp_path, monkeypatch):
    import types

    from nlcsim.errors import UserError
    from nlcsim.sweeps.store import ResultsStore

    def locking(fd, mode, nbytes):  # msvcrt.locking's contract: OSError when another handle holds the bytes
        key = os.fstat(fd).st_ino
        if mode == fake.LK_UNLCK:
            held.discard(key)
        elif key in held:
            raise OSError("locked")
        else:
            held.add(key)
            taken.append(key)

    held, taken = set(), []
    fake = types.SimpleNamespace(LK_NBLCK=2, LK_UNLCK=0, locking=locking)
    monkeypatch.setitem(sys.modules, "fcntl", None)  # import fcntl now fails, as on Windows
    monkeypatch.setitem(sys.modules, "msvcrt", fake)
    with ResultsStore(tmp_path / "r").lock():
        with pytest.raises(UserError, match="another sweep is writing"):
            with ResultsStore(tmp_path / "r").lock():
                pass
    assert taken and not held  # taken through msvcrt, and released
    with ResultsStore(tmp_path / "r").lock():
        pass
