"""What the trainer app runs: the settings behind its controls and the model it steps.

The controls set a preset, nine sliders (the seven features of a
Networked Learning Community plus funding; seed 000, seed 001, seed 003) and a
seed.  :func:`build_scenario` turns them into a validated
:class:`nlcsim.Scenario`, the same way for the app, the animations and the
tests.  :class:`TrainerModel` is an :class:`nlcsim.NLCModel` that also steps a
*twin*: the same seed with one feature changed, for the side-by-side view.

>>> from nlcsim.app.trainer import Settings, TrainerModel
>>> model = TrainerModel(Settings(preset="baseline", seed=3))
>>> model.step()
>>> model.week, model.twin.week
(1, 1)
"""

from __future__ import annotations

import itertools
import math
import threading
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping

import numpy as np

from ..model import NLCModel
from ..scenario import PARAM_BY_NAME, Scenario, ends_the_money, preset_names

# The most schools the network view stays legible for on a projector.
MAX_SCHOOLS = 20


@dataclass(frozen=True)
class SliderSpec:
    """One slider: the scenario key it sets, its short label, range and step."""

    key: str
    label: str
    low: float
    high: float
    step: float
    short: str = ""  # for one-line summaries on slides

    @property
    def meaning(self) -> str:
        """The plain-language meaning of the key, from :data:`nlcsim.scenario.PARAMS`."""
        return PARAM_BY_NAME[self.key].meaning

    @property
    def unit(self) -> str:
        return PARAM_BY_NAME[self.key].unit


# The seven features (seed 000) and funding.  Ranges are the scenario's own,
# except funding, which is kept to what a programme could plausibly pay and last
# (and a level above 1.5 buys nothing more: docs/ODD.md 7.1).
SLIDERS: tuple[SliderSpec, ...] = (
    SliderSpec("trust.initial", "Trust", 0.0, 1.0, 0.05, "trust"),
    SliderSpec("collaboration.depth", "Collaboration depth", 0.0, 1.0, 0.05, "depth"),
    SliderSpec("leadership.distribution", "Distributed leadership", 0.0, 1.0, 0.05, "distributed"),
    SliderSpec("enquiry.level", "Enquiry", 0.0, 1.0, 0.05, "enquiry"),
    SliderSpec("purpose.clarity", "Clear, shared focus", 0.0, 1.0, 0.05, "focus"),
    SliderSpec("accountability.internal", "Internal accountability", 0.0, 1.0, 0.05, "accountability"),
    SliderSpec("capacity.support", "Support and coaching", 0.0, 1.0, 0.05, "support"),
    SliderSpec("funding.level", "Funding level", 0.0, 1.5, 0.25, "funding"),
    SliderSpec("funding.years", "Funded years", 0.0, 10.0, 0.5, "funded years"),
)
SLIDER = {s.key: s for s in SLIDERS}


def _display_data(preset: str | Scenario) -> tuple[dict, str]:
    """The preset as data, cut down to one network of at most MAX_SCHOOLS schools.

    Returns the data and a note saying what was cut ("" when nothing was).
    """
    sc = preset if isinstance(preset, Scenario) else Scenario.load(preset)
    data = sc.to_dict()
    pop = data["population"]
    note = ""
    if pop["networks"] > 1 or pop["schools_per_network"] > MAX_SCHOOLS:
        n_schools = min(pop["schools_per_network"], MAX_SCHOOLS)
        note = (f"shown as one network of {n_schools} schools "
                f"(the preset has {pop['networks']} network(s) of about {pop['schools_per_network']})")
        pop.update(networks=1, schools_per_network=n_schools, network_size_spread=0.0)
        data["events"] = [e for e in data.get("events", [])
                          if e.get("network", 0) < 1 and e.get("school", 0) < n_schools]
        if not data["events"]:
            data.pop("events")
    return data, note


