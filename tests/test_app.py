"""The trainer app: its scenarios, its model, its pictures, and the page in a real browser."""

from __future__ import annotations

import importlib.metadata
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from nlcsim import NLCModel, Scenario
from nlcsim.app import serve
from nlcsim.app.draw import layout_of, png_bytes, save_png, snapshot
from nlcsim.app.trainer import MAX_SCHOOLS, SLIDERS, Settings, TrainerModel, build_scenario, presets_for_picker
from nlcsim.scenario import PARAMS

SMALL = """
[meta]
name = "small"
story = "Four small schools, for tests."
[population]
networks = 1
schools_per_network = 4
teachers_per_school = 8
[schedule]
years = 2
[funding]
years = 1.0
"""


@pytest.fixture
def small_preset(tmp_path) -> str:
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return str(path)


# -- the settings behind the controls -------------------------------------------------
def test_every_slider_sets_a_real_parameter_within_its_allowed_range():
    params = {p.name: p for p in PARAMS}
    for spec in SLIDERS:
        p = params[spec.key]
        assert p.low <= spec.low < spec.high <= p.high, spec.key
        assert spec.meaning == p.meaning and spec.meaning
    features = {s.key.split(".")[0] for s in SLIDERS}
    assert features == {"trust", "collaboration", "leadership", "enquiry", "purpose", "accountability",
                        "capacity", "funding"}


@pytest.mark.parametrize("end", ["low", "high"])
def test_every_slider_at_its_end_runs_50_weeks_with_events(small_preset, end):
    """Each slider at its minimum (and maximum) runs 50 weeks, through every trainer event, without an error."""
    for spec in SLIDERS:
        value = getattr(spec, end)
        model = TrainerModel(Settings(preset=small_preset, values={spec.key: value}))
        assert model.scenario[spec.key] == value
        for week in range(50):
            if week == 10:
                model.cut_funding()
            elif week == 20:
                model.head_leaves()
                model.broker_leaves()
            elif week == 30:
                model.school_joins()
            model.step()
        ts = model.timeseries
        assert model.week == model.twin.week == 50, spec.key
        assert np.isfinite(ts.drop(columns=["week", "year", "teachers"]).to_numpy()).all(), (spec.key, value)


def test_every_preset_can_be_shown_as_one_network_of_at_most_20_schools():
    for name in presets_for_picker():
        sc = build_scenario(name)
        assert sc.population.networks == 1
        assert sc.population.schools_per_network <= MAX_SCHOOLS
    england = build_scenario("england", {"trust.initial": 0.7})
    as_written = Scenario.load("england").population
    assert as_written.networks > 1
    assert england["trust.initial"] == 0.7
    assert england.population.schools_per_network == min(as_written.schools_per_network, MAX_SCHOOLS)


def test_picking_a_preset_moves_the_sliders_to_its_values():
    high = Settings.for_preset("high_trust")
    assert high.values["trust.initial"] == Scenario.load("high_trust")["trust.initial"]
    assert high.scenario()["trust.initial"] == high.values["trust.initial"]
    moved = high.with_value("collaboration.depth", 0.9)
    assert moved.scenario()["collaboration.depth"] == 0.9
    assert moved.scenario()["trust.initial"] == high.values["trust.initial"]


def test_the_twin_differs_in_the_compared_feature_only(small_preset):
    key = "leadership.distribution"
    own = Scenario.load(small_preset)[key]
    other = 0.9 if own != 0.9 else 0.1
    model = TrainerModel(Settings(preset=small_preset, compare_key=key, compare_value=other))
    assert model.scenario.diff(model.twin.scenario) == {key: (own, other)}


def test_a_head_leaving_happens_in_the_same_school_in_both_runs(small_preset):
    model = TrainerModel(Settings(preset=small_preset))
    for _ in range(5):
        model.step()
    model.head_leaves()
    model.school_joins()
    model.cut_funding()
    mine = [(e["kind"], e.get("school")) for e in model.event_log]
    twins = [(e["kind"], e.get("school")) for e in model.twin.event_log]
    assert mine == twins and mine[0][1] is not None
    model.step()
    assert model.timeseries["funding"].iloc[-1] == 0 and model.twin.timeseries["funding"].iloc[-1] == 0


