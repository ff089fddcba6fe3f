"""One simulation: a maker against an in-process exchange on the manual clock, and what came of it.

The exchange and its HTTP app are built exactly as ``pf-mock serve --clock manual --seed S --scenario X``
builds them. The maker is a class (``module`` or ``module:Class``; a module names its maker ``Maker``)
that the simulation constructs with keywords and runs:

    Maker(symbol=..., sleep=..., say=..., http=<httpx.Client> | client=<pf_mock.client.Client>,
          api_key=..., **params).run(interval_seconds=..., max_iterations=...)

It gets ``client`` (the typed client, on a direct transport) if its constructor takes one, otherwise
``http`` (a plain httpx client whose requests the app answers in this thread) and ``api_key``. With
``transport="auto"`` either way reaches the route handlers directly (``pf_mock.api.direct``); with
``"http"`` every request goes through the whole ASGI app, middleware included. Its ``sleep`` moves the
mock clock instead of waiting: the simulation advances the exchange (never past the end), samples what
the plots need, and moves the progress bar. Nothing reads the wall clock, so the
same configuration gives the same report, byte for byte.
"""

from __future__ import annotations

import importlib
import inspect
import math
import os
import sys
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import httpx

from ..agents import agent_id_for_key
from ..analytics import MARKOUT_HORIZONS_S, AgentStats, mark_of, markouts_of
from ..server import ServeOptions, build_app, build_exchange

SIM_KEY = "pf_test_simulated_maker"
SIM_BASE_URL = "http://pf-mock.simulate"
CURVE_HORIZONS_S = (0, 1, 2, 5, 10, 20, 30, 60)     # the markout curve's points
SETTLE_S = max(MARKOUT_HORIZONS_S)                  # after the run, time for the last fills' markouts


@dataclass(frozen=True)
class SimConfig:
    maker: str = "clients.inventory_mm"     # module path, or module:Class
    symbol: str = "BTC-PERP"
    scenario: str | None = None
    seed: int = 0
    duration_s: float = 3600.0
    interval_s: float = 5.0
    params: dict[str, Any] = field(default_factory=dict)
    transport: str = "auto"                 # "auto": the route handlers called directly; "http": the whole app
    replay: tuple[str, ...] = ()            # recordings to replay instead of the synthetic markets they name
    replay_queue: str = "risk_averse"
    replay_latency_ms: float | None = None  # None: the replay's default
    latency_ms: float | None = None         # the synthetic markets' order-entry latency (None: their regime's)

    def as_dict(self) -> dict:
        return asdict(self)


def load_maker(path: str) -> type:
    """``module`` (its ``Maker``) or ``module:Class``, importable from the current directory as with
    ``python -m`` (so ``clients.simple_mm`` works from a checkout)."""
    module_name, _, attr = path.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import the maker module {module_name!r}: {exc}") from None
    attr = attr or "Maker"
    found = getattr(module, attr, None)
    if not inspect.isclass(found):
        raise ValueError(f"{module_name} has no maker class {attr!r} (name one as module:Class)")
    return found


@dataclass
class Sample:
    """The state after one of the maker's sleeps."""

    t: float                    # seconds since the start
    mark: float
    bid: float | None           # the maker's best resting bid, if any
    ask: float | None
    position_usd: float
    spread_income: float
    rebates: float
    inventory_pnl: float
    hedge_cost: float
    net_pnl: float


@dataclass
class SimResult:
    config: SimConfig
    report: dict                # the figures (JSON-able, deterministic)
    samples: list[Sample]
    fills: list[dict]           # t, side, price, notional, maker, kind
    maker: Any = None           # the maker object, after its run (its own summary, if it keeps one)


class _Progress:
    def __init__(self, total: float, show: Callable[[float], None] | None):
        self.total, self.show, self._last = total, show, -1

    def update(self, done: float) -> None:
        if self.show is None:
            return
        step = int(100 * min(done / self.total, 1.0)) if self.total > 0 else 100
        if step != self._last:
            self._last = step
            self.show(step / 100)


