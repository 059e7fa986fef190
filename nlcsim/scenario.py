"""The one door: every scenario parameter, its default, unit, range and meaning.

A scenario is a TOML file that states only what differs from the defaults
below.  :meth:`Scenario.load` reads it, applies overrides, and validates every
key at once; every problem found is reported in one :class:`ScenarioError`
naming the file, the key, the value and what is allowed.  Nothing in a
scenario file is ever executed: values are plain TOML data.

Examples
--------
>>> from nlcsim import Scenario
>>> s = Scenario.load("baseline", overrides={"trust.initial": 0.8})
>>> s["trust.initial"]
0.8
>>> s.trust.initial
0.8
"""

from __future__ import annotations

import copy
import difflib
import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterable, Mapping

import tomli_w

from .errors import UserError, problems_message

PRESET_DIR = (Path(__file__).parent / "data" / "scenarios").resolve()  # a link to scenarios/ in the repository


@dataclass(frozen=True)
class Param:
    """One scenario key: where it lives, what it means and what it may be."""

    section: str
    key: str
    default: Any
    kind: type
    unit: str
    low: float | None
    high: float | None
    meaning: str
    source: str = ""

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}"

    def allowed(self) -> str:
        if self.kind is bool:
            return "true or false"
        what = "a whole number" if self.kind is int else "a number"
        if self.low is not None and self.high is not None:
            return f"{what} from {_fmt(self.low)} to {_fmt(self.high)}"
        if self.low is not None:
            return f"{what} >= {_fmt(self.low)}"
        return what


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _p(section, key, default, kind, unit, low, high, meaning, source=""):
    return Param(section, key, default, kind, unit, low, high, meaning, source)


