"""Statistics of order flow and books, source-agnostic: the synthetic market and a recorded feed are fed
through the same functions (``benchmarks/calibration.py`` prints both side by side).

Inputs are plain sequences: taker orders as ``(time_s, usd, is_buy)``, mids as ``(time_s, price)``,
book samples as numbers. Nothing here knows where they came from.
"""

from __future__ import annotations

import bisect
import math
from typing import Sequence


def quantile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``; nan when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered))))]


def hill_tail_index(sizes: Sequence[float], top: float = 0.01) -> float:
    """Hill's estimator of the tail index from the largest ``top`` share of ``sizes`` (at least 10 of them)."""
    ordered = sorted((s for s in sizes if s > 0), reverse=True)
    k = max(10, int(top * len(ordered)))
    if len(ordered) <= k:
        return math.nan
    threshold = ordered[k]
    mean_log = sum(math.log(s / threshold) for s in ordered[:k]) / k
    return 1.0 / mean_log if mean_log > 0 else math.inf


def gap_cv(times: Sequence[float]) -> float:
    """Coefficient of variation of the gaps between consecutive arrival times (1 for a Poisson stream)."""
    gaps = [b - a for a, b in zip(times, times[1:])]
    if len(gaps) < 2:
        return math.nan
    mean = sum(gaps) / len(gaps)
    var = sum((g - mean) ** 2 for g in gaps) / (len(gaps) - 1)
    return math.sqrt(var) / mean if mean > 0 else math.nan


def corr(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson's correlation; nan when either side is constant or too short."""
    n = len(x)
    if n < 3 or n != len(y):
        return math.nan
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else math.nan


def autocorr(series: Sequence[float], lag: int) -> float:
    """Autocorrelation of ``series`` at ``lag`` (one mean and variance for the whole series)."""
    n = len(series)
    if lag >= n - 2:
        return math.nan
    mean = sum(series) / n
    var = sum((v - mean) ** 2 for v in series) / n
    if var == 0:
        return math.nan
    return sum((series[i] - mean) * (series[i + lag] - mean) for i in range(n - lag)) / (n - lag) / var


def sign_autocorr(takers: Sequence[tuple[float, float, bool]], lags: Sequence[int]) -> dict[int, float]:
    """Autocorrelation of the taker orders' signs (+1 buy, -1 sell) at each lag, in orders."""
    signs = [1.0 if buy else -1.0 for _, _, buy in takers]
    return {lag: autocorr(signs, lag) for lag in lags}


def count_vs_abs_return(takers: Sequence[tuple[float, float, bool]], minute_mids: Sequence[float],
                        first_minute_s: float) -> float:
    """Correlation, minute by minute, of the number of taker orders with the minute's |log return|.
    ``minute_mids[i]`` is the mid at ``first_minute_s + 60 i``."""
    counts = [0] * (len(minute_mids) - 1)
    for t, _, _ in takers:
        i = int((t - first_minute_s) // 60)
        if 0 <= i < len(counts):
            counts[i] += 1
    moves = [abs(math.log(b / a)) for a, b in zip(minute_mids, minute_mids[1:])]
    return corr(counts, moves)


def impact_rows(takers: Sequence[tuple[float, float, bool]], mid_at, horizon_s: float = 10.0) -> list[tuple[float, float]]:
    """Per taker order, ``(size, signed move)``: the mid's move ``horizon_s`` after it in bps, + = the way it
    traded. ``mid_at(t)`` gives the mid at ``t``; the mid just before the order is ``mid_at(t - 1e-6)``.
    Rows of several runs of one law may be pooled before ``impact_curve``."""
    return [(usd, (1.0 if buy else -1.0) * math.log(mid_at(t + horizon_s) / mid_at(t - 1e-6)) * 1e4)
            for t, usd, buy in takers]


def impact_curve(rows: Sequence[tuple[float, float]], bins: int = 10) -> tuple[list[tuple[float, float]], float]:
    """``impact_rows`` averaged by size decile: [(mean size, mean move)], and the log-log slope of move on
    size over the deciles whose mean move is positive (nan if fewer than three)."""
    rows = sorted(rows)
    if len(rows) < bins:
        return [], math.nan
    curve = []
    for b in range(bins):
        part = rows[b * len(rows) // bins:(b + 1) * len(rows) // bins]
        curve.append((sum(r[0] for r in part) / len(part), sum(r[1] for r in part) / len(part)))
    pts = [(math.log(s), math.log(m)) for s, m in curve if m > 0 and s > 0]
    if len(pts) < 3:
        return curve, math.nan
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    return curve, sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx if sxx else math.nan


def mid_lookup(mids: Sequence[tuple[float, float]]):
    """A ``mid_at(t)`` over a time-ordered list of ``(time_s, mid)``: the last mid at or before ``t``."""
    times = [t for t, _ in mids]
    values = [m for _, m in mids]

    def mid_at(t: float) -> float:
        i = bisect.bisect_right(times, t) - 1
        return values[max(i, 0)]
    return mid_at
