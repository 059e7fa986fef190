"""The performance report's script runs end to end (``--smoke``: every
measurement at its smallest; the figures are not checked, timings belong to
the benchmark itself)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_benchmark_script_writes_every_section(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke", "--out", str(tmp_path)],
                   check=True, capture_output=True, text=True, timeout=300)
    report = (tmp_path / "performance.md").read_text()
    for heading in ("## Summary against the targets", "## 1. Against Mesa's per-agent network model",
                    "## 2. Against the array floor", "## 3. England at 1x, 2x and 4x the population",
                    "## 4. Where the time goes: baseline", "## 4. Where the time goes: england",
                    "## 5. What bounds a step"):
        assert heading in report
    assert "--smoke" in report.splitlines()[2]
    res = json.loads((tmp_path / "performance.json").read_text())
    assert [r["scale"] for r in res["england"]] == [1, 2, 4]
    assert res["bounds"]["exchange_candidates"] > 0 and res["bounds"]["exchange_exchanges"] > 0
    assert res["bounds"]["exchange_read_ms"] > 0 and res["bounds"]["exchange_bytes_read"] > 0
    assert 0 < res["bounds"]["few_teachers"] < 20 and res["bounds"]["few_step_ms"] > 0
    assert "a network of two schools and" in report


def test_smoke_figures_never_overwrite_the_published_results():
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--out" in done.stderr


def test_versus_runs_an_earlier_version_beside_the_working_one(tmp_path):
    """``benchmarks/versus.py`` against this checkout's own commit: the two run in turn and
    give the same results (the working tree is that commit, as in a fresh clone)."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "versus.py"), "HEAD", "--weeks", "4",
                           "--pairs", "2"], capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "2 pairs of runs in turn" in done.stdout and "median of the pairs' ratios" in done.stdout
    package_as_committed = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "nlcsim"], cwd=ROOT).returncode == 0
    if package_as_committed:
        assert "the same weekly time series to the bit" in done.stdout
    else:  # a model being changed: either answer can be right
        assert "results: the" in done.stdout
    assert any((tmp_path / "nlcsim" / "versions").glob("*/nlcsim_*/__init__.py"))

    # One function, timed where the model calls it, with the copy just made (compiled loops cached with it).
    kernel = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "versus.py"), "HEAD", "--weeks", "6",
                             "--from-week", "2", "--pairs", "2", "--kernel", "mechanisms.knowledge._joint_work"],
                            capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert kernel.returncode == 0, kernel.stderr
    assert "mechanisms.knowledge._joint_work, baseline" in kernel.stdout and "4 calls in weeks 2-5" in kernel.stdout
    assert "median of the pairs' ratios" in kernel.stdout
    if package_as_committed:
        assert "the same weekly time series to the bit" in kernel.stdout
    for wrong, says in ((["--kernel", "mechanisms.knowledge._no_such_loop"], "no function '_no_such_loop'"),
                        (["--kernel", "mechanisms.knowledge._joint_work", "--from-week", "9"], "was not called")):
        done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "versus.py"), "HEAD", "--weeks", "6",
                               "--pairs", "1", *wrong], capture_output=True, text=True, timeout=600, env=env,
                              cwd=ROOT)
        assert done.returncode != 0 and says in done.stderr, done.stderr


def test_versus_names_a_revision_it_cannot_find(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "versus.py"), "no-such-revision"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={**os.environ, "XDG_CACHE_HOME": str(tmp_path)})
    assert done.returncode != 0 and "'no-such-revision' is not a commit" in done.stderr