def build_scenario(preset: str | Scenario = "baseline", values: Mapping[str, float] | None = None) -> Scenario:
    """The scenario the app runs: a preset, the sliders' values, and at most one network of 20 schools.

    >>> build_scenario("england", {"trust.initial": 0.7}).population.networks
    1
    """
    data, _ = _display_data(preset)
    source = preset.source if isinstance(preset, Scenario) else str(preset)
    values = dict(values or {})
    if "funding.years" in values:
        # The slider shows when the money ends (a scheduled cut can end it before funding.years).
        # At that position the preset runs as it is; moved, it decides alone: the cut goes.
        if math.isclose(values["funding.years"], funded_years(Scenario.from_dict(data, source=source))):
            del values["funding.years"]
        else:
            data["events"] = [e for e in data.get("events", []) if not ends_the_money(e)]
            if not data["events"]:
                del data["events"]
    return Scenario.from_dict(data, source=source, overrides=values)


def funded_years(scenario: Scenario) -> float:
    """Years until the programme's money ends: ``funding.years``, or less where a scheduled
    programme-wide cut comes first (``Scenario.money_end_week``)."""
    return scenario.money_end_week / scenario.schedule.weeks_per_year


def display_note(preset: str) -> str:
    """What the app changed in a preset to draw it (empty when nothing)."""
    return _display_data(preset)[1]


def slider_values(scenario: Scenario) -> dict[str, float]:
    """The sliders' positions for a scenario (clipped to each slider's range); funded years
    where the money ends (:func:`funded_years`)."""
    own = {s.key: scenario[s.key] for s in SLIDERS} | {"funding.years": funded_years(scenario)}
    return {s.key: float(np.clip(own[s.key], s.low, s.high)) for s in SLIDERS}


def other_value(key: str, value: float) -> float:
    """A contrasting value for the side-by-side view: toward the far end of the slider."""
    s = SLIDER[key]
    frac = 0.8 if value <= (s.low + s.high) / 2 else 0.2
    return float(round((s.low + frac * (s.high - s.low)) / s.step) * s.step)


@dataclass(frozen=True)
class Settings:
    """Everything the controls set: preset, slider values, seed and the side-by-side contrast."""

    preset: str = "baseline"
    values: Mapping[str, float] = field(default_factory=dict)
    seed: int = 1
    compare_key: str = "trust.initial"
    compare_value: float | None = None

    def __post_init__(self):
        # Positions not given are the preset's own.
        base = slider_values(Scenario.load(self.preset))
        object.__setattr__(self, "values", {**base, **dict(self.values)})
        if self.compare_value is None:
            object.__setattr__(self, "compare_value", other_value(self.compare_key, self.values[self.compare_key]))

    @classmethod
    def for_preset(cls, preset: str, seed: int = 1, compare_key: str = "trust.initial") -> "Settings":
        """The preset's own positions for every slider."""
        return cls(preset=preset, seed=seed, compare_key=compare_key)

    def with_value(self, key: str, value: float) -> "Settings":
        """A slider moved.  Where it is the compared feature and now sits at B's value, B moves
        to the other end, so that A and B still differ."""
        moved = replace(self, values={**self.values, key: float(value)})
        if key == self.compare_key and math.isclose(float(value), self.compare_value):
            return moved.with_compare(key)
        return moved

    def with_seed(self, seed: int) -> "Settings":
        return replace(self, seed=int(seed))

    def with_compare(self, key: str, value: float | None = None) -> "Settings":
        return replace(self, compare_key=key, compare_value=other_value(key, self.values[key]) if value is None else float(value))

    def scenario(self) -> Scenario:
        return build_scenario(self.preset, self.values)

    def twin_scenario(self) -> Scenario:
        """The same scenario with the compared feature at its other value."""
        return build_scenario(self.preset, {**self.values, self.compare_key: self.compare_value})

    def describe(self, key: str | None = None, value: float | None = None) -> str:
        """'Trust 0.5' for the compared feature (or any key)."""
        key = key or self.compare_key
        value = self.values[key] if value is None else value
        return f"{SLIDER[key].label} {value:g}"


_RUN_IDS = itertools.count()


EVENT_STREAM = 0xE7E  # spawn key of the generator that picks schools for the trainer's events


