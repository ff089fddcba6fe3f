"""Statistics of a recorded market, from the normalised stream of any format (``formats.Recording``).

The figures a synthetic market is calibrated against: the spread in ticks, the depth at the touch and
within 10 bps of the mid, taker order sizes and their tail, the gaps between takers, the autocorrelation of
taker signs, and the fill-through curve of a maker quoting some bps from the mid with its markout.

Every function takes a ``Recording`` (or what ``sample_book`` / ``taker_orders`` made of it) and returns
plain numbers; ``summary(rec)`` gathers them all in one dict. Nothing here knows which venue or format the
recording came from. Times are ns, prices USD, sizes base units, notionals USD.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass

from .formats import Recording
from .l2book import ASK, BID

NS = 1_000_000_000
FILL_THROUGH_BPS = (0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class BookSamples:
    """The book sampled every ``every_ns``: per sample, its time, best bid and ask (ticks), the size at the
    touch per side (lots) and the size within ``band_bps`` of the mid per side (lots)."""

    every_ns: int
    band_bps: float
    times: list
    bids: list
    asks: list
    touch_bid: list
    touch_ask: list
    band_bid: list
    band_ask: list


def _quantile(values: list, q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    pos = q * (len(s) - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def _describe(values: list) -> dict:
    if not values:
        return {"count": 0, "mean": None, "median": None, "p90": None, "p99": None}
    return {"count": len(values), "mean": sum(values) / len(values), "median": _quantile(values, 0.5),
            "p90": _quantile(values, 0.9), "p99": _quantile(values, 0.99)}


def sample_book(rec: Recording, every_ns: int = NS, band_bps: float = 10.0) -> BookSamples:
    """One pass over the book, sampled at the first update at or after each ``every_ns`` step."""
    out = BookSamples(every_ns, band_bps, [], [], [], [], [], [], [])
    next_t = None
    for ts, book in rec.books():
        if next_t is not None and ts < next_t:
            continue
        next_t = (ts if next_t is None else next_t) + every_ns
        while next_t <= ts:
            next_t += every_ns
        bid, ask = book.best_bid(), book.best_ask()
        if bid is None or ask is None:
            continue
        mid = (bid + ask) / 2
        reach = mid * band_bps / 1e4
        band_bid = 0
        for price in book.prices(BID):
            if price < mid - reach:
                break
            band_bid += book.bids[price]
        band_ask = 0
        for price in book.prices(ASK):
            if price > mid + reach:
                break
            band_ask += book.asks[price]
        out.times.append(ts)
        out.bids.append(bid)
        out.asks.append(ask)
        out.touch_bid.append(book.bids[bid])
        out.touch_ask.append(book.asks[ask])
        out.band_bid.append(band_bid)
        out.band_ask.append(band_ask)
    return out


def mid_path(rec: Recording) -> tuple[list[int], list[float]]:
    """The mid (in ticks, may be a half tick) after every update that changed it: (times, mids)."""
    times: list[int] = []
    mids: list[float] = []
    for ts, book in rec.books():
        bid, ask = book.best_bid(), book.best_ask()
        if bid is None or ask is None:
            continue
        mid = (bid + ask) / 2
        if not mids or mids[-1] != mid:
            times.append(ts)
            mids.append(mid)
    return times, mids


def spread_ticks(samples: BookSamples) -> dict:
    """The quoted spread in ticks over the samples: mean, median, p90, and the share of one-tick spreads."""
    spreads = [a - b for a, b in zip(samples.asks, samples.bids)]
    found = _describe(spreads)
    found["share_one_tick"] = (sum(1 for s in spreads if s == 1) / len(spreads)) if spreads else None
    return found


def depth(samples: BookSamples, rec: Recording) -> dict:
    """Mean USD at the touch and within the band of the mid, per side."""
    tick, lot = float(rec.tick), float(rec.lot)
    n = len(samples.times)
    if not n:
        return {}

    def usd(sizes, prices):
        return sum(s * p for s, p in zip(sizes, prices)) * tick * lot / n
    mids = [(b + a) / 2 for b, a in zip(samples.bids, samples.asks)]
    return {"touch_bid_usd": usd(samples.touch_bid, samples.bids), "touch_ask_usd": usd(samples.touch_ask, samples.asks),
            f"within_{samples.band_bps:g}bps_bid_usd": usd(samples.band_bid, mids),
            f"within_{samples.band_bps:g}bps_ask_usd": usd(samples.band_ask, mids)}


@dataclass
class TakerOrder:
    ts: int             # local receive time of its first print
    exch_ts: int
    is_buy: bool
    size: float         # base units
    notional: float     # USD
    worst_price: float


def taker_orders(rec: Recording) -> list[TakerOrder]:
    """Trades grouped into taker orders: consecutive prints of one side with the same exchange time are
    one order (a venue prints one trade per maker it met)."""
    tick, lot = float(rec.tick), float(rec.lot)
    out: list[TakerOrder] = []
    for t in rec.trades():
        is_buy = t.taker == "buy"
        size = t.size * lot
        price = t.price * tick
        last = out[-1] if out else None
        if last is not None and last.exch_ts == t.exch_ts and last.is_buy == is_buy and t.exch_ts:
            last.size += size
            last.notional += size * price
            last.worst_price = max(last.worst_price, price) if is_buy else min(last.worst_price, price)
        else:
            out.append(TakerOrder(t.ts, t.exch_ts, is_buy, size, size * price, price))
    return out


def taker_sizes(orders: list[TakerOrder]) -> dict:
    """Taker order sizes in USD: mean, median, p90, p99, and the tail exponent (Hill estimator on the
    largest 10%; smaller means a heavier tail)."""
    sizes = [o.notional for o in orders]
    found = _describe(sizes)
    found["tail_exponent"] = hill_tail(sizes)
    return found


def hill_tail(values: list, share: float = 0.1) -> float | None:
    positive = sorted((v for v in values if v > 0), reverse=True)
    k = int(len(positive) * share)
    if k < 5:
        return None
    threshold = positive[k]
    logs = [math.log(v / threshold) for v in positive[:k]]
    mean = sum(logs) / k
    return 1.0 / mean if mean > 0 else None


def taker_gaps(orders: list[TakerOrder]) -> dict:
    """Seconds between consecutive taker orders (by exchange time, else receive time): the summary and
    the coefficient of variation (1 for a Poisson flow, above 1 for bursts)."""
    times = [o.exch_ts or o.ts for o in orders]
    gaps = [(b - a) / NS for a, b in zip(times, times[1:])]
    found = _describe(gaps)
    if len(gaps) > 1:
        mean = sum(gaps) / len(gaps)
        var = sum((g - mean) ** 2 for g in gaps) / (len(gaps) - 1)
        found["cv"] = math.sqrt(var) / mean if mean > 0 else None
    else:
        found["cv"] = None
    found["per_minute"] = (len(orders) / ((times[-1] - times[0]) / NS) * 60) if len(times) > 1 and times[-1] > times[0] else None
    return found


def sign_autocorrelation(orders: list[TakerOrder], lags=(1, 2, 5, 10, 20)) -> dict:
    """Autocorrelation of taker order signs (+1 buy, -1 sell) at each lag, in order count."""
    signs = [1.0 if o.is_buy else -1.0 for o in orders]
    n = len(signs)
    if n < 3:
        return {lag: None for lag in lags}
    mean = sum(signs) / n
    var = sum((s - mean) ** 2 for s in signs) / n
    out = {}
    for lag in lags:
        if lag >= n or var == 0:
            out[lag] = None
            continue
        cov = sum((signs[i] - mean) * (signs[i + lag] - mean) for i in range(n - lag)) / (n - lag)
        out[lag] = cov / var
    return out


def fill_through(rec: Recording, offsets_bps=FILL_THROUGH_BPS, every_s: float = 5.0, markout_s: float = 60.0,
                 path: tuple[list, list] | None = None) -> dict:
    """A maker's fill-through curve: every ``every_s`` it quotes a bid and an ask ``x`` bps from the mid;
    a side counts as filled when, before the next re-quote, a taker trade prints at or through its price
    (a sell taker at or below the bid, a buy taker at or above the ask). For each offset: the share of
    quotes filled (both sides together) and the mean markout in bps at ``markout_s`` after the fill
    (positive: the mid moved the maker's way), over the fills whose horizon the recording reaches."""
    times, mids = path or mid_path(rec)
    trades = list(rec.trades())
    trade_times = [t.ts for t in trades]
    end = rec.end_ns
    step = int(every_s * NS)
    horizon = int(markout_s * NS)

    def mid_at(t):
        i = bisect_right(times, t) - 1
        return mids[max(i, 0)]

    out = {}
    for x in offsets_bps:
        quotes = filled = 0
        markouts = []
        t = rec.start_ns
        while t + step <= end:
            mid = mid_at(t)
            bid, ask = mid * (1 - x / 1e4), mid * (1 + x / 1e4)
            lo, hi = bisect_right(trade_times, t), bisect_right(trade_times, t + step)
            fill_bid = fill_ask = None
            for tr in trades[lo:hi]:
                if fill_bid is None and tr.taker == "sell" and tr.price <= bid:
                    fill_bid = tr.ts
                if fill_ask is None and tr.taker == "buy" and tr.price >= ask:
                    fill_ask = tr.ts
            quotes += 2
            for when, is_buy, price in ((fill_bid, True, bid), (fill_ask, False, ask)):
                if when is None:
                    continue
                filled += 1
                if when + horizon <= end:
                    later = mid_at(when + horizon)
                    move = (later - price) / price if is_buy else (price - later) / price
                    markouts.append(move * 1e4)
            t += step
        out[x] = {"fill_share": filled / quotes if quotes else None,
                  f"markout_{markout_s:g}s_bps": sum(markouts) / len(markouts) if markouts else None,
                  "markout_fills": len(markouts)}
    return out


def summary(rec: Recording, every_ns: int = NS) -> dict:
    """Every statistic above for one recording."""
    samples = sample_book(rec, every_ns)
    orders = taker_orders(rec)
    return {
        "venue": rec.venue, "symbol": rec.symbol, "duration_s": rec.duration_s,
        "tick": str(rec.tick), "lot": str(rec.lot),
        "spread_ticks": spread_ticks(samples),
        "depth": depth(samples, rec),
        "taker_sizes_usd": taker_sizes(orders),
        "taker_gaps_s": taker_gaps(orders),
        "sign_autocorrelation": sign_autocorrelation(orders),
        "fill_through": fill_through(rec),
    }