def test_events_leave_identical_twins_identical(small_preset):
    """The school an event picks is drawn apart from both runs, so A and B stay in step."""
    base = Settings(preset=small_preset, seed=2)
    model = TrainerModel(base.with_compare("trust.initial", base.values["trust.initial"]))
    for _ in range(5):
        model.step()
    model.head_leaves()
    model.broker_leaves()
    for _ in range(20):
        model.step()
    assert np.array_equal(model.table, model.twin.table, equal_nan=True)


def test_the_planned_end_of_funding_follows_cuts_and_a_zero_level():
    from nlcsim.app.draw import _funding_status

    cut = TrainerModel(Settings(preset="funding_cut_early"))
    assert snapshot(cut).funding_end == 78
    assert _funding_status(snapshot(cut)) == "funded to week 78"
    plain = TrainerModel(Settings(preset="baseline"))
    assert snapshot(plain).funding_end == plain.scenario.funding_end_week
    broke = TrainerModel(Settings(preset="baseline").with_value("funding.level", 0.0))
    assert _funding_status(snapshot(broke)) == "no funding"


def test_the_funded_years_slider_shows_when_the_money_ends_and_moving_it_decides_alone():
    cut = Settings.for_preset("funding_cut_early")
    assert cut.values["funding.years"] == 2.0  # the scheduled cut at week 78, not funding.years = 4
    assert cut.scenario() == Scenario.load("funding_cut_early")  # unmoved, the preset runs as written
    longer = cut.with_value("funding.years", 6.0)
    assert longer.scenario().money_end_week == 234 and longer.scenario().events == []
    # side by side on funded years, the two runs differ
    model = TrainerModel(cut.with_compare("funding.years", 8.0))
    assert (model.scenario.money_end_week, model.twin.scenario.money_end_week) == (78, 312)


def test_moving_the_compared_feature_onto_b_moves_b_away(small_preset):
    base = Settings(preset=small_preset, compare_key="trust.initial", compare_value=0.8)
    moved = base.with_value("trust.initial", 0.8)
    assert moved.values["trust.initial"] == 0.8 and moved.compare_value != 0.8
    assert TrainerModel(moved).scenario.diff(TrainerModel(moved).twin.scenario)
    assert base.with_value("trust.initial", 0.3).compare_value == 0.8  # elsewhere B stays where it was put


def test_events_that_cannot_happen_say_why_and_draw_no_mark(small_preset):
    from nlcsim.app.draw import _funding_status
    from nlcsim.app.page import _describe

    model = TrainerModel(Settings(preset=small_preset))
    st = model.state
    for _ in range(3):
        model.step()
    st.is_broker[st.school != 2] = False  # only school 2 has brokers: the random pick must find it
    model.broker_leaves()
    assert model.event_log[-1] == {"week": 3, "kind": "broker_leaves", "school": 2}
    st.is_broker[:] = False
    model.broker_leaves()
    assert "skipped" in model.event_log[-1]
    assert _describe(model.event_log[-1]).startswith("Week 3: no broker left (school S")
    # a cut while paused shows at once; a second one changes nothing
    model.cut_funding()
    assert _funding_status(snapshot(model)) == "funding ended week 3"
    model.step()
    model.cut_funding()
    assert model.event_log[-1]["skipped"] == "the funding had already ended in week 3"
    # a school joins while there is room on the screen
    while np.count_nonzero(model.state.school_alive) < MAX_SCHOOLS:
        model.school_joins()
        assert model.event_log[-1]["school"] == np.count_nonzero(model.state.school_alive) - 1
    model.school_joins()
    assert model.event_log[-1]["skipped"] == f"the view holds at most {MAX_SCHOOLS} schools"
    assert model.twin.event_log[-1]["skipped"] == model.event_log[-1]["skipped"]
    while model.running:
        model.step()
    model.head_leaves()
    assert model.event_log[-1]["skipped"] == "the run has ended"


