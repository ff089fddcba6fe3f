"""Scenarios: a named, described timeline of market regimes and events, loaded from a TOML file.

The shipped scenarios live in the checkout's top-level ``scenarios/`` folder (installed as the data
package ``pf_mock_scenarios``); ``pf-mock scenarios`` lists them. A scenario file looks like this::

    name = "flash_crash"                      # required: a short name
    description = "BTC-PERP drops 8% ..."     # required: one line saying exactly what happens
    seed = 7                                  # optional: reset the whole exchange with this seed first

    [markets.BTC-PERP]                        # one table per market (any catalog symbol, or its base: "btc")
    regime = { volatility_annual = 0.25 }     # optional: set at load (the catalog's regime, plus these)

    [[markets.BTC-PERP.events]]               # optional: events, at seconds after the load
    at_seconds = 300
    type = "jump"                             # the mid moves at once ...
    move_bps = -800                           # ... by this many bps (-800 = down 8%)

    [[markets.BTC-PERP.events]]
    at_seconds = 300
    type = "regime"                           # the regime changes ...
    spread_bps = 20                           # ... in these fields (any of Regime.EDITABLE) ...
    depth_usd = 500
    duration_seconds = 120                    # ... optionally for this long, then they are put back

Regime fields are those ``POST /_mock/markets/{symbol}/regime`` takes, with the same ranges (the check
is shared: ``ranges.regime_problem``); a jump's ``move_bps`` is checked like the jump route's. A
``regime`` event with ``duration_seconds`` restores, when it ends, the values its fields had the moment
it began; that is how spread blow-outs and liquidity holes are written. ``at_seconds`` (zero or more) and
``duration_seconds`` (above zero) are at most a year (31,536,000 s). A scheduled jump that would take
the mid out of its band (``ranges.mid_band``: 1/10,000 to 10,000 times its initial mid) is skipped. Events at the same instant run
in the order they are written; ``at_seconds = 0`` runs at load.

Loading is all or nothing: the whole document is checked first, and a mistake raises
``InvalidScenario`` naming the file, the field as a dotted path with 0-based indexes
(``markets.BTC-PERP.events[2].move_bps``) and what was expected; nothing is applied. Applying a
scenario replaces the one loaded before: that one's pending events are dropped, and every market either
of them names starts again from its catalog regime (plus the new scenario's ``regime`` table). Agents,
orders and prices are left alone, unless ``seed`` is given, which resets the whole exchange first.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .catalog import Catalog, UnknownMarket, load_catalog
from .clock import to_ms
from .errors import ApiError, invalid_request, is_number, is_whole
from .exchange import Exchange
from .market import Market
from .model import Regime
from .ranges import MOVE_BPS_EXPECTED, band_problem, move_problem, regime_expectation, regime_problem

SHIPPED_PACKAGE = "pf_mock_scenarios"       # scenarios/ once installed (see pyproject.toml)
REPO_FOLDER = Path(__file__).resolve().parent.parent / "scenarios"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_SCENARIO_SECONDS = 365 * 24 * 3600     # an event's at_seconds and a regime event's duration: a year at most
TOP_FIELDS = ("name", "description", "seed", "markets")
MARKET_FIELDS = ("regime", "events")
EVENT_TYPES = ("jump", "regime")


class ScenarioError(ApiError):
    """A scenario that cannot be loaded; ``source`` is the file (or "inline scenario")."""

    def __init__(self, status: int, code: str, message: str, source: str, **detail):
        super().__init__(status, code, message, **detail)
        self.source = source


class ScenarioNotFound(ScenarioError):
    def __init__(self, name: str, message: str):
        super().__init__(404, "scenario_not_found", message, source=name, name=name)


class InvalidScenario(ScenarioError):
    """A mistake in a scenario: the message starts with the file and the field's dotted path."""

    def __init__(self, source: str, path: str | None, problem: str):
        where = f"{source}: {path}: " if path else f"{source}: "
        detail = {"field": path} if path else {}
        super().__init__(400, "invalid_scenario", where + problem, source=source, **detail)
        self.field = path


# ---- what a scenario is ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Jump:
    at_seconds: float
    move_bps: float


@dataclass(frozen=True)
class RegimeChange:
    at_seconds: float
    changes: dict[str, float]
    duration_seconds: float | None = None


@dataclass(frozen=True)
class MarketPlan:
    symbol: str                                 # canonical catalog symbol
    regime: dict[str, float]                    # set at load, over the catalog's regime
    events: tuple[Jump | RegimeChange, ...]


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    source: str
    seed: int | None = None
    markets: tuple[MarketPlan, ...] = ()


