"""The compiled loops' cache: one folder per source of the modules that hold them.

numba checks a cached loop against its own file only, while a loop carries the
code of the loops it calls from other modules; a folder named after a digest
of every such module keeps an edit in one module from leaving stale machine
code in another.
"""

import os
import time

import numpy as np

from nlcsim import jit


def test_the_cache_folder_is_named_after_the_source_and_old_folders_go(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    old, recent = tmp_path / "numba-0000000000000000", tmp_path / "numba-1111111111111111"
    for folder in (old, recent):
        folder.mkdir()
        (folder / "loop.nbi").write_bytes(b"x")
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    here = jit.cache_dir()
    assert here == tmp_path / f"numba-{jit.source_digest()}"
    assert not old.exists() and recent.exists()  # unused for more than a day: removed; the other kept


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