def test_events_of_the_same_week_share_one_mark_and_one_label():
    from nlcsim.app.draw import event_labels

    events = [{"week": 5, "kind": "head_leaves", "school": 1}, {"week": 5, "kind": "school_joins", "school": 9},
              {"week": 5, "kind": "head_leaves", "school": 2}, {"week": 5, "kind": "funding_cut"},
              {"week": 8, "kind": "broker_leaves", "skipped": "no broker left"},
              {"week": 9, "kind": "school_leaves", "school": 3}]
    assert event_labels(events) == {5: "2 x head leaves, school joins", 9: "school leaves"}


def test_a_trainers_cut_before_the_scheduled_one_leaves_the_scheduled_one_doing_nothing():
    model = NLCModel("funding_cut_early", seed=1)
    for _ in range(30):
        model.step()
    model.cut_funding()
    for _ in range(50):
        model.step()
    assert model.event_log == [{"week": 30, "kind": "funding_cut"},
                               {"week": 78, "kind": "funding_cut", "skipped": "the funding had already ended in week 30"}]
    assert model.funding_end == 30


def test_side_by_side_on_funding_shows_both_ends():
    from nlcsim.app.draw import compare_title

    model = TrainerModel(Settings(preset="baseline").with_compare("funding.years", 2.0))
    for _ in range(100):
        model.step()
    assert compare_title(snapshot(model), snapshot(model.twin)).endswith("A funded to week 156, B funding ended week 78")


def test_the_picker_leaves_out_a_preset_the_app_would_run_as_another():
    names = presets_for_picker()
    assert names[0] == "baseline" and "england" not in names and "low_trust" in names


def test_the_same_settings_give_the_same_run(small_preset):
    runs = []
    for _ in range(2):
        model = TrainerModel(Settings(preset=small_preset, seed=5))
        for _ in range(20):
            model.step()
        runs.append(model.table)
    assert np.array_equal(runs[0], runs[1])


def test_the_run_stops_at_the_end_of_the_scenario(small_preset):
    model = TrainerModel(Settings(preset=small_preset))
    while model.running:
        model.step()
    assert model.week == model.scenario.weeks
    model.step()
    assert model.week == model.scenario.weeks


# -- the network view --------------------------------------------------------------------
def test_layout_is_fixed_while_the_network_runs_and_grows(small_preset):
    model = NLCModel(Scenario.load(small_preset), seed=2)
    rows0, xy0 = layout_of(model).positions(model.state)
    before = dict(zip(rows0.tolist(), map(tuple, xy0)))
    for _ in range(30):
        model.step()
    model.school_joins()
    rows1, xy1 = layout_of(model).positions(model.state)
    after = dict(zip(rows1.tolist(), map(tuple, xy1)))
    kept = [r for r in before if r in after and model.state.school[r] >= 0]
    assert kept and all(before[r] == after[r] for r in kept)
    # Each teacher is drawn nearer their own school's centre than any other school's.
    layout = layout_of(model)
    centres = layout.school_xy[: model.state.school_alive.size]
    d = np.linalg.norm(xy1[:, None, :] - centres[None, :, :], axis=2)
    d[:, ~model.state.school_alive] = np.inf
    assert (d.argmin(axis=1) == model.state.school[rows1]).all()


def test_snapshot_draws_each_tie_once_with_its_last_collaboration_type(small_preset):
    model = NLCModel(Scenario.load(small_preset), seed=3)
    for _ in range(10):
        model.step()
    snap = snapshot(model)
    st = model.state
    assert snap.tie_type.size * 2 == int((st.nbr[st.alive] >= 0).sum())
    assert set(np.unique(snap.tie_type)) <= {-1, 0, 1, 2, 3}
    assert (snap.tie_type >= 0).any()


