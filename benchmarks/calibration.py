"""Calibration: the market model's report card, per liquidity tier.

For each market below and each seed, a fresh market (same seed, so the same exogenous path and taker
flow whatever is quoted) is run event by event for ``minutes``. Every 5 simulated seconds a maker
cancels its pair of quotes and posts a new one, $100 a side, around the book's mid (the seed client's
loop): a GTC bid at ``price_down(mid * (1 - d))`` and a GTC ask at ``price_up(mid * (1 + d))``.

Printed per market:

- **fill share** per side at d = 2.5, 5, 10, 20 and 50 bps: filled notional / posted notional;
- **markouts** of the 2.5 bps maker's fills at 1 s, 10 s and 60 s: how far the mark price moved after
  each fill, in bps, signed for the maker (negative = the market went against it: adverse selection),
  notional-weighted; and the **edge at fill** (the fill price's distance from the mark price, in the
  maker's favour), with the share of it the 60 s markout takes back;
- **the naive maker's PnL split** (d = 2.5 bps): spread income (edges at fill), rebates (2.5 bps of
  maker notional), inventory PnL (the position marked to the mark price over time) and net, in USD per
  hour; and the same maker **skewed against its inventory** (both quotes shifted by SKEW_BPS_PER_100
  bps per $100 held, so a long maker sells more readily), for comparison;
- **the book's spread**: its percentiles, sampled every simulated second, in bps.

Run: ``python benchmarks/calibration.py [--minutes 60] [--seeds 3] [--symbols BTC-PERP,ETH-PERP,...]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from pf_mock.book import GTC  # noqa: E402
from pf_mock.catalog import load_catalog  # noqa: E402
from pf_mock.clock import DEFAULT_EPOCH, US_PER_S  # noqa: E402
from pf_mock.market import AgentFill, Market  # noqa: E402

# One market per tier (two majors: the seed's figure is stated for BTC-PERP and ETH-PERP).
SYMBOLS = ("BTC-PERP", "ETH-PERP", "ATOM-PERP", "ETHFI-PERP")
REQUOTE_S = 5.0                 # cancel and re-post every 5 simulated seconds
QUOTE_USD = 100.0               # each quote's notional
DISTANCES_BPS = (0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 50.0)
MAKER_BPS = 2.5                 # the naive maker of issue 21: its markouts and PnL split
MARKOUT_S = (1, 10, 60)
REBATE_BPS = 2.5                # the seed's maker rebate
SKEW_BPS_PER_100 = 2.0          # the skewed maker shifts both quotes this far per $100 of inventory
OWNER = "calibration"


class _Recorder:
    """A market observer that allows every fill and keeps the maker's own fills."""

    def __init__(self) -> None:
        self.fills: list[AgentFill] = []

    def allow_fill(self, market, maker, lots: int) -> int:
        return lots

    def on_fill(self, market, fill: AgentFill) -> None:
        if fill.owner == OWNER:
            self.fills.append(fill)

    def after_event(self, market) -> None:
        pass