# The parameter table.  Order is the order of sections in docs and output.
PARAMS: tuple[Param, ...] = (
    # population and structure
    _p("population", "networks", 1, int, "networks", 1, 5000, "number of networks in the programme", "MODEL-BRIEF figures: 130+ networks in England"),
    _p("population", "schools_per_network", 11, int, "schools", 1, 200, "mean number of schools in each network", "Curriculum Services Canada: mean about 11, range 6-40"),
    _p("population", "network_size_spread", 0.0, float, "coefficient of variation", 0, 2, "spread of network sizes around the mean (0 = all equal); sizes are kept within 6-40 schools when spread > 0", "Curriculum Services Canada: smallest 6, largest 40"),
    _p("population", "teachers_per_school", 17, int, "teachers", 2, 300, "mean number of teachers in each school", "25,000 staff / 1,500 schools; DfE: ~13 primary, ~60 secondary"),
    _p("population", "school_size_spread", 0.3, float, "coefficient of variation", 0, 2, "spread of school sizes around the mean (lognormal)", "DfE workforce figures"),
    _p("population", "within_school_degree", 6.0, float, "ties per teacher", 0, 100, "advice ties drawn per teacher inside their school (half started, half received); draws that repeat a tie merge, so the mean degree is lower: 4.9 at the default in 17-teacher schools, a density of 0.30; at or above teachers_per_school - 1 every school is a complete graph (the docking limit)", "de Jong/Moolenaar: density 0.41-0.86 in teams of 5-13"),
    _p("population", "cross_school_degree", 0.6, float, "ties per teacher", 0, 10, "mean number of ties a teacher has to colleagues in other schools of the network at the start", "seed 004 s5 (school-to-school learning)"),
    _p("population", "brokers_per_school", 1, int, "teachers", 0, 10, "teachers per school who broker across schools (often subject leaders)", "Spillane, Hopkins and Sweet 2015; seed 003 (leadership as brokering)"),
    _p("population", "broker_ties", 4.0, float, "ties per broker", 0, 20, "extra cross-school ties each broker holds", "seed 003 (leadership as cross-cultural brokering)"),
    _p("population", "network_links", 2.0, float, "ties per network", 0, 50, "ties each network's brokers start to brokers of other networks (Poisson); with those other networks start to it, a network holds about twice as many", "seed 004 s6 (network-to-network learning)"),
    # schedule
    _p("schedule", "weeks_per_year", 39, int, "weeks", 1, 52, "school weeks in a year; one step is one school week"),
    _p("schedule", "years", 7, int, "years", 1, 40, "length of the run"),
    _p("schedule", "network_events_per_year", 3, int, "events per year", 0, 39, "network-wide events (launch, joint staff days) a fully funded network holds each year", "seed 001 (high-yield activities: launch events, joint staff days)"),
    # purpose and focus
    _p("purpose", "clarity", 0.6, float, "0-1", 0, 1, "how clear, concrete and shared the network's focus is (0 = diffuse, 1 = one clear shared focus)", "seed 000 (purpose and focus)"),
    _p("purpose", "challenge", 0.5, float, "0-1", 0, 1, "how much the focus asks teachers to reconceptualise practice; drives dissonance in collaboration", "seed 000 (a challenging focus; moderate dissonance)"),
    _p("purpose", "evidence", 0.6, float, "0-1", 0, 1, "how far the focus rests on evidence that it improves pupil learning", "seed 000 (a compelling, evidence-based focus)"),
    # relationships and trust
    _p("trust", "initial", 0.5, float, "0-1", 0, 1, "mean trust on every tie at the start", "seed 000 (relationships; Bryk)"),
    _p("trust", "school_spread", 0.1, float, "trust units (sd)", 0, 0.5, "spread of the baseline trust culture between schools", "seed 000 (relationships)"),
    _p("trust", "build_rate", 0.08, float, "per interaction", 0, 1, "share of the gap to full trust closed by one successful joint-work episode", "seed 001 (collaborative relationships build trust)"),
    _p("trust", "erosion_rate", 0.15, float, "per conflict", 0, 1, "share of trust lost in one unresolved conflict", "seed 000 (too much dissonance breaks relationships)"),
    _p("trust", "decay_rate", 0.01, float, "per week", 0, 0.5, "share of a tie's trust above its floor lost each week the tie is not used (the floor: the school's trust culture between colleagues, 0 across schools)", "MODEL-BRIEF (unused ties decay)"),
    # collaboration depth
    _p("collaboration", "depth", 0.5, float, "0-1", 0, 1, "the network's collaboration norms (0 = storytelling-and-scanning norms, 1 = joint-work norms)", "seed 000 (Little's taxonomy)"),
    _p("collaboration", "contact_rate", 0.9, float, "per week", 0, 1, "weekly chance that an engaged teacher with full time starts a collaborative interaction", "calibrated: about 0.5 interactions per teacher a week while funded (docs/calibration.md)"),
    _p("collaboration", "tie_meeting_rate", 0.0, float, "per tie per week", 0, 1, "weekly chance that each tie between two members meets on its own, besides the partners teachers draw; 1 with contact_rate 0 is the docking limit in which every tie meets every week (docs/calibration.md, Docking)", "Reed-Frost / SI contagion on a graph"),
    # enquiry
    _p("enquiry", "level", 0.5, float, "0-1", 0, 1, "how much collaborative enquiry the network does (questioning, data, research)", "seed 000 (inquiry); seed 001 (enquiry-based practice)"),
    _p("enquiry", "public_rate", 0.03, float, "per week", 0, 1, "weekly chance that an enquiring teacher brings in a piece of public knowledge", "seed 004 (three fields of knowledge)"),
    _p("enquiry", "outside_rate", 0.0, float, "per week", 0, 1, "weekly chance that any teacher meets a piece of public knowledge outside the network's enquiry (courses, reading); shallowly, or for a member deeply with the same chance as in study; the innovation rate p of the Bass model", "Bass 1969; Sultan, Farley and Lehmann 1990"),
    # leadership
    _p("leadership", "distribution", 0.5, float, "0-1", 0, 1, "share of the network leadership functions held outside the head teachers (0 = heads hold all)", "seed 000 (leadership); seed 001 (plan for distributed leadership)"),
    _p("leadership", "co_leaders", 2, int, "seats per network", 1, 10, "seats in each network's co-leading group: heads, or with chance leadership.distribution brokers (at most the number of schools in the smallest network)", "seed 003 (keep the leadership group small)"),
    _p("leadership", "head_overload", 0.5, float, "per extra function", 0, 2, "loss of effectiveness for each extra leadership function one person holds", "seed 000 (a leader-full organisation; one person cannot do it)"),
    # accountability
    _p("accountability", "internal", 0.5, float, "0-1", 0, 1, "internal accountability: use of evidence to judge whether a practice works", "seed 000 (internal accountability)"),
    _p("accountability", "external", 0.3, float, "0-1", 0, 1, "external accountability: transparency and pressure for change", "seed 000 (external accountability)"),
    # capacity building and support
    _p("capacity", "support", 0.5, float, "0-1", 0, 1, "coaching, facilitation and professional development that deepen learning and help enactment", "seed 000 (capacity building and support)"),
    _p("capacity", "base_time", 0.3, float, "share of a week's collaboration slot", 0, 1, "time a teacher has for collaboration without release funding", ""),
    # funding
    _p("funding", "level", 1.0, float, "x programme level", 0, 10, "funding while the programme runs (1 = up to 50,000 pounds a year per network, matched); time bought stops rising at 1.5", "NCSL/DfES press release June 2002"),
    _p("funding", "years", 4.0, float, "years", 0, 40, "years of programme funding before it ends", "seed 004 (a four-year programme)"),
    _p("funding", "after_level", 0.0, float, "x programme level", 0, 10, "funding after the programme funding ends", "seed 003 (funding as a perennial problem)"),
    _p("funding", "release_time", 0.5, float, "share of a week's collaboration slot", 0, 1, "release time bought for every teacher at funding level 1", ""),
    # engagement
    _p("engagement", "cost", 0.35, float, "value units per week", 0, 2, "felt cost of taking part when nobody pays for the time", "MODEL-BRIEF (cost carried by schools after funding)"),
    _p("engagement", "rate", 0.04, float, "per week", 0, 1, "speed at which engagement follows perceived value against cost", ""),
    _p("engagement", "ownership", 0.6, float, "0-1", 0, 1, "weight of shared ownership (held leadership functions) in sustaining engagement", "seed 001 (shared ownership more crucial than money)"),
    _p("engagement", "dormancy", 0.2, float, "0-1", 0, 1, "school engagement below which a school goes dormant", ""),
    # turnover
    _p("turnover", "teacher_rate", 0.11, float, "per year", 0, 0.8, "share of teachers who leave their school each year and are replaced", "NFER: 13.2% (2001), 11.0% (2005), 9.8% (2006)"),
    _p("turnover", "head_rate", 0.10, float, "per year", 0, 0.8, "share of head teachers who leave each year and are replaced", ""),
    # membership
    _p("membership", "inclusive", 0.7, float, "0-1", 0, 1, "how far newcomers are drawn into the network's work (0 = exclusive: only the founders take part)", "seed 003 (inclusive vs exclusive membership)"),
    _p("membership", "pioneer_share", 0.35, float, "0-1", 0, 1, "share of each school's staff who founded the network's work and take part from the start", "seed 003 (networks decline when only the pioneers experience their meaning)"),
    # knowledge
    _p("knowledge", "practitioner_items", 3, int, "items per school", 0, 20, "pieces of tacit craft knowledge each school starts with", "seed 004 (practitioner knowledge)"),
    _p("knowledge", "public_items", 24, int, "items", 0, 500, "pieces of public knowledge (research, outside practice) available to enquiry", "seed 004 (public knowledge)"),
    _p("knowledge", "craft_effect_mean", 0.0, float, "effect size", -1, 1, "mean true effect on pupil learning of practitioner knowledge", "seed 002 (together can make things worse)"),
    _p("knowledge", "effect_sd", 0.3, float, "effect size", 0, 1, "spread of true effects between pieces of knowledge", ""),
    _p("knowledge", "creation_rate", 0.06, float, "per joint-work episode", 0, 1, "chance that a joint-work episode with enquiry co-constructs a new piece of knowledge", "seed 000 (joint work creates new knowledge)"),
    _p("knowledge", "transfer_chance", 1.0, float, "per exchange", 0, 1, "chance that an exchange that is not a conflict passes an item on (1 = every such exchange passes one item); the per-contact transmission chance b of simple contagion", "seed 004 (learning from each other)"),
    _p("knowledge", "slots", 256, int, "items per network", 8, 4096, "working memory of pieces of knowledge a network holds at once (forgotten items free their slot)", ""),
    # pupils
    _p("pupils", "lag_weeks", 39, int, "weeks", 0, 400, "delay between a change in enacted practice and pupil outcomes", "seed 000 (practice -> pupil learning)"),
)

