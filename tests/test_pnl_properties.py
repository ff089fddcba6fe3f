"""The PnL definition as properties, checked after every step of random trading histories.

A hypothesis state machine drives two or three agents on one or two markets through the core
``Exchange`` (manual clock): quotes at random distances, sizes and times in force (some crossing, some
with guardrails), cancels, hedges, session resets, clock advances and price jumps. After each step, for
every agent, for each symbol and for all symbols together, and for the whole history as well as for
windows starting at instants recorded earlier:

- over the whole history, every line of the report equals what the independent reference accountant
  (``tests/reference_accountant.py``) makes of the agent's printed fills and the mark now;
- ``net_pnl`` equals the change of equity (cash + position x mid) over the window, both as the ledger
  computes it (``PnlWindow.equity_change``) and as recomputed here from the agent's fills alone;
- the position is the signed sum of the agent's fills;
- an agent's orders and fills are its own;
- every failure is one of the contract's errors, and a refused request changes nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import hypothesis.strategies as st
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from conftest import make_exchange
from reference_accountant import Reference
from pf_mock import views
from pf_mock.errors import ApiError
from pf_mock.exchange import QuoteRequest

BTC, ETH, SOL = "BTC-PERP", "ETH-PERP", "SOL-PERP"
SYMBOL_SETS = [(BTC,), (ETH,), (BTC, ETH), (ETH, SOL)]
KEYS = ["pf_test_prop_agent_0", "pf_test_prop_agent_1", "pf_test_prop_agent_2"]
TOL = 1e-6
MAKER_REBATE, TAKER_FEE = 2.5e-4, 4.5e-4      # the default fee rates

QUOTE_ERRORS = {"order_too_small", "crossed_quote", "insufficient_balance", "session_stopped"}
HEDGE_ERRORS = {"no_inventory", "order_too_small", "no_liquidity"}

# A side is (distance from the mid in bps, USD size): often within 5 bps, so it fills, and now and then
# on the far side of the mid, so it crosses and takes liquidity. SIDES says which sides a quote has.
side_strategy = st.tuples(st.one_of(st.floats(-5, 5), st.floats(0, 30)), st.floats(15, 500))
SIDES = ["both", "both", "both", "bid", "ask", "neither"]
# Guardrails now and then: once set they stay on the session, and a paused or stopped session trades
# no more, so they are kept rare enough that most histories keep filling.
guardrail_strategy = st.one_of(
    st.just({}), st.just({}), st.just({}),
    st.fixed_dictionaries({}, optional={
        "max_inventory_usd": st.floats(50, 1_000),
        "auto_hedge_threshold_usd": st.floats(50, 1_000),
        "session_stop_loss_usd": st.floats(0.5, 20),
        "max_spread_bps": st.floats(0.5, 8),
    }),
)


@dataclass
class Mark:
    """A window start: an instant, and each agent's (cash, position, mid) per symbol at its end."""

    t: float
    snap: dict