def run_maker(symbol: str, seed: int, minutes: float, distance_bps: float, skew: float = 0.0,
              sample_spread: bool = False) -> dict:
    """Quote both sides ``distance_bps`` from the book's mid for ``minutes``; return what happened."""
    spec = load_catalog().resolve(symbol)
    recorder = _Recorder()
    market = Market(spec, seed, DEFAULT_EPOCH, observer=recorder)
    market.watchers = 1
    grid = market.grid
    end = DEFAULT_EPOCH + minutes * 60.0
    posted = {True: 0.0, False: 0.0}
    spreads: list[float] = []
    live: list[int] = []
    position = 0
    seen = 0
    t = DEFAULT_EPOCH
    def sample() -> None:
        bid, ask = market.best_excluding(OWNER)
        spreads.append((ask - bid) * 2e4 / (ask + bid))

    while t < end - 1e-9:
        market.advance_to(t)
        if sample_spread:
            sample()
        for order_id in live:
            market.cancel(order_id)
        live = []
        for fill in recorder.fills[seen:]:
            position += fill.lots if fill.is_buy else -fill.lots
        seen = len(recorder.fills)
        mid = market.mid
        shift = -skew * (position / grid.lot_scale * market.mark) / 100.0      # bps, against the inventory
        for is_buy in (True, False):
            d = distance_bps - shift if is_buy else distance_bps + shift
            price = grid.price_down(mid * (1.0 - d / 1e4)) if is_buy else grid.price_up(mid * (1.0 + d / 1e4))
            lots = grid.lots_for_usd(QUOTE_USD, price)
            if lots <= 0:
                continue
            order_id, result = market.place(OWNER, is_buy, price, lots, GTC)
            posted[is_buy] += grid.notional(price, lots)
            if result.resting is not None:
                live.append(order_id)
        if sample_spread:
            # every second until the next round (the maker's quotes stay at the round's instant, so
            # sampling never moves them)
            for second in range(1, int(REQUOTE_S)):
                market.advance_to(t + second)
                sample()
        t += REQUOTE_S
    market.advance_to(end)
    for order_id in live:
        market.cancel(order_id)

    makers = [f for f in recorder.fills if f.maker]
    filled = {True: 0.0, False: 0.0}
    for f in makers:
        filled[f.is_buy] += grid.notional(f.price, f.lots)
    # Markouts and the PnL split, at the mark price (the fills' ``mid`` is the mark at the fill).
    markouts = {h: 0.0 for h in MARKOUT_S}
    edge = spread_income = rebates = 0.0
    notional = 0.0
    cash = 0.0
    lots = 0
    for f in recorder.fills:
        s = 1.0 if f.is_buy else -1.0
        q = f.lots / grid.lot_scale
        price = grid.to_price(f.price)
        n = price * q
        cash -= s * n
        lots += f.lots if f.is_buy else -f.lots
        if f.maker:
            cash += n * REBATE_BPS / 1e4
            rebates += n * REBATE_BPS / 1e4
            spread_income += s * (f.mid - price) * q
            edge += s * (f.mid - price) / f.mid * 1e4 * n
            notional += n
            for h in MARKOUT_S:
                later = market.mark_at(int(f.time * US_PER_S) + h * US_PER_S)
                markouts[h] += s * (later - f.mid) / f.mid * 1e4 * n
    net = cash + lots / grid.lot_scale * market.mark_at(int(end * US_PER_S))
    hours = minutes / 60.0
    return {
        "posted": posted, "filled": filled, "fills": len(makers), "notional": notional,
        "edge_bps": edge / notional if notional else 0.0,
        "markout_bps": {h: (m / notional if notional else 0.0) for h, m in markouts.items()},
        "spread_income": spread_income / hours, "rebates": rebates / hours,
        "inventory_pnl": (net - spread_income - rebates) / hours, "net": net / hours,
        "spreads": spreads,
    }


