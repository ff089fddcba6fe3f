"""Core objects to the contract's messages (``messages.py``): names, units, ids and timestamps (ms).

What the API computes from a market or an agent's ledger (the spread, the book's depth, candles, the
24 h statistics, public ids, PnL) is computed here, once, for every front: the HTTP routes, and any other
front, call ``Exchange``'s read methods, which answer with these messages.
"""

from __future__ import annotations

from .agents import Agent
from .catalog import MIN_NOTIONAL_USD, MarketSpec
from .closed import ClosedOrder
from .clock import to_ms
from .ledger import FillRecord, PnlWindow, SymbolLedger
from .market import MINUTE_US, Market, OrderInfo, Trade
from .messages import (Cancelled, CandleView, Candles, ClosedOrderView, FaucetClaim, FillView, GuardrailEventView, Hedged,
                       Inventory, LevelView, MarketDetail, MarketItem, OrderBookView, OrderView, Pnl, Price, Print,
                       QuoteAnswer, Registered, ScenarioItem, ScenarioList, SessionView, Simulation, Trades)
from .orders import TakerResult, order_id
from .sessions import Session

INTERVAL_MINUTES = {"1m": 1, "5m": 5, "1h": 60}
DAY_S = 24 * 3600


def usd(x: float) -> float:
    """Money to 1e-9 USD: far inside the contract's 1e-6 identities, free of float dust."""
    return round(x, 9) + 0.0


def side_name(is_buy: bool) -> str:
    return "buy" if is_buy else "sell"


# ---- market data -----------------------------------------------------------------------------------
def spread_bps(market: Market) -> float | None:
    """The book's spread in bps of its own mid; None while a side is empty."""
    bid, ask = market.best_bid(), market.best_ask()
    if bid is None or ask is None:
        return None
    return round((ask - bid) * 2e4 / (ask + bid), 6)


def price_or_none(market: Market, units: int | None) -> float | None:
    return None if units is None else market.grid.to_price(units)


def market_item(spec: MarketSpec, market: Market) -> MarketItem:
    return MarketItem(**_item_fields(spec, market))


def _item_fields(spec: MarketSpec, market: Market) -> dict:
    grid = market.grid
    mark_units = market.mark_units()
    regime = market.regime
    return dict(
        symbol=spec.symbol, base=spec.base, quote=spec.quote, dex=spec.dex, asset_class=spec.asset_class,
        tier=spec.tier, sz_decimals=spec.sz_decimals, tick_size=grid.tick_size(mark_units),
        min_notional_usd=MIN_NOTIONAL_USD, max_leverage=spec.max_leverage, mid=market.mid,
        mark_price=grid.to_price(mark_units),
        best_bid=price_or_none(market, market.best_bid()), best_ask=price_or_none(market, market.best_ask()),
        status="active" if market.halted_at is None else "halted",
        simulation=Simulation(initial_mid=spec.initial_mid, volatility_annual=regime.volatility_annual,
                              spread_bps=regime.spread_bps, depth_usd=regime.depth_usd,
                              taker_rate_per_minute=regime.taker_rate_per_minute, synthetic=market.synthetic))


def market_detail(spec: MarketSpec, market: Market) -> MarketDetail:
    """The item plus the last 24 h, built from the trades of the last 1,440 whole minutes: traded volume,
    high and low (a day without trades shows the last trade's price, or the mark), and the change of the
    mark price."""
    grid = market.grid
    minute_from = market.now_us // MINUTE_US - 24 * 60 + 1
    _, shown = market.tape()
    day = [c for c in shown if c.minute >= minute_from]
    before = [c for c in shown if c.minute < minute_from]
    carried = before[-1].close if before else market.mark_units()
    day_ago = max(market.now - DAY_S, market.started_at)
    return MarketDetail(
        **_item_fields(spec, market),
        spread_bps=spread_bps(market),
        volatility_annual=market.regime.volatility_annual,
        volume_24h_usd=usd(sum(c.volume for c in day)),
        high_24h=grid.to_price(max((c.high for c in day), default=carried)),
        low_24h=grid.to_price(min((c.low for c in day), default=carried)),
        change_24h_pct=round((market.mark / market.mark_at(day_ago) - 1) * 100, 6),
        timestamp=to_ms(market.now_us))


def price(market: Market) -> Price:
    return Price(symbol=market.symbol, best_bid=price_or_none(market, market.best_bid()),
                 best_ask=price_or_none(market, market.best_ask()), mid=market.mid, mark_price=market.mark,
                 spread_bps=spread_bps(market), timestamp=to_ms(market.now_us))