# ---- finding and reading --------------------------------------------------------------------------
def shipped_folder():
    """Where the shipped scenarios are: the checkout's ``scenarios/`` when running from a checkout,
    else the installed data package."""
    if REPO_FOLDER.is_dir() and (REPO_FOLDER.parent / "pyproject.toml").is_file():
        return REPO_FOLDER
    try:
        return resources.files(SHIPPED_PACKAGE)
    except ModuleNotFoundError:
        return REPO_FOLDER


def shipped_names() -> list[str]:
    return sorted(entry.name[:-len(".toml")] for entry in _toml_files(shipped_folder()))


def list_scenarios() -> list[Scenario]:
    """Every shipped scenario, parsed (so a broken one is noticed here too), by name."""
    return [load_named(name) for name in shipped_names()]


def load_named(name: str) -> Scenario:
    """A shipped scenario by name (never a path: this is what the HTTP route may load)."""
    if not (isinstance(name, str) and NAME_PATTERN.match(name)) or name not in shipped_names():
        raise ScenarioNotFound(str(name), f"No scenario named {name!r}; the shipped ones are "
                                          f"{', '.join(shipped_names())}.")
    entry = shipped_folder().joinpath(f"{name}.toml")
    return _parse_text(entry.read_text(encoding="utf-8"), f"scenarios/{name}.toml")


