"""Measurements behind the performance report (``python benchmarks/run.py``).

Each function measures one thing and returns plain numbers:

* :func:`time_run` - set-up and stepping time of the full model (every
  mechanism on, as the scenario says);
* :func:`time_virus_on_network` - Mesa's own per-agent network model,
  ``mesa.examples.basic.virus_on_network``, at a given size and mean degree;
* :func:`sparse_floor` - the array floor: one diffusion step (a
  ``scipy.sparse`` matrix-vector product and an elementwise update) over the
  model's own teacher graph;
* :func:`phase_times` - where a step's time goes, phase by phase: every call
  that ``NLCModel.step`` makes to a mechanism or to the measurements is timed.

Timings are wall-clock (``time.perf_counter``); where a figure is repeated,
the best repeat is kept, because on a shared machine the noise only ever adds.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import inspect
import os
import platform
import statistics
import subprocess
import sys
import textwrap
import time
from collections import defaultdict
from pathlib import Path
from types import ModuleType
from unittest import mock

import numpy as np
import scipy.sparse as sparse

from nlcsim import NLCModel, Scenario
from nlcsim import model as model_module
from nlcsim.draws import BLOCK
from nlcsim.jit import njit, thread_count
from nlcsim.state import BIT_COUNT, GATHER, above, know_words  # the exchange's comparison, as the model makes it
from nlcsim.provenance import model_source, package_versions

REPO = Path(__file__).resolve().parent.parent


# -- the machine ---------------------------------------------------------------
def machine() -> dict:
    """CPU model, cores, memory and the versions that matter for speed."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = int(line.split()[1]) * 1024
    try:
        import psutil
        physical = psutil.cpu_count(logical=False)
        ram = ram or psutil.virtual_memory().total
    except ImportError:
        physical = None
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or None
    return {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "physical_cores": physical,
        "usable_cores": usable,
        "model_threads": thread_count(),
        "ram_gib": round(ram / 2**30, 1) if ram else None,
        "os": f"{platform.system()} {platform.release()}",
        **package_versions(),  # nlcsim, python, numpy, scipy, mesa ...
        "model_source": model_source(),
        "commit": commit,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


# -- the full model ------------------------------------------------------------------
def mean_degree(model: NLCModel) -> float:
    """Mean number of ties per teacher alive."""
    st = model.state
    return float((st.nbr[st.alive] >= 0).sum()) / max(int(st.alive.sum()), 1)


def time_run(scenario: Scenario, seed: int = 1, weeks: int | None = None, repeats: int = 1,
             series: bool = True) -> dict:
    """Set-up and stepping time of one run: the best of ``repeats`` runs of the same
    scenario and seed (the same work each time, so the runs differ only by the
    machine's noise), with every run's total time (``runs_s``) and their median.

    ``series=False``: an outcomes-only run, as an end-of-run sweep makes it
    (``nlcsim.run(..., series=False)``).
    """
    from nlcsim.measures import outcome_weeks

    weeks = scenario.weeks if weeks is None else weeks
    observe = None if series else outcome_weeks(scenario, weeks)
    best, runs = None, []
    for _ in range(repeats):
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        model = NLCModel(scenario, seed=seed, observe=observe)
        built = time.perf_counter()
        teachers, degree = int(model.state.alive.sum()), mean_degree(model)
        for _ in range(weeks):
            model.step()
        done = time.perf_counter()
        got = {"setup_s": built - start, "steps_s": done - built, "total_s": done - start,
               "cpu_s": time.process_time() - cpu, "weeks": weeks, "teachers": teachers, "mean_degree": degree}
        model.release()  # no finished model stays alive to weigh on the next timing
        runs.append(got["total_s"])
        if best is None or got["total_s"] < best["total_s"]:
            best = got
    best["runs_s"] = runs
    best["median_total_s"] = statistics.median(runs)
    best["step_ms"] = 1e3 * best["steps_s"] / weeks
    best["agent_step_us"] = 1e6 * best["steps_s"] / (weeks * best["teachers"])
    return best


# -- Mesa's per-agent network model -----------------------------------------------------
def time_virus_on_network(agents: int, degree: float, steps: int = 50, seed: int = 1, repeats: int = 3) -> dict:
    """Mesa's ``virus_on_network`` at the same size and mean degree (its other defaults), once per seed.

    Only its steps are timed.  The model draws its Erdos-Renyi graph without
    a seed (from the process's global random state), and how much work a
    step is depends on that graph: whether the one-node outbreak (the
    model's default) dies out at once or spreads.  So the graph is drawn
    here with ``fast_gnp_random_graph(n, p, seed)`` (the same distribution,
    in linear time), seeds ``seed`` .. ``seed + repeats - 1`` (the model's
    own seed is the same), and the figure is the median over the seeds, with
    the fastest and slowest beside it and the number infected after the last
    step of each run.
    """
    import functools

    import networkx as nx
    from mesa.examples.basic.virus_on_network.model import VirusOnNetwork, number_infected

    runs = []
    for r in range(repeats):
        with mock.patch.object(nx, "erdos_renyi_graph", functools.partial(_seeded_gnp, seed=seed + r)):
            model = VirusOnNetwork(num_nodes=agents, avg_node_degree=degree, seed=seed + r)
        gc.collect()
        start = time.perf_counter()
        for _ in range(steps):
            model.step()
        seconds = time.perf_counter() - start
        runs.append({"seed": seed + r, "agent_step_us": 1e6 * seconds / (steps * agents),
                     "infected_at_end": int(number_infected(model))})
        _release_mesa_model(model)
    per = sorted(r["agent_step_us"] for r in runs)
    return {"agents": agents, "mean_degree": degree, "steps": steps, "runs": runs,
            "agent_step_us": float(np.median(per)), "fastest_us": per[0], "slowest_us": per[-1],
            "infected_at_end_median": float(np.median([r["infected_at_end"] for r in runs]))}


def _seeded_gnp(n, p, seed, **_):
    import networkx as nx

    return nx.fast_gnp_random_graph(n, p, seed=seed)


def _release_mesa_model(model) -> None:
    """Mesa 3.3.1 keeps every model alive in ``Agent._ids`` (mesa issue 3179): let this one go."""
    import mesa

    mesa.Agent._ids.pop(model, None)


# -- the array floor ---------------------------------------------------------------------
def teacher_graph(model: NLCModel) -> sparse.csr_matrix:
    """The teacher graph as a CSR matrix with trust as weights (from ``state.nbr``)."""
    st = model.state
    rows, slots = np.nonzero(st.nbr >= 0)
    cols = st.nbr[rows, slots]
    return sparse.csr_matrix((st.trust[rows, slots], (rows, cols)), shape=(st.rows, st.rows))


def sparse_floor(model: NLCModel, min_seconds: float = 0.5, repeats: int = 3) -> dict:
    """Time of one bare diffusion step over the model's graph.

    practice <- practice + 0.05 x (trust-weighted mean of neighbours' practice - practice):
    one sparse matrix-vector product and one elementwise update.
    """
    graph = teacher_graph(model)
    inverse_strength = 1.0 / np.maximum(np.asarray(graph.sum(axis=1)).ravel(), 1e-12)
    practice = model.state.practice.copy()

    def step() -> None:
        pulled = graph @ practice
        practice[:] += 0.05 * (pulled * inverse_strength - practice)

    start = time.perf_counter()
    n = 0
    while time.perf_counter() - start < 0.05:
        step()
        n += 1
    best = None
    for _ in range(repeats):
        start = time.perf_counter()
        loops = max(1, int(n * min_seconds / 0.05 / repeats))
        for _ in range(loops):
            step()
        per = (time.perf_counter() - start) / loops
        best = per if best is None else min(best, per)
    return {"nodes": int(model.state.alive.sum()), "edges": int(graph.nnz), "step_ms": 1e3 * best}


# -- what bounds a step -------------------------------------------------------------------------
def call_cost(size: int, seconds: float = 0.2) -> dict:
    """The fixed cost of one call on arrays of ``size`` elements (best of three timings).

    ``add``: NumPy's elementwise sum into a preallocated array; ``gather``: a
    NumPy read by an index array of the same length; ``compiled``: a call of a
    compiled function (numba, as the model's phases are) that takes 20 such
    arrays and reads one value, which is what calling a compiled phase costs
    before it does any work.
    """
    rng = np.random.default_rng(1)
    a, b, out = rng.random(size), rng.random(size), np.empty(size)
    index = rng.integers(0, size, size)
    arrays = [rng.random(size) for _ in range(20)]
    _twenty_arrays(*arrays)  # compiled before it is timed
    cases = {"add": lambda: np.add(a, b, out=out), "gather": lambda: a[index],
             "compiled": lambda: _twenty_arrays(*arrays)}
    got = {}
    for name, call in cases.items():
        loops = max(1000, int(seconds / 3 / 1e-6))
        best = None
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(loops):
                call()
            per = (time.perf_counter() - start) / loops
            best = per if best is None else min(best, per)
        got[f"{name}_us"] = 1e6 * best
    return {"size": size, **got}


@njit
def _twenty_arrays(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18, a19):
    return a0[0]


@njit
def _read_rows(words, src, dst):
    """Every word of both partners' rows, read (XORed together, so nothing is skipped)."""
    seen = np.uint64(0)
    for e in range(src.size):
        for w in range(words.shape[1]):
            seen ^= words[src[e], w] ^ words[dst[e], w]
    return seen


@njit
def _count_better(words, src, dst):
    """The model's comparison of the two rows, eight items a word, counting the items the
    source knows better without listing them (``knowledge._draw_better_known``'s test)."""
    count = 0
    for e in range(src.size):
        for w in range(words.shape[1]):
            mask = above(words[src[e], w], words[dst[e], w])
            count += BIT_COUNT[((mask >> np.uint64(7)) * GATHER) >> np.uint64(56)]
    return count


def exchange_search(scenario: Scenario, seed: int = 1, week: int | None = None, repeats: int = 5) -> dict:
    """One week's knowledge exchange, its draw of what is passed on, taken apart, at
    ``week`` (mid-run by default).

    The exchanges are both directions of each interaction of the week before
    that did not end in conflict, as the model builds them.  Timed: the
    model's own draw (``knowledge._draw_better_known``: compare the partners'
    rows of the teacher x item knowledge matrix, list the items the source
    knows better with their weights, draw one by weight); the comparison
    alone, counting the candidates without listing them; and reading the two
    rows alone, which any rule that looks at the items must do.
    """
    from nlcsim.mechanisms import knowledge

    week = scenario.weeks // 2 if week is None else week
    model = NLCModel(scenario, seed=seed)
    for _ in range(week):
        model.step()
    st, inter = model.state, model.interactions
    src, dst, _ = knowledge._exchanges(inter.i, inter.j, inter.conflict)
    words = know_words(st.know)
    local_w, public_w = knowledge.item_weights(model)
    draw = np.random.default_rng(seed).random(src.size)

    def whole() -> int:
        knowledge._draw_better_known(st.know, words, local_w, public_w, st.network, src, dst, draw,
                                     BLOCK)
        return 0

    def best_ms(call):  # the best of ``repeats`` timings, in ms, and what the call gave
        call()  # compiled before it is timed
        best = None
        for _ in range(repeats):
            start = time.perf_counter()
            answer = call()
            took = time.perf_counter() - start
            best = took if best is None else min(best, took)
        return 1e3 * best, answer

    read_ms, _ = best_ms(lambda: _read_rows(words, src, dst))
    search_ms, candidates = best_ms(lambda: _count_better(words, src, dst))
    draw_ms, _ = best_ms(whole)
    model.release()
    return {"week": week, "exchanges": int(src.size), "items": int(st.know.shape[1]), "candidates": int(candidates),
            "bytes_read": int(2 * src.size * st.know.shape[1] * st.know.itemsize), "read_ms": read_ms,
            "search_ms": search_ms, "draw_ms": draw_ms}


# -- phase by phase ----------------------------------------------------------------------------
def step_calls() -> list[tuple[object, str]]:
    """The calls ``NLCModel.step`` makes: (module or class, function name), in source order.

    Read from the source of ``step`` so that the list follows the model as it
    changes: ``module.function(...)`` for the mechanism and measurement
    modules, ``self._method(...)`` for the model's own bookkeeping.
    """
    tree = ast.parse(textwrap.dedent(inspect.getsource(NLCModel.step)))
    calls, seen = [], set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)):
            continue
        owner, name = node.func.value.id, node.func.attr
        if owner == "self" and callable(getattr(NLCModel, name, None)):
            target = NLCModel
        else:
            target = getattr(model_module, owner, None)
            if not (isinstance(target, ModuleType) and target.__name__.startswith("nlcsim")):
                continue
        if (target, name) not in seen:
            seen.add((target, name))
            calls.append((node.lineno, target, name))
    return [(t, n) for _, t, n in sorted(calls, key=lambda c: c[0])]


