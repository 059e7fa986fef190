"""The trainer app: a Mesa SolaraViz page over :class:`nlcsim.app.trainer.TrainerModel`.

SolaraViz gives the frame: the title bar, Play / Step / Reset, the play and
render intervals and the step counter in the sidebar.  This module adds the
trainer's controls (preset, the nine feature and funding sliders with their
meanings, seed), the buttons that act on the running network, and the main
view, laid out for a projector: the network on the left, the live plots on the
right, and a second tab with two runs side by side.  (Mesa's own component
grid gives every component a fixed, draggable 390-pixel cell, too small for a
network seen from the back of a hall, so the main view is laid out here.)

Run it with ``nlcsim app``; ``solara run nlcsim.app.page`` works too.
"""

from __future__ import annotations

import solara
import solara.lab
from mesa.visualization import SolaraViz
from mesa.visualization.utils import force_update, update_counter

from ..scenario import presets
from .draw import ComparePicture, NetworkPicture, SeriesPicture, png_bytes, snapshot
from .trainer import SLIDER, SLIDERS, Settings, TrainerModel, display_note, presets_for_picker

TITLE = "Networked Learning Communities: trainer"
PLAY_INTERVAL_MS = 100
RENDER_INTERVAL = 1  # weeks per Step press and per frame while playing (Mesa's slider goes 1, 3, 5, ...)
LIVE_DPI = 90  # about 600 pixels wide per view: sharp on a projector, quick to draw

# Larger type for a projector, and the slider meanings set small under each slider.
STYLE = """
.nlc-main { font-size: 17px; }
.nlc-meaning { font-size: 13px; color: #555; margin: -4px 0 10px 0; line-height: 1.25; }
.nlc-event-row .v-btn { font-size: 15px !important; text-transform: none !important; letter-spacing: 0 !important; }
.nlc-last-event { font-size: 16px; color: #333; }
.nlc-story { font-size: 15px; color: #444; }
.nlc-sidebar-note { font-size: 13px; color: #666; }
/* Keep the whole view on screen: the pictures shrink to the window's height. */
img.nlc-network-view, img.nlc-live-plots { max-height: calc(100vh - 210px); object-fit: contain; object-position: left top; }
img.nlc-compare-view { max-height: calc(100vh - 250px); object-fit: contain; object-position: left top; }
/* Mesa's "Model Parameters" card is empty here (the controls below replace it). */
.v-card:has(> .v-card__text > .v-sheet:empty) { display: none; }
"""

_STORIES = presets()


@solara.component
def FeatureSlider(key: str, value: float, on_change):
    """One slider that acts when let go (not at every pixel of a drag), with its meaning underneath.

    The slider shows where the hand has put it (``shown``) and follows ``value``
    when that changes (a new preset); it starts a new run only on "change",
    when let go or at each key press.
    """
    spec = SLIDER[key]
    shown = solara.use_reactive(value)
    slider = solara.v.Slider(v_model=shown.value, on_v_model=lambda v: shown.set(float(v)), min=spec.low,
                             max=spec.high, step=spec.step, label=spec.label, thumb_label=True, hide_details=True,
                             class_=f"nlc-slider nlc-slider-{key.replace('.', '-')}")

    def changed(widget, event, data):
        if data is not None and float(data) != value:
            on_change(key, float(data))

    solara.v.use_event(slider, "change", changed)
    with solara.Column(gap="0px"):
        solara.display(slider)
        unit = "" if spec.unit == "0-1" else f" {spec.unit}"
        solara.Text(f"{value:g}{unit} · {spec.meaning}", classes=["nlc-meaning", f"nlc-meaning-{key.replace('.', '-')}"])


