"""An installed package carries the presets and the pattern definitions, so that
`nlcsim run baseline` and `nlcsim validate` work outside the repository.

The package is built with setuptools' own build step (the one a wheel is made
from) into a temporary folder, and used from there.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_built_package_carries_every_preset_and_pattern_and_uses_them(tmp_path):
    build, meta = tmp_path / "lib", tmp_path / "meta"
    meta.mkdir()
    # A fresh file list (egg_info into the temporary folder), so nothing left from an earlier build counts.
    subprocess.run([sys.executable, "-c", "from setuptools import setup; setup()", "-q",
                    "egg_info", "-e", str(meta), "build_py", "-d", str(build)],
                   cwd=ROOT, check=True, capture_output=True)
    for data, source in (("scenarios", ROOT / "scenarios"), ("patterns", ROOT / "experiments" / "patterns")):
        wanted = sorted(p.name for p in source.glob("*.toml"))
        assert wanted
        shipped = build / "nlcsim" / "data" / data
        assert not shipped.is_symlink()  # copies, not a link back into the checkout
        assert sorted(p.name for p in shipped.glob("*.toml")) == wanted
        for name in wanted:
            assert (shipped / name).read_bytes() == (source / name).read_bytes()
    code = ("import nlcsim, nlcsim.reports.validate as v; "
            "print(nlcsim.__file__); print(nlcsim.Scenario.load('england').population.networks); "
            "print(len(v.pattern_files()))")
    env = {**os.environ, "PYTHONPATH": str(build)}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    assert out[0].startswith(str(build))
    assert int(out[1]) > 100
    assert int(out[2]) == len(list((ROOT / "experiments" / "patterns").glob("*.toml")))


def test_presets_resolve_to_the_repository_files_in_a_checkout():
    from nlcsim.reports.validate import PATTERN_DIR
    from nlcsim.scenario import PRESET_DIR

    assert PRESET_DIR == (ROOT / "scenarios").resolve()
    assert PATTERN_DIR == (ROOT / "experiments" / "patterns").resolve()