def phase_name(target: object, name: str) -> str:
    if target is NLCModel:
        return f"model.{name}"
    return f"{target.__name__.removeprefix('nlcsim.').removeprefix('mechanisms.')}.{name}"


@contextlib.contextmanager
def timed_phases(clock=time.perf_counter):
    """Wrap every call of ``step`` in a timer; yields {phase: [seconds, calls]}.

    Times are exclusive: a timed phase called inside another counts only once.
    ``clock`` may be ``time.process_time`` for CPU time (steadier on a busy machine).
    """
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    stack: list[float] = []  # time spent in nested timed phases, per open phase
    originals = []

    def wrap(label, func):
        def timed(*args, **kwargs):
            stack.append(0.0)
            start = clock()
            try:
                return func(*args, **kwargs)
            finally:
                spent = clock() - start
                nested = stack.pop()
                totals[label][0] += spent - nested
                totals[label][1] += 1
                if stack:
                    stack[-1] += spent
        return timed

    for target, name in step_calls():
        originals.append((target, name, target.__dict__.get(name)))
        setattr(target, name, wrap(phase_name(target, name), getattr(target, name)))
    try:
        yield totals
    finally:
        for target, name, original in reversed(originals):
            if original is None:
                delattr(target, name)
            else:
                setattr(target, name, original)


