"""nlcsim: how knowledge is created and spread in Networked Learning Communities.

>>> import nlcsim
>>> result = nlcsim.run("baseline", seed=1, weeks=5)
>>> "practice_change" in result.timeseries.columns
True
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nlcsim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

from .agents import Leader, Network, School, Teacher
from .measures import COLUMNS, OUTCOMES
from .model import NLCModel
from .run import RunResult, replicate_seeds, run
from .scenario import PARAMS, Scenario, ScenarioError, presets

# Layers above the model, imported on first use so `import nlcsim` stays light.
_LAZY = {
    "sweep": "nlcsim.sweeps", "load_results": "nlcsim.sweeps", "analyze": "nlcsim.sweeps",
    "compare": "nlcsim.reports.compare",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nlcsim' has no attribute {name!r}")


__all__ = [
    "COLUMNS", "Leader", "NLCModel", "Network", "OUTCOMES", "PARAMS", "RunResult", "Scenario",
    "ScenarioError", "School", "Teacher", "__version__", "analyze", "compare", "load_results", "presets",
    "replicate_seeds", "run", "sweep",
]