def test_png_for_slides_shows_the_current_week(small_preset, tmp_path):
    model = TrainerModel(Settings(preset=small_preset))
    first = png_bytes(model, dpi=40)
    for _ in range(8):
        model.step()
    path = save_png(model, tmp_path / "slide.png", dpi=40)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.read_bytes() != first


# -- animations ----------------------------------------------------------------------
def test_animate_writes_a_gif_and_an_mp4(tmp_path, capsys):
    import imageio.v3 as iio

    from nlcsim.cli import main

    gif, mp4 = tmp_path / "run.gif", tmp_path / "run.mp4"
    assert main(["animate", "baseline", "--out", str(gif), "--weeks", "4", "--every", "2", "--dpi", "20",
                 "--set", "population.schools_per_network=4"]) == 0
    frames = iio.imread(gif, index=None)
    assert frames.shape[0] == 3 and frames.shape[1:3] == (180, 320)
    assert not np.array_equal(frames[0], frames[-1])
    assert main(["animate", "baseline", "--out", str(mp4), "--weeks", "2", "--every", "1", "--dpi", "32"]) == 0
    assert mp4.stat().st_size > 1000
    assert main(["animate", "baseline", "--out", str(tmp_path / "run.avi")]) == 2
    assert "must end in .gif or .mp4" in capsys.readouterr().err
    assert main(["animate", "baseline", "--out", str(mp4), "--dpi", "5000"]) == 2
    assert "--dpi 5000: at most 240" in capsys.readouterr().err
    (tmp_path / "a_file").write_text("")
    assert main(["animate", "baseline", "--out", str(tmp_path / "a_file" / "run.gif")]) == 2  # refused before the run
    assert "a file is in the way" in capsys.readouterr().err


# -- serving offline ---------------------------------------------------------------
def test_the_page_needs_nothing_from_the_internet():
    assert serve.assets_dir() is not None
    assert serve.needed_assets()
    assert serve.missing_assets() == []
    # Mesa 3.3.1's SolaraViz renders with ipyvuetify 1.12 and ipyvue 1.13, not with version 3.
    assert importlib.metadata.version("ipyvuetify").startswith("1.12.")
    assert importlib.metadata.version("ipyvue").startswith("1.13.")


def test_app_listens_on_this_machine_only_by_default():
    from nlcsim.cli import build_parser

    args = build_parser("app").parse_args(["app"])
    assert args.host == "127.0.0.1"
    command = serve.server_command(args.host, 9999)
    assert command[command.index("--host") + 1] == "127.0.0.1" and "--no-open" in command


def test_app_names_the_port_it_serves_on_and_refuses_a_busy_one(capsys):
    from nlcsim.cli import main

    port = serve.free_port("127.0.0.1", 0)  # port 0: a free port, chosen before the address is printed
    assert 0 < port < 65536
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        assert main(["app", "--port", str(taken)]) == 2
    err = capsys.readouterr().err
    assert f"cannot serve on 127.0.0.1:{taken}" in err and "choose another with --port" in err
    assert "Traceback" not in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_url(artifacts):
    """The app's server on a free local port; always stopped afterwards."""
    port = _free_port()
    log = open(artifacts / "app_server.log", "w")
    proc = serve.start(port=port, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(url, timeout=5).read()
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"the app server did not start; see {artifacts / 'app_server.log'}")
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        log.close()