class TrainerModel(NLCModel):
    """An NLCModel for the trainer app: steps a twin along, and is safe to act on while it plays.

    The twin has the same seed and every setting the same except one
    (``settings.compare_key``); events the trainer triggers happen to both,
    in the same school, so the two runs differ only by that feature.  A lock
    keeps a step, an event and a drawing of the state from interleaving (the
    app plays the model in a thread while buttons act on it).
    """

    def __init__(self, settings: Settings | Callable[[], Settings] | None = None):
        if callable(settings):  # the app passes a getter, so Mesa's Reset sees the current settings
            settings = settings()
        self.settings = settings if settings is not None else Settings()
        super().__init__(self.settings.scenario(), seed=self.settings.seed)
        self.lock = threading.RLock()
        self.twin = NLCModel(self.settings.twin_scenario(), seed=self.settings.seed)
        # Schools for the trainer's events are drawn apart from both runs' streams, so that an
        # event leaves the two runs differing in the compared feature only.
        self.event_rng = np.random.default_rng(np.random.SeedSequence(self.settings.seed, spawn_key=(EVENT_STREAM,)))
        self.run_id = next(_RUN_IDS)  # views redraw when the run or its number of changes differs
        self.changes = 0  # steps and events so far

    @property
    def weeks(self) -> int:
        return self.scenario.weeks

    def step(self) -> None:
        """One week for the model and its twin; the run stops at the scenario's length."""
        with self.lock:
            if self.week >= self.weeks:
                self.running = False
                return
            super().step()
            self.twin.step()
            self.changes += 1
            self.running = self.week < self.weeks

    # -- events a trainer triggers: both runs, same school -------------------
    def _school_or_random(self, school: int | None, with_broker: bool = False) -> int | None:
        """The school given, or one drawn at random (with the events' own generator) from those in
        the network (``with_broker``: those with a broker left, where any has one)."""
        if school is not None:
            return school
        st = self.state
        live = np.flatnonzero(st.school_alive)
        if with_broker:
            brokered = np.intersect1d(live, st.school[st.alive & st.is_broker])
            live = brokered if brokered.size else live
        return int(self.event_rng.choice(live)) if live.size else None

    def _refuse(self, kind: str, why: str) -> None:
        """Log, in both runs, an event the trainer asked for that cannot happen, and why."""
        for model in (self, self.twin):
            model.event_log.append({"week": model.week, "kind": kind, "skipped": why})
        self.changes += 1

    def _both(self, action: str, school: int | None = None, **kw) -> None:
        """Apply one NLCModel action to this run and, where the school exists there too, the twin."""
        with self.lock:
            if self.week >= self.weeks:  # the run is over: nothing more happens in it
                self._refuse(action, "the run has ended")
                return
            args = {} if action in ("cut_funding", "school_joins") else {"school": school}
            getattr(NLCModel, action)(self, **args, **kw)
            twin_st = self.twin.state
            if school is None or (school < twin_st.school_alive.size and twin_st.school_alive[school]):
                getattr(NLCModel, action)(self.twin, **args, **kw)
            self.changes += 1

    def cut_funding(self, network: int | None = None) -> None:
        """Funding stops now, in this run and its twin."""
        self._both("cut_funding", network=network)

    def head_leaves(self, school: int | None = None) -> None:
        """A head teacher leaves (a random school unless given); the same school in the twin."""
        with self.lock:
            self._both("head_leaves", self._school_or_random(school))

    def broker_leaves(self, school: int | None = None) -> None:
        """A broker leaves (a random school unless given); the same school in the twin."""
        with self.lock:
            self._both("broker_leaves", self._school_or_random(school, with_broker=True))

    def school_joins(self, network: int = 0) -> None:
        """A new school joins, in this run and its twin (while the view has room: MAX_SCHOOLS)."""
        with self.lock:
            if np.count_nonzero(self.state.school_alive) >= MAX_SCHOOLS:
                self._refuse("school_joins", f"the view holds at most {MAX_SCHOOLS} schools")
                return
            self._both("school_joins", network=network)

    def school_leaves(self, school: int | None = None) -> None:
        """A school leaves (a random one unless given); the same school in the twin."""
        with self.lock:
            self._both("school_leaves", self._school_or_random(school))


def presets_for_picker() -> list[str]:
    """The presets a trainer can pick, baseline first; one that the app would run exactly as an
    earlier one (england, cut down to one network, is the baseline) is left out."""
    shown: dict[str, dict] = {}
    for name in sorted(preset_names(), key=lambda n: (n != "baseline", n)):
        data = _display_data(name)[0]
        data.pop("meta", None)
        if data not in shown.values():
            shown[name] = data
    return list(shown)
