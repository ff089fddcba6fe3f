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
- **the naive maker's PnL before rebates split at the informed takers' horizon** H (60 s,
  ``models/informed.py``), mean and standard error over seeds: each fill's trade valued at the mark H
  later, and the carry of the position after that. No fill and no taker saw the exogenous path beyond H,
  so the carry averages 0 and only adds noise (a few USD an hour per seed-hour: the position times the
  path's moves); the fills' part is the figure's expectation with a fifth of its noise or less;
- **the book's spread**: its percentiles, sampled every simulated second, in bps.

Before the maker, **the book and the flow, model beside recording beside target** (issue 21's targets):
the one-tick share of the spread, depth at the touch and within 10 bps, taker sizes (median, 99th
percentile, Hill tail index), the gaps between taker orders, the signs' autocorrelation, the
per-minute taker count against the minute's |return|, the impact of a taker order 10 s later by size,
and the 1-minute |return| autocorrelation at a 4-hour lag. The same functions (``pf_mock.flowstats``)
measure the synthetic market and each recording, read at run time with ``pf_mock.replay.formats``
from ``--feeds`` (default: ``$PF_MOCK_FEEDS``, else ``shared/reference/feeds`` beside the repository);
when no recording is there, the recording column says so in one line and is left out.

**Queue position** (``--part queue``): joining the back of a deep level against improving it by a tick.
Every 5 simulated seconds, on each side, a $100 order either joins the first level behind the touch that
holds $100k or more (*back*: behind all of it) or sits one tick better (*improver*: first at its price),
in two runs of the same seed; rounds where one tick better is the touch itself are skipped. Printed: each
one's fill share per side per round, split into fills where the level still stood after the fill (the
queue decides those) and fills where the price ran through it (the other side's best reached the
order's price: queue position cannot help), and back / improver, beside the same maker on each
recording replayed (``pf_mock.replay``, its default queue model) and the target (<= 0.5).

**Latency** (``--part latency``, and after the maker's tables in ``--part maker``): the same maker at
0.5, 1, 2.5 and 5 bps with no order-entry latency and with the documented one (``models/latency.py``,
the catalog's default: median 200 ms, log-normal), side by side: the fill curve per side and the 2.5 bps
maker's edge and markouts. Each round's cancel and quote reach the book after delays drawn as the
exchange draws them and act there as the exchange's scheduled messages do (``run_maker``;
``tests/test_calibration.py`` checks its fills against the exchange's for the same client). The market
stays watched throughout, so the house's book is simulated event by event between a cancel's arrival
and the next quote's.

``--part pnl`` prints that split alone (the naive 2.5 bps maker only: many seeds at a sixth of
``--part maker``'s cost).

Run: ``python benchmarks/calibration.py [--minutes 60] [--seeds 3] [--symbols BTC-PERP,ETH-PERP,...]
[--feeds DIR] [--part book|maker|pnl|latency|replay|queue|all]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from pf_mock.book import GTC  # noqa: E402
from pf_mock.catalog import load_catalog  # noqa: E402
from pf_mock.closed import CLIENT  # noqa: E402
from pf_mock.clock import DEFAULT_EPOCH, US_PER_S  # noqa: E402
from pf_mock.inflight import InFlight  # noqa: E402
from pf_mock.market import AgentFill, Market  # noqa: E402
from pf_mock import flowstats as fs  # noqa: E402
from pf_mock.model import CHUNK_US, TAKER  # noqa: E402
from pf_mock.models.informed import FAST_INFORMED_HORIZON_S  # noqa: E402

# The three majors and one alt (a mid-tier market), as issue 21 asks.
SYMBOLS = ("BTC-PERP", "ETH-PERP", "SOL-PERP", "DOGE-PERP")
REQUOTE_S = 5.0                 # cancel and re-post every 5 simulated seconds
QUOTE_USD = 100.0               # each quote's notional
DISTANCES_BPS = (0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 50.0)
MAKER_BPS = 2.5                 # the naive maker of issue 21: its markouts and PnL split
MARKOUT_S = (1, 10, 60)
REBATE_BPS = 2.5                # the seed's maker rebate
SKEW_BPS_PER_100 = 2.0          # the skewed maker shifts both quotes this far per $100 of inventory
OWNER = "calibration"


class _Recorder:
    """Keeps the maker's own fills from the market's news (no one's fills are limited)."""

    def __init__(self) -> None:
        self.fills: list[AgentFill] = []

    def take(self, market) -> None:
        self.fills += [f for f in market.take_news() if type(f) is AgentFill and f.owner == OWNER]


class _Arrival:
    """A message of the maker's that reaches the book later: scheduled on the market at its arrival, as
    the exchange schedules a quote or a cancel on its way (``entry.send_quote``/``send_cancel``)."""

    __slots__ = ("flight", "act")

    def __init__(self, flight: InFlight, act) -> None:
        self.flight, self.act = flight, act

    def __call__(self, market) -> None:
        self.flight.landed(OWNER, market)
        self.act(market)


def _send(flight: InFlight, market, act) -> None:
    """One message (a cancel, or a quote's both sides): it acts when ``flight`` says it reaches the book --
    at once with no latency, else as an action scheduled on the market at that instant."""
    when = flight.arrival_us(OWNER, market)
    if when == market.now_us:
        act(market)
    else:
        market.schedule(when, _Arrival(flight, act))


def informed_horizon_s(spec) -> float:
    """How far ahead of a taker the informed ones see at most (``models/informed.py``), in seconds."""
    return max(spec.regime.informed_horizon_seconds, FAST_INFORMED_HORIZON_S)


def run_maker(symbol: str, seed: int, minutes: float, distance_bps: float, skew: float = 0.0,
              sample_spread: bool = False, source=None, latency_ms: float | None = 0.0,
              flight: InFlight | None = None) -> dict:
    """Quote both sides ``distance_bps`` from the book's mid for ``minutes``; return what happened. With
    ``source`` (a ``ReplaySource``) the market is the replayed recording, from its start, instead.

    ``latency_ms``: the order-entry latency's median (``models/latency.py``; None: the catalog's default,
    ``0``: none). Each round is two messages, as a client of the exchange sends them: a cancel of all the
    maker's orders, then one quote of both sides priced from the mid it reads at the round's instant. Each
    reaches the book after a delay drawn as the exchange draws it (``inflight.InFlight``: keyed by seed,
    symbol and message number; one agent's messages in the order sent) and acts there: until its cancel
    lands the old quotes can fill; its quote rests from its arrival, at the prices it was sent with.
    ``flight``: the exchange's messages on their way to start from (default: none sent yet)."""
    spec = load_catalog().with_latency(latency_ms).resolve(symbol)
    recorder = _Recorder()
    if source is None:
        market = Market(spec, seed, DEFAULT_EPOCH)
    else:
        market = source(source.spec_for(spec), seed, source.start_s)
    market.watchers = 1
    flight = flight or InFlight(seed)
    grid = market.grid
    start = market.now
    end = start + minutes * 60.0
    posted = {True: 0.0, False: 0.0}
    spreads: list[float] = []
    position = 0
    seen = 0
    t = start
    def sample() -> None:
        bid, ask = market.best_excluding(OWNER)
        spreads.append((ask - bid) * 2e4 / (ask + bid))

    def cancel_all(m) -> None:
        m.cancel_all(OWNER, CLIENT)

    def quote(sides):
        def act(m) -> None:
            for is_buy, price, lots, order_id in sides:
                m.place(OWNER, is_buy, price, lots, GTC, order_id=order_id)
        return act

    while t < end - 1e-9:
        market.advance_to(t)
        if sample_spread:
            sample()
        _send(flight, market, cancel_all)
        recorder.take(market)
        for fill in recorder.fills[seen:]:
            position += fill.lots if fill.is_buy else -fill.lots
        seen = len(recorder.fills)
        mid = market.mid
        shift = -skew * (position / grid.lot_scale * market.mark) / 100.0      # bps, against the inventory
        sides = []
        for is_buy in (True, False):
            d = distance_bps - shift if is_buy else distance_bps + shift
            price = grid.price_down(mid * (1.0 - d / 1e4)) if is_buy else grid.price_up(mid * (1.0 + d / 1e4))
            lots = grid.lots_for_usd(QUOTE_USD, price)
            if lots <= 0:
                continue
            # the order number is given out as the quote is sent (as the exchange does)
            sides.append((is_buy, price, lots, market.next_order_id()))
            posted[is_buy] += grid.notional(price, lots)
        if sides:
            _send(flight, market, quote(sides))
        recorder.take(market)
        if sample_spread:
            # every second until the next round (the maker's quotes stay at the round's instant, so
            # sampling never moves them)
            for second in range(1, int(REQUOTE_S)):
                market.advance_to(t + second)
                sample()
        t += REQUOTE_S
    market.advance_to(end)
    market.cancel_all(OWNER, CLIENT)
    recorder.take(market)

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
    # Each fill's trade to the mark at the informed takers' longest horizon after it (or the run's end):
    # the part of the PnL before rebates that anything in the market knew of when the fill happened.
    held = 0.0
    end_us = int(end * US_PER_S)
    horizon_us = int(informed_horizon_s(spec) * US_PER_S)
    for f in recorder.fills:
        s = 1.0 if f.is_buy else -1.0
        q = f.lots / grid.lot_scale
        price = grid.to_price(f.price)
        n = price * q
        cash -= s * n
        lots += f.lots if f.is_buy else -f.lots
        held += s * (market.mark_at(min(int(f.time * US_PER_S) + horizon_us, end_us)) - price) * q
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
        "to_horizon": held / hours, "carry": (net - rebates - held) / hours,
        "spreads": spreads, "maker_fills": makers,
    }


def fill_shares(runs: list[dict]) -> tuple[float, float]:
    """Filled over posted notional, per side (bid, ask), over one distance's runs."""
    return tuple(sum(r["filled"][side] for r in runs) / sum(r["posted"][side] for r in runs)
                 for side in (True, False))


def maker_figures(near: list[dict]) -> dict:
    """The 2.5 bps maker's fills, and its edge at the fill and markouts (bps, weighted by notional)."""
    notional = sum(r["notional"] for r in near)

    def weighted(values):
        return sum(v * r["notional"] for v, r in zip(values, near)) / notional if notional else 0.0
    return {"fills": sum(r["fills"] for r in near), "edge_bps": weighted(r["edge_bps"] for r in near),
            "markouts": {h: weighted(r["markout_bps"][h] for r in near) for h in MARKOUT_S}}


def pnl_split(runs: list[dict]) -> dict:
    """The PnL before rebates over ``runs`` (one a seed), the fills' part to the informed horizon and the
    carry after it: each as (mean, standard error of the mean) in USD an hour."""
    def mean_se(values):
        se = statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else 0.0
        return statistics.mean(values), se
    return {"before": mean_se([r["net"] - r["rebates"] for r in runs]),
            "to_horizon": mean_se([r["to_horizon"] for r in runs]), "carry": mean_se([r["carry"] for r in runs])}


def measure_pnl(symbol: str, seeds: int, minutes: float) -> dict:
    """``--part pnl``: only the naive 2.5 bps maker, its PnL before rebates split at the informed horizon."""
    runs = [run_maker(symbol, seed, minutes, MAKER_BPS) for seed in range(seeds)]
    return {"symbol": symbol, "naive_before": pnl_split(runs),
            "horizon_s": informed_horizon_s(load_catalog().resolve(symbol))}


def format_pnl(results: list[dict]) -> str:
    lines = ["The naive maker's PnL before rebates, split at the informed takers' horizon H: USD per hour, "
             "mean ± standard error over seeds. After H the mark is the exogenous path, which no fill foresaw, "
             "so the carry's expectation is 0 and the fills' part is the whole figure's expectation, with far "
             "less noise:",
             "| market | H | before rebates | fills to the mark H later | carry after H |",
             "|---|---|---|---|---|"]
    for r in results:
        b = r["naive_before"]
        lines.append(f"| {r['symbol']} | {r['horizon_s']:g} s | " + " | ".join(
            f"{b[k][0]:+.2f} ± {b[k][1]:.2f}" for k in ("before", "to_horizon", "carry")) + " |")
    return "\n".join(lines)


def measure(symbol: str, seeds: int, minutes: float, skewed: bool = True) -> dict:
    """Every figure for one market, over ``seeds`` seeds; ``skewed=False`` leaves out the skewed maker's runs
    (its figures are then None): one market simulation a seed less, every other figure the same."""
    shares = {}
    near = []
    for d in DISTANCES_BPS:
        runs = [run_maker(symbol, seed, minutes, d, sample_spread=(d == MAKER_BPS))
                for seed in range(seeds)]
        if d == MAKER_BPS:
            near = runs
        shares[d] = fill_shares(runs)
    skew_runs = ([run_maker(symbol, seed, minutes, MAKER_BPS, skew=SKEW_BPS_PER_100) for seed in range(seeds)]
                 if skewed else [])
    figures = maker_figures(near)
    edge, markouts = figures["edge_bps"], figures["markouts"]
    spreads = sorted(s for r in near for s in r["spreads"])

    def pct(p):
        return spreads[min(len(spreads) - 1, int(p / 100 * len(spreads)))]

    def split(runs):
        return {k: statistics.mean(r[k] for r in runs) for k in ("spread_income", "rebates", "inventory_pnl", "net")}

    def net_sd(runs):
        return statistics.stdev([r["net"] for r in runs]) if len(runs) > 1 else 0.0
    spec = load_catalog().resolve(symbol)
    return {
        "symbol": symbol, "tier": spec.tier, "shares": shares,
        **figures, "taken_back": (-markouts[60] / edge) if edge else 0.0,
        "naive": split(near), "skewed": split(skew_runs) if skewed else None, "naive_before": pnl_split(near),
        "horizon_s": informed_horizon_s(spec),
        "naive_net_sd": net_sd(near), "skewed_net_sd": net_sd(skew_runs) if skewed else None,
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
        taken = f"{100 * r['taken_back']:.0f}%" if r["edge_bps"] > 0 else "all (no edge at fill)"
        lines.append(f"| {r['symbol']} | {r['fills']} | {r['edge_bps']:+.2f} | {m[1]:+.2f} | {m[10]:+.2f} | "
                     f"{m[60]:+.2f} | {taken} |")
    lines += ["", "The 2.5 bps maker's PnL split, USD per hour (mean over seeds; net's sd across seeds):",
              "| market | maker | spread income | rebates | inventory PnL | before rebates | net (sd) |",
              "|---|---|---|---|---|---|---|"]
    for r in results:
        for name in ("naive", "skewed"):
            p = r[name]
            lines.append(f"| {r['symbol']} | {name} | {p['spread_income']:+.3f} | {p['rebates']:+.3f} | "
                         f"{p['inventory_pnl']:+.3f} | {p['spread_income'] + p['inventory_pnl']:+.3f} | "
                         f"{p['net']:+.3f} ({r[name + '_net_sd']:.3f}) |")
    lines += ["", format_pnl(results)]
    lines += ["", "The book's spread without the maker, sampled every simulated second (bps):",
              "| market | p5 | p25 | median | p75 | p95 | p99 |", "|---|---|---|---|---|---|---|"]
    for r in results:
        s = r["spread_pct"]
        lines.append(f"| {r['symbol']} | " + " | ".join(f"{s[p]:.2f}" for p in (5, 25, 50, 75, 95, 99)) + " |")
    return "\n".join(lines)



# ---- the maker with the order-entry latency, beside the same maker with none --------------------------
LATENCY_DISTANCES_BPS = (0.5, 1.0, 2.5, 5.0)
LATENCIES_MS = (0.0, None)      # none, and the catalog's default (models/latency.py: median 200 ms)


def measure_latency(symbol: str, seeds: int, minutes: float, latencies=LATENCIES_MS,
                    without: dict | None = None) -> dict:
    """The fill curve (per side) and the 2.5 bps maker's edge and markouts, per latency in ``latencies``
    (None: the catalog's default), over ``seeds`` seeds: the same seeds, so the same exogenous path.
    ``without``: ``measure``'s figures for the same market, seeds and minutes, which are those with no
    latency (its maker runs are the same), so they are not run again."""
    out = {}
    for latency_ms in latencies:
        if latency_ms == 0 and without is not None:
            out[latency_ms] = {"shares": without["shares"], "fills": without["fills"],
                               "edge_bps": without["edge_bps"], "markouts": without["markouts"]}
            continue
        runs = {d: [run_maker(symbol, seed, minutes, d, latency_ms=latency_ms) for seed in range(seeds)]
                for d in LATENCY_DISTANCES_BPS}
        out[latency_ms] = {"shares": {d: fill_shares(rs) for d, rs in runs.items()}, **maker_figures(runs[MAKER_BPS])}
    return out


def latency_name(latency_ms: float | None) -> str:
    if latency_ms is None:
        regime = load_catalog().resolve("BTC-PERP").regime
        return f"latency {regime.latency_ms:g} ms median (default)"
    return "no latency" if latency_ms == 0 else f"latency {latency_ms:g} ms median"


def format_latency(results: dict[str, dict], seeds: int, minutes: float) -> str:
    """Per market, per latency: the fill curve and the 2.5 bps maker's edge and markouts, with the targets
    of issue 21 (8-30% at 2.5 bps; 40-80% where the recording shows it, 0.5 bps; the 60 s markout eats at
    least 80% of the edge)."""
    lines = [f"The same maker with the order-entry latency and without ({seeds} seed(s) x {minutes:g} min; a "
             f"round is a cancel and a quote, each reaching the book after its own delay):",
             "| market | latency | " + " | ".join(f"{d:g} bps fill" for d in LATENCY_DISTANCES_BPS)
             + f" | {MAKER_BPS:g} bps fills | edge at fill | markout 1 s | 10 s | 60 s | 60 s eats |",
             "|---|---|" + "---|" * (len(LATENCY_DISTANCES_BPS) + 6)]
    for symbol, per in results.items():
        for latency_ms, r in per.items():
            cells = []
            for d in LATENCY_DISTANCES_BPS:
                b, a = r["shares"][d]
                mark = ""
                if d == MAKER_BPS:
                    mark = " ok" if all(0.08 <= v <= 0.30 for v in (b, a)) else " MISS"
                elif d == 0.5:
                    mark = " ok" if all(0.40 <= v <= 0.80 for v in (b, a)) else " MISS"
                cells.append(f"{100 * b:.1f} / {100 * a:.1f}%{mark}")
            m, edge = r["markouts"], r["edge_bps"]
            left = edge + m[60]
            eats = "ok" if left <= 0.2 * max(edge, 0.0) else "MISS"
            eaten = f"{100 * -m[60] / edge:.0f}% {eats}" if edge > 0 else f"all (no edge) {eats}"
            lines.append(f"| {symbol} | {latency_name(latency_ms)} | " + " | ".join(cells) +
                         f" | {r['fills']} | {edge:+.2f} | {m[1]:+.2f} | {m[10]:+.2f} | {m[60]:+.2f} | {eaten} |")
    lines.append("(targets: 40-80% at 0.5 bps, 8-30% at 2.5 bps per side; the 60 s markout eats >= 80% of the edge)")
    return "\n".join(lines)

# ---- the book and the flow, side by side with the recordings ----------------------------------------
SIGN_LAGS = (1, 10, 50, 100)
VOL_LAG_MINUTES = 240           # the 1-minute |return| autocorrelation at a 4-hour lag ...
VOL_DAYS = 30                   # ... over this many simulated days of the path, per seed
COUNT_MINUTES = 720             # takers a minute against |return|: half a day of minutes, per seed
# (what, target text, test) per fact; a test takes the measured value
TARGETS = {
    "one_tick": ("spread 1 tick, share of 1-s samples", ">= 80% (BTC, calm)", lambda v: v >= 0.8),
    "touch_usd": ("depth at the touch per side, median USD", ">= $100k (BTC)", lambda v: v >= 1e5),
    "depth10_usd": ("depth within 10 bps per side, median USD", ">= $3M (BTC)", lambda v: v >= 3e6),
    "size_median": ("taker order, median USD", "~$1.85k (recorded)", None),
    "size_p99": ("taker order, 99th percentile USD", "~$440k (recorded)", None),
    "tail_index": ("taker size tail index (Hill, top 1%)", "0.9-1.5", lambda v: 0.9 <= v <= 1.5),
    "gap_cv": ("gaps between taker orders, CV", ">= 1.3", lambda v: v >= 1.3),
    "count_abs_r": ("per-minute taker count vs abs. return, corr", "> 0.2", lambda v: v > 0.2),
    "sign_1": ("sign autocorrelation, lag 1", "0.1-0.35", lambda v: 0.1 <= v <= 0.35),
    "sign_10": ("sign autocorrelation, lag 10", ">= 0.05", lambda v: v >= 0.05),
    "sign_50": ("sign autocorrelation, lag 50", "> 0", lambda v: v > 0),
    "sign_100": ("sign autocorrelation, lag 100", "(recorded 0.02)", None),
    "impact_slope": ("impact 10 s later vs size, log-log slope (seeds pooled)", "0.3-0.7",
                     lambda v: 0.3 <= v <= 0.7),
    "vol_4h": ("1-min abs. return autocorrelation at 4 h", ">= 0.03", lambda v: v >= 0.03),
}


def taker_orders(trades) -> list[tuple[float, float, bool]]:
    """Prints of one instant and side are one taker order: ``(time_s, usd, is_buy)`` (source-agnostic:
    ``trades`` is ``(time_s, usd, is_buy)`` per print, in time order)."""
    orders: list[list] = []
    for t, usd, buy in trades:
        last = orders[-1] if orders else None
        if last is not None and last[0] == t and last[2] == buy:
            last[1] += usd
        else:
            orders.append([t, usd, buy])
    return [tuple(o) for o in orders]


def flow_facts(takers, mids, one_tick, touch, depth10, minute_mids=None, first_minute_s=0.0) -> dict:
    """Every fact of the table from plain inputs: taker orders, ``(time_s, mid)`` samples, and per
    1-s sample whether the spread was one tick, the touch's USD and the USD within 10 bps (per side,
    the smaller side)."""
    sizes = [u for _, u, _ in takers]
    mid_at = fs.mid_lookup(mids)
    rows = fs.impact_rows(takers, mid_at) if takers and mids else []
    _, slope = fs.impact_curve(rows)
    signs = fs.sign_autocorr(takers, SIGN_LAGS)
    facts = {
        "one_tick": sum(one_tick) / len(one_tick) if one_tick else float("nan"),
        "touch_usd": fs.quantile(touch, 0.5), "depth10_usd": fs.quantile(depth10, 0.5),
        "size_median": fs.quantile(sizes, 0.5), "size_p99": fs.quantile(sizes, 0.99),
        "tail_index": fs.hill_tail_index(sizes), "gap_cv": fs.gap_cv([t for t, _, _ in takers]),
        "impact_slope": slope, "count_abs_r": float("nan"), "vol_4h": float("nan"),
        "_impact_rows": rows,
    }
    for lag in SIGN_LAGS:
        facts[f"sign_{lag}"] = signs[lag]
    if minute_mids is not None and len(minute_mids) > 5:
        facts["count_abs_r"] = fs.count_vs_abs_return(takers, minute_mids, first_minute_s)
    return facts


def measure_book_and_flow(symbol: str, seeds: int, minutes: float) -> dict:
    """The synthetic market's facts, every seed's samples pooled (statistics of time series per seed)."""
    spec = load_catalog().resolve(symbol)
    pooled: dict[str, list] = {}
    per_seed_rows: list[list[tuple[float, float]]] = []
    for seed in range(seeds):
        market = Market(spec, seed, DEFAULT_EPOCH)
        market.watchers = 1
        grid = market.grid
        one_tick, touch, depth10, mids, prints = [], [], [], [], []
        seen = 0
        for second in range(1, int(minutes * 60) + 1):
            market.advance_to(DEFAULT_EPOCH + second)
            bid, ask = market.best_bid(), market.best_ask()
            one_tick.append(ask - bid <= grid.tick_at(bid))
            mid = (bid + ask) / 2
            sides = [market.depth(is_buy, 40) for is_buy in (True, False)]
            touch.append(min(grid.notional(*side[0]) for side in sides))
            depth10.append(min(sum(grid.notional(p, q) for p, q in side if abs(p - mid) <= mid * 1e-3)
                               for side in sides))
            mids.append((market.now, market.mark))
            new = market.trades_printed - seen
            if new > 0:
                for tr in list(market.trades)[-new:]:
                    prints.append((tr.time, grid.notional(tr.price, tr.lots), tr.taker_is_buy))
            seen = market.trades_printed
        takers = taker_orders(prints)
        minute_mids = [market.mark_at(DEFAULT_EPOCH + 60 * i) for i in range(int(minutes) + 1)]
        facts = flow_facts(takers, mids, one_tick, touch, depth10, minute_mids, DEFAULT_EPOCH)
        k0 = int(DEFAULT_EPOCH * 1e6) // CHUNK_US
        # takers a minute against the minute's |return| over half a day: the takers' instants are
        # exogenous (agents change who they fill, not when they come), so the minutes' plans tell
        counts = [market.fair.plan(k).kinds.count(TAKER) for k in range(k0, k0 + COUNT_MINUTES)]
        logs = market.fair.minute_logs(k0, k0 + COUNT_MINUTES)
        facts["count_abs_r"] = fs.corr(counts, [abs(b - a) for a, b in zip(logs, logs[1:])])
        # volatility clustering from the path alone, over many days (cheap: whole minutes)
        logs = market.fair.minute_logs(k0, k0 + VOL_DAYS * 1440)
        abs_r = [abs(b - a) for a, b in zip(logs, logs[1:])]
        facts["vol_4h"] = fs.autocorr(abs_r, VOL_LAG_MINUTES)
        per_seed_rows.append(facts.pop("_impact_rows"))
        for key, value in facts.items():
            pooled.setdefault(key, []).append(value)
    out = {key: statistics.fmean(v for v in values if v == v) if any(v == v for v in values) else float("nan")
           for key, values in pooled.items()}
    # The impact curve from every seed's taker orders at once: one law, so its size deciles are pooled
    # (a seed's half hour gives deciles of ~250 orders, whose mean 10 s move, ~0.2 bps of noise on a
    # signal of 0.05-2 bps, is too noisy to fit alone: averaging ten such fits drops the deciles that
    # came out negative and bends the slope down).
    out["impact_slope"] = fs.impact_curve([r for rows in per_seed_rows for r in rows])[1]
    out["_impact_interval"] = slope_interval(per_seed_rows)
    return out


BOOTSTRAP_RESAMPLES = 200


def slope_interval(per_seed_rows: list[list[tuple[float, float]]], resamples: int = BOOTSTRAP_RESAMPLES
                   ) -> tuple[float, float]:
    """The impact slope's 5-95% interval by resampling whole seeds (each seed's orders stay together: their
    moves overlap in time); nan with fewer than two seeds."""
    import random
    n = len(per_seed_rows)
    if n < 2:
        return float("nan"), float("nan")
    rng = random.Random(0)
    slopes = sorted(s for s in (fs.impact_curve([r for _ in range(n) for r in per_seed_rows[rng.randrange(n)]])[1]
                                for _ in range(resamples)) if s == s)
    if not slopes:
        return float("nan"), float("nan")
    return slopes[int(0.05 * (len(slopes) - 1))], slopes[int(0.95 * (len(slopes) - 1))]


def default_feeds() -> str:
    env = os.environ.get("PF_MOCK_FEEDS")
    if env:
        return env
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(os.path.dirname(repo), "shared", "reference", "feeds")


def measure_recording(path: str) -> dict:
    """One recording's facts (what it can show: a few minutes cannot give per-minute or 4-hour figures)."""
    from pf_mock.replay.formats import RecordedTrade as RecTrade, read_recording   # the recording reader (issue 20)

    rec = read_recording(path, on_gap="truncate", max_silence_s=None)
    tick, lot = float(rec.tick), float(rec.lot)
    prints = [(e.exch_ts / 1e9, e.price * tick * e.size * lot, e.taker == "buy")
              for e in rec.events if type(e) is RecTrade]
    one_tick, touch, depth10, mids = [], [], [], []
    last_sample = None
    for ts, book in rec.books():
        bid, ask = book.best_bid(), book.best_ask()
        if bid is None or ask is None:
            continue
        mid = (bid + ask) / 2 * tick
        mids.append((ts / 1e9, mid))
        if last_sample is None or ts - last_sample >= 1_000_000_000:
            last_sample = ts
            one_tick.append(ask - bid == 1)
            sides = [book.levels(side, None) for side in ("bid", "ask")]
            touch.append(min(side[0][0] * tick * side[0][1] * lot for side in sides))
            depth10.append(min(sum(p * tick * q * lot for p, q in side if abs(p * tick - mid) <= mid * 1e-3)
                               for side in sides))
    takers = taker_orders(prints)
    facts = flow_facts(takers, mids, one_tick, touch, depth10)
    del facts["_impact_rows"]
    facts["_name"] = f"{rec.venue} {rec.symbol} ({rec.duration_s:.0f} s, {len(takers)} taker orders)"
    return facts


def _fmt(key: str, v: float) -> str:
    if v != v:
        return "n/a"
    if key in ("touch_usd", "depth10_usd", "size_median", "size_p99"):
        return f"${v / 1e6:.2f}M" if v >= 1e6 else f"${v / 1e3:.1f}k"
    if key == "one_tick":
        return f"{100 * v:.1f}%"
    return f"{v:.2f}" if abs(v) >= 0.1 or key in ("gap_cv", "tail_index", "impact_slope") else f"{v:.3f}"


def _verdict(test, v: float) -> str:
    """" ok" or " MISS" for a figure against its target's test; nothing without a test or a figure (nan)."""
    return "" if test is None or v != v else (" ok" if test(v) else " MISS")


BOOK_KEYS = ("one_tick", "touch_usd", "depth10_usd")     # the book's targets, scaled per market


def book_targets(symbol: str) -> dict:
    """The book's targets for ``symbol``: BTC-PERP's (issue 21) scaled by the book-shape model's rule
    (``models/book_shape.py``, ``BookScaling``) from the market's catalog parameters: depth at the touch and
    within 10 bps times the market's depth factor; a one-tick spread >= 80% of the time where the scaled
    spread is under one tick at the market's price (else the touch is wider by design: no target)."""
    from pf_mock.catalog import BOOK_SCALING
    spec = load_catalog().resolve(symbol)
    regime = spec.regime
    volume, vol = regime.daily_volume_usd, regime.volatility_annual
    factor = BOOK_SCALING.depth_factor(volume, vol)
    market = Market(spec, 0, DEFAULT_EPOCH)
    grid = market.grid
    tick_bps = grid.tick_at(market.best_bid()) / market.best_bid() * 1e4
    ticks = max(1, round(regime.spread_bps / tick_bps))
    touch, deep = 1e5 * factor, 3e6 * factor
    out = {
        "daily_volume_usd": volume, "activity": BOOK_SCALING.activity_ratio(volume, vol), "factor": factor,
        "spread_bps": regime.spread_bps, "tick_bps": tick_bps, "depth_usd": regime.depth_usd,
        "touch_usd": (f">= {_fmt('touch_usd', touch)}", lambda v: v >= touch),
        "depth10_usd": (f">= {_fmt('depth10_usd', deep)}", lambda v: v >= deep),
    }
    out["one_tick"] = ((">= 80%", lambda v: v >= 0.8) if ticks == 1 else
                       (f"none ({ticks} ticks by design)", None))
    return out


def format_book_and_flow(model: dict[str, dict], recordings: list[dict], note: str | None) -> str:
    symbols = list(model)
    scaled = {symbol: book_targets(symbol) for symbol in symbols}
    head = ["fact", *symbols, *(r["_name"] for r in recordings), "target"]
    lines = ["The book and the flow: model (mean over seeds) | recording | target",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, (what, target, test) in TARGETS.items():
        cells = []
        for symbol in symbols:
            v = model[symbol][key]
            if key in BOOK_KEYS:
                test = scaled[symbol][key][1]
            cells.append(_fmt(key, v) + _verdict(test, v))
        cells += [_fmt(key, r[key]) for r in recordings]
        lines.append(f"| {what} | " + " | ".join(cells) + f" | {target} |")
    if note:
        lines += ["", note]
    lines.append("(ok/MISS: the model's figure against the target; the book's rows against each market's scaled "
                 "targets below, the other BTC targets against every market.)")
    intervals = [(symbol, model[symbol].get("_impact_interval", (float("nan"), float("nan")))) for symbol in symbols]
    lines.append("Impact slope, 5-95% interval resampling whole seeds: " + "; ".join(
        f"{symbol} {lo:.2f}-{hi:.2f}" if lo == lo else f"{symbol} n/a" for symbol, (lo, hi) in intervals) + ".")
    lines += ["", "The book scaled per market from its catalog parameters (models/book_shape.py, BookScaling: "
              "activity W = volatility x daily volume against BTC-PERP's; spread x (vol ratio) x W^-1/3, "
              "depth x (volume ratio) x W^-2/3), and the model against its scaled targets:",
              "| market | daily volume | activity / BTC's | spread_bps (tick) | depth_usd (factor) | one tick "
              "| touch | within 10 bps |", "|---|---|---|---|---|---|---|---|"]
    for symbol in symbols:
        t, m = scaled[symbol], model[symbol]

        def cell(key):
            text, test = t[key]
            v = m[key]
            return f"{_fmt(key, v)}{_verdict(test, v)} (target {text})"
        lines.append(f"| {symbol} | ${t['daily_volume_usd'] / 1e6:,.0f}M | {t['activity']:.4f} | "
                     f"{t['spread_bps']:.3f} ({t['tick_bps']:.3f}) | ${t['depth_usd']:,.0f} ({t['factor']:.3f}) | "
                     f"{cell('one_tick')} | {cell('touch_usd')} | {cell('depth10_usd')} |")
    return "\n".join(lines)


# ---- the same maker on the synthetic BTC-PERP and on each replayed recording --------------------------
VS_DISTANCES_BPS = (0.5, 1.0, 2.5, 5.0)
VS_FACTOR = 1.5                 # issue 21: fill curves and markouts within a factor 1.5 of each other


def _maker_figures(runs: list[dict]) -> dict:
    """Fill share per side (both sides pooled) and the markouts, over ``runs`` of one distance."""
    posted = sum(r["posted"][True] + r["posted"][False] for r in runs)
    filled = sum(r["filled"][True] + r["filled"][False] for r in runs)
    notional = sum(r["notional"] for r in runs)
    return {"share": filled / posted if posted else float("nan"), "fills": sum(r["fills"] for r in runs),
            "markouts": {h: (sum(r["markout_bps"][h] * r["notional"] for r in runs) / notional
                             if notional else float("nan")) for h in MARKOUT_S}}


def replay_source(path: str):
    """A recording as the replayed market serves it: the queue's back, no latency (the synthetic market
    has none), partial fills (as the synthetic book)."""
    from pf_mock.replay.setup import load_sources
    sources = load_sources([path], latency_ms=0.0)
    (symbol, source), = sources.items()
    return symbol, source


def measure_vs_replay(paths: list[str], seeds: int, minutes: float) -> tuple[dict, list[dict]]:
    """The calibration maker at each of ``VS_DISTANCES_BPS`` on the synthetic market of each recording's
    symbol (``seeds`` x ``minutes``) and on the recording (once: a recording is one path), side by side."""
    synthetic: dict[str, dict] = {}
    replayed: list[dict] = []
    for path in paths:
        try:
            symbol, source = replay_source(path)
        except Exception as exc:            # a file the reader refuses: say so, keep going
            print(f"{os.path.basename(path)}: not replayed ({exc}).")
            continue
        if symbol not in synthetic:
            synthetic[symbol] = {d: _maker_figures([run_maker(symbol, seed, minutes, d) for seed in range(seeds)])
                                 for d in VS_DISTANCES_BPS}
        span = (source.end_s - source.start_s) / 60.0
        rec = source.recording
        if span * 60.0 < 2 * max(MARKOUT_S):
            print(f"{os.path.basename(path)}: {60 * span:.0f} s, too short to replay the maker on (its markouts "
                  f"look {max(MARKOUT_S)} s ahead).")
            continue
        replayed.append({"name": f"{rec.venue} {rec.symbol} ({60 * span:.0f} s)", "symbol": symbol,
                         "figures": {d: _maker_figures([run_maker(symbol, 0, span, d, source=source)])
                                     for d in VS_DISTANCES_BPS}})
    return synthetic, replayed


def _ratio(a: float, b: float) -> float:
    """max/min of two figures of one sign (inf when they differ in sign or one is 0; nan when missing)."""
    if a != a or b != b:
        return float("nan")
    if a == 0 or b == 0 or (a > 0) != (b > 0):
        return float("inf")
    return max(a, b) / min(a, b) if a > 0 else max(-a, -b) / min(-a, -b)


def format_vs_replay(synthetic: dict, replayed: list[dict], seeds: int, minutes: float) -> str:
    lines = [f"The same maker on the synthetic market ({seeds} seed(s) x {minutes:g} min) and on each replayed "
             f"recording (its whole length, no latency, the queue's back): fill share per side and the 2.5 bps "
             f"maker's markouts; ratio = larger / smaller (target <= {VS_FACTOR:g})",
             "| recording | figure | synthetic | replayed | ratio |", "|---|---|---|---|---|"]
    for rep_ in replayed:
        syn = synthetic[rep_["symbol"]]
        rows = [(f"fill share at {d:g} bps", syn[d]["share"], rep_["figures"][d]["share"], True)
                for d in VS_DISTANCES_BPS]
        rows += [(f"{MAKER_BPS:g} bps markout {h} s (bps)", syn[MAKER_BPS]["markouts"][h],
                  rep_["figures"][MAKER_BPS]["markouts"][h], False) for h in MARKOUT_S]
        for what, a, b, pct in rows:
            r = _ratio(a, b)
            cell = lambda v: "n/a" if v != v else (f"{100 * v:.1f}%" if pct else f"{v:+.2f}")
            verdict = "n/a" if r != r else (f"{r:.2f}" + (" ok" if r <= VS_FACTOR else " MISS"))
            lines.append(f"| {rep_['name']} | {what} | {cell(a)} | {cell(b)} | {verdict} |")
        lines.append(f"| {rep_['name']} | {MAKER_BPS:g} bps maker fills | {syn[MAKER_BPS]['fills']} | "
                     f"{rep_['figures'][MAKER_BPS]['fills']} | |")
    return "\n".join(lines)


# ---- queue position: the back of a deep level against one tick better --------------------------------
QUEUE_LEVEL_USD = 100_000.0     # the deep level: $100k or more
QUEUE_TARGET = 0.5              # back / improver at most this
QUEUE_MIN_ROUNDS = 50           # fewer orders posted than this (a short recording): no verdict


class _QueueWatch:
    """Steps a market event by event and marks each of the maker's fills after its event: did the level
    stand, or did the price run through it (the best price of everyone else on the other side reached
    the order's price)?"""

    def __init__(self) -> None:
        self.marked: list[tuple[AgentFill, bool]] = []

    def take(self, market) -> None:
        fills = [f for f in market.take_news() if type(f) is AgentFill and f.owner == OWNER and f.maker]
        if fills:
            bid, ask = market.best_excluding(OWNER)
            for f in fills:
                other = ask if f.is_buy else bid
                self.marked.append((f, other is None or (other <= f.price if f.is_buy else other >= f.price)))

    def advance_to(self, market, t: float) -> None:
        target = round(t * US_PER_S)
        while market.step_until(target) is not None:
            self.take(market)
        market.stand_at(target)


def queue_rounds(market, watch: _QueueWatch, start_s: float, end_s: float, back: bool) -> dict:
    """The back (or improver) maker on ``market`` from ``start_s`` to ``end_s``: posted and filled USD, the
    fills split into at a standing level and through it."""
    grid = market.grid
    posted = at_level = through = 0.0
    rounds = 0
    live: list[int] = []
    t = start_s
    while t < end_s - 1e-9:
        watch.advance_to(market, t)
        for order_id in live:
            market.cancel(order_id)
        live = []
        watch.take(market)
        for is_buy in (True, False):
            levels = market.depth(is_buy, 40)
            if len(levels) < 2:
                continue
            touch = levels[0][0]
            deep = next((p for p, q in levels[1:] if grid.notional(p, q) >= QUEUE_LEVEL_USD), None)
            if deep is None:
                continue
            better = deep + grid.tick_at(deep) * (1 if is_buy else -1)
            if better == touch:
                continue
            price = deep if back else better
            lots = grid.lots_for_usd(QUOTE_USD, price)
            if lots <= 0:
                continue
            order_id, result = market.place(OWNER, is_buy, price, lots, GTC)
            posted += grid.notional(price, lots)
            rounds += 1
            if result.resting is not None:
                live.append(order_id)
            watch.take(market)
        t += REQUOTE_S
    watch.advance_to(market, end_s)
    for order_id in live:
        market.cancel(order_id)
    watch.take(market)
    for f, ran_through in watch.marked:
        usd = grid.notional(f.price, f.lots)
        if ran_through:
            through += usd
        else:
            at_level += usd
    return {"posted": posted, "at_level": at_level, "through": through, "rounds": rounds}


def _queue_figures(back: list[dict], front: list[dict]) -> dict:
    def shares(runs):
        posted = sum(r["posted"] for r in runs)
        return {k: (sum(r[k] for r in runs) / posted if posted else float("nan")) for k in ("at_level", "through")}
    b, f = shares(back), shares(front)
    total_b, total_f = b["at_level"] + b["through"], f["at_level"] + f["through"]
    return {"back": b, "front": f, "ratio": total_b / total_f if total_f else float("nan"),
            "rounds": min(sum(r["rounds"] for r in back), sum(r["rounds"] for r in front)),
            "ratio_at_level": b["at_level"] / f["at_level"] if f["at_level"] else float("nan")}


def measure_queue(symbol: str, seeds: int, minutes: float) -> dict:
    """The synthetic market: back and improver, each alone in a run of each seed."""
    spec = load_catalog().resolve(symbol)
    runs: dict[bool, list[dict]] = {True: [], False: []}
    for seed in range(seeds):
        for back in (True, False):
            watch = _QueueWatch()
            market = Market(spec, seed, DEFAULT_EPOCH)
            market.watchers = 1
            runs[back].append(queue_rounds(market, watch, DEFAULT_EPOCH + 1, DEFAULT_EPOCH + minutes * 60, back))
    return _queue_figures(runs[True], runs[False])


def measure_queue_recording(path: str) -> dict:
    """The same makers on a recording, replayed with the replay's default queue model."""
    from pf_mock.replay.formats import read_recording
    from pf_mock.replay.source import ReplaySource

    rec = read_recording(path, on_gap="truncate", max_silence_s=None)
    runs: dict[bool, list[dict]] = {}
    for back in (True, False):
        source = ReplaySource(rec)
        spec = source.spec_for(load_catalog().resolve("BTC-PERP"))
        watch = _QueueWatch()
        market = source(spec, 0, source.data.start_us)
        market.watchers = 1
        start, end = source.data.start_us / US_PER_S, source.data.end_us / US_PER_S
        runs[back] = [queue_rounds(market, watch, start + 1, end - 1, back)]
    figures = _queue_figures(runs[True], runs[False])
    figures["_name"] = f"{rec.venue} {rec.symbol} ({rec.duration_s:.0f} s, {source.queue.name} queue)"
    return figures


def format_queue(model: dict[str, dict], recordings: list[dict], note: str | None, seeds: int,
                 minutes: float) -> str:
    def pct(v):
        return "n/a" if v != v else f"{100 * v:.1f}%"

    def ratio(v):
        return "n/a" if v != v else f"{v:.2f}"
    columns = [(f"{symbol} (model)", r) for symbol, r in model.items()] + [(r["_name"], r) for r in recordings]
    lines = [f"Queue position: $100 at the back of the first level of ${QUEUE_LEVEL_USD / 1e3:g}k+ behind the touch, "
             f"or one tick better, re-posted every {REQUOTE_S:g} s (model: {seeds} seed(s) x {minutes:g} min)",
             "| figure | " + " | ".join(name for name, _ in columns) + " | target |",
             "|" + "---|" * (len(columns) + 2)]
    rows = [("orders posted (each maker, both sides)", lambda r: str(r["rounds"]), ""),
            ("back: fill per side per round, level standing", lambda r: pct(r["back"]["at_level"]), ""),
            ("back: ... the price running through", lambda r: pct(r["back"]["through"]), ""),
            ("improver: fill per side per round, level standing", lambda r: pct(r["front"]["at_level"]), ""),
            ("improver: ... the price running through", lambda r: pct(r["front"]["through"]), ""),
            ("back / improver, fills at a standing level", lambda r: ratio(r["ratio_at_level"]), ""),
            ("back / improver, all fills", lambda r: ratio(r["ratio"]) + (
                "" if r["ratio"] != r["ratio"] or r["rounds"] < QUEUE_MIN_ROUNDS
                else (" ok" if r["ratio"] <= QUEUE_TARGET else " MISS")), f"<= {QUEUE_TARGET:g}")]
    for what, cell, target in rows:
        lines.append(f"| {what} | " + " | ".join(cell(r) for _, r in columns) + f" | {target} |")
    lines.append(f"(ok/MISS only with {QUEUE_MIN_ROUNDS}+ orders; the split is the event's: a recorded level that "
                 f"trades away shows as gone only at its next book update, so it reads as standing.)")
    if note:
        lines += ["", note]
    return "\n".join(lines)


def run(seeds: int = 3, minutes: float = 60.0, symbols=SYMBOLS) -> list[dict]:
    return [measure(symbol, seeds, minutes) for symbol in symbols]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--symbols", default=",".join(SYMBOLS))
    parser.add_argument("--feeds", default=default_feeds(), help="directory of recordings (the recording column)")
    parser.add_argument("--part", choices=("book", "maker", "pnl", "latency", "replay", "queue", "all"),
                        default="all")
    args = parser.parse_args(argv)
    symbols = args.symbols.split(",")
    if args.part in ("book", "all"):
        recordings, note = [], None
        files = sorted(os.listdir(args.feeds)) if os.path.isdir(args.feeds) else []
        if not files:
            note = f"No recording found in {args.feeds}: the recording column is left out (--feeds DIR)."
        for name in files:
            try:
                recordings.append(measure_recording(os.path.join(args.feeds, name)))
            except Exception as exc:            # a file the reader refuses: say so, keep going
                note = (note + " " if note else "") + f"{name}: not read ({exc})."
        model = {symbol: measure_book_and_flow(symbol, args.seeds, args.minutes) for symbol in symbols}
        print(f"{args.seeds} seed(s) x {args.minutes:g} simulated minutes per market (the 4-hour figure: "
              f"{VOL_DAYS} days of the path per seed)")
        print(format_book_and_flow(model, recordings, note))
        print()
    measured: dict[str, dict] = {}
    if args.part in ("maker", "all"):
        report = run(args.seeds, args.minutes, symbols)
        measured = {r["symbol"]: r for r in report}
        print(format_report(report, args.seeds, args.minutes))
        print()
    if args.part == "pnl":
        print(f"{args.seeds} seed(s) x {args.minutes:g} simulated minutes per market; the {MAKER_BPS:g} bps maker, "
              f"${QUOTE_USD:g} a side, re-posted every {REQUOTE_S:g} s")
        print(format_pnl([measure_pnl(symbol, args.seeds, args.minutes) for symbol in symbols]))
    if args.part in ("maker", "latency", "all"):
        print(format_latency({symbol: measure_latency(symbol, args.seeds, args.minutes,
                                                      without=measured.get(symbol)) for symbol in symbols},
                             args.seeds, args.minutes))
    if args.part in ("replay", "all"):
        files = sorted(os.listdir(args.feeds)) if os.path.isdir(args.feeds) else []
        if not files:
            print(f"No recording found in {args.feeds}: nothing to replay the maker on (--feeds DIR).")
        else:
            synthetic, replayed = measure_vs_replay([os.path.join(args.feeds, f) for f in files], args.seeds,
                                                    args.minutes)
            print()
            print(format_vs_replay(synthetic, replayed, args.seeds, args.minutes))
    if args.part in ("queue", "all"):
        if args.part == "all":
            print()
        print(queue_part(args, symbols))


def queue_part(args, symbols) -> str:
    """``--part queue``: the model on each symbol beside each recording replayed."""
    recordings, note = [], None
    files = sorted(os.listdir(args.feeds)) if os.path.isdir(args.feeds) else []
    if not files:
        note = f"No recording found in {args.feeds}: the recording column is left out (--feeds DIR)."
    for name in files:
        try:
            recordings.append(measure_queue_recording(os.path.join(args.feeds, name)))
        except Exception as exc:            # a file the reader refuses: say so, keep going
            note = (note + " " if note else "") + f"{name}: not replayed ({exc})."
    model = {symbol: measure_queue(symbol, args.seeds, args.minutes) for symbol in symbols}
    return format_queue(model, recordings, note, args.seeds, args.minutes)


if __name__ == "__main__":
    main()