def test_trainer_drives_the_network_in_a_browser_with_no_network(app_url, artifacts, chromium):
    from playwright.sync_api import expect

    outside = []

    def local_only(route):
        url = route.request.url
        if url.startswith(app_url) or url.startswith(("blob:", "data:")):
            route.continue_()
        else:  # nothing may come from the internet
            outside.append(url)
            route.abort()

    page = chromium.new_page(viewport={"width": 1600, "height": 1000}, accept_downloads=True)
    page.route("**/*", local_only)
    page.goto(app_url)
    network = page.locator("img.nlc-network-view")
    plots = page.locator("img.nlc-live-plots")
    expect(network).to_be_visible(timeout=60_000)
    expect(plots).to_be_visible()
    counter = page.get_by_text("Step: ", exact=False).first
    expect(counter).to_have_text("Step: 0")
    page.screenshot(path=artifacts / "app_1_loaded.png")

    # Pick a preset: the sliders move to its values.
    page.locator(".nlc-preset").click()
    page.locator(".v-menu__content .v-list-item", has_text="high_trust").click()
    trust = page.locator(".nlc-slider-trust-initial [role=slider]")
    expect(trust).to_have_attribute("aria-valuenow", "0.8")

    # Move a slider (keyboard, as on a laptop at the front of the room).
    depth = page.locator(".nlc-slider-collaboration-depth [role=slider]")
    before = float(depth.get_attribute("aria-valuenow"))
    depth.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")  # each press starts a new run; none may be lost
    expect(depth).to_have_attribute("aria-valuenow", f"{before + 0.1:g}")
    expect(page.locator(".nlc-meaning-collaboration-depth")).to_contain_text(f"{before + 0.1:g} · ")
    network_start, plots_start = network.screenshot(), plots.screenshot()

    step = page.get_by_role("button", name="Step", exact=True)
    for week in range(1, 6):
        step.click()
        expect(counter).to_have_text(f"Step: {week}", timeout=30_000)
    page.get_by_role("button", name="Cut funding now").click()
    expect(page.locator(".nlc-last-event")).to_contain_text("Week 5: the funding was cut", timeout=30_000)
    for week in range(6, 8):
        step.click()
        expect(counter).to_have_text(f"Step: {week}", timeout=30_000)
    page.wait_for_timeout(500)
    page.screenshot(path=artifacts / "app_2_after_steps_and_cut.png")
    network_end, plots_end = network.screenshot(), plots.screenshot()
    (artifacts / "app_network_before.png").write_bytes(network_start)
    (artifacts / "app_network_after.png").write_bytes(network_end)
    (artifacts / "app_plots_after.png").write_bytes(plots_end)
    assert network_end != network_start
    assert plots_end != plots_start

    # A seed below 0 is refused with a note; the page and the run go on.
    seed_box = page.locator(".nlc-seed input")
    seed_box.fill("-1")
    seed_box.press("Enter")
    expect(page.locator(".nlc-seed-note")).to_contain_text("Seed -1: use a whole number from 0 up", timeout=30_000)
    expect(counter).to_have_text("Step: 7")

    # A PNG of the current view for slides.
    with page.expect_download() as download:
        page.get_by_role("button", name="PNG for slides").click()
    slide = Path(download.value.path()).read_bytes()
    assert slide[:8] == b"\x89PNG\r\n\x1a\n"
    (artifacts / "app_slide.png").write_bytes(slide)

    # Side by side: the same seed under two settings.
    page.get_by_role("tab", name="Side by side").click()
    compare = page.locator("img.nlc-compare-view")
    expect(compare).to_be_visible(timeout=60_000)
    page.screenshot(path=artifacts / "app_3_side_by_side.png")
    assert outside == []


def test_the_network_view_redraws_its_schools_only_when_they_change(small_preset):
    from nlcsim.app.draw import NetworkPicture

    model = TrainerModel(Settings(preset=small_preset))
    picture = NetworkPicture(dpi=40)
    picture.png(snapshot(model))
    kept = list(picture._school_artists)
    model.step()
    picture.png(snapshot(model))
    assert picture._school_artists == kept and all(a.axes is picture.ax for a in kept)  # kept, not redrawn
    model.school_joins()
    picture.png(snapshot(model))
    assert picture._school_artists != kept and not any(a.axes for a in kept)  # redrawn with the new school
    joined = f"S{np.count_nonzero(model.state.school_alive)}"
    assert joined in [t.get_text() for t in picture.ax.texts]  # its name, drawn over the ties