@solara.component
def ScenarioControls(settings: solara.Reactive[Settings], restart):
    """The sidebar: preset, sliders, seed (each change starts a new run at week 0)."""
    current = settings.value
    seed_note, set_seed_note = solara.use_state("")

    def pick_preset(name):
        restart(Settings.for_preset(name, seed=current.seed, compare_key=current.compare_key))

    def set_value(key, value):
        restart(current.with_value(key, value))

    def set_seed(seed):
        if seed is None:
            return
        if seed < 0:  # refused here: the run goes on with its seed
            set_seed_note(f"Seed {seed}: use a whole number from 0 up. The run keeps seed {current.seed}.")
            return
        set_seed_note("")
        if int(seed) != current.seed:
            restart(current.with_seed(seed))

    presets = solara.use_memo(presets_for_picker, [])  # loads every preset: once per page, not per redraw
    with solara.Sidebar():
        with solara.Card("Scenario"):
            solara.Select("Preset", values=presets, value=current.preset, on_value=pick_preset,
                          classes=["nlc-preset"])
            solara.Text(_STORIES.get(current.preset, ""), classes=["nlc-meaning"])
            note = display_note(current.preset)
            if note:
                solara.Text(note, classes=["nlc-meaning"])
            for spec in SLIDERS:
                FeatureSlider(spec.key, current.values[spec.key], set_value)
            solara.InputInt("Seed", value=current.seed, on_value=set_seed, classes=["nlc-seed"])
            if seed_note:
                solara.Warning(seed_note, classes=["nlc-seed-note"])
            solara.Text("Changing the preset, a slider or the seed starts a new run at week 0. "
                        "If Play is greyed out after a run has ended, press Reset. "
                        "The ☰ button hides this panel when presenting.", classes=["nlc-sidebar-note"])


_EVENT_TEXT = {
    "funding_cut": "the funding was cut",
    "head_leaves": "a head teacher left",
    "broker_leaves": "a broker left",
    "school_joins": "a school joined",
    "school_leaves": "a school left",
    "funding_change": "the funding changed",
}


_SKIPPED_TEXT = {
    "funding_cut": "no funding to cut",
    "head_leaves": "no head teacher left",
    "broker_leaves": "no broker left",
    "school_joins": "no school joined",
    "school_leaves": "no school left",
    "funding_change": "the funding did not change",
}


def _describe(event: dict) -> str:
    where = f" (school S{event['school'] + 1})" if event.get("school") is not None else ""
    if "skipped" in event:  # asked for, but it could not happen: say why
        return f"Week {event['week']}: {_SKIPPED_TEXT.get(event['kind'], event['kind'])}{where}: {event['skipped']}"
    return f"Week {event['week']}: {_EVENT_TEXT.get(event['kind'], event['kind'])}{where}"


@solara.component
def EventButtons(model: TrainerModel):
    """Buttons that act on the running network (and its twin), and what happened last."""
    update_counter.get()
    def act(action):
        def run():
            getattr(model, action)()
            force_update()
        return run

    with solara.Row(classes=["nlc-event-row"], style={"flex-wrap": "wrap", "align-items": "center"}):
        solara.Button("Cut funding now", on_click=act("cut_funding"), color="error", icon_name="mdi-cash-remove")
        solara.Button("Head teacher leaves", on_click=act("head_leaves"), color="warning", icon_name="mdi-account-remove")
        solara.Button("Broker leaves", on_click=act("broker_leaves"), color="warning", icon_name="mdi-account-arrow-right")
        solara.Button("School joins", on_click=act("school_joins"), color="success", icon_name="mdi-school")
        solara.FileDownload(lambda: png_bytes(model, subtitle=_subtitle(model)),
                            filename=f"nlcsim-{model.settings.preset}-week{model.week}.png",
                            label="PNG for slides", mime_type="image/png", icon_name="mdi-image")
    events = [e for e in model.event_log]
    text = " · ".join(_describe(e) for e in events[-3:]) if events else "No events yet: press a button while the network runs."
    solara.Text(text, classes=["nlc-last-event"])


def _subtitle(model: TrainerModel) -> str:
    values = model.settings.values
    return " · ".join(f"{SLIDER[k].short} {values[k]:g}" for k in SLIDER) + f" · seed {model.settings.seed}"