MECHANISMS: tuple[str, ...] = (
    "funding", "events", "partners", "collaboration", "knowledge", "enquiry",
    "learning", "practice", "influence", "trust", "engagement", "leadership",
    "turnover", "pupils",
)
MECHANISM_MEANINGS = {
    "funding": "funding buys release time and network events; after it ends schools carry the cost (off: the start's funding, and its time, last the whole run and the money never ends)",
    "events": "timed events from [[events]] (funding cut, head leaves, school joins ...)",
    "partners": "teachers choose partners inside and across schools by trust, expertise and brokers",
    "collaboration": "each interaction takes one of Little's four types from trust and norms",
    "knowledge": "knowledge passes between partners and joint work co-constructs new knowledge",
    "enquiry": "enquiry brings public knowledge into the network",
    "learning": "learning deepens from shallow to deep to profound",
    "practice": "classroom practice moves toward what a teacher has learned deeply",
    "influence": "practice is pulled toward trusted colleagues' practice (Friedkin-Johnsen)",
    "trust": "successful joint work builds trust, conflict erodes it, unused ties decay",
    "engagement": "engagement follows perceived value against cost",
    "leadership": "leadership functions are refilled after leavers according to distribution",
    "turnover": "teachers and heads leave and are replaced; newcomers are drawn in",
    "pupils": "pupil outcomes follow enacted practice with a lag",
}