def phase_times(scenario: Scenario, seed: int = 1, weeks: int | None = None, clock=time.perf_counter) -> dict:
    """Seconds per phase over one run's steps, with the untimed rest of ``step``."""
    weeks = scenario.weeks if weeks is None else weeks
    gc.collect()
    model = NLCModel(scenario, seed=seed)
    with timed_phases(clock) as totals:
        start = clock()
        for _ in range(weeks):
            model.step()
        total = clock() - start
    model.release()
    phases = [{"phase": k, "calls": int(v[1]), "seconds": v[0]} for k, v in totals.items()]
    phases.sort(key=lambda p: -p["seconds"])
    rest = total - sum(p["seconds"] for p in phases)
    phases.append({"phase": "rest of step (Mesa step wrapper, branching)", "calls": weeks, "seconds": max(rest, 0.0)})
    for p in phases:
        p["share"] = p["seconds"] / total
        p["ms_per_step"] = 1e3 * p["seconds"] / weeks
    return {"weeks": weeks, "steps_s": total, "phases": phases}


def peak_rss_bytes() -> int:
    """Peak resident set size of this process since start (or since :func:`reset_peak_rss`).

    On Linux, VmHWM of /proc/self/status: unlike ``getrusage``'s maxrss it
    is not inherited from the parent across fork and exec.
    """
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def rss_bytes() -> int:
    """Resident set size of this process now."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return peak_rss_bytes()


def reset_peak_rss() -> bool:
    """Start measuring the peak afresh from the present size (Linux: clear_refs 5); False if not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False
