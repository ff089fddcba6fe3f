"""A market that goes quiet (its last agent order cancelled) and live again (a new quote) keeps the house's
ladder when it still stands as a fresh lay-out would give it, and adopts no recent stretch that holds no
event: two shortcuts that make a cancel then a quote cheap. Neither may change a byte of any answer, so
each is checked against a twin exchange that always takes the long way (lays the ladder out afresh and
simulates the stretch), under the same requests at the same mock times."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from app_client import AppClient
from hypothesis import given, settings
from hypothesis import strategies as st

from pf_mock.api import AppOptions, create_app
from pf_mock.clock import ManualClock
from pf_mock.exchange import Exchange, ExchangeConfig
from pf_mock.market import Market

EXAMPLES = max(5, settings().max_examples // 5)
SYMBOL = "BTC-PERP"
KEY = {"Authorization": "Bearer pf_test_quiet_live_1234"}
READS = ("/v1/mm/fills?limit=1000", "/v1/mm/orders", f"/v1/mm/inventory?symbol={SYMBOL}", "/v1/mm/pnl",
         f"/v1/markets/{SYMBOL}/orderbook?depth=50", f"/v1/markets/{SYMBOL}/trades?limit=500",
         f"/v1/markets/{SYMBOL}/candles?interval=1m&limit=100", f"/v1/markets/{SYMBOL}/price")


class Counted:
    """How often each shortcut was taken, so the test knows it compared something."""

    def __init__(self) -> None:
        self.kept_ladder = 0
        self.empty_stretch = 0


@contextmanager
def twins(seed: int) -> Iterator[tuple[AppClient, AppClient, Counted]]:
    """(with the shortcuts, always the long way, the shortcuts' count). Each client is open for the whole
    comparison and serves its app in the calling thread (tests/app_client.py)."""
    counted = Counted()
    fast = Exchange(ExchangeConfig(seed=seed), ManualClock())
    slow = Exchange(ExchangeConfig(seed=seed), ManualClock())
    market = fast.market(SYMBOL)
    stands, is_empty = market.house.stands, market._stretch_is_empty

    def counted_stands(*args) -> bool:
        kept = stands(*args)
        counted.kept_ladder += kept
        return kept

    def counted_is_empty() -> bool:
        empty = is_empty()
        counted.empty_stretch += empty
        return empty

    market.house.stands, market._stretch_is_empty = counted_stands, counted_is_empty
    long_way: Market = slow.market(SYMBOL)
    long_way.house.stands = lambda *args: False
    long_way._stretch_is_empty = lambda: False
    with AppClient(create_app(fast, AppOptions())) as fast_client, \
            AppClient(create_app(slow, AppOptions())) as slow_client:
        yield fast_client, slow_client, counted


# A quote's bid and ask, in bps from the mid: negative crosses (takes), small rests near the touch.
BPS = st.sampled_from([-3.0, 0.5, 1.0, 2.5, 5.0, 20.0])
ACTION = st.one_of(
    st.tuples(st.just("quote"), BPS, BPS, st.sampled_from([50.0, 400.0, 3000.0])),
    st.tuples(st.just("cancel")),
    st.tuples(st.just("advance"), st.sampled_from([0.0, 1e-6, 0.0004, 0.003, 0.2, 1.5, 7.0, 65.0])),
)


def act(client: AppClient, action: tuple) -> tuple[int, bytes]:
    if action[0] == "quote":
        _, bid_bps, ask_bps, usd = action
        mid = client.get(f"/v1/markets/{SYMBOL}/price").json()["mid"]
        body = {"symbol": SYMBOL, "bid_price": round(mid * (1 - bid_bps / 1e4), 1), "bid_size": usd,
                "ask_price": round(mid * (1 + ask_bps / 1e4), 1), "ask_size": usd}
        r = client.post("/v1/mm/quote", json=body, headers=KEY)
    elif action[0] == "cancel":
        r = client.post("/v1/mm/cancel", json={"symbol": SYMBOL}, headers=KEY)
    else:
        r = client.post("/_mock/clock/advance", json={"seconds": action[1]})
    return r.status_code, r.content


def everything(client: AppClient) -> dict[str, bytes]:
    return {path: client.get(path, headers=KEY).content for path in READS}


@settings(max_examples=EXAMPLES, deadline=None)
@given(seed=st.integers(0, 5), actions=st.lists(ACTION, min_size=1, max_size=30))
def test_going_quiet_and_live_again_answers_as_the_long_way_does(seed: int, actions: list) -> None:
    with twins(seed) as (fast, slow, _):
        for action in actions:
            assert act(fast, action) == act(slow, action), action
        assert everything(fast) == everything(slow)


def test_a_cancel_then_a_quote_takes_both_shortcuts_and_answers_as_the_long_way_does() -> None:
    script = [("quote", 2.5, 2.5, 400.0), ("advance", 30.0)]
    for _ in range(20):      # the benchmark's pattern, at the same instant and a moment apart (the shortcuts')
        script += [("cancel",), ("quote", 2.5, 2.5, 400.0), ("cancel",), ("advance", 0.0004),
                   ("quote", 1.0, 1.0, 3000.0), ("advance", 0.2)]
    with twins(0) as (fast, slow, counted):
        for action in script:
            assert act(fast, action) == act(slow, action), action
        assert everything(fast) == everything(slow)
    assert counted.kept_ladder >= 5 and counted.empty_stretch >= 10, vars(counted)