EVENT_KINDS: dict[str, str] = {
    "funding_change": "set funding to `level` (x programme level) from this week",
    "funding_cut": "funding stops from this week (for every network: funding ends here, and survival is measured from this week)",
    "head_leaves": "the head teacher of `school` leaves (random school if not given)",
    "broker_leaves": "a broker of `school` leaves (random school if not given)",
    "school_joins": "a new school joins `network` (network 0 if not given)",
    "school_leaves": "`school` leaves its network (random school if not given)",
}
_EVENT_FIELDS = {"week", "kind", "school", "network", "level"}
META_KEYS = {"name": "a short title", "story": "the one-line story this scenario tells"}
OVERRIDE = " (an override, not in the file)"  # ends a problem with a value given as an override


def events_text(events: Iterable[Mapping[str, Any]]) -> str:
    """Scheduled events in words, in order: 'funding_cut at week 78; head_leaves (school 2) at week 40'."""
    parts = []
    for e in sorted(events, key=lambda e: e["week"]):
        where = ", ".join(f"{k} {e[k]:g}" if k == "level" else f"{k} {e[k]}"
                          for k in ("network", "school", "level") if e.get(k) is not None)
        parts.append(f"{e['kind']}{f' ({where})' if where else ''} at week {e['week']}")
    return "; ".join(parts) or "none"


PARAM_BY_NAME: dict[str, Param] = {p.name: p for p in PARAMS}  # key ("section.key") -> its Param
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(p.section for p in PARAMS))


