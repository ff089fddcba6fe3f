"""Forward paging of ``GET /v1/mm/fills``: ``since`` starts at the oldest fill at or after it, ``cursor``
/ ``next_cursor`` walk forward through every fill (null at the end); without either, the newest
``limit``. Checked against the core's own list of every fill (``Exchange.fills``), time-sorted."""

from __future__ import annotations

import pytest

from contract_asserts import assert_error
from pf_mock.clock import to_ms
from app_client import in_process

SYMBOLS = ("BTC-PERP", "ETH-PERP")


@pytest.fixture(scope="module")
def mock():
    with in_process(seed=3) as m:
        for symbol in SYMBOLS:
            mid = m.client.get(f"/v1/markets/{symbol}/price").json()["mid"]
            r = m.client.post("/v1/mm/quote", json={"symbol": symbol, "bid_price": mid * 0.9998, "bid_size": 100,
                                                     "ask_price": mid * 1.0002, "ask_size": 100, "auto_refresh": True})
            assert r.status_code == 200
        m.advance(600)          # ~90 fills, ~45 of them on ETH-PERP: pages of 1 and 7 walk through dozens
        yield m


def every_fill(m, symbol=None) -> list[str]:
    agent = m.exchange.agents[m.agent_id]
    return [f.fill_id for f in m.exchange.fills(agent, symbol)]


def walk(m, first: dict, limit: int) -> list[dict]:
    page = m.client.get("/v1/mm/fills", params={**first, "limit": limit}).json()
    got = list(page["fills"])
    while page["next_cursor"] is not None:
        assert len(page["fills"]) == limit
        page = m.client.get("/v1/mm/fills", params={k: v for k, v in first.items() if k == "symbol"}
                            | {"cursor": page["next_cursor"], "limit": limit}).json()
        got += page["fills"]
        # a cursor that hands back a fill already seen would walk forever: fail at its first repeat instead
        assert len({f["fill_id"] for f in got}) == len(got)
    return got


@pytest.mark.parametrize("limit", [1, 7, 1000])
@pytest.mark.parametrize("symbol", [None, "ETH-PERP"])
def test_since_zero_and_the_cursors_page_through_every_fill(mock, limit, symbol):
    first = {"since": 0} | ({"symbol": symbol} if symbol else {})
    got = walk(mock, first, limit)
    expected = every_fill(mock, symbol)
    assert len(expected) > 20
    assert [f["fill_id"] for f in got] == expected
    times = [f["timestamp"] for f in got]
    assert times == sorted(times)


def test_since_starts_at_the_oldest_fill_at_or_after_it(mock):
    agent = mock.exchange.agents[mock.agent_id]
    records = mock.exchange.fills(agent)
    pick = records[len(records) // 2]
    at = to_ms(pick.time)
    first_at = next(i for i, f in enumerate(records) if to_ms(f.time) >= at)
    page = mock.client.get("/v1/mm/fills", params={"since": at, "limit": 3}).json()
    assert [f["fill_id"] for f in page["fills"]] == [f.fill_id for f in records[first_at:first_at + 3]]
    after = next(i for i, f in enumerate(records) if to_ms(f.time) > at)
    page = mock.client.get("/v1/mm/fills", params={"since": at + 1, "limit": 3}).json()
    assert [f["fill_id"] for f in page["fills"]] == [f.fill_id for f in records[after:after + 3]]


def test_without_since_or_cursor_the_newest_limit_oldest_first_and_no_cursor(mock):
    page = mock.client.get("/v1/mm/fills", params={"limit": 5}).json()
    assert [f["fill_id"] for f in page["fills"]] == every_fill(mock)[-5:]
    assert page["next_cursor"] is None


def test_a_cursor_keeps_its_place_as_new_fills_come():
    with in_process(seed=5) as m:
        mid = m.client.get("/v1/markets/BTC-PERP/price").json()["mid"]
        m.client.post("/v1/mm/quote", json={"symbol": "BTC-PERP", "bid_price": mid * 0.9998, "bid_size": 100,
                                             "ask_price": mid * 1.0002, "ask_size": 100, "auto_refresh": True})
        m.advance(300)
        page = m.client.get("/v1/mm/fills", params={"since": 0, "limit": 2}).json()
        assert page["next_cursor"] is not None
        m.advance(300)
        rest = walk(m, {"cursor": page["next_cursor"]}, 4)
        assert [f["fill_id"] for f in page["fills"] + rest] == every_fill(m)


@pytest.mark.parametrize("params", [{"cursor": "abc"}, {"cursor": "-1"}, {"cursor": "1" * 13}, {"cursor": ""}])
def test_a_cursor_this_route_did_not_give_is_400(mock, params):
    assert_error(mock.client.get("/v1/mm/fills", params=params), 400, "invalid_request", "cursor")


@pytest.mark.parametrize("past", [0, 1, 10**9])
def test_a_cursor_at_or_past_the_end_gives_an_empty_page(mock, past):
    end = str(len(every_fill(mock)) + past)
    page = mock.client.get("/v1/mm/fills", params={"cursor": end}).json()
    assert page == {"fills": [], "next_cursor": None}


def test_a_cursor_goes_on_from_its_page_whatever_since_says(mock):
    first = mock.client.get("/v1/mm/fills", params={"since": 0, "limit": 4}).json()
    with_since = mock.client.get("/v1/mm/fills", params={"cursor": first["next_cursor"], "since": 0, "limit": 4})
    alone = mock.client.get("/v1/mm/fills", params={"cursor": first["next_cursor"], "limit": 4})
    assert with_since.json() == alone.json() and alone.json()["fills"][0]["fill_id"] == every_fill(mock)[4]