def _accepts(cls: type, name: str) -> bool:
    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def run_simulation(config: SimConfig, progress: Callable[[float], None] | None = None,
                   say: Callable[[str], None] | None = None) -> SimResult:
    maker_cls = load_maker(config.maker)
    if not (config.duration_s > 0 and config.interval_s > 0):
        raise ValueError("duration and interval must be positive")
    replay = None
    if config.replay:
        from ..replay.latency import DEFAULT_LATENCY_MS
        from ..replay.setup import load_sources
        latency = DEFAULT_LATENCY_MS if config.replay_latency_ms is None else config.replay_latency_ms
        replay = load_sources(config.replay, queue=config.replay_queue, latency_ms=latency)
    opts = ServeOptions(seed=config.seed, clock="manual", scenario=config.scenario, replay=replay,
                        latency_ms=config.latency_ms)
    exchange = build_exchange(opts)
    app = build_app(opts, exchange)
    start = exchange.now()
    end = start + config.duration_s
    symbol = exchange.spec(config.symbol).symbol
    agent_id = agent_id_for_key(SIM_KEY)
    samples: list[Sample] = []
    bar = _Progress(config.duration_s, progress)

    def sample() -> None:
        agent = exchange.agents.get(agent_id)
        market = exchange.market(symbol)
        bid = ask = None
        position = 0.0
        window = None
        if agent is not None:
            for info in market.open_orders(agent_id):
                price = market.grid.to_price(info.order.price)
                if info.order.is_buy:
                    bid = price if bid is None else max(bid, price)
                else:
                    ask = price if ask is None else min(ask, price)
            ledger = agent.ledgers.get(symbol)
            if ledger is not None:
                position = ledger.position * mark_of(market)
                window = exchange.pnl(agent, symbol).window
        samples.append(Sample(exchange.now() - start, mark_of(market), bid, ask, position,
                              *((window.spread_income, window.rebates, window.inventory_pnl, window.hedge_cost,
                                 window.net_pnl) if window else (0.0, 0.0, 0.0, 0.0, 0.0))))

    def sleep(seconds: float) -> None:
        step = min(float(seconds), end - exchange.now())
        if step > 0:
            exchange.advance(step)
            sample()
        bar.update(exchange.now() - start)

    kwargs: dict[str, Any] = {"symbol": symbol, "sleep": sleep, "say": say or (lambda line: None)}
    http_client = None
    typed = config.transport != "http" and _accepts(maker_cls, "client")
    if typed:
        from ..client import Client
        from ..api.direct import DirectTransport
        kwargs["client"] = Client(base_url=SIM_BASE_URL, api_key=SIM_KEY, transport=DirectTransport(app),
                                  retries=0)
    else:
        from .transport import DirectHttpTransport, InProcessTransport
        carrier = InProcessTransport(app) if config.transport == "http" else DirectHttpTransport(app)
        http_client = httpx.Client(base_url=SIM_BASE_URL, transport=carrier, timeout=None)
        if _accepts(maker_cls, "client"):
            from ..client import Client
            kwargs["client"] = Client(base_url=SIM_BASE_URL, api_key=SIM_KEY, http=http_client, retries=0)
        else:
            kwargs.update(http=http_client, api_key=SIM_KEY)
    kwargs.update(config.params)
    sample()
    maker = None
    try:
        maker = maker_cls(**kwargs)
        maker.run(interval_seconds=config.interval_s, max_iterations=math.ceil(config.duration_s / config.interval_s))
    finally:
        if http_client is not None:
            http_client.close()
    if exchange.now() < end:
        exchange.advance(end - exchange.now())
        sample()
    bar.update(config.duration_s)
    agent = exchange.agents.get(agent_id)
    stats = exchange.analytics.for_agent(agent_id, symbol)
    market = exchange.market(symbol)
    open_orders = len(market.open_orders(agent_id))
    window = exchange.pnl(agent, symbol).window if agent is not None else None
    ledger = agent.ledgers.get(symbol) if agent is not None else None
    fills = list(ledger.fills) if ledger is not None else []
    exchange.advance(SETTLE_S)            # the markouts of the last minute's fills come due ...
    exchange.market(symbol)               # ... once the market is brought to that instant (a quiet one is lazy)
    settled = exchange.analytics.for_agent(agent_id, symbol)
    report = _report(config, stats, settled, window, open_orders, agent, symbol, start, end)
    # The curve is the table's computation at more horizons (analytics.markouts_of): the same fills, the
    # same sums, so its 1, 10 and 60 s points are the table's figures.
    report["markout_curve"] = [{"horizon_s": m.horizon_s, "markout_bps": m.markout_bps}
                               for m in markouts_of(market, fills, CURVE_HORIZONS_S)]
    fill_rows = [{"t": f.time - start, "side": "buy" if f.is_buy else "sell", "price": f.price,
                  "notional_usd": f.notional, "maker": f.maker, "kind": f.kind} for f in fills]
    return SimResult(config, report, samples, fill_rows, maker)


def _report(config: SimConfig, stats: AgentStats, settled: AgentStats, window, open_orders: int, agent,
            symbol: str, start: float, end: float) -> dict:
    pnl = {
        "spread_income": window.spread_income if window else 0.0,
        "rebates": window.rebates if window else 0.0,
        "inventory_pnl": window.inventory_pnl if window else 0.0,
        "hedge_cost": window.hedge_cost if window else 0.0,
        "net_pnl": window.net_pnl if window else 0.0,
        "fees": window.fees if window else 0.0,
        "realized_inventory_pnl": window.realized_inventory_pnl if window else 0.0,
        "unrealized_inventory_pnl": window.unrealized_inventory_pnl if window else 0.0,
    }
    session = agent.sessions.get(symbol) if agent is not None else None
    return {
        "config": config.as_dict(),
        "symbol": symbol,
        "simulated_seconds": end - start,
        "pnl": pnl,
        "volume_usd": stats.volume_usd,
        "fills": stats.fills,
        "maker_fills": stats.maker_fills,
        "taker_fills": stats.taker_fills,
        "sides": {name: {"posted_usd": side.posted_usd, "filled_usd": side.filled_usd, "fills": side.fills,
                         "fill_share": side.fill_share}
                  for name, side in (("bid", stats.bid), ("ask", stats.ask))},
        "fill_share": stats.fill_share,
        "inventory": {"max_abs_usd": stats.max_abs_inventory_usd,
                      "time_weighted_abs_usd": stats.time_weighted_abs_inventory_usd},
        "worst_drawdown_usd": stats.worst_drawdown_usd,
        "markouts": [{"horizon_s": m.horizon_s, "fills": m.fills, "notional_usd": m.notional_usd,
                      "markout_usd": m.markout_usd, "markout_bps": m.markout_bps, "edge_usd": m.edge_usd,
                      "edge_bps": m.edge_bps, "realised_spread_usd": m.realised_spread_usd,
                      "realised_spread_bps": m.realised_spread_bps}
                     for m in settled.markouts],
        "guardrails": {"trips": dict(stats.guardrail_trips),
                       "events": [{"t": e.time - start, "guardrail": e.guardrail, "detail": e.detail}
                                  for e in stats.guardrail_events]},
        "session_at_end": None if session is None else {"status": session.status, "reason": session.reason},
        "open_orders_at_end": open_orders,
    }
