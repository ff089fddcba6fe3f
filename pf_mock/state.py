"""Snapshots: the exchange's whole state as one document, and back (no HTTP in here).

``snapshot(exchange)`` writes the state as it stands: each part of a market writes its own
(``Market.state`` calls ``FairValue.state``, ``OrderBook.state``, ``BackgroundLiquidity.state`` and each
scheduled action's ``state()``), and this module writes the exchange's own tables around them (agents,
ledgers, sessions, analytics, the scenario). ``restore(exchange, document)`` checks the document
(``state_document``: every type, range and pattern; then here and in each part's ``from_state``: ids
unique, every reference resolved, the clock and the markets in step), builds every part afresh, and only
then puts them in place, at once: a document refused with ``InvalidState`` (the field and the rule) leaves
the exchange exactly as it was. A restore costs what the state costs: nothing is replayed.

What a snapshot leaves out: caches (rebuilt to the same bits when next needed), and what is the app's
rather than the exchange's (fault rules, the request journal, rate limits). The clock after a restore:
the server keeps its own mode; a manual clock stands at the snapshot's ``now`` (a reset goes back to the
snapshot's start), a realtime one runs on at its own speed from there (and a reset goes back there).
A snapshot holds the agents' API keys: keep it as you would keep them.
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
from typing import Any

import numpy as np

from pydantic import ValidationError

from .agents import Agent
from .analytics import Analytics, GuardrailEvent, _AgentState, _MarketState, _Pending, _SymbolState
from .catalog import UnknownMarket
from .clock import US_PER_S, ManualClock, RealtimeClock
from .closed import CLOSED_KEPT, ClosedOrder, ClosedOrders
from .errors import ApiError, InvalidState
from .exchange import Exchange, ExchangeConfig
from .entry import CancelArrival, QuoteArrival
from .inflight import InFlight
from .guardrails import NAMES as GUARDRAIL_NAMES
from .ledger import fill_columns
from .market import Market
from .messages import QuoteRequest
from .model import Regime
from .ranges import regime_problem
from .scenarios import ScenarioRun, ScenarioStep, parse_scenario, scenario_document, scheduled_entry
from .sessions import ACTIVE, PAUSED, QuoteShape, RefreshTick, Session, Sessions
from .stepping import Stepper
from .state_document import FORMAT, VERSION, VERSIONS_READ, document as declared

_LAPSED = object()      # the run of a scenario step that no longer acts (another scenario was loaded since)


# ---- writing ----------------------------------------------------------------------------------
def snapshot(exchange: Exchange) -> dict:
    """The exchange's state now, as a plain JSON-able document (``state_document.Snapshot``). Every
    market with live business is first brought to the clock's instant (what the next request would do
    first), so the document has one instant and a restore nothing to catch up."""
    clock = exchange.clock
    now = clock.now_us()
    exchange.run_to(now)
    with bulk():
        return _document(exchange, now)


def _document(exchange: Exchange, now: int) -> dict:
    clock = exchange.clock
    manual = clock.mode == "manual"
    return {
        "format": FORMAT,
        "version": VERSION,
        "seed": exchange.seed,
        "config": {"seed": exchange.config.seed, "starting_balance": exchange.config.starting_balance,
                   "strict_auth": exchange.config.strict_auth, "maker_rebate_bps": exchange.config.maker_rebate_bps,
                   "taker_fee_bps": exchange.config.taker_fee_bps, "latency_ms": exchange.config.latency_ms},
        "clock": {"mode": clock.mode, "speed": 0.0 if manual else clock.speed,
                  "start_us": clock._start_us if manual else clock._origin_us, "now_us": now},
        "started_us": exchange.started_us,
        "ran_to_us": exchange.stepper.ran_to,
        "agents": [_agent_state(a) for a in exchange.agents.values()],
        "markets": [m.state() for m in exchange.markets.values()],
        "live": {symbol: list(live) for symbol, live in exchange.sessions.live.items() if live},
        "analytics": _analytics_state(exchange.analytics),
        "scenario": _scenario_state(exchange.scenario_run),
        "inflight": exchange.flight.state(),
    }


def dumps(document: dict) -> bytes:
    """The document as compact JSON bytes (what the route answers and ``--state`` writes)."""
    return json.dumps(document, separators=(",", ":"), allow_nan=False).encode()


def _agent_state(agent: Agent) -> dict:
    order = agent.fill_order
    per_ledger = [ledger.rows() for ledger in order.ledgers]
    rows = [per_ledger[i][j] for i, j in zip(order._ledger_at, order._row_at)]     # the agent's order of fills
    closed = agent.closed_orders
    kept = [closed[closed.dropped + i] for i in range(len(closed.ids))]
    return {
        "agent_id": agent.agent_id, "api_key": agent.api_key, "created_at": agent.created_at,
        "starting_balance": agent.starting_balance, "faucet_claimed": agent.faucet_claimed,
        "ledgers": list(agent.ledgers), "fills": rows,
        "closed_orders": {"dropped": closed.dropped,
                          "orders": [[c.order_id, c.symbol, c.is_buy, c.price, c.size, c.remaining, c.notional, c.tif,
                                      c.created_at, c.closed_at, c.status, c.reason] for c in kept]},
        "sessions": [_session_state(s) for s in agent.sessions.values()],
    }


def _session_state(s: Session) -> dict:
    shape = s.shape
    return {
        "symbol": s.symbol, "status": s.status, "reason": s.reason,
        "guardrails": {name: s.guardrails.get(name) for name in GUARDRAIL_NAMES},
        "auto_refresh": s.auto_refresh, "refresh_interval_seconds": s.refresh_interval_seconds,
        "started_at": s.started_at, "stopped_at": s.stopped_at,
        "shape": None if shape is None else {"bid_bps": shape.bid_bps, "ask_bps": shape.ask_bps,
                                             "bid_usd": shape.bid_usd, "ask_usd": shape.ask_usd, "tif": shape.tif},
        "generation": s.generation, "equity_at_start": s.equity_at_start, "hedge_due": s.hedge_due,
    }


def _analytics_state(analytics: Analytics) -> dict:
    agents = []
    for a in analytics._agents.values():
        symbols = []
        for s in a.symbols.values():
            symbols.append({
                "symbol": s.symbol, "since": s.since, "lots": s.lots, "cash": s.cash, "mark": s.mark,
                "last_t": s.last_t, "inv_integral": s.inv_integral, "max_inv": s.max_inv, "value": s.value,
                "drawdown": [s.drawdown.peak, s.drawdown.worst], "volume": s.volume, "fills": s.fills,
                "maker_fills": s.maker_fills, "taker_fills": s.taker_fills,
                "bid": [s.bid.posted, s.bid.filled, s.bid.fills], "ask": [s.ask.posted, s.ask.filled, s.ask.fills],
                "horizons": [[h.fills, h.notional, h.markout, h.edge] for h in s.horizons],
                "trips": [s.trips.get(name, 0) for name in GUARDRAIL_NAMES],
                "events": [[e.time, e.guardrail, e.detail] for e in s.events],
            })
        agents.append({"agent_id": a.agent_id, "total": a.total, "drawdown": [a.drawdown.peak, a.drawdown.worst],
                       "symbols": symbols})
    markets = [{"symbol": symbol, "holders": list(m.holders),
                "pending": [[[p.due, p.state.agent.agent_id, p.signed_qty, p.mark, p.edge] for p in queue]
                            for queue in m.pending]}
               for symbol, m in analytics._markets.items()]
    return {"agents": agents, "markets": markets}


def _scenario_state(run: ScenarioRun | None) -> dict | None:
    if run is None:
        return None
    return {"document": scenario_document(run.scenario), "loaded_at": run.loaded_at, "reset": run.reset}


# ---- reading ----------------------------------------------------------------------------------
def read(document: Any) -> dict:
    """Check a document (JSON bytes or text, or the parsed object) against the declaration; the checked
    document as plain dicts and lists. Raises ``InvalidState`` naming the field and the rule."""
    if not isinstance(document, (bytes, bytearray, str)):
        try:
            document = json.dumps(document, allow_nan=False)
        except (TypeError, ValueError, RecursionError):
            raise InvalidState("(document)", "must be JSON: finite numbers, string keys") from None
    try:
        return declared().validate_json(document)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    for error in errors:                # what the document is, before what is wrong inside it
        loc = error["loc"]
        if loc == ("format",) or not loc:
            if error["type"] == "json_invalid":
                raise InvalidState("(document)", f"is not JSON ({error['msg']})")
            raise InvalidState("format", f"must be {FORMAT!r}: this is not a pf-mock snapshot")
        if loc == ("version",):
            shown = json.dumps(error.get("input"))[:40]
            raise InvalidState("version", f"version {shown} is not one this pf-mock reads (it reads version "
                                          f"{', '.join(map(str, VERSIONS_READ))})")
    error = errors[0]
    loc = error["loc"]
    if len(loc) > 2 and loc[0] == "markets" and loc[2] in ("synthetic", "replay"):
        loc = loc[:2] + loc[3:]         # the kind of market entry pydantic tried, not a field of the document
    where = ".".join(str(part) for part in loc)
    raise InvalidState(where, error["msg"])


class Stopped(Exception):
    """``build`` was told to stop (the server is stopping) before it was done."""


def restore(exchange: Exchange, document: Any) -> None:
    """Put the state ``document`` describes in place of ``exchange``'s, all or nothing (the exchange
    object itself stays: the app and every front keep theirs). Raises ``InvalidState``."""
    put_in_place(exchange, build(exchange, document))


def build(exchange: Exchange, document: Any, stop=lambda: False) -> dict:
    """Check ``document`` and build every part of the state it describes, touching nothing of
    ``exchange``'s; ``put_in_place`` then swaps them in. ``stop()`` is asked between the steps of
    ``build_steps``: when true, ``Stopped`` is raised. Raises ``InvalidState``."""
    steps = build_steps(exchange, document)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value
        if stop():
            steps.close()
            raise Stopped()


def build_steps(exchange: Exchange, document: Any):
    """``build`` a step at a time, for a caller that does other work between steps (a server answering
    ``/health``): a generator that yields after reading the document and between the parts of the build
    (each agent, each of an agent's markets, each market), touching nothing of ``exchange``'s, and
    returns the parts for ``put_in_place``. Raises ``InvalidState``."""
    with bulk():
        doc = read(document)
        yield
        return (yield from _build(exchange, doc))


@contextlib.contextmanager
def bulk():
    """Python's cycle collector paused while a document is read or written: both make a million small
    objects (a fill row is a dozen) and free them all, none in a cycle, so the collector's passes over
    them (the oldest generation's walk every few hundred thousand allocations) find nothing and cost a
    third of the work. Freed by reference counting as ever; the collector runs again after."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def put_in_place(exchange: Exchange, parts: dict) -> None:
    """The parts ``build`` made become the exchange's, at once."""
    exchange.install(**parts)


def _build(exchange: Exchange, doc: dict):
    config = ExchangeConfig(**doc["config"])
    catalog = exchange.base_catalog.with_latency(config.latency_ms)
    seed = doc["seed"]
    clock_doc = doc["clock"]
    now, start = clock_doc["now_us"], clock_doc["start_us"]
    started = doc["started_us"]
    if not (start <= now and started <= now):
        raise InvalidState("clock.now_us", "must not be before clock.start_us or started_us")
    ran_to = doc["ran_to_us"]
    if ran_to is not None and ran_to != now:
        raise InvalidState("ran_to_us", "must be clock.now_us (a snapshot brings every market to its instant)")
    now_s = now / US_PER_S

    def spec_of(symbol: str, where: str):
        try:
            spec = catalog.resolve(symbol)
        except UnknownMarket:
            raise InvalidState(where, f"{symbol} is not a market of this catalog") from None
        if spec.symbol != symbol:
            raise InvalidState(where, f"must be the canonical symbol {spec.symbol}")
        return spec

    # Agents, with their ledgers, closed orders and sessions.
    agents: dict[str, Agent] = {}
    keys: dict[str, str] = {}
    symbols_used: list[tuple[str, str]] = []          # (symbol, where) every agent part names
    for i, a in enumerate(doc["agents"]):
        where = f"agents.{i}"
        yield
        if a["agent_id"] in agents:
            raise InvalidState(f"{where}.agent_id", f"agent id {a['agent_id']} is used twice")
        if a["api_key"] in keys:
            raise InvalidState(f"{where}.api_key", "each API key belongs to one agent")
        if a["created_at"] > now_s:
            raise InvalidState(f"{where}.created_at", "must not be after the clock's now")
        agent = Agent(a["agent_id"], a["api_key"], a["created_at"], a["starting_balance"])
        agent.faucet_claimed = a["faucet_claimed"]
        agent.deposits = 1.0 if a["faucet_claimed"] else 0.0
        for j, symbol in enumerate(a["ledgers"]):
            if symbol in agent.ledgers:
                raise InvalidState(f"{where}.ledgers.{j}", "each market once")
            agent.ledger(symbol, 10 ** spec_of(symbol, f"{where}.ledgers.{j}").sz_decimals)
            symbols_used.append((symbol, f"{where}.ledgers.{j}"))
        # Fills: each ledger's in one go (``SymbolLedger.load``), and the agent's order across them as it was.
        fills = a["fills"]
        if fills:
            cols = fill_columns(fills)
            symbols = cols["symbol"]
            if not set(symbols) <= agent.ledgers.keys():
                unknown = next(j for j, symbol in enumerate(symbols) if symbol not in agent.ledgers)
                raise InvalidState(f"{where}.fills.{unknown}.0", "a fill's market must be one of the agent's ledgers")
            times = cols["time"]
            bad = np.concatenate((np.nonzero(np.diff(times) < 0)[0] + 1, np.nonzero(times > now_s)[0]))
            if len(bad):
                raise InvalidState(f"{where}.fills.{int(bad.min())}.11", "fills in time order, none after the "
                                                                        "clock's now")
            order = agent.fill_order
            first = list(dict.fromkeys(symbols))         # the ledgers in the order of their first fill
            order.ledgers = [agent.ledgers[symbol] for symbol in first]
            index = order._index = {symbol: i for i, symbol in enumerate(first)}
            codes = np.fromiter(map(index.__getitem__, symbols), dtype=np.int64, count=len(symbols))
            rows_at = np.empty(len(fills), dtype=np.int64)
            for i, symbol in enumerate(first):
                if len(first) == 1:
                    rows_at = np.arange(len(fills))
                    agent.ledgers[symbol].load_columns(cols)
                    break
                at = np.nonzero(codes == i)[0]
                rows_at[at] = np.arange(len(at))
                agent.ledgers[symbol].load_columns({k: v[at] for k, v in cols.items() if k != "symbol"})
                yield
            order._ledger_at.frombytes(codes.astype(np.uint16).tobytes())
            order._row_at.frombytes(rows_at.astype(np.uint32).tobytes())
        closed = ClosedOrders()
        for j, row in enumerate(a["closed_orders"]["orders"]):
            if row[8] > row[9] or row[9] > now_s:
                raise InvalidState(f"{where}.closed_orders.orders.{j}", "created_at <= closed_at <= the clock's now")
            spec_of(row[1], f"{where}.closed_orders.orders.{j}.1")
            closed.append(ClosedOrder(*row))
        if len(closed.ids) > CLOSED_KEPT + 1_024:
            raise InvalidState(f"{where}.closed_orders.orders", "too many kept")
        closed.dropped = a["closed_orders"]["dropped"]
        agent.closed_orders = closed
        for j, s in enumerate(a["sessions"]):
            symbol = s["symbol"]
            if symbol in agent.sessions:
                raise InvalidState(f"{where}.sessions.{j}.symbol", "one session per market")
            spec_of(symbol, f"{where}.sessions.{j}.symbol")
            symbols_used.append((symbol, f"{where}.sessions.{j}.symbol"))
            shape = s["shape"]
            session = Session(
                symbol, s["status"], s["reason"], dict(s["guardrails"]), s["auto_refresh"],
                s["refresh_interval_seconds"], s["started_at"], s["stopped_at"],
                None if shape is None else QuoteShape(**shape), s["generation"], s["equity_at_start"],
                s["hedge_due"])
            session.guarded = any(v is not None for v in session.guardrails.values())
            agent.sessions[symbol] = session
        agents[agent.agent_id] = agent
        keys[agent.api_key] = agent.agent_id

    markets: dict[str, Market] = {}
    analytics = Analytics()
    sessions = Sessions(agents, markets, catalog, config.fees, config.taker_fee_bps)
    flight = InFlight(seed)

    # The scenario in force, and its run (which its pending steps compare themselves with).
    run = None
    if doc["scenario"] is not None:
        sc = doc["scenario"]
        if sc["loaded_at"] > now_s:
            raise InvalidState("scenario.loaded_at", "must not be after the clock's now")
        try:
            scenario = parse_scenario(sc["document"], "snapshot scenario", catalog)
        except ApiError as exc:
            field = getattr(exc, "field", None)
            raise InvalidState("scenario.document" + (f".{field}" if field else ""), exc.message) from None
        run = ScenarioRun(scenario, sc["loaded_at"], sc["reset"], tuple(p.symbol for p in scenario.markets))
        run.scheduled = [scheduled_entry(p.symbol, run.loaded_at, e) for p in scenario.markets for e in p.events]

    def make_action(market: Market, a: dict, where: str):
        kind = a["type"]
        if kind == "refresh":
            agent = agents.get(a["agent_id"])
            if agent is None or market.symbol not in agent.sessions:
                raise InvalidState(f"{where}.agent_id", "must name an agent with a session on this market")
            return RefreshTick(sessions, a["agent_id"], a["generation"])
        if kind in ("quote", "cancel"):
            return _arrival(flight, sessions, market, a, agents, where)
        if a["current"] and run is None:
            raise InvalidState(f"{where}.current", "no scenario is in force")
        for key, value in a.get("changes", {}).items():
            problem = regime_problem(key, value)
            if problem:
                raise InvalidState(f"{where}.changes.{key}", problem)
        owner = run if a["current"] else _LAPSED
        if kind == "scenario_jump":
            return ScenarioStep(exchange, owner, "jump", move_bps=a["move_bps"])
        if kind == "scenario_regime":
            return ScenarioStep(exchange, owner, "regime", changes=dict(a["changes"]),
                                duration_seconds=a["duration_seconds"])
        return ScenarioStep(exchange, owner, "restore", changes=dict(a["changes"]))

    # Markets, in the order they were first touched.
    for i, m in enumerate(doc["markets"]):
        where = f"markets.{i}"
        yield
        symbol = m["symbol"]
        spec = spec_of(symbol, f"{where}.symbol")
        if symbol in markets:
            raise InvalidState(f"{where}.symbol", "each market once")
        if m["now_us"] > now:
            raise InvalidState(f"{where}.now_us", "must not be after the clock's now")

        def make_regime(r: dict, at: str, base=spec.regime) -> Regime:
            for key, value in r.items():
                if key in Regime.EDITABLE:
                    problem = regime_problem(key, value)
                    if problem:
                        raise InvalidState(f"{at}.{key}", problem)
                elif value != getattr(base, key):
                    raise InvalidState(f"{at}.{key}", f"is the catalog's for this market ({getattr(base, key)!r}): "
                                                      f"no request can change it")
            missing = {key: getattr(base, key) for key in Regime.field_names() if key not in r}
            return Regime(**r, **missing)      # (a field newer than the document: the catalog's)

        if "source" in m and doc["version"] < 3:
            raise InvalidState(f"{where}.source", "a version 2 document has no replayed markets")
        source = exchange.sources.get(symbol)
        replayed = hasattr(source, "identity")          # the server replays a recording for this symbol
        if m.get("source") == "replay":
            if not replayed:
                raise InvalidState(f"{where}.source", f"this server replays no recording of {symbol}: a replayed "
                                                      f"market restores only into a server started with the same "
                                                      f"--replay recording")
            market = source.from_state(spec, started, m, make_action, where)
        elif replayed:
            raise InvalidState(f"{where}.source", f"this server replays a recording for {symbol}: the snapshot's "
                                                  f"synthetic market cannot stand in for it")
        else:
            market = Market.from_state(spec, seed, started, m, make_regime, make_action, where)
        for order in [*market.book.orders.values(), *(i.order for i in getattr(market, "_cancelling", {}).values()),
                      *(i.order for i in market.agent_orders.values())]:
            owner = order.owner
            if owner is not None and (owner not in agents or symbol not in agents[owner].sessions):
                raise InvalidState(f"{where}.book", f"order {order.order_id} belongs to {owner}, which is not an "
                                                    f"agent with a session on {symbol}")
        markets[symbol] = market
    for symbol, where in symbols_used:
        if symbol not in markets:
            raise InvalidState(where, f"{symbol} must be one of the snapshot's markets")

    # The live sessions each market's events must reach.
    for symbol, ids in doc["live"].items():
        market = markets.get(symbol)
        if market is None:
            raise InvalidState(f"live.{symbol}", "must be one of the snapshot's markets")
        live = {}
        for j, agent_id in enumerate(ids):
            session = agents[agent_id].sessions.get(symbol) if agent_id in agents else None
            if session is None or session.status not in (ACTIVE, PAUSED) or agent_id in live:
                raise InvalidState(f"live.{symbol}.{j}", "must name, once, an agent whose session there is active "
                                                         "or paused")
            live[agent_id] = session
        sessions.live[symbol] = live
        market.watchers = len(live)
    for agent in agents.values():
        for symbol, session in agent.sessions.items():
            if session.live and agent.agent_id not in sessions.live.get(symbol, {}):
                raise InvalidState("live", f"{agent.agent_id}'s session on {symbol} is {session.status}: it must "
                                           f"be listed")
            if session.live and symbol not in agent.ledgers:
                raise InvalidState("live", f"{agent.agent_id}'s session on {symbol} is {session.status}: its market "
                                           f"must be one of the agent's ledgers")
    for symbol, market in markets.items():
        if not market.is_quiet() and market.now_us != now:
            raise InvalidState(f"markets.{list(markets).index(symbol)}.now_us",
                               "a market with live business stands at the clock's now")

    _restore_analytics(analytics, doc["analytics"], agents, markets)
    _restore_inflight(flight, doc.get("inflight"), agents, markets, now)

    # The clock: the server keeps its own mode.
    live_clock = exchange.clock
    if live_clock.mode == "manual":
        clock = ManualClock.at(start, now)
    else:
        clock = RealtimeClock(speed=live_clock.speed, start=now_s)
    return {
        "config": config, "seed": seed, "clock": clock, "started_at": started / US_PER_S, "started_us": started,
        "markets": markets, "agents": agents, "keys": keys, "analytics": analytics,
        "sessions": sessions, "stepper": Stepper(clock, markets, sessions, analytics, started, ran_to, catalog=catalog,
                                                   seed=seed, sources=exchange.sources),
        "scenario_name": run.scenario.name if run else None, "scenario_run": run, "flight": flight,
        "catalog": catalog,
    }


def _arrival(flight: InFlight, sessions: Sessions, market: Market, a: dict, agents: dict, where: str):
    """A quote or a cancel on its way to ``market`` (``inflight.py``), checked as the route checks it."""
    if not market.synthetic:
        raise InvalidState(f"{where}.type", "only a synthetic market has messages on their way")
    if a["agent_id"] not in agents:
        raise InvalidState(f"{where}.agent_id", "must name an agent")
    if a["type"] == "cancel":
        return CancelArrival(flight, sessions, a["agent_id"])
    try:
        request = QuoteRequest(**a["request"])
    except (ValidationError, TypeError) as exc:
        raise InvalidState(f"{where}.request", f"must be a quote as POST /v1/mm/quote takes it ({exc})") from None
    if request.symbol != market.symbol or market.symbol not in agents[a["agent_id"]].sessions:
        raise InvalidState(f"{where}.request.symbol", "must be this market, where the agent has a session")
    sides = (a["bid"], a["ask"])
    for k, (side, seq) in enumerate(zip(sides, a["ids"])):
        if (side is None) != (seq is None) or (seq is not None and (seq > market._order_seq or
                                                                    market.book.get(seq) is not None)):
            raise InvalidState(f"{where}.ids.{k}", "an id for each side given, one the market gave out and that "
                                                   "is not in its book")
    if sides == (None, None):
        raise InvalidState(f"{where}.bid", "a quote has a bid, an ask or both")
    arrival = QuoteArrival(flight, sessions, a["agent_id"], request, None if sides[0] is None else tuple(sides[0]),
                           None if sides[1] is None else tuple(sides[1]), tuple(a["ids"]), a["notional"])
    flight.wait(arrival)
    return arrival


def _restore_inflight(flight: InFlight, doc: dict | None, agents: dict, markets: dict, now: int) -> None:
    if doc is None:                 # a version 2 or 3 document: nothing was ever on its way
        return
    for symbol in doc["sent"]:
        if symbol not in markets:
            raise InvalidState(f"inflight.sent.{symbol}", "must be one of the snapshot's markets")
    for j, (agent_id, symbol, at) in enumerate(doc["last"]):
        if agent_id not in agents or symbol not in markets or at <= now:
            raise InvalidState(f"inflight.last.{j}", "an agent, one of the snapshot's markets, an instant after now")
    flight.restore_state(doc)


def _restore_analytics(analytics: Analytics, doc: dict, agents: dict, markets: dict) -> None:
    for i, a in enumerate(doc["agents"]):
        where = f"analytics.agents.{i}"
        if a["agent_id"] not in agents or a["agent_id"] in analytics._agents:
            raise InvalidState(f"{where}.agent_id", "must name an agent, once")
        state = analytics._agents[a["agent_id"]] = _AgentState(a["agent_id"])
        state.total = a["total"]
        state.drawdown.peak, state.drawdown.worst = a["drawdown"]
        for j, s in enumerate(a["symbols"]):
            market = markets.get(s["symbol"])
            if market is None or s["symbol"] in state.symbols:
                raise InvalidState(f"{where}.symbols.{j}.symbol", "must name one of the snapshot's markets, once")
            if s["symbol"] not in analytics._markets:
                analytics._markets[s["symbol"]] = _MarketState(market)
            st = _SymbolState(state, market, s["since"])
            for key in ("lots", "cash", "mark", "last_t", "inv_integral", "max_inv", "value", "volume", "fills",
                        "maker_fills", "taker_fills"):
                setattr(st, key, s[key])
            st.drawdown.peak, st.drawdown.worst = s["drawdown"]
            st.bid.posted, st.bid.filled, st.bid.fills = s["bid"]
            st.ask.posted, st.ask.filled, st.ask.fills = s["ask"]
            for h, (fills, notional, markout, edge) in zip(st.horizons, s["horizons"]):
                h.fills, h.notional, h.markout, h.edge = fills, notional, markout, edge
            st.trips = dict(zip(GUARDRAIL_NAMES, s["trips"]))
            st.events.extend(GuardrailEvent(t, s["symbol"], name, detail) for t, name, detail in s["events"])
            state.symbols[s["symbol"]] = st
    for i, m in enumerate(doc["markets"]):
        where = f"analytics.markets.{i}"
        market = markets.get(m["symbol"])
        if market is None:
            raise InvalidState(f"{where}.symbol", "must be one of the snapshot's markets")
        mstate = analytics._markets.get(m["symbol"])
        if mstate is None:
            mstate = analytics._markets[m["symbol"]] = _MarketState(market)

        def symbol_state(agent_id: str, at: str) -> _SymbolState:
            agent = analytics._agents.get(agent_id)
            st = agent.symbols.get(m["symbol"]) if agent is not None else None
            if st is None:
                raise InvalidState(at, "must name an agent with statistics on this market")
            return st

        for j, agent_id in enumerate(m["holders"]):
            if agent_id in mstate.holders:
                raise InvalidState(f"{where}.holders.{j}", "each agent once")
            mstate.holders[agent_id] = symbol_state(agent_id, f"{where}.holders.{j}")
        for h, queue in enumerate(m["pending"]):
            last = -math.inf
            for j, (due, agent_id, signed_qty, mark, edge) in enumerate(queue):
                if due < last:
                    raise InvalidState(f"{where}.pending.{h}.{j}.0", "due times in order")
                last = due
                mstate.pending[h].append(_Pending(due, symbol_state(agent_id, f"{where}.pending.{h}.{j}.1"), h,
                                                  signed_qty, mark, edge))