class ScenarioError(ValueError):
    """A scenario could not be loaded; the message lists every problem."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(problems_message(source, problems, "scenario"))


def suggest(name: str, candidates: Iterable[str]) -> str:
    """A hint, `` (did you mean 'x'?)``, naming the closest of ``candidates`` to a misspelt ``name``; "" if none is close."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def check_value(param: Param, value: Any) -> str | None:
    """None if ``value`` is allowed for ``param``; else the problem, naming the key, the value and what is allowed."""
    kind = param.kind
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok and value != value:  # NaN
            ok = False
    if ok and kind is not bool:
        if param.low is not None and value < param.low:
            ok = False
        if param.high is not None and value > param.high:
            ok = False
    if ok:
        return None
    return f"{param.name} = {value!r}: must be {param.allowed()} ({param.unit}; {param.meaning})"


_DECIMAL = re.compile(r"^[+-]?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?$")


def parse_override_value(text: str) -> Any:
    """Read a command-line value as TOML data (never as code): 0.8, 3, true, "x"."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        # numbers TOML spells otherwise (.5, 5.) are still numbers on a command line
        return float(text) if _DECIMAL.match(text) else text


def override_text(value: Any) -> str:
    """A value as ``--set`` reads it back (:func:`parse_override_value`) to the same value: TOML."""
    return tomli_w.dumps({"v": value})[len("v = "):].strip()


def flat_overrides(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Overrides as ``{"section.key": value}``; nested tables, which TOML makes of unquoted
    dotted keys (``{ trust.initial = 0.8 }``), are joined into dotted names."""
    out: dict[str, Any] = {}
    for name, v in (overrides or {}).items():
        if isinstance(v, Mapping):
            out.update({f"{name}.{k}": x for k, x in flat_overrides(v).items()})
        else:
            out[name] = v
    return out


def parse_sets(items: Iterable[str] | None) -> dict:
    """``["trust.initial=0.8", ...]`` (command-line ``--set``) -> overrides mapping."""
    out = {}
    for item in items or []:
        if "=" not in item:
            raise UserError(f"--set {item!r}: write KEY=VALUE, for example --set trust.initial=0.8")
        key, value = item.split("=", 1)
        out[key.strip()] = parse_override_value(value.strip())
    return out