def asked(name: str | None, document: Any) -> Scenario:
    """What ``POST /_mock/scenario`` asks for: exactly one of a shipped scenario's ``name`` and an inline
    ``document``."""
    if (name is None) == (document is None):
        raise invalid_request("Give exactly one of name (a shipped scenario) and scenario (an inline document).",
                              field="name")
    return load_named(name) if name is not None else parse_scenario(document, "inline scenario")


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A shipped scenario by name (``flash_crash``), or any scenario file by path (``my.toml``)."""
    text = str(name_or_path)
    if not (text.endswith(".toml") or "/" in text or "\\" in text):
        return load_named(text)
    path = Path(text)
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioNotFound(text, f"Cannot read the scenario file {text}: {exc}.") from None
    return _parse_text(content, text)


def _toml_files(folder) -> list:
    try:
        return [entry for entry in folder.iterdir() if entry.name.endswith(".toml") and entry.is_file()]
    except (FileNotFoundError, NotADirectoryError):
        return []


def _parse_text(text: str, source: str) -> Scenario:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidScenario(source, None, f"not valid TOML: {exc}.") from None
    return parse_scenario(document, source)


# ---- checking -------------------------------------------------------------------------------------
def parse_scenario(document: Any, source: str = "inline scenario", catalog: Catalog | None = None) -> Scenario:
    """Check a whole scenario document (a TOML file's tables or a JSON object) and build it.

    Raises ``InvalidScenario`` at the first mistake, naming ``source``, the field and what was expected.
    """
    catalog = catalog or load_catalog()

    def fail(path: str | None, expected: str, *got) -> InvalidScenario:
        return InvalidScenario(source, path, expected + (f"; got {_show(got[0])}" if got else "") + ".")

    if not isinstance(document, dict):
        raise fail(None, "expected a table (a JSON object) at the top", document)
    _no_unknown(document, TOP_FIELDS, "", fail)
    name = document.get("name")
    if not (isinstance(name, str) and NAME_PATTERN.match(name)):
        raise fail("name", "expected 1-64 of [A-Za-z0-9_-]", *_given(document, "name"))
    description = document.get("description")
    if not (isinstance(description, str) and description.strip()):
        raise fail("description", "expected a one-line text saying what the scenario does",
                   *_given(document, "description"))
    seed = document.get("seed")
    if seed is not None and not (is_whole(seed) and seed >= 0):
        raise fail("seed", "expected a whole number, zero or more", seed)
    markets = document.get("markets", {})
    if not isinstance(markets, dict):
        raise fail("markets", "expected a table of markets keyed by symbol", markets)
    plans: dict[str, MarketPlan] = {}
    for key, body in markets.items():
        path = f"markets.{key}"
        try:
            symbol = catalog.resolve(key).symbol
        except UnknownMarket:
            raise fail(path, f"expected a market symbol from the catalog, such as BTC-PERP; {key!r} is not "
                             f"one") from None
        if symbol in plans:
            raise fail(path, f"expected each market once; {symbol} is already named")
        plans[symbol] = _parse_market(symbol, body, path, fail)
    return Scenario(name=name, description=description.strip(), source=source, seed=seed,
                    markets=tuple(plans.values()))


def _parse_market(symbol: str, body: Any, path: str, fail) -> MarketPlan:
    if not isinstance(body, dict):
        raise fail(path, "expected a table with regime and/or events", body)
    _no_unknown(body, MARKET_FIELDS, path + ".", fail)
    regime = body.get("regime", {})
    if not isinstance(regime, dict):
        raise fail(f"{path}.regime", "expected a table of regime fields", regime)
    changes = _regime_fields(regime, f"{path}.regime", fail)
    events = body.get("events", [])
    if not isinstance(events, list):
        raise fail(f"{path}.events", "expected a list of events ([[markets.SYMBOL.events]] tables)", events)
    return MarketPlan(symbol, changes, tuple(_parse_event(event, f"{path}.events[{i}]", fail)
                                             for i, event in enumerate(events)))


def _parse_event(event: Any, path: str, fail) -> Jump | RegimeChange:
    if not isinstance(event, dict):
        raise fail(path, "expected a table with at_seconds and type", event)
    if "at_seconds" not in event:
        raise fail(f"{path}.at_seconds", "expected the event's time in seconds after the load (a number, zero "
                                         "or more); it is missing")
    at = event["at_seconds"]
    if not is_number(at) or at < 0:
        raise fail(f"{path}.at_seconds", "expected seconds after the load: a number, zero or more", at)
    if at > MAX_SCENARIO_SECONDS:
        raise fail(f"{path}.at_seconds", f"expected at most {MAX_SCENARIO_SECONDS:,} seconds (a year) after the load",
                   at)
    kind = event.get("type")
    if kind not in EVENT_TYPES:
        raise fail(f"{path}.type", f"expected one of {', '.join(repr(t) for t in EVENT_TYPES)}",
                   *_given(event, "type"))
    if kind == "jump":
        _no_unknown(event, ("at_seconds", "type", "move_bps"), path + ".", fail)
        if "move_bps" not in event:
            raise fail(f"{path}.move_bps", "expected the jump's size in bps; it is missing")
        if move_problem(event["move_bps"]):
            raise fail(f"{path}.move_bps", f"expected {MOVE_BPS_EXPECTED}", event["move_bps"])
        return Jump(float(at), float(event["move_bps"]))
    fields = {k: v for k, v in event.items() if k not in ("at_seconds", "type", "duration_seconds")}
    if not fields:
        raise fail(path, f"expected at least one regime field ({', '.join(Regime.EDITABLE)})")
    duration = event.get("duration_seconds")
    if duration is not None and not (is_number(duration) and duration > 0):
        raise fail(f"{path}.duration_seconds", "expected a number of seconds above 0", duration)
    if duration is not None and duration > MAX_SCENARIO_SECONDS:
        raise fail(f"{path}.duration_seconds", f"expected at most {MAX_SCENARIO_SECONDS:,} seconds (a year)", duration)
    changes = _regime_fields(fields, path, fail)
    return RegimeChange(float(at), changes, None if duration is None else float(duration))


def _regime_fields(fields: dict, path: str, fail) -> dict[str, float]:
    for key, value in fields.items():
        if key not in Regime.EDITABLE:
            raise fail(f"{path}.{key}", f"expected a regime field ({', '.join(Regime.EDITABLE)}); {key!r} is not one")
        if regime_problem(key, value):
            raise fail(f"{path}.{key}", f"expected {regime_expectation(key)}", value)
    return {key: float(value) for key, value in fields.items()}


def _no_unknown(table: dict, allowed: tuple[str, ...], prefix: str, fail) -> None:
    for key in table:
        if key not in allowed:
            raise fail(prefix + key, f"expected only the fields {', '.join(allowed)}; {key!r} is not one")


def _given(table: dict, key: str) -> tuple:
    return (table[key],) if key in table else ()


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ---- applying -------------------------------------------------------------------------------------
@dataclass
class ScenarioRun:
    """The scenario in force on an exchange; its scheduled events act only while it still is."""

    scenario: Scenario
    loaded_at: float
    reset: bool
    symbols: tuple[str, ...]
    scheduled: list[dict] = field(default_factory=list)     # what was scheduled, for the answer

    def as_dict(self, exchange: Exchange) -> dict:
        regimes = {s: exchange.markets[s].regime.as_dict() for s in self.symbols if s in exchange.markets}
        return {
            "scenario": self.scenario.name,
            "description": self.scenario.description,
            "reset": self.reset,
            "seed": exchange.seed,
            "loaded_at": to_ms(self.loaded_at),
            "regimes": regimes,
            "scheduled": list(self.scheduled),
        }


def apply_scenario(exchange: Exchange, scenario: Scenario) -> ScenarioRun:
    """Put ``scenario`` in force now: reset with its seed if it has one, set its markets' regimes and
    schedule its events on them. The scenario must come from ``parse_scenario`` (already checked)."""
    reset = scenario.seed is not None
    if reset:
        exchange.reset(scenario.seed)
    previous: ScenarioRun | None = exchange.scenario_run
    now = exchange.now()
    symbols = tuple(plan.symbol for plan in scenario.markets)
    run = ScenarioRun(scenario, now, reset, symbols)
    exchange.scenario_run = run         # from here on, the previous scenario's pending events do nothing
    exchange.scenario_name = scenario.name
    planned = {plan.symbol: plan for plan in scenario.markets}
    for symbol in dict.fromkeys(symbols + (previous.symbols if previous else ())):
        market = exchange.market(symbol)
        plan = planned.get(symbol)
        target = market.spec.regime.with_changes(**(plan.regime if plan else {}))
        if market.regime != target:
            exchange.stepper.change_regime(market, target)
    for plan in scenario.markets:
        market = exchange.market(plan.symbol)
        for event in plan.events:
            _schedule(exchange, run, market, event)
    return run


class ScenarioStep:
    """One pending step of a scenario, scheduled on its market: a jump, a regime change, or the end of
    a timed regime change (``restore``: the fields put back). Data, not a closure, so that a snapshot can
    write it down (``state``) and a restore make it again. It acts only while its scenario is still the
    one in force (``exchange.scenario_run is run``); a lapsed step does nothing when its time comes."""

    __slots__ = ("exchange", "run", "kind", "move_bps", "changes", "duration_seconds")

    def __init__(self, exchange: Exchange, run, kind: str, move_bps: float | None = None,
                 changes: dict[str, float] | None = None, duration_seconds: float | None = None):
        self.exchange = exchange
        self.run = run
        self.kind = kind                        # "jump", "regime" or "restore"
        self.move_bps = move_bps
        self.changes = changes or {}
        self.duration_seconds = duration_seconds

    def __call__(self, m: Market) -> None:
        if self.exchange.scenario_run is not self.run:
            return
        if self.kind == "jump":
            if band_problem(m.spec.initial_mid, m.mark, self.move_bps) is None:   # else skipped: see the notes
                m.jump(self.move_bps)
        elif self.kind == "regime":
            before = {key: getattr(m.regime, key) for key in self.changes}
            m.set_regime(m.regime.with_changes(**self.changes))
            if self.duration_seconds is not None:
                m.schedule(m.now + self.duration_seconds, ScenarioStep(self.exchange, self.run, "restore",
                                                                       changes=before))
        else:
            m.set_regime(m.regime.with_changes(**self.changes))

    def state(self) -> dict:
        out = {"type": f"scenario_{self.kind}", "current": self.exchange.scenario_run is self.run}
        if self.kind == "jump":
            out["move_bps"] = self.move_bps
        else:
            out["changes"] = dict(self.changes)
        if self.kind == "regime":
            out["duration_seconds"] = self.duration_seconds
        return out


def scheduled_entry(symbol: str, loaded_at: float, event: Jump | RegimeChange) -> dict:
    """What ``POST /_mock/scenario`` answers for one scheduled event."""
    when = loaded_at + event.at_seconds
    entry: dict = {"symbol": symbol, "at": to_ms(when), "at_seconds": event.at_seconds}
    if isinstance(event, Jump):
        entry.update(type="jump", move_bps=event.move_bps)
    else:
        entry.update(type="regime", changes=dict(event.changes), duration_seconds=event.duration_seconds)
        if event.duration_seconds is not None:
            entry["restore_at"] = to_ms(when + event.duration_seconds)
    return entry


def _schedule(exchange: Exchange, run: ScenarioRun, market: Market, event: Jump | RegimeChange) -> None:
    when = run.loaded_at + event.at_seconds
    if isinstance(event, Jump):
        action = ScenarioStep(exchange, run, "jump", move_bps=event.move_bps)
    else:
        action = ScenarioStep(exchange, run, "regime", changes=dict(event.changes),
                              duration_seconds=event.duration_seconds)
    run.scheduled.append(scheduled_entry(market.symbol, run.loaded_at, event))
    if event.at_seconds <= 0:
        action(market)
    else:
        market.schedule(when, action)


def scenario_document(scenario: Scenario) -> dict:
    """A checked ``Scenario`` back as the JSON document ``parse_scenario`` reads."""
    markets = {}
    for plan in scenario.markets:
        events = []
        for event in plan.events:
            if isinstance(event, Jump):
                events.append({"at_seconds": event.at_seconds, "type": "jump", "move_bps": event.move_bps})
            else:
                item = {"at_seconds": event.at_seconds, "type": "regime", **event.changes}
                if event.duration_seconds is not None:
                    item["duration_seconds"] = event.duration_seconds
                events.append(item)
        markets[plan.symbol] = {"regime": dict(plan.regime), "events": events}
    document = {"name": scenario.name, "description": scenario.description, "markets": markets}
    if scenario.seed is not None:
        document["seed"] = scenario.seed
    return document