class PnlHistories(RuleBasedStateMachine):
    @initialize(n_agents=st.integers(2, 3), symbols=st.sampled_from(SYMBOL_SETS), seed=st.integers(0, 3))
    def start(self, n_agents, symbols, seed):
        self.ex = make_exchange(seed)
        self.agents = [self.ex.authenticate(key) for key in KEYS[:n_agents]]
        self.symbols = symbols
        self.posted: dict[str, set[str]] = {a.agent_id: set() for a in self.agents}
        self.marks: list[Mark] = []

    # ---- helpers ------------------------------------------------------------------------------
    def pick(self, who: int, which: int):
        return self.agents[who % len(self.agents)], self.symbols[which % len(self.symbols)]

    def visible(self, agent) -> tuple:
        """What a refused request must leave alone."""
        orders = sorted((m.symbol, info.order.order_id, info.order.qty) for m, info in self.ex.open_orders(agent))
        fills = [f.fill_id for f in self.ex.fills(agent)]
        sessions = sorted((s, v.status, v.reason, v.started_at, tuple(sorted(v.guardrails.items())))
                          for s, v in agent.sessions.items() if v.started_at is not None)   # never-used ones look idle
        return orders, fills, sessions, self.ex.equity(agent)

    def from_fills(self, agent, symbol: str) -> tuple[float, float]:
        """(cash, position) on ``symbol`` rebuilt from the fills alone."""
        cash = position = 0.0
        for f in self.ex.fills(agent, symbol):
            sign = 1.0 if f.is_buy else -1.0
            cash -= sign * f.notional + f.fee
            position += sign * f.size
        return cash, position

    def snapshot(self) -> dict:
        mids = {s: self.ex.market(s).mark for s in self.symbols}        # equity is marked at the mark price
        return {a.agent_id: {s: (*self.from_fills(a, s), mids[s]) for s in self.symbols} for a in self.agents}

    @staticmethod
    def equity(snap: dict | None, agent_id: str, symbol: str | None) -> float:
        if snap is None:            # before any fill: no cash moved, no position
            return 0.0
        rows = snap[agent_id]
        chosen = rows.values() if symbol is None else [rows[symbol]]
        return sum(cash + position * mid for cash, position, mid in chosen)

    # ---- rules --------------------------------------------------------------------------------
    @rule(who=st.integers(0, 2), which=st.integers(0, 1), bid=side_strategy, ask=side_strategy,
          sides=st.sampled_from(SIDES), tif=st.sampled_from(["GTC", "GTC", "ALO", "IOC"]), guards=guardrail_strategy)
    def quote(self, who, which, bid, ask, sides, tif, guards):
        agent, symbol = self.pick(who, which)
        bid = bid if sides in ("both", "bid") else None
        ask = ask if sides in ("both", "ask") else None
        mid = self.ex.market(symbol).mid
        req = QuoteRequest(symbol, time_in_force=tif, **guards)
        if bid is not None:
            req.bid_price, req.bid_size = mid * (1 - bid[0] / 1e4), bid[1]
        if ask is not None:
            req.ask_price, req.ask_size = mid * (1 + ask[0] / 1e4), ask[1]
        before = self.visible(agent)
        try:
            result = self.ex.quote(agent, req)
        except ApiError as err:
            expected = {"invalid_request"} if bid is None and ask is None else QUOTE_ERRORS
            assert err.code in expected, (err.code, err.message)
            assert self.visible(agent) == before
            return
        assert bid is not None or ask is not None
        for out in (result.bid, result.ask):
            if out.order_id is not None:
                self.posted[agent.agent_id].add(out.order_id)

    @rule(who=st.integers(0, 2), which=st.integers(0, 1))
    def cancel(self, who, which):
        agent, symbol = self.pick(who, which)
        _, ids = self.ex.cancel(agent, symbol)
        assert set(ids) <= self.posted[agent.agent_id]
        assert self.ex.open_orders(agent, symbol) == []

    @rule(who=st.integers(0, 2), which=st.integers(0, 1), pct=st.floats(0.01, 1.0))
    def hedge(self, who, which, pct):
        agent, symbol = self.pick(who, which)
        before = self.visible(agent)
        try:
            self.ex.hedge(agent, symbol, pct)
        except ApiError as err:
            assert err.code in HEDGE_ERRORS, (err.code, err.message)
            assert self.visible(agent) == before

    @rule(who=st.integers(0, 2), which=st.integers(0, 1))
    def reset_session(self, who, which):
        agent, symbol = self.pick(who, which)
        assert self.ex.session_reset(agent, symbol).status != "stopped"

    # Whole milliseconds: a PnL window starts at the millisecond a client was shown, so a window cannot
    # split two instants inside one millisecond (tests/test_time_keyed.py pins that cut on its own).
    @rule(ms=st.integers(0, 120_000), mark_first=st.booleans())
    def advance(self, ms, mark_first):
        if mark_first:
            self.mark()
        self.ex.advance(ms / 1000)

    @rule(which=st.integers(0, 1), move_bps=st.floats(-50, 50))
    def jump(self, which, move_bps):
        self.ex.jump(self.symbols[which % len(self.symbols)], move_bps)

    @rule()
    def mark(self):
        """Start a window here (keeping the last few)."""
        self.marks = self.marks[-4:] + [Mark(self.ex.now(), self.snapshot())]

    # ---- invariants ---------------------------------------------------------------------------
    @invariant()
    def pnl_is_the_change_of_equity(self):
        now = self.ex.now()
        current = self.snapshot()
        for mark in self.marks:
            if mark.t == now:       # a window starts after everything that happened at its instant
                mark.snap = current
        windows = [(None, None)] + [(m.t, m.snap) for m in self.marks]
        for agent in self.agents:
            for symbol in (*self.symbols, None):
                for since, start in windows:
                    w = self.ex.pnl(agent, symbol, since).window
                    if since is None and symbol is not None:
                        self.check_against_reference(agent, symbol, w)
                    self.check_lines_against_fills(agent, symbol, since, now, w)
                    assert math.isclose(w.net_pnl, w.equity_change, abs_tol=TOL), (symbol, since)
                    change = self.equity(current, agent.agent_id, symbol) - self.equity(start, agent.agent_id, symbol)
                    assert math.isclose(w.net_pnl, change, abs_tol=TOL), (symbol, since, w.net_pnl, change)
                    assert w.fills == w.maker_fills + w.taker_fills
                    assert w.rebates >= -TOL and w.fees >= -TOL

    def check_against_reference(self, agent, symbol, w) -> None:
        """The whole history's window equals what the reference accountant makes of the printed fills."""
        market, ledger = self.ex.inventory(agent, symbol)
        mark = views.inventory(market, ledger).mark_price
        fills = [views.fill(f).model_dump(mode="json") for f in self.ex.fills(agent, symbol)]
        expected = Reference().replay(fills, mark).expected_pnl(mark)
        for name, value in expected.items():
            assert math.isclose(getattr(w, name), value, abs_tol=TOL), (symbol, name, getattr(w, name), value)

    def check_lines_against_fills(self, agent, symbol, since, until, w) -> None:
        """spread_income, rebates, fees and hedge_cost rebuilt from the fills in (since, until]."""
        spread = rebates = fees = slippage = volume = 0.0
        count = 0
        for f in self.ex.fills(agent, symbol):
            if (since is not None and f.time <= since) or f.time > until:
                continue
            edge = (1.0 if f.is_buy else -1.0) * (f.mid - f.price) * f.size
            if f.maker:
                spread += edge
                rebates -= f.fee
            else:
                fees += f.fee
                slippage -= edge
            volume += f.notional
            count += 1
        assert math.isclose(w.spread_income, spread, abs_tol=TOL)
        assert math.isclose(w.rebates, rebates, abs_tol=TOL)
        assert math.isclose(w.fees, fees, abs_tol=TOL)
        assert math.isclose(w.hedge_cost, fees + slippage, abs_tol=TOL)
        assert math.isclose(w.volume_usd, volume, abs_tol=TOL)
        assert w.fills == count

    @invariant()
    def positions_are_the_sum_of_fills(self):
        for agent in self.agents:
            for symbol in self.symbols:
                _, position = self.from_fills(agent, symbol)
                market, ledger = self.ex.inventory(agent, symbol)
                assert math.isclose(ledger.position, position, abs_tol=1e-9)
                assert ledger.lots == round(position * market.grid.lot_scale)
            equity = self.ex.equity(agent) - agent.starting_balance - agent.deposits
            assert math.isclose(equity, self.equity(self.snapshot(), agent.agent_id, None), abs_tol=TOL)

    @invariant()
    def agents_see_only_their_own(self):
        fill_owner: dict[str, str] = {}
        order_owner: dict[str, str] = {}
        for agent in self.agents:
            mine = self.posted[agent.agent_id]
            for market, info in self.ex.open_orders(agent):
                assert info.owner == agent.agent_id
            for f in self.ex.fills(agent):
                rate = -MAKER_REBATE if f.maker else TAKER_FEE
                assert math.isclose(f.fee, f.notional * rate, abs_tol=1e-9)
                assert math.isclose(f.notional, f.price * f.size, rel_tol=1e-12)
                assert fill_owner.setdefault(f.fill_id, agent.agent_id) == agent.agent_id
                assert order_owner.setdefault(f.order_id, agent.agent_id) == agent.agent_id
                if f.kind == "quote":
                    assert f.order_id in mine
                else:
                    assert not f.maker and f.kind in ("hedge", "auto_hedge")
        for agent in self.agents:
            for other in self.agents:
                if other is not agent:
                    assert not (self.posted[agent.agent_id] & self.posted[other.agent_id])


PnlHistories.TestCase.settings = settings(max_examples=max(settings.default.max_examples // 4, 10),
                                          stateful_step_count=30)
TestPnlHistories = PnlHistories.TestCase


def test_fill_columns_give_back_exactly_the_records_they_were_given():
    """The compact store is a drop-in for a list of records: every field back bit for bit."""
    from pf_mock.ledger import KINDS, SymbolLedger

    ledger = SymbolLedger("ETH-PERP", 10_000)
    given = [ledger.apply(fill_id=f"fill_{(i * 7919) % 2**48:012x}", order_id=f"ord_{2**48 - 1 - i:012x}",
                          is_buy=i % 3 == 0, price=3000.0 + i / 7, lots=1 + i % 5, notional=(1 + i % 5) * 0.3,
                          maker=i % 2 == 0, fee=-0.1 if i % 2 == 0 else 0.2, mid=3000.01 + i / 11,
                          kind=KINDS[i % 3], time=1767225600.0 + i / 3) for i in range(50)]
    assert list(ledger.fills) == given and ledger.fills[10:20] == given[10:20] and ledger.fills[-1] == given[-1]
    assert [f.after for f in ledger.fills] == [g.after for g in given]
