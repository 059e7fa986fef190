"""The compiled loops' cache: one folder per source of the modules that hold them.

numba checks a cached loop against its own file only, while a loop carries the
code of the loops it calls from other modules; a folder named after a digest
of every such module keeps an edit in one module from leaving stale machine
code in another.
"""

import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from nlcsim import jit
from nlcsim.errors import UserError
from nlcsim.provenance import MODEL_FILES, ROOT, model_source


def test_the_cache_folder_is_named_after_the_source_and_old_folders_go(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    old, recent = tmp_path / "numba-0000000000000000", tmp_path / "numba-1111111111111111"
    for folder in (old, recent):
        folder.mkdir()
        (folder / "loop.nbi").write_bytes(b"x")
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    here = jit.cache_dir()
    assert here == tmp_path / f"numba-{model_source()}"
    assert not old.exists() and recent.exists()  # unused for more than a day: removed; the other kept


def test_every_module_with_compiled_loops_is_in_the_digest():
    import numba

    import nlcsim.model  # noqa: F401  (every mechanism, and so every compiled loop)

    digested = {p.resolve() for pattern in MODEL_FILES for p in ROOT.glob(pattern)}
    holding = {Path(module.__file__).resolve() for name, module in list(sys.modules.items())
               if name.startswith("nlcsim") and any(isinstance(v, numba.core.registry.CPUDispatcher)
                                                    for v in vars(module).values())}
    assert holding and holding <= digested


def test_the_model_loops_cache_in_that_folder():
    from nlcsim.mechanisms import knowledge

    assert knowledge._draw_better_known._cache._cache_path.startswith(jit.CACHE_DIR)


def test_pairwise_sum_is_numpys_sum_to_the_bit():
    rng = np.random.default_rng(3)
    for n in (0, 1, 7, 8, 9, 127, 128, 129, 1000, 1025, 4097):
        values = rng.random(n) * 10.0 ** rng.uniform(-3, 3, n)
        assert jit.pairwise_sum(values, 0, n) == values.sum()
        rows = values[: n - n % 4].reshape(4, -1) if n >= 4 else values.reshape(1, -1)
        for row, total in zip(rows, rows.sum(axis=1)):
            assert jit.pairwise_sum(np.ascontiguousarray(row), 0, row.size) == total


def test_a_sum_of_listed_values_is_the_whole_rows_sum_to_the_bit():
    rng = np.random.default_rng(4)
    for n in (0, 1, 7, 8, 9, 127, 128, 129, 200, 280, 513, 1000, 4097):
        plan = jit.sum_plan(n)
        lanes, node = np.empty((plan[2].size, 8)), np.empty(plan[2].size + plan[3].size)
        for listed in sorted({0, min(1, n), n // 10, n // 2, n}):
            cols = np.sort(rng.permutation(n)[:listed]).astype(np.int64)
            row = np.zeros(n)
            row[cols] = rng.normal(0, 1, listed) * 10.0 ** rng.uniform(-4, 4, listed)
            assert jit.sum_listed(cols, row[cols], listed, plan, lanes, node) == row.sum()


def test_practice_targets_are_the_array_formula_to_the_bit():
    """The strength and quality of ``_strength``, read from the deep items alone, are the
    sums over whole rows (levels 0-3, widths in whole words and not)."""
    from nlcsim.mechanisms import practice
    from nlcsim.state import know_words

    rng = np.random.default_rng(5)
    for slots, public in ((24, 16), (24, 13), (64, 216), (5, 2)):
        width = slots + public
        know = rng.choice(4, size=(60, width), p=[0.6, 0.2, 0.15, 0.05]).astype(np.int8)
        network = rng.integers(0, 3, 60).astype(np.int32)
        relevance, effect = rng.random((3, slots)), rng.normal(0.1, 0.2, (3, slots))
        pub_relevance, pub_effect = rng.random(public), rng.normal(0.1, 0.2, public)
        rows = np.arange(0, 60, 2)
        quality = np.zeros(60)
        got = practice._strength(rows, know, know_words(know), network, relevance, pub_relevance, effect, pub_effect,
                                 quality, jit.sum_plan(width))
        wr = practice.DEPTH_WEIGHT[know[rows]] * np.hstack([relevance[network[rows]],
                                                            np.broadcast_to(pub_relevance, (rows.size, public))])
        we = wr * np.hstack([effect[network[rows]], np.broadcast_to(pub_effect, (rows.size, public))])
        strength = wr.sum(axis=1)
        assert np.array_equal(got, strength)
        assert np.array_equal(quality[rows], np.where(strength > 0, we.sum(axis=1) / np.maximum(strength, 1e-12), 0.0))


def test_in_parts_cuts_on_whole_blocks_and_keeps_the_order(monkeypatch):
    monkeypatch.setenv("NLCSIM_THREADS", "3")
    seen = []

    def work(start, stop):
        seen.append((start, stop))
        return np.arange(start, stop)

    parts = jit.in_parts(work, 10_000, block=1024, least=4096)
    assert len(parts) == 3
    assert np.array_equal(np.concatenate(parts), np.arange(10_000))
    assert all(start % 1024 == 0 for start, _ in seen)
    assert jit.in_parts(work, 4095, block=1024, least=4096)[0].size == 4095  # too small: one part, here
    assert len(jit.in_parts(work, 5000, block=4096, least=10)) == 2  # never more parts than blocks
    monkeypatch.setenv("NLCSIM_THREADS", "64")
    assert len(jit.in_parts(work, 10_000, least=4096)) == 4  # no part under least // 2 items
    monkeypatch.setenv("NLCSIM_THREADS", "3")
    with jit.threads_at_most(1):
        assert len(jit.in_parts(work, 10_000, block=1024, least=4096)) == 1


def test_the_thread_count_comes_from_nlcsim_threads_or_the_cpus(monkeypatch):
    monkeypatch.setenv("NLCSIM_THREADS", "5")
    assert jit.thread_count() == 5
    with jit.threads_at_most(2):
        assert jit.thread_count() == 2
    assert jit.thread_count() == 5
    monkeypatch.delenv("NLCSIM_THREADS")
    assert jit.thread_count() >= 1
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("NLCSIM_THREADS", bad)
        with pytest.raises(UserError, match="NLCSIM_THREADS"):
            jit.thread_count()


def test_a_sweeps_runs_use_one_thread_each(monkeypatch):
    from nlcsim.sweeps import models

    seen = []

    class Probe:
        def run(self, overrides, seed):
            seen.append(jit.thread_count())
            return {}, None

    monkeypatch.setenv("NLCSIM_THREADS", "4")
    models.run_batch(Probe(), 1, [(0, 0, 0, {}), (1, 0, 1, {})])
    assert seen == [1, 1]


def test_a_thread_limit_holds_in_its_own_thread_only(monkeypatch):
    import threading

    monkeypatch.setenv("NLCSIM_THREADS", "4")
    seen = {}

    def worker():
        jit.limit_threads(1)  # as the initializer of processes that run models side by side does
        seen["worker"] = jit.thread_count()

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen["worker"] == 1 and jit.thread_count() == 4
