"""The fair value's shortcuts give exactly what laying the path out gives.

A read on a whole minute takes the minute's first sample without laying the minute out
(``FairValue._head``), and the breathing spread's look back asks only when a minute's jump happened
(``FairValue._jump_time_of``). Each is checked, bit for bit, against the laid-out minute of a second
``FairValue`` with the same history, over idle weeks, jumps and regime changes, busy regimes with many
jumps and a market created mid-minute.
"""

from __future__ import annotations

import math
import random

import pytest

from pf_mock.catalog import load_catalog
from pf_mock.model import CHUNK_US, FairValue

START_US = 1_767_225_600 * 1_000_000
MINUTE = CHUNK_US
DAY = 1440 * MINUTE


def _pair(seed: int, symbol: str, start: int, busy: bool) -> tuple[FairValue, FairValue]:
    spec = load_catalog().resolve(symbol)
    regime = spec.regime
    if busy:        # a jump most minutes: the look back and the minute's own jump are exercised often
        regime = regime.with_changes(jump_rate_per_hour=60.0, jump_bps=30.0)
    return (FairValue(seed, symbol, start, spec.initial_mid, regime),
            FairValue(seed, symbol, start, spec.initial_mid, regime))


@pytest.mark.parametrize("seed,symbol,busy,offset", [
    (0, "BTC-PERP", False, 0), (1, "ETH-PERP", True, 0), (2, "BTC-PERP", True, 17 * MINUTE + 3_200_000),
    (3, "SOL-PERP", False, 29 * MINUTE)])
def test_a_whole_minute_read_is_the_laid_out_minutes_first_sample(seed, symbol, busy, offset) -> None:
    start = START_US + offset
    head, laid = _pair(seed, symbol, start, busy)
    rng = random.Random(seed)
    t = start
    checked = 0
    for step in range(40):
        t += rng.choice([MINUTE, 30 * MINUTE, rng.randrange(1, 90) * MINUTE, rng.randrange(1, 8) * DAY, 1])
        if step % 9 == 4:
            move = math.log1p(rng.uniform(-0.02, 0.02))
            head.shift(t, move)
            laid.shift(t, move)
        elif step % 9 == 7:
            regime = head.regime.with_changes(volatility_annual=rng.choice([0.2, 1.5]))
            head.set_regime(t, regime)
            laid.set_regime(t, regime)
        k = -(-t // MINUTE)                                 # the next whole minute, and a few around it
        for kk in (k, k + 1, k + 30, k - 1):
            at = kk * MINUTE
            if at < start:
                continue
            plan = laid.plan(kk)
            i = max(plan.index_at(at), 0)
            fair, widen, regime, noise = head.sample_at(at)
            assert fair.hex() == plan.fair[i].hex() and widen.hex() == plan.widen[i].hex()
            assert regime == plan.regime and noise.tobytes() == plan.noise.tobytes()
            assert head.price_at(at).hex() == laid.price_at(at).hex()
            checked += 1
    assert checked > 100


@pytest.mark.parametrize("seed,busy", [(0, False), (5, True)])
def test_when_a_minute_jumps_is_what_its_increment_says(seed: int, busy: bool) -> None:
    start = START_US + 7 * MINUTE + 123
    asked, laid = _pair(seed, "BTC-PERP", start, busy)
    for fair in (asked, laid):              # free minutes after a change, in the market's first period too
        fair.set_regime(start + 33 * MINUTE + 5, fair.regime.with_changes(volatility_annual=1.0))
    jumps = 0
    for k in range(asked.k0 + 1, asked.k0 + 2000):
        expected = laid._increment_of(k).jump_time
        assert asked._jump_time_of(k) == expected   # asked first: periods not drawn yet take the shortcut
        jumps += expected is not None
    assert jumps > 20
