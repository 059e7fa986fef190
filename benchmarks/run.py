"""Performance of nlcsim, side by side in one run.

    python benchmarks/run.py            # the full report (a few minutes)
    python benchmarks/run.py --quick    # fewer repeats, England scaling over one year

Reports, for the baseline with every mechanism on:

1. time per agent-step of the full model against Mesa's own per-agent network
   model ``mesa.examples.basic.virus_on_network`` at the same number of agents
   and mean degree;
2. time per step of the full model against the array floor, one bare
   ``scipy.sparse`` diffusion step over the same teacher graph;
3. the ``england`` preset: wall time and peak memory of one run, set-up and
   steps apart, at 1x, 2x and 4x the population (each in its own process, so
   that peak memory is that run's alone);
4. where a step's time goes, phase by phase;
5. what bounds a step: the fixed cost of a call (NumPy's and a compiled
   phase's) at the baseline's size, a step's cost whatever the population
   (a network of a few teachers), and England's knowledge-exchange draw
   taken apart.

Writes benchmarks/results/performance.md and performance.json, with the
machine's description, the seed and the package version.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import timing  # noqa: E402  (a sibling module: benchmarks/ is a folder of scripts)
from nlcsim import NLCModel, Scenario, jit  # noqa: E402

RESULTS = HERE / "results"
SEED = 1
SCALES = (1, 2, 4)
TARGETS = {
    "vs_virus_on_network": 20.0,      # at least this many times faster per agent-step
    "vs_sparse_floor": 10.0,          # at most this many times the floor per step
    "england_wall_s": 10.0,
    "england_peak_gib": 2.0,
    "baseline_run_s": 0.1,
}


# -- England in a fresh process ------------------------------------------------------
def child(cmd: list[str]) -> dict:
    """Run this script as a child process; its result is the JSON on its last line of output."""
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def england_child(scale: int, weeks: int | None) -> dict:
    """One England run at ``scale`` x the networks; memory of this process, set-up and steps apart."""
    sc = Scenario.load("england")
    sc = Scenario.load(sc, overrides={"population.networks": sc.population.networks * scale})
    weeks = sc.weeks if weeks is None else weeks
    imports = timing.rss_bytes()
    timing.reset_peak_rss()
    start, cpu = time.perf_counter(), time.process_time()
    model = NLCModel(sc, seed=SEED)
    built, built_cpu = time.perf_counter(), time.process_time()
    setup_peak = timing.peak_rss_bytes()
    degree = timing.mean_degree(model)  # at the start, as for the other comparisons
    for _ in range(weeks):
        model.step()
    done, done_cpu = time.perf_counter(), time.process_time()
    return {
        "scale": scale, "networks": sc.population.networks, "schools": int(model.state.school_alive.sum()),
        "teachers": int(model.state.alive.sum()), "mean_degree": degree, "weeks": weeks,
        "setup_s": built - start, "steps_s": done - built, "wall_s": done - start, "cpu_s": done_cpu - cpu,
        "setup_cpu_s": built_cpu - cpu, "steps_cpu_s": done_cpu - built_cpu,
        "imports_mib": imports / 2**20, "setup_peak_mib": setup_peak / 2**20,
        "peak_mib": timing.peak_rss_bytes() / 2**20,
    }


def england_scaling(weeks: int | None, repeats: int) -> list[dict]:
    """Each scale ``repeats`` times, each run in a fresh process, in rounds (every scale
    once, then every scale again), so that a slow spell of the machine falls on the
    scales alike rather than on one; the run of each scale with the least wall time is
    kept."""
    runs: dict[int, list] = {scale: [] for scale in SCALES}
    for _ in range(repeats):
        for scale in SCALES:
            cmd = [sys.executable, str(Path(__file__).resolve()), "--child-england", str(scale)]
            if weeks is not None:
                cmd += ["--weeks", str(weeks)]
            runs[scale].append(child(cmd))
    rows = []
    for scale in SCALES:
        best = min(runs[scale], key=lambda r: r["wall_s"])
        best["walls_s"] = [r["wall_s"] for r in runs[scale]]
        rows.append(best)
        print(f"  england x{scale}: {best['wall_s']:.1f} s (runs: {', '.join(f'{w:.1f}' for w in best['walls_s'])}), "
              f"peak {best['peak_mib']:.0f} MiB", flush=True)
    one = rows[0]
    for r in rows:
        r["wall_vs_1x"] = r["wall_s"] / one["wall_s"]
        r["model_mib"] = r["peak_mib"] - r["imports_mib"]
        r["memory_vs_1x"] = r["model_mib"] / max(one["peak_mib"] - one["imports_mib"], 1.0)
    return rows


# -- the comparisons ---------------------------------------------------------------------
def versus_virus(repeats: int, england: dict, one_thread: dict, virus_steps: int) -> list[dict]:
    """Per agent-step time against virus_on_network: the baseline's size, ten networks, and England.

    England's nlcsim figure is the one-run measurement of section 3 (every
    week of the run, as knowledge fills up), and beside it the same run in one
    thread (``one_thread``: section 2's); virus_on_network runs
    ``virus_steps`` steps at every size, enough for an outbreak that spreads
    to rise and fall.
    """
    rows = []
    for label, overrides in (("baseline (1 network)", {}),
                             ("10 networks", {"population.networks": 10})):
        sc = Scenario.load("baseline", overrides=overrides)
        ours = timing.time_run(sc, seed=SEED, repeats=repeats)
        rows.append((label, ours["teachers"], ours["mean_degree"], ours["agent_step_us"], virus_steps))
    rows.append(("england", england["teachers"], england["mean_degree"],
                 1e6 * england["steps_s"] / (england["weeks"] * england["teachers"]), virus_steps))
    out = []
    for label, agents, degree, ours_us, steps in rows:
        # In a fresh process, like the England runs: what earlier measurements left behind
        # (objects for the garbage collector to walk, a grown heap) weighs on a per-agent model.
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child-virus", str(agents), str(degree), str(steps),
               str(repeats)]
        theirs = child(cmd)
        out.append({"population": label, "agents": agents, "mean_degree": degree, "nlcsim_agent_step_us": ours_us,
                    "virus_agent_step_us": theirs["agent_step_us"], "virus_fastest_us": theirs["fastest_us"],
                    "virus_slowest_us": theirs["slowest_us"], "virus_steps": steps,
                    "virus_infected_at_end": theirs["infected_at_end_median"],
                    "speedup": theirs["agent_step_us"] / ours_us})
        print(f"  vs virus_on_network, {label}: {out[-1]['speedup']:.2f}x", flush=True)
    alone = dict(out[-1], population="england, one thread",
                 nlcsim_agent_step_us=1e3 * one_thread["model_step_ms"] / one_thread["teachers"])
    alone["speedup"] = alone["virus_agent_step_us"] / alone["nlcsim_agent_step_us"]
    out.append(alone)
    return out


def versus_floor(repeats: int, england_weeks: int) -> list[dict]:
    """Per step time against one bare sparse diffusion step over the same graph."""
    rows = []
    for label, name, weeks, threads in (("baseline (1 network)", "baseline", None, None),
                                        ("england", "england", england_weeks, None),
                                        ("england, one thread", "england", england_weeks, 1)):
        sc = Scenario.load(name)
        with jit.threads_at_most(threads or jit.thread_count()):
            ours = timing.time_run(sc, seed=SEED, weeks=weeks, repeats=repeats if name == "baseline" else 1)
        model = NLCModel(sc, seed=SEED)
        floor = timing.sparse_floor(model)
        model.release()
        rows.append({"population": label, "teachers": ours["teachers"], "edges": floor["edges"],
                     "model_step_ms": ours["step_ms"], "floor_step_ms": floor["step_ms"],
                     "ratio": ours["step_ms"] / floor["step_ms"], "weeks_timed": ours["weeks"]})
        print(f"  vs sparse floor, {label}: {rows[-1]['ratio']:.0f}x", flush=True)
    return rows


def baseline_runs(repeats: int) -> dict:
    sc = Scenario.load("baseline")
    got = timing.time_run(sc, seed=SEED, repeats=repeats)
    got["replicates_1000_on_2_cores_s"] = got["total_s"] * 1000 / 2
    quick = timing.time_run(sc, seed=SEED, repeats=repeats, series=False)
    got["outcomes_only_total_s"] = quick["total_s"]
    got["outcomes_only_runs_s"] = quick["runs_s"]
    got["outcomes_only_median_s"] = quick["median_total_s"]
    got["outcomes_only_cpu_s"] = quick["cpu_s"]
    got["outcomes_only_replicates_1000_on_2_cores_s"] = quick["total_s"] * 1000 / 2
    print(f"  one baseline run: {got['total_s']:.3f} s; outcomes only: {quick['total_s']:.3f} s", flush=True)
    return got


def phases(name: str, weeks: int | None) -> dict:
    got = timing.phase_times(Scenario.load(name), seed=SEED, weeks=weeks)
    got["scenario"] = name
    return got


SMALL = {"population.schools_per_network": 2, "population.teachers_per_school": 3}  # a network of a few teachers


def bounds(res: dict, england_week: int | None, repeats: int) -> dict:
    """What bounds a step: the fixed cost of a call at the baseline's size, a step's cost
    whatever the population (a network of a few teachers), and England's exchange draw
    taken apart."""
    base = next(r for r in res["sparse_floor"] if r["population"].startswith("baseline"))
    eng = next(r for r in res["sparse_floor"] if r["population"] == "england")
    calls = timing.call_cost(base["teachers"])
    small = Scenario.load("baseline", overrides=SMALL)
    timing.time_run(small, seed=SEED, weeks=20)  # some loops meet new array shapes here: compiled before timing
    few = timing.time_run(small, seed=SEED, repeats=repeats)
    work_ms = base["model_step_ms"] - few["step_ms"]
    search = timing.exchange_search(Scenario.load("england"), seed=SEED, week=england_week)
    budget_ms = 1e3 * TARGETS["baseline_run_s"] / res["baseline_run"]["weeks"]
    floor_ms = base["floor_step_ms"] * TARGETS["vs_sparse_floor"]
    out = {**calls, "baseline_step_ms": base["model_step_ms"], "baseline_budget_step_ms": budget_ms,
           "baseline_step_in_adds": 1e3 * base["model_step_ms"] / calls["add_us"],
           "baseline_step_in_compiled_calls": 1e3 * base["model_step_ms"] / calls["compiled_us"],
           "floor_target_step_ms": floor_ms,
           "floor_target_in_compiled_calls": 1e3 * floor_ms / calls["compiled_us"],
           "few_teachers": few["teachers"], "few_step_ms": few["step_ms"], "population_step_ms": work_ms,
           "population_us_per_teacher": 1e3 * work_ms / max(base["teachers"] - few["teachers"], 1),
           "population_vs_floor_target": work_ms / floor_ms,
           **{f"exchange_{k}": v for k, v in search.items()},
           "england_floor_step_ms": eng["floor_step_ms"],
           "exchange_draw_vs_floor": search["draw_ms"] / eng["floor_step_ms"],
           "exchange_search_vs_floor": search["search_ms"] / eng["floor_step_ms"],
           "exchange_read_vs_floor": search["read_ms"] / eng["floor_step_ms"]}
    print(f"  exchange draw at week {search['week']}: {search['draw_ms']:.1f} ms, "
          f"{out['exchange_draw_vs_floor']:.0f}x the floor step; comparing the rows alone {search['search_ms']:.1f} ms "
          f"({out['exchange_search_vs_floor']:.1f}x); reading them alone {search['read_ms']:.2f} ms "
          f"({out['exchange_read_vs_floor']:.1f}x)", flush=True)
    return out


# -- the report ------------------------------------------------------------------------------
def markdown(res: dict) -> str:
    # Imported here, not at the top: the England runs' fresh processes measure their
    # own memory, and the report modules are no part of what a model run needs.
    from nlcsim.reports.html import markdown_table

    m, t = res["machine"], TARGETS
    lines = [
        "# nlcsim performance",
        "",
        f"Measured {res['when']} with `python benchmarks/run.py{' --quick' if res['quick'] else ''}"
        f"{' --smoke' if res.get('smoke') else ''}` "
        f"(seed {res['seed']}, nlcsim {m['nlcsim']}, commit {m['commit']}); every mechanism on.",
        "",
        f"Machine: {m['cpu']}, {m['usable_cores']} usable cores ({m['logical_cores']} logical), "
        f"{m['ram_gib']} GiB RAM, {m['os']}; Python {m['python']}, NumPy {m['numpy']}, SciPy {m['scipy']}, "
        f"Mesa {m['mesa']}. Load average (1, 5, 15 min) at the start: "
        f"{', '.join(f'{x:.1f}' for x in m['load_average'] or [])} and at the end: "
        f"{', '.join(f'{x:.1f}' for x in res.get('load_average_end') or [])}. "
        "Wall-clock times, best of the repeats; CPU time (this process) beside them where the machine was "
        "shared, since a busy machine inflates wall time. "
        f"Six large phases of a step run in parts on up to {m.get('model_threads', 1)} threads "
        "(`NLCSIM_THREADS`; results are the same to the bit whatever the number); the rows marked \"one thread\" "
        "are the same England run in one. virus_on_network and the floor run in one thread.",
        "",
        "## Summary against the targets",
        "",
    ]
    e = res["england"][0]
    b = res["baseline_run"]
    lines += [
        markdown_table(["measure", "measured", "target"], [
            *[(f"per agent-step, times faster than virus_on_network, {r['population']}", f"{r['speedup']:.2f}x",
               f">= {t['vs_virus_on_network']:.0f}x") for r in res["virus_on_network"]],
            *[(f"step time / bare sparse diffusion step, {r['population']}", f"{r['ratio']:.0f}x",
               f"<= {t['vs_sparse_floor']:.0f}x") for r in res["sparse_floor"]],
            (f"england preset, one run ({e['weeks']} weeks), wall (CPU), best of {len(e.get('walls_s', [0]))}",
             f"{e['wall_s']:.1f} s ({e['cpu_s']:.1f} s); runs: " + " / ".join(f"{w:.1f}" for w in e.get("walls_s", [e["wall_s"]])) + " s",
             f"<= {t['england_wall_s']:.0f} s"),
            ("england preset, one run, peak memory", f"{e['peak_mib'] / 1024:.2f} GiB", f"<= {t['england_peak_gib']:.0f} GiB"),
            (f"one baseline run (11 schools, {b['weeks']} weeks), wall (CPU), best of {len(b['runs_s'])} runs of seed {res['seed']}",
             f"{b['total_s']:.3f} s ({b['cpu_s']:.3f} s); median {b['median_total_s']:.3f} s", f"<= {t['baseline_run_s']} s"),
            ("1,000 baseline replicates on 2 cores (estimate from the wall time)",
             f"{b['replicates_1000_on_2_cores_s']:.0f} s", "about a minute"),
            ("one baseline run, outcomes only (as an end-of-run sweep runs it), wall (CPU), best of the same runs",
             f"{b['outcomes_only_total_s']:.3f} s ({b['outcomes_only_cpu_s']:.3f} s); "
             f"median {b['outcomes_only_median_s']:.3f} s", f"<= {t['baseline_run_s']} s"),
            ("1,000 baseline replicates on 2 cores, outcomes only (estimate from the wall time)",
             f"{b['outcomes_only_replicates_1000_on_2_cores_s']:.0f} s", "about a minute"),
        ]),
        "",
        "## 1. Against Mesa's per-agent network model",
        "",
        "`mesa.examples.basic.virus_on_network` (its default parameters and a one-node outbreak) with as many "
        "agents as the model has teachers and the same mean degree; steps only, set-up apart, each population in "
        "a fresh process. The model draws its G(n, p) graph without a seed, and a step's work depends on the "
        "graph: whether the outbreak dies out at once (then an agent only checks its state) or spreads. So the "
        "graph is drawn with networkx's `fast_gnp_random_graph` (the same distribution, in linear time) and a "
        "seed, once for each of several seeds; the figure is the median over the seeds, the fastest and slowest "
        "beside it, with the median number infected after the last step. A speed-up below 1 means nlcsim is "
        "slower.",
        "",
        markdown_table(["population", "agents", "mean degree", "nlcsim per agent-step",
                        "virus_on_network per agent-step, median (fastest-slowest)", "virus steps",
                        "infected at the end", "nlcsim faster by"],
                       [(r["population"], r["agents"], f"{r['mean_degree']:.1f}", f"{r['nlcsim_agent_step_us']:.2f} us",
                         f"{r['virus_agent_step_us']:.2f} us ({r['virus_fastest_us']:.2f}-{r['virus_slowest_us']:.2f})",
                         r["virus_steps"], f"{r['virus_infected_at_end']:,.0f}", f"{r['speedup']:.2f}x")
                        for r in res["virus_on_network"]],
                       "lrrrrrrr"),
        "",
        "## 2. Against the array floor",
        "",
        "The floor is one bare diffusion step over the same teacher graph (CSR built from `state.nbr`, trust as "
        "weights): a `scipy.sparse` matrix-vector product and one elementwise update.",
        "",
        markdown_table(["population", "teachers", "tie entries", "model step", "floor step", "ratio"],
                       [(r["population"], r["teachers"], r["edges"], f"{r['model_step_ms']:.3f} ms",
                         f"{r['floor_step_ms']:.4f} ms", f"{r['ratio']:.0f}x") for r in res["sparse_floor"]],
                       "lrrrrr"),
        "",
        "## 3. England at 1x, 2x and 4x the population",
        "",
        "Runs of the `england` preset with `population.networks` multiplied, each in a fresh process, "
        f"{len(res['england'][0].get('walls_s', [0]))} at each scale, in rounds (1x, 2x, 4x, then again), so that a "
        "slow spell of the machine falls on the scales alike; the table shows the run with the least wall "
        "time and, under \"all runs\", the wall time of every run in order. Memory: resident memory after the imports, "
        "its peak during set-up and over the whole run (VmHWM), and the peak above the imports, which is what "
        "the model itself needs.",
        "",
        markdown_table(["scale", "networks", "schools", "teachers", "weeks", "set-up", "steps", "wall", "all runs", "CPU",
                        "wall vs 1x", "after imports", "peak in set-up", "peak", "peak - imports", "vs 1x"],
                       [(f"{r['scale']}x", r["networks"], r["schools"], r["teachers"], r["weeks"], f"{r['setup_s']:.2f} s",
                         f"{r['steps_s']:.2f} s", f"{r['wall_s']:.2f} s",
                         " / ".join(f"{w:.1f}" for w in r.get("walls_s", [r["wall_s"]])) + " s",
                         f"{r['cpu_s']:.2f} s", f"{r['wall_vs_1x']:.2f}",
                         f"{r['imports_mib']:.0f} MiB", f"{r['setup_peak_mib']:.0f} MiB", f"{r['peak_mib']:.0f} MiB",
                         f"{r['model_mib']:.0f} MiB", f"{r['memory_vs_1x']:.2f}") for r in res["england"]],
                       "l" + "r" * 15),
    ]
    for ph in res["phases"]:
        lines += [
            "",
            f"## 4. Where the time goes: {ph['scenario']} ({ph['weeks']} weeks, {ph['steps_s']:.2f} s of steps)",
            "",
            "Every call `NLCModel.step` makes, timed exclusively (a phase called inside another counts once).",
            "",
            markdown_table(["phase", "calls", "ms per step", "share"],
                           [(p["phase"], p["calls"], f"{p['ms_per_step']:.3f}", f"{100 * p['share']:.1f}%")
                            for p in ph["phases"]], "lrrr"),
        ]
    bd = res.get("bounds")
    if bd:
        lines += [
            "",
            "## 5. What bounds a step",
            "",
            f"- The fixed cost of a call, on arrays of {bd['size']} elements (the baseline's teachers): "
            f"{bd['add_us']:.2f} us for NumPy's elementwise sum into a preallocated array, {bd['gather_us']:.2f} us "
            f"for its read by an index array, {bd['compiled_us']:.2f} us for a call of a compiled function that "
            f"takes 20 such arrays and does nothing with them. A baseline step ({bd['baseline_step_ms']:.3f} ms) "
            f"costs as much as {bd['baseline_step_in_adds']:,.0f} such sums or {bd['baseline_step_in_compiled_calls']:,.0f} "
            f"such compiled calls; the {TARGETS['baseline_run_s']} s target leaves {bd['baseline_budget_step_ms']:.3f} ms "
            f"a step. The floor target ({TARGETS['vs_sparse_floor']:.0f}x the bare sparse step, "
            f"{bd['floor_target_step_ms']:.3f} ms) is the time of {bd['floor_target_in_compiled_calls']:.0f} empty "
            "compiled calls: the whole week, fifteen phases and the weekly record, would have to fit in it.",
            f"- A step of a network of two schools and {bd['few_teachers']} teachers takes {bd['few_step_ms']:.3f} ms: "
            "at most what a step costs whatever the population (its phases called, their NumPy calls and random "
            f"draws made). The baseline's step costs {bd['population_step_ms']:.3f} ms more, "
            f"{1e3 * bd['population_us_per_teacher']:.0f} ns for each further teacher (counting as the "
            "population's the few calls a network that small skips): that alone is "
            f"{bd['population_vs_floor_target']:.1f} times the floor target, so a week without any fixed cost "
            + ("would still miss it." if bd["population_vs_floor_target"] > 1 else "could meet it."),
            f"- England's knowledge exchange, at week {bd['exchange_week']} of a run: {bd['exchange_exchanges']:,} "
            f"exchanges over {bd['exchange_items']} items. The model's draw of what each source passes on "
            f"(compare the partners' rows, list the {bd['exchange_candidates'] / max(bd['exchange_exchanges'], 1):.1f} "
            f"items on average that the source knows better with their weights, draw one) takes "
            f"{bd['exchange_draw_ms']:.2f} ms, {bd['exchange_draw_vs_floor']:.0f}x the bare sparse diffusion step "
            f"({bd['england_floor_step_ms']:.4f} ms). Comparing the rows alone, eight items a word, counting the "
            f"{bd['exchange_candidates']:,} candidates without listing them, takes {bd['exchange_search_ms']:.2f} ms "
            f"({bd['exchange_search_vs_floor']:.1f}x); only reading the two rows of every exchange "
            f"({bd['exchange_bytes_read'] / 2**20:.1f} MiB) takes {bd['exchange_read_ms']:.2f} ms "
            f"({bd['exchange_read_vs_floor']:.1f}x)."
            + (" Most of the draw's time goes to the candidates one by one: listing each with its weight and "
               "drawing among them." if bd["exchange_draw_ms"] > 2 * bd["exchange_search_ms"] else ""),
        ]
    lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats; England scaling over one school year")
    ap.add_argument("--smoke", action="store_true",
                    help="every measurement at its smallest, to check that the script runs; the figures mean nothing "
                         "(needs --out)")
    ap.add_argument("--out", type=Path, default=RESULTS, help="folder for performance.md and performance.json")
    ap.add_argument("--child-england", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--weeks", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--child-virus", nargs=4, metavar=("AGENTS", "DEGREE", "STEPS", "REPEATS"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child_england:
        print(json.dumps(england_child(args.child_england, args.weeks)))
        return 0
    if args.child_virus:
        agents, degree, steps, reps = args.child_virus
        print(json.dumps(timing.time_virus_on_network(int(agents), float(degree), steps=int(steps), seed=SEED,
                                                      repeats=int(reps))))
        return 0
    if args.smoke and args.out == RESULTS:
        ap.error("--smoke writes figures that mean nothing: give --out a folder other than benchmarks/results")

    repeats = 1 if args.smoke else 2 if args.quick else 5
    england_weeks = 1 if args.smoke else 39 if args.quick else None
    res = {"when": time.strftime("%Y-%m-%d %H:%M"), "quick": args.quick, "smoke": args.smoke, "seed": SEED,
           "machine": timing.machine(), "targets": TARGETS}
    print("measuring (see benchmarks/results/ when done) ...", flush=True)
    res["baseline_run"] = baseline_runs(repeats)
    res["sparse_floor"] = versus_floor(repeats, england_weeks=england_weeks)
    res["england"] = england_scaling(england_weeks, 3 if england_weeks is None else 1)
    res["virus_on_network"] = versus_virus(max(repeats, 3), res["england"][0], res["sparse_floor"][-1],
                                           virus_steps=2 if args.smoke else 20 if args.quick else 100)
    res["phases"] = [phases("baseline", None), phases("england", england_weeks)]
    res["bounds"] = bounds(res, england_week=2 if args.smoke else 20 if args.quick else None, repeats=repeats)
    res["load_average_end"] = timing.machine()["load_average"]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "performance.json").write_text(json.dumps(res, indent=2) + "\n")
    (args.out / "performance.md").write_text(markdown(res))
    print(markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