def depth(market: Market, is_buy: bool, levels: int) -> list[LevelView]:
    """The best ``levels`` price levels of one side, agents' orders included."""
    grid = market.grid
    return [LevelView(price=grid.to_price(p), size=grid.to_size(lots), notional_usd=usd(grid.notional(p, lots)))
            for p, lots in market.depth(is_buy, levels)]


def orderbook(market: Market, levels: int) -> OrderBookView:
    return OrderBookView(symbol=market.symbol, bids=depth(market, True, levels), asks=depth(market, False, levels),
                     mid=market.mid, spread_bps=spread_bps(market), timestamp=to_ms(market.now))


def trade(market: Market, t: Trade) -> Print:
    grid = market.grid
    return Print(price=grid.to_price(t.price), size=grid.to_size(t.lots), side=side_name(t.taker_is_buy),
                 timestamp=to_ms(t.time))


def trades(market: Market, limit: int) -> Trades:
    recent = market.tape()[0][-limit:][::-1]
    return Trades(symbol=market.symbol, trades=[trade(market, t) for t in recent])


def candles(market: Market, interval: str, limit: int) -> Candles:
    """OHLCV from the market's trades, on the tick grid, the newest ``limit`` buckets. A bucket without
    trades carries the last close with zero volume; buckets before the first trade the market shows are
    not listed."""
    minutes = INTERVAL_MINUTES[interval]
    grid = market.grid
    stored = market.tape()[1]
    rows: list[CandleView] = []
    if stored:
        last = market.now_us // MINUTE_US // minutes
        first = max(stored[0].minute // minutes, last - limit + 1)
        buckets: dict[int, list] = {}
        carried = None
        for c in stored:
            key = c.minute // minutes
            if key < first:
                carried = c.close
                continue
            b = buckets.get(key)
            if b is None:
                buckets[key] = [c.open, c.high, c.low, c.close, c.volume]
            else:
                b[1] = max(b[1], c.high)
                b[2] = min(b[2], c.low)
                b[3] = c.close
                b[4] += c.volume
        for key in range(first, last + 1):
            b = buckets.get(key)
            if b is None:
                if carried is None:
                    continue
                b = [carried, carried, carried, carried, 0.0]
            carried = b[3]
            rows.append(CandleView(timestamp=key * minutes * 60_000, open=grid.to_price(b[0]), high=grid.to_price(b[1]),
                               low=grid.to_price(b[2]), close=grid.to_price(b[3]), volume_usd=usd(b[4])))
    return Candles(symbol=market.symbol, interval=interval, candles=rows)


# ---- an agent's business ---------------------------------------------------------------------------
def registered(agent: Agent) -> Registered:
    """A new agent, with the key it is given."""
    return Registered(agent_id=agent.agent_id, api_key=agent.api_key, balance_usd=usd(agent.cash))


def faucet_claim(credited: float, agent: Agent) -> FaucetClaim:
    return FaucetClaim(credited=credited, balance_usd=usd(agent.cash))


def cancelled(symbol: str, order_ids: list[str], at: float) -> Cancelled:
    """A cancel: the orders it takes out, and when it reaches the book."""
    return Cancelled(symbol=symbol, cancelled=len(order_ids), order_ids=order_ids, cancelled_at=to_ms(at))


def session(s: Session) -> SessionView:
    return SessionView(
        symbol=s.symbol, status=s.status, reason=s.reason, guardrails=dict(s.guardrails),
        auto_refresh=s.auto_refresh, refresh_interval_seconds=s.refresh_interval_seconds,
        started_at=None if s.started_at is None else to_ms(s.started_at),
        stopped_at=None if s.stopped_at is None else to_ms(s.stopped_at))


def quote(result) -> QuoteAnswer:
    bid, ask = result.bid, result.ask
    return QuoteAnswer(
        symbol=result.symbol, bid_id=bid.order_id, ask_id=ask.order_id, bid_price=bid.price, ask_price=ask.price,
        bid_size=None if bid.size_usd is None else usd(bid.size_usd),
        ask_size=None if ask.size_usd is None else usd(ask.size_usd),
        bid_qty=bid.qty, ask_qty=ask.qty,
        skipped={k: v for k, v in (("bid", bid.skipped), ("ask", ask.skipped)) if v},
        cancelled_order_ids=bid.cancelled + ask.cancelled,
        session=session(result.session),
        created_at=to_ms(result.time if result.created_at is None else result.created_at), timestamp=to_ms(result.time))


def order(market: Market, info: OrderInfo) -> OrderView:
    o, grid = info.order, market.grid
    return OrderView(
        order_id=order_id(market, o.order_id), symbol=market.symbol, side=side_name(o.is_buy),
        price=grid.to_price(o.price), size=grid.to_size(o.size), remaining=grid.to_size(o.qty),
        notional_usd=usd(grid.notional(o.price, o.qty)), time_in_force=info.tif, created_at=to_ms(info.created_at))


def closed_order(c: ClosedOrder) -> ClosedOrderView:
    return ClosedOrderView(
        order_id=c.order_id, symbol=c.symbol, side=side_name(c.is_buy), price=c.price, size=c.size,
        remaining=c.remaining, notional_usd=usd(c.notional), time_in_force=c.tif, created_at=to_ms(c.created_at),
        status=c.status, reason=c.reason, closed_at=to_ms(c.closed_at))


def fill(f: FillRecord) -> FillView:
    return FillView(
        fill_id=f.fill_id, order_id=f.order_id, symbol=f.symbol, side=side_name(f.is_buy), price=f.price,
        size=f.size, notional_usd=usd(f.notional), liquidity="maker" if f.maker else "taker", fee_usd=usd(f.fee),
        mid_at_fill=f.mid, kind=f.kind, timestamp=to_ms(f.time))


def inventory(market: Market, ledger: SymbolLedger) -> Inventory:
    position = ledger.position
    basis = ledger.at_fill_prices
    mark = market.mark
    flat = ledger.lots == 0
    return Inventory(
        symbol=market.symbol, position=position, net_delta_usd=usd(position * mark),
        avg_entry_price=None if flat else basis.avg, mark_price=mark,
        unrealized_pnl=0.0 if flat else usd(position * (mark - basis.avg)), realized_pnl=usd(basis.realized),
        timestamp=to_ms(market.now))


def hedge(result: TakerResult) -> Hedged:
    return Hedged(
        symbol=result.symbol, side=side_name(result.is_buy), size=result.size, size_usd=usd(result.size_usd),
        fill_price=result.fill_price, fee_usd=usd(result.fee_usd), slippage_usd=usd(result.slippage_usd),
        net_delta_usd=usd(result.net_delta_usd), fills=len(result.fills), timestamp=to_ms(result.time))


def pnl(symbol: str | None, since: float, until: float, w: PnlWindow) -> Pnl:
    return Pnl(
        symbol=symbol, since=to_ms(since), until=to_ms(until), spread_income=usd(w.spread_income),
        rebates=usd(w.rebates), inventory_pnl=usd(w.inventory_pnl),
        realized_inventory_pnl=usd(w.realized_inventory_pnl),
        unrealized_inventory_pnl=usd(w.unrealized_inventory_pnl), fees=usd(w.fees), hedge_cost=usd(w.hedge_cost),
        net_pnl=usd(w.net_pnl), volume_usd=usd(w.volume_usd), fills=w.fills, maker_fills=w.maker_fills,
        taker_fills=w.taker_fills)


def guardrail_event(event) -> GuardrailEventView:
    """An ``analytics.GuardrailEvent``: a guardrail acting on a session, at its instant."""
    return GuardrailEventView(timestamp=to_ms(event.time), symbol=event.symbol, guardrail=event.guardrail,
                          detail=event.detail)


# ---- the mock's own controls ----------------------------------------------------------------------
def jumped(market: Market) -> dict:
    """``POST /_mock/markets/{symbol}/jump``: the market's prices after the jump."""
    return {"symbol": market.symbol, "mid": market.mid, "mark_price": market.mark, "timestamp": to_ms(market.now)}


def regime_set(market: Market) -> dict:
    """``POST /_mock/markets/{symbol}/regime``: the market's regime after the change."""
    return {"symbol": market.symbol, "regime": market.regime.as_dict(), "timestamp": to_ms(market.now)}


def scenario_list(scenarios) -> ScenarioList:
    """``GET /_mock/scenarios``: each scenario's name, description and markets."""
    return ScenarioList(scenarios=[ScenarioItem(name=s.name, description=s.description,
                                                markets=[p.symbol for p in s.markets]) for s in scenarios])


def mock_state(ex, advancing: dict | None = None) -> dict:
    """``GET /_mock/state``: the seed, the clock, the counts, and a long advance's progress while one runs."""
    clock = ex.clock
    return {
        "seed": ex.seed,
        "clock": {"mode": clock.mode, "now": to_ms(ex.now()), "speed": clock.speed},
        "agents": len(ex.agents),
        "active_markets": sorted(symbol for symbol, market in ex.markets.items() if market.active),
        "scenario": getattr(ex, "scenario_name", None),
        **({"advancing": dict(advancing)} if advancing else {}),     # only while one is under way
    }