@solara.component
def LiveImage(model: TrainerModel, picture_class, css_class: str):
    """A figure of the running model, redrawn only when the model changed."""
    update_counter.get()
    picture = solara.use_memo(lambda: picture_class(dpi=LIVE_DPI), [])
    png = solara.use_memo(lambda: picture.png(snapshot(model)), [model.run_id, model.changes])
    solara.Image(png, width="100%", classes=[css_class])


def NetworkView(model: TrainerModel):
    return LiveImage(model, NetworkPicture, "nlc-network-view")


def LivePlots(model: TrainerModel):
    return LiveImage(model, SeriesPicture, "nlc-live-plots")


@solara.component
def SideBySide(model: TrainerModel, settings: solara.Reactive[Settings], restart):
    """The same seed under two settings: the compared feature and its other value."""
    update_counter.get()
    current = settings.value
    labels = {spec.label: spec.key for spec in SLIDERS}
    spec = SLIDER[current.compare_key]

    def pick(label):
        restart(current.with_compare(labels[label]))

    def set_other(key, value):
        restart(current.with_compare(current.compare_key, value))

    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Select("Feature to compare", values=list(labels), value=spec.label, on_value=pick,
                      style={"max-width": "320px"}, classes=["nlc-compare-feature"])
        with solara.Column(style={"min-width": "320px"}):
            FeatureSlider(current.compare_key, current.compare_value, set_other)
        solara.Text(f"A uses {current.describe()}, B uses {current.describe(value=current.compare_value)}; "
                    "everything else, the seed and every event are the same.", classes=["nlc-story"])
        label_a, label_b = current.describe(), current.describe(value=current.compare_value)
        picture = solara.use_memo(lambda: ComparePicture(dpi=LIVE_DPI), [])
        png = solara.use_memo(
            lambda: picture.png(snapshot(model), snapshot(model.twin), label_a, label_b),
            [model.run_id, model.changes, label_a, label_b])
        solara.FileDownload(png, filename=f"nlcsim-{current.preset}-side-by-side-week{model.week}.png",
                            label="PNG for slides", mime_type="image/png", icon_name="mdi-image")
    solara.Image(png, width="100%", classes=["nlc-compare-view"])


@solara.component
def MainView(model: TrainerModel, settings: solara.Reactive[Settings], restart):
    update_counter.get()
    tab = solara.use_reactive(0)
    with solara.Column(gap="0px"):
        solara.Style(STYLE)
        ScenarioControls(settings, restart)
        with solara.Column(classes=["nlc-main"], style={"padding": "0px 12px"}):
            with solara.lab.Tabs(value=tab, lazy=True):
                with solara.lab.Tab("Network"):
                    EventButtons(model)
                    with solara.Columns([1, 1], gutters_dense=True):
                        NetworkView(model)
                        LivePlots(model)
                with solara.lab.Tab("Side by side"):
                    SideBySide(model, settings, restart)


@solara.component
def Page():
    """One trainer session: its own settings and model (two browser tabs do not share a run)."""
    first_settings = solara.use_memo(Settings, [])
    settings = solara.use_reactive(first_settings)
    first_model = solara.use_memo(lambda: TrainerModel(first_settings), [])
    model = solara.use_reactive(first_model)

    def restart(new_settings: Settings):
        settings.set(new_settings)
        model.set(TrainerModel(new_settings))

    def current_settings() -> Settings:
        return settings.value

    solara.Title(TITLE)  # the browser tab's name
    with solara.Column(gap="0px"):
        # SolaraViz puts its controls in the app bar and sidebar; what it leaves in place is empty.
        with solara.Div(style={"height": "0px", "overflow": "hidden"}):
            # Mesa's Reset rebuilds the model as TrainerModel(settings=current_settings).
            SolaraViz(model, components=[], model_params={"settings": current_settings}, name=TITLE,
                      play_interval=PLAY_INTERVAL_MS, render_interval=RENDER_INTERVAL)
        MainView(model.value, settings, restart)


page = Page