def measure(symbol: str, seeds: int, minutes: float) -> dict:
    """Every figure for one market, over ``seeds`` seeds."""
    shares = {}
    near = []
    for d in DISTANCES_BPS:
        runs = [run_maker(symbol, seed, minutes, d, sample_spread=(d == MAKER_BPS))
                for seed in range(seeds)]
        if d == MAKER_BPS:
            near = runs
        shares[d] = tuple(sum(r["filled"][side] for r in runs) / sum(r["posted"][side] for r in runs)
                          for side in (True, False))
    skewed = [run_maker(symbol, seed, minutes, MAKER_BPS, skew=SKEW_BPS_PER_100) for seed in range(seeds)]
    notional = sum(r["notional"] for r in near)

    def weighted(key):
        return sum(r[key] * r["notional"] for r in near) / notional if notional else 0.0

    markouts = {h: (sum(r["markout_bps"][h] * r["notional"] for r in near) / notional if notional else 0.0)
                for h in MARKOUT_S}
    spreads = sorted(s for r in near for s in r["spreads"])

    def pct(p):
        return spreads[min(len(spreads) - 1, int(p / 100 * len(spreads)))]

    def split(runs):
        return {k: statistics.mean(r[k] for r in runs) for k in ("spread_income", "rebates", "inventory_pnl", "net")}
    return {
        "symbol": symbol, "tier": load_catalog().resolve(symbol).tier, "shares": shares,
        "fills": sum(r["fills"] for r in near), "edge_bps": weighted("edge_bps"), "markouts": markouts,
        "taken_back": (-markouts[60] / weighted("edge_bps")) if weighted("edge_bps") else 0.0,
        "naive": split(near), "skewed": split(skewed),
        "naive_net_sd": statistics.stdev([r["net"] for r in near]) if len(near) > 1 else 0.0,
        "skewed_net_sd": statistics.stdev([r["net"] for r in skewed]) if len(skewed) > 1 else 0.0,
        "spread_pct": {p: pct(p) for p in (5, 25, 50, 75, 95, 99)},
    }


def format_report(results: list[dict], seeds: int, minutes: float) -> str:
    lines = [f"{seeds} seed(s) x {minutes:g} simulated minutes per market; ${QUOTE_USD:g} a side, re-posted "
             f"every {REQUOTE_S:g} s around the book's mid", "",
             "Fill share per side (bid / ask), % of posted notional:",
             f"| market | tier | " + " | ".join(f"{d:g} bps" for d in DISTANCES_BPS) + " |",
             "|---|---|" + "---|" * len(DISTANCES_BPS)]
    for r in results:
        lines.append(f"| {r['symbol']} | {r['tier']} | " + " | ".join(
            f"{100 * b:.1f} / {100 * a:.1f}" for b, a in (r["shares"][d] for d in DISTANCES_BPS)) + " |")
    lines += ["", "The 2.5 bps maker: edge at fill and markouts (bps, notional-weighted, + = in the maker's favour):",
              "| market | fills | edge at fill | 1 s | 10 s | 60 s | 60 s markout / edge |",
              "|---|---|---|---|---|---|---|"]
    for r in results:
        m = r["markouts"]
        lines.append(f"| {r['symbol']} | {r['fills']} | {r['edge_bps']:+.2f} | {m[1]:+.2f} | {m[10]:+.2f} | "
                     f"{m[60]:+.2f} | {100 * r['taken_back']:.0f}% |")
    lines += ["", "The 2.5 bps maker's PnL split, USD per hour (mean over seeds; net's sd across seeds):",
              "| market | maker | spread income | rebates | inventory PnL | net (sd) |", "|---|---|---|---|---|---|"]
    for r in results:
        for name in ("naive", "skewed"):
            p = r[name]
            lines.append(f"| {r['symbol']} | {name} | {p['spread_income']:+.3f} | {p['rebates']:+.3f} | "
                         f"{p['inventory_pnl']:+.3f} | {p['net']:+.3f} ({r[name + '_net_sd']:.3f}) |")
    lines += ["", "The book's spread without the maker, sampled every simulated second (bps):",
              "| market | p5 | p25 | median | p75 | p95 | p99 |", "|---|---|---|---|---|---|---|"]
    for r in results:
        s = r["spread_pct"]
        lines.append(f"| {r['symbol']} | " + " | ".join(f"{s[p]:.2f}" for p in (5, 25, 50, 75, 95, 99)) + " |")
    return "\n".join(lines)


def run(seeds: int = 3, minutes: float = 60.0, symbols=SYMBOLS) -> list[dict]:
    return [measure(symbol, seeds, minutes) for symbol in symbols]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--symbols", default=",".join(SYMBOLS))
    args = parser.parse_args(argv)
    print(format_report(run(args.seeds, args.minutes, args.symbols.split(",")), args.seeds, args.minutes))


if __name__ == "__main__":
    main()
