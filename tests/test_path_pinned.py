"""The exogenous path is pinned: what a market shows at given (seed, symbol, time) is recorded here, so a
change meant only to make the model faster cannot move a single price unnoticed.

The README's calibration table and the tutorial's outputs are built from this path. When a change to
the model is MEANT to change the path, regenerate both (``benchmarks/calibration.py``,
``docs/tutorial/refresh.py``) and then the digest below (``python tests/test_path_pinned.py`` prints it).

Only whole numbers are recorded (marks and best prices in price units, trades' prices, sizes and
microsecond times), so the pin does not hang on the last bit of a float that another CPU's maths
library might round differently.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from pf_mock.catalog import load_catalog
from pf_mock.market import Market
from pf_mock.streams import KeyedStream, chunk_generator, stream_key

START = 1767225600.0            # 2026-01-01T00:00Z: a week block starts here
DAY = 86_400.0
DIGEST = "6afca418ac503a80e93fd019bbd3a04a7f30e1911921435c2d2d6b6c53121bca"


def observations() -> list:
    """Marks and best prices over idle stretches (across period and week boundaries, from a start on a
    week's first instant and from one mid-minute), after a jump and a regime change, and the trades of a
    watched market across a period boundary."""
    catalog = load_catalog()
    out: list = []
    for seed in (0, 1):
        for symbol in ("BTC-PERP", "ETH-PERP", catalog.specs[-1].symbol):
            spec = catalog.resolve(symbol)
            for start in (START, START + 0.5 * DAY + 17 * 60 + 3.2):
                m = Market(spec, seed=seed, start=start)
                for offset in (0.0, 61.0, 1800.0, 6.99 * DAY, 7 * DAY + 1e-6, 8 * DAY + 1):
                    m.advance_to(start + offset)
                    out.append((seed, symbol, offset, m.mark_units(), m.best_bid(), m.best_ask()))
            m = Market(spec, seed=seed, start=START)
            m.advance_to(START + 2 * DAY + 13.7)
            m.jump(-150.0)
            m.advance_to(START + 6.5 * DAY)
            m.set_regime(spec.regime.with_changes(volatility_annual=2 * spec.regime.volatility_annual,
                                                  jump_rate_per_hour=3.0, jump_bps=40.0))
            for offset in (6.5 * DAY + 0.5, 7 * DAY + 30, 9 * DAY):
                m.advance_to(START + offset)
                out.append((seed, symbol, "changed", offset, m.mark_units(), m.best_bid(), m.best_ask()))
            m = Market(spec, seed=seed, start=START + 7 * DAY - 60)
            m.watchers = 1
            m.advance_to(START + 7 * DAY + 60)
            out.append((seed, symbol, "watched", m.events_processed,
                        [(t.price, t.lots, t.taker_is_buy, t.time_us) for t in m.trades]))
    return out


def digest() -> str:
    return hashlib.sha256(repr(observations()).encode()).hexdigest()


def test_the_exogenous_path_is_what_it_was() -> None:
    assert digest() == DIGEST, (
        "The exogenous path changed. If that is meant, regenerate the README's calibration table and the "
        "tutorial (docs/tutorial/refresh.py), then DIGEST here; if not, the change moved prices it should not.")


@pytest.mark.parametrize("chunk", [0, 1, 7, 2**40 + 3])
def test_a_re_pointed_stream_is_a_fresh_generator_at_its_chunk(chunk: int) -> None:
    """Re-pointing one bit generator must forget everything drawn before, a half-used 32-bit word
    included: the numbers of a chunk are the same whatever was drawn from the stream before."""
    key = stream_key(3, "BTC-PERP", "events")
    stream = KeyedStream(key)
    fresh = chunk_generator(key, chunk)
    expected = (fresh.standard_normal(5), fresh.integers(0, 60_000_000, 5), fresh.random(3))
    for before in (lambda g: None, lambda g: g.standard_normal(3),
                   lambda g: g.integers(0, 10, 3, dtype=np.uint32), lambda g: g.random(1)):
        before(stream.generator(chunk + 1))
        gen = stream.generator(chunk)
        got = (gen.standard_normal(5), gen.integers(0, 60_000_000, 5), gen.random(3))
        assert all(np.array_equal(a, b) for a, b in zip(got, expected))


if __name__ == "__main__":
    print(digest())