def is_number(value: Any) -> bool:
    """A finite int or float, not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def resolve_near(ref: str, folder: Path) -> str:
    """A scenario named in a file that lives in ``folder`` (an experiment, a pattern): a
    relative path (``.toml``, or with a folder in it) is read from ``folder`` when the file
    is there; anything else as :func:`resolve_path` reads it."""
    p = Path(ref)
    if (p.suffix == ".toml" or len(p.parts) > 1) and not p.is_absolute() and (folder / p).is_file():
        return str(folder / p)
    return ref


def resolve_path(name_or_path: str | Path) -> Path:
    """A preset name (``baseline``) or a path to a TOML file.

    A bare name is a preset whenever there is one of that name, whatever the
    current folder holds; a file of the same name is read as ``./name``.
    """
    p = Path(name_or_path)
    if p.suffix == ".toml" or len(p.parts) > 1:
        return p
    candidate = PRESET_DIR / f"{name_or_path}.toml"
    return candidate if candidate.exists() else p


class Scenario:
    """A validated scenario: every parameter resolved, events checked.

    Read values as ``scenario["trust.initial"]`` or ``scenario.trust.initial``.
    """

    def __init__(self, values: Mapping[str, Any], events: list[dict], mechanisms: Mapping[str, bool],
                 meta: Mapping[str, str] | None = None, source: str = "<scenario>"):
        self._values = dict(values)
        self._mechanisms = dict(mechanisms)
        self.events = [dict(e) for e in events]
        self.meta = dict(meta or {})
        self.source = source
        for section in SECTIONS:
            ns = SimpleNamespace(**{p.key: self._values[p.name] for p in PARAMS if p.section == section})
            setattr(self, section, ns)
        self.mechanisms = SimpleNamespace(**self._mechanisms)

    # -- construction ---------------------------------------------------
    @classmethod
    def load(cls, name_or_path: str | Path | "Scenario" = "baseline",
             overrides: Mapping[str, Any] | None = None) -> "Scenario":
        """Load a preset by name or a TOML file by path, then apply overrides."""
        if isinstance(name_or_path, Scenario):
            return name_or_path.with_overrides(overrides) if overrides else name_or_path
        path = resolve_path(name_or_path)
        source = str(name_or_path) if path == Path(name_or_path) else str(path)
        if not path.exists():
            names = ", ".join(preset_names()) or "none"
            raise ScenarioError(source, [f"no such scenario file or preset; presets are: {names}"])
        if path.is_dir():
            raise ScenarioError(source, ["this is a folder; give a scenario file (.toml) or a preset name"])
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as err:
            raise ScenarioError(source, [f"not valid TOML: {err}"]) from None
        except UnicodeDecodeError:
            raise ScenarioError(source, ["not valid TOML: the file is not UTF-8 text"]) from None
        except OSError as err:
            raise ScenarioError(source, [f"cannot be read: {err.strerror or err}"]) from None
        return cls.from_dict(data, source=source, overrides=overrides)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<dict>",
                  overrides: Mapping[str, Any] | None = None) -> "Scenario":
        """Validate nested TOML-like data; report every problem at once."""
        problems: list[str] = []
        values = {p.name: p.default for p in PARAMS}
        mechanisms = {m: True for m in MECHANISMS}
        events: list[dict] = []
        meta: dict[str, str] = {}
        if not isinstance(data, Mapping):
            raise ScenarioError(source, ["the scenario must be a table of sections"])
        for section, body in data.items():
            if section == "events":
                events = _check_events(body, problems)
                continue
            if section == "meta":
                if not isinstance(body, Mapping):
                    problems.append("[meta] must be a table")
                    continue
                for k, v in body.items():
                    if k not in META_KEYS:
                        problems.append(f"unknown key 'meta.{k}'{suggest(k, META_KEYS)}: allowed are {', '.join(META_KEYS)}")
                    elif not isinstance(v, str):
                        problems.append(f"meta.{k} = {v!r}: must be text ({META_KEYS[k]})")
                    else:
                        meta[k] = v
                continue
            if section == "mechanisms":
                if not isinstance(body, Mapping):
                    problems.append("[mechanisms] must be a table of true/false switches")
                    continue
                for k, v in body.items():
                    if k not in mechanisms:
                        problems.append(f"unknown key 'mechanisms.{k}'{suggest(k, MECHANISMS)}: mechanisms are {', '.join(MECHANISMS)}")
                    elif not isinstance(v, bool):
                        problems.append(f"mechanisms.{k} = {v!r}: must be true or false ({MECHANISM_MEANINGS[k]})")
                    else:
                        mechanisms[k] = v
                continue
            if section not in SECTIONS:
                allowed = ", ".join((*SECTIONS, "mechanisms", "events", "meta"))
                problems.append(f"unknown section [{section}]{suggest(section, (*SECTIONS, 'mechanisms', 'events', 'meta'))}: sections are {allowed}")
                continue
            if not isinstance(body, Mapping):
                problems.append(f"[{section}] must be a table, got {body!r}")
                continue
            for k, v in body.items():
                name = f"{section}.{k}"
                param = PARAM_BY_NAME.get(name)
                if param is None:
                    keys = [p.key for p in PARAMS if p.section == section]
                    problems.append(f"unknown key '{name}'{suggest(k, keys)}: keys in [{section}] are {', '.join(keys)}")
                    continue
                err = check_value(param, v)
                if err:
                    problems.append(err)
                else:
                    values[name] = float(v) if param.kind is float else v
        for name, v in flat_overrides(overrides).items():
            if name.startswith("mechanisms."):
                m = name.split(".", 1)[1]
                if m not in mechanisms:
                    problems.append(f"unknown key '{name}'{suggest(m, MECHANISMS)}: mechanisms are "
                                    f"{', '.join(MECHANISMS)}{OVERRIDE}")
                elif not isinstance(v, bool):
                    problems.append(f"{name} = {v!r}: must be true or false{OVERRIDE}")
                else:
                    mechanisms[m] = v
                continue
            param = PARAM_BY_NAME.get(name)
            if param is None:
                problems.append(f"unknown key '{name}'{suggest(name, PARAM_BY_NAME)}{OVERRIDE}")
                continue
            err = check_value(param, v)
            if err:
                problems.append(err + OVERRIDE)
            else:
                values[name] = float(v) if param.kind is float else v
        _check_consistency(values, events, problems)
        if problems:
            raise ScenarioError(source, problems)
        return cls(values, events, mechanisms, meta, source)

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> "Scenario":
        """A new scenario with some keys changed, validated the same way."""
        data = self.to_dict()
        return Scenario.from_dict(data, source=self.source, overrides=overrides)

    # -- reading ----------------------------------------------------------
    def __getitem__(self, name: str) -> Any:
        if name.startswith("mechanisms."):
            return self._mechanisms[name.split(".", 1)[1]]
        return self._values[name]

    @property
    def name(self) -> str:
        return self.meta.get("name") or Path(self.source).stem

    def values(self) -> dict[str, Any]:
        """Flat mapping ``{"trust.initial": 0.5, ...}`` of every parameter."""
        return dict(self._values)

    def flat(self) -> dict[str, Any]:
        """Every parameter and mechanism switch, flat (for tables and diffs)."""
        out = dict(self._values)
        out.update({f"mechanisms.{m}": v for m, v in self._mechanisms.items()})
        out["events"] = events_text(self.events)
        return out

    def to_dict(self) -> dict[str, Any]:
        """The fully resolved scenario as nested data (round-trips through TOML)."""
        out: dict[str, Any] = {}
        if self.meta:
            out["meta"] = dict(self.meta)
        for p in PARAMS:
            out.setdefault(p.section, {})[p.key] = self._values[p.name]
        out["mechanisms"] = dict(self._mechanisms)
        if self.events:
            out["events"] = copy.deepcopy(self.events)
        return out

    def to_toml(self) -> str:
        return tomli_w.dumps(self.to_dict())

    def diff(self, other: "Scenario") -> dict[str, tuple[Any, Any]]:
        """Keys whose values differ: ``{key: (self_value, other_value)}``."""
        a, b = self.flat(), other.flat()
        return {k: (a[k], b[k]) for k in a if a[k] != b[k]}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Scenario) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"Scenario({self.name!r})"

    # -- derived quantities used by the model -----------------------------
    @property
    def weeks(self) -> int:
        return int(self.schedule.years * self.schedule.weeks_per_year)

    @property
    def funding_end_week(self) -> int:
        """The end of ``funding.years``: from this week ``funding.after_level`` replaces ``funding.level``."""
        return int(round(self.funding.years * self.schedule.weeks_per_year))

    @property
    def money_end_week(self) -> int:
        """The week the programme's money ends, from which the outcomes measure survival
        (``weeks_to_dormant``, ``sustainability``): the end of ``funding.years``, or an
        earlier programme-wide ``funding_cut`` event.  With ``mechanisms.funding`` off
        the start's funding lasts and the money never ends: the run's length."""
        if not self.mechanisms.funding:
            return self.weeks
        cuts = [e["week"] for e in self.events if ends_the_money(e)]
        return int(min([self.funding_end_week, *cuts]))


def ends_the_money(event: Mapping[str, Any]) -> bool:
    """Whether an event ends the programme's money, from which survival is measured:
    a ``funding_cut`` for every network (one without a ``network``)."""
    return event["kind"] == "funding_cut" and event.get("network") is None


def _check_events(body: Any, problems: list[str]) -> list[dict]:
    if not isinstance(body, list):
        problems.append("events must be written as [[events]] tables")
        return []
    events = []
    for i, ev in enumerate(body):
        where = f"events[{i}]"
        if not isinstance(ev, Mapping):
            problems.append(f"{where} must be a table with week and kind")
            continue
        bad = False
        for k in ev:
            if k not in _EVENT_FIELDS:
                problems.append(f"unknown key '{where}.{k}'{suggest(k, _EVENT_FIELDS)}: event keys are {', '.join(sorted(_EVENT_FIELDS))}")
                bad = True
        kind = ev.get("kind")
        if kind not in EVENT_KINDS:
            problems.append(f"{where}.kind = {kind!r}: must be one of {', '.join(EVENT_KINDS)}")
            bad = True
        week = ev.get("week")
        if not (isinstance(week, int) and not isinstance(week, bool) and week >= 0):
            problems.append(f"{where}.week = {week!r}: must be a whole number of weeks >= 0")
            bad = True
        for k in ("school", "network"):
            if k in ev and not (isinstance(ev[k], int) and not isinstance(ev[k], bool) and ev[k] >= 0):
                problems.append(f"{where}.{k} = {ev[k]!r}: must be a whole number >= 0 (an index)")
                bad = True
        if kind == "funding_change":
            lvl = ev.get("level")
            if not (isinstance(lvl, (int, float)) and not isinstance(lvl, bool) and 0 <= lvl <= 10):
                problems.append(f"{where}.level = {lvl!r}: funding_change needs a level, a number from 0 to 10")
                bad = True
        elif "level" in ev:
            problems.append(f"{where}.level: only funding_change takes a level")
            bad = True
        if not bad:
            events.append(dict(ev))
    return sorted(events, key=lambda e: e["week"])


def _check_consistency(values: dict, events: list[dict], problems: list[str]) -> None:
    weeks = values["schedule.years"] * values["schedule.weeks_per_year"]
    for i, ev in enumerate(events):
        if ev["week"] >= weeks:
            problems.append(f"events[{i}].week = {ev['week']}: must be below the run length of {weeks} weeks (schedule.years x schedule.weeks_per_year)")
    n_schools = values["population.networks"] * values["population.schools_per_network"]
    for i, ev in enumerate(events):
        if "network" in ev and ev["network"] >= values["population.networks"]:
            problems.append(f"events[{i}].network = {ev['network']}: must be below population.networks = {values['population.networks']}")
        if "school" in ev and ev["school"] >= n_schools and values["population.network_size_spread"] == 0:
            problems.append(f"events[{i}].school = {ev['school']}: must be below the number of schools, {n_schools}")
    if values["population.networks"] * values["population.schools_per_network"] * values["population.teachers_per_school"] > 2_000_000:
        problems.append("population: networks x schools_per_network x teachers_per_school must be at most 2,000,000 teachers")


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml")) if PRESET_DIR.is_dir() else []


def presets() -> dict[str, str]:
    """Preset name -> its one-line story (``meta.story``)."""
    out = {}
    for name in preset_names():
        try:
            out[name] = Scenario.load(name).meta.get("story", "")
        except ScenarioError as err:  # a broken preset is shown, not hidden
            out[name] = f"(invalid: {err.problems[0]})"
    return out


def parameter_table_markdown() -> str:
    """The parameter table for docs/ODD.md, generated from PARAMS."""
    rows = ["| key | default | unit | allowed | meaning | source |", "|---|---|---|---|---|---|"]
    for p in PARAMS:
        rows.append(f"| `{p.name}` | {p.default} | {p.unit} | {p.allowed()} | {p.meaning} | {p.source} |")
    for m in MECHANISMS:
        rows.append(f"| `mechanisms.{m}` | true | switch | true or false | {MECHANISM_MEANINGS[m]} | |")
    return "\n".join(rows)
