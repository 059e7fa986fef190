"""Which model made a result: a digest of the source that decides what a run computes.

The package version names a release; while the code is worked on (an editable
install) it stays the same as the model changes.  :func:`model_source` digests
the files that decide a run's numbers (the model's modules, its mechanisms and
the presets), so results made by two different models can be told apart: it
is recorded beside results, a sweep refuses to resume with another model, and
a sweep's worker refuses to run one.
"""

from __future__ import annotations

import functools
import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
MODEL_FILES = ("agents.py", "draws.py", "jit.py", "measures.py", "model.py", "population.py", "run.py", "scenario.py",
               "state.py", "mechanisms/*.py", "data/scenarios/*.toml")


@functools.cache
def model_source() -> str:
    """SHA-256 (first 16 hex digits) of the model's files, each with its path, in a fixed order."""
    digest = hashlib.sha256()
    for pattern in MODEL_FILES:
        for path in sorted(ROOT.glob(pattern)):
            digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def package_versions() -> dict[str, str]:
    """nlcsim's version, Python's and those of the libraries that touch results (installed ones only)."""
    from importlib.metadata import PackageNotFoundError, version

    from . import __version__

    out = {"nlcsim": __version__, "python": sys.version.split()[0]}
    for dist in ("numpy", "numba", "scipy", "pandas", "pyarrow", "SALib", "mesa", "dask", "distributed"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            pass
    return out
