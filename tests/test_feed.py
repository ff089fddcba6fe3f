"""The push feed (``GET /feed``): exactly what REST reports, only what changed, nothing while nobody
watches, bounded for a slow reader, and authorised as REST is."""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import threading
import time

import httpx
import pytest

from contract_asserts import assert_error
from pf_mock.api import AppOptions, create_app
from pf_mock.client.tls import default_tls
from pf_mock.feed import MAX_ROWS, FeedHub, Subscriber, Topic
from pf_mock.exchange import QuoteRequest
from pf_mock.server import build_app
from pf_mock.testing import TEST_KEY, run_server, serve_options

from conftest import KEY, make_exchange
from test_callers import real_server, until

WAIT_GUARD_S = 30.0     # only stops a broken feed hanging the suite; nothing here is timed


class FeedReader:
    """Reads one feed's events into a queue from a thread, as any client would."""

    def __init__(self, url: str, params: dict, headers: dict):
        self.events: queue.Queue = queue.Queue()
        self.status: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(url, params, headers), daemon=True)
        self._thread.start()

    def _read(self, url, params, headers) -> None:
        with httpx.stream("GET", url, params=params, headers=headers, timeout=WAIT_GUARD_S,
                          verify=default_tls()) as response:
            self.status = response.status_code
            event = None
            for line in response.iter_lines():
                if self._stop.is_set():
                    return
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    self.events.put((event, json.loads(line[5:])))

    def next(self, timeout: float = WAIT_GUARD_S) -> tuple[str, dict]:
        return self.events.get(timeout=timeout)

    def until(self, predicate) -> list[tuple[str, dict]]:
        """Every event up to and including the first that ``predicate`` accepts."""
        seen = []
        deadline = time.monotonic() + WAIT_GUARD_S
        while time.monotonic() < deadline:
            item = self.next(deadline - time.monotonic())
            seen.append(item)
            if predicate(*item):
                return seen
        raise AssertionError("the feed never sent the awaited event")

    def to_the_end(self) -> list[tuple[str, dict]]:
        """Every event not yet taken, once the stream has ended (a server's stop ends it): with what was
        taken before, all the feed sent."""
        self._thread.join(WAIT_GUARD_S)
        assert not self._thread.is_alive(), "the feed's stream did not end"
        seen = []
        while not self.events.empty():
            seen.append(self.events.get_nowait())
        return seen

    def close(self) -> None:
        self._stop.set()


def quote_around_mid(client: httpx.Client, symbol: str = "BTC-PERP", bps: float = 3.0, **extra) -> dict:
    mid = client.get(f"/v1/markets/{symbol}/price").json()["mid"]
    body = {"symbol": symbol, "bid_price": mid * (1 - bps / 1e4), "bid_size": 100, "ask_price": mid * (1 + bps / 1e4),
            "ask_size": 100, **extra}
    answer = client.post("/v1/mm/quote", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


@contextlib.contextmanager
def fast_feed(seed: int):
    """A server of its own whose feed looks at its markets every 50 ms, for the tests that wait on the
    feed's looks (counted by the hub, or seen as events, never timed): the hub, the base URL, and a client
    with an agent's key."""
    app = build_app(serve_options(seed=seed))
    app.state.feed.tick_s = 0.05
    with real_server(app) as (_, base), httpx.Client(base_url=base, headers={"Authorization": f"Bearer {KEY}"}) as client:
        yield app.state.feed, base, client


def looks_after(hub: FeedHub, looks: int) -> None:
    """Wait until ``hub`` has taken ``looks`` whole looks at its markets from now (counted by the hub: its
    ``ticks`` goes up as a round of looks begins, so the round before has ended)."""
    target = hub.ticks + looks + 1
    until(lambda: hub.ticks >= target, "the hub stopped looking", WAIT_GUARD_S)


def without_mine(book: dict) -> dict:
    return {**book, "bids": [{k: v for k, v in level.items() if k != "mine"} for level in book["bids"]],
            "asks": [{k: v for k, v in level.items() if k != "mine"} for level in book["asks"]]}


def test_a_subscriber_receives_exactly_what_rest_reports_for_the_interval() -> None:
    with run_server(seed=5) as srv:
        # half a basis point out: a quote the market fills within the minute (3 bps out mostly does not)
        quote_around_mid(srv.client, bps=0.5, auto_refresh=True, refresh_interval_seconds=2)
        reader = FeedReader(srv.base_url + "/feed", {"symbol": "btc"}, {"Authorization": f"Bearer {srv.api_key}"})
        first = reader.until(lambda event, data: event == "session")        # the whole first snapshot
        assert first[0] == ("hello", {"symbol": "BTC-PERP", "agent_id": srv.agent_id, "depth": 20,
                                      "leaderboard": False, "tick_ms": 250})
        start_ms = dict(first)["clock"]["now"]
        for _ in range(4):
            srv.advance(15)
        end_ms = srv.state()["clock"]["now"]
        events = reader.until(lambda event, data: event == "clock" and data["now"] == end_ms)
        # What REST reports at end_ms (the clock is manual: nothing moves after it) ...
        rest_trades = srv.client.get("/v1/markets/BTC-PERP/trades", params={"limit": 500}).json()["trades"]
        rest_fills = srv.client.get("/v1/mm/fills", params={"symbol": "BTC-PERP", "since": start_ms + 1,
                                                            "limit": 1000}).json()["fills"]
        rest_orders = srv.client.get("/v1/mm/orders", params={"symbol": "BTC-PERP"}).json()["orders"]
        rest_price = srv.client.get("/v1/markets/BTC-PERP/price").json()
        rest_book = srv.client.get("/v1/markets/BTC-PERP/orderbook", params={"depth": 20}).json()
        rest_pnl = srv.client.get("/v1/mm/pnl", params={"symbol": "BTC-PERP"}).json()
        rest_inventory = srv.client.get("/v1/mm/inventory", params={"symbol": "BTC-PERP"}).json()
        rest_session = srv.client.get("/v1/mm/session", params={"symbol": "BTC-PERP"}).json()
    # ... and all the feed sent: the rest of that look's batch and anything after, until the server's stop
    # ended the stream.
    events += reader.to_the_end()

    trades = [t for event, data in events if event == "trades" for t in data["trades"]]
    fills = [f for event, data in events if event == "fills" for f in data["fills"]]
    assert not any(data.get("gap") for event, data in events if event in ("trades", "fills"))

    in_interval = [t for t in reversed(rest_trades) if t["timestamp"] > start_ms]
    assert len(in_interval) < 500           # else REST itself would not show the whole interval
    assert trades == in_interval and trades
    assert fills == rest_fills and fills

    last = {event: data for event, data in first + events}     # the newest of each kind the feed sent
    assert last["orders"]["orders"] == rest_orders
    assert last["price"] == rest_price
    assert without_mine(last["book"]) == rest_book
    assert {k: v for k, v in last["pnl"].items() if k != "timestamp"} == rest_pnl
    assert last["inventory"] == rest_inventory
    session = dict(last["session"])
    assert session.pop("events") == []          # no guardrail set, none acted
    assert session == rest_session
    # Each fill is one point of the PnL chart, at its instant.
    points = [p["timestamp"] for event, data in events if event == "pnl_points" for p in data["pnl_points"]]
    assert points == sorted({f["timestamp"] for f in fills})


def test_the_ladder_marks_the_agents_own_orders_and_only_them() -> None:
    with run_server(seed=2) as srv:
        posted = quote_around_mid(srv.client)
        mine = FeedReader(srv.base_url + "/feed", {"symbol": "BTC-PERP"}, {"X-API-Key": srv.api_key})
        anyone = FeedReader(srv.base_url + "/feed", {"symbol": "BTC-PERP"}, {})
        book = dict(mine.until(lambda e, d: e == "book"))["book"]
        public = dict(anyone.until(lambda e, d: e == "book"))["book"]
        mine.close(), anyone.close()
        marked = {(side, level["price"]): level["mine"] for side in ("bids", "asks") for level in book[side]
                  if level["mine"]}
        assert marked == {("bids", posted["bid_price"]): posted["bid_qty"], ("asks", posted["ask_price"]): posted["ask_qty"]}
        assert all(level["mine"] == 0 for side in ("bids", "asks") for level in public[side])
        assert without_mine(public) == without_mine(book)


def test_nothing_is_sent_while_nothing_changes_and_a_change_is_sent_alone() -> None:
    with fast_feed(seed=1) as (hub, base, client):
        reader = FeedReader(base + "/feed", {"symbol": "ETH-PERP"}, {})
        reader.until(lambda e, d: e == "book")
        looks_after(hub, 4)                 # four looks at an unchanged market ...
        best_bid = client.get("/v1/markets/ETH-PERP/price").json()["best_bid"]
        client.post("/v1/mm/quote", json={"symbol": "ETH-PERP", "bid_price": best_bid, "bid_size": 50})
        batch = reader.until(lambda e, d: e == "book")      # ... sent nothing: the change's book comes first
        looks_after(hub, 4)                 # four more looks, then the server's stop ends the stream
        rest_book = client.get("/v1/markets/ETH-PERP/orderbook").json()
    batch += reader.to_the_end()
    assert [event for event, _ in batch] == ["book"]      # the best bid's size grew; nothing else moved, then or after
    assert without_mine(batch[0][1]) == rest_book


def test_a_reset_tells_subscribers_to_start_over() -> None:
    with fast_feed(seed=1) as (_, base, client):
        reader = FeedReader(base + "/feed", {"symbol": "BTC-PERP"}, {})
        reader.until(lambda e, d: e == "book")
        assert client.post("/_mock/reset", json={}).status_code == 200
        assert reader.until(lambda e, d: e == "reset")[-1][1]["symbol"] == "BTC-PERP"
        assert reader.until(lambda e, d: e == "book")
        reader.close()


# ---- the hub itself: lazy, bounded --------------------------------------------------------------------
def test_the_hub_runs_only_while_someone_subscribes() -> None:
    ex = make_exchange(seed=3)
    hub = FeedHub(lambda: ex, tick_s=0.01)

    async def scenario() -> None:
        await asyncio.sleep(0.05)
        assert hub.ticks == 0 and hub._task is None         # nobody watches: nothing runs
        sub = hub.join(Topic("BTC-PERP"))
        await asyncio.sleep(0.1)
        assert hub.ticks > 0
        task = hub._task
        hub.leave(sub)
        await asyncio.sleep(0.05)
        assert task.done() and hub.watches == {}
        ticks = hub.ticks
        await asyncio.sleep(0.05)
        assert hub.ticks == ticks

    asyncio.run(scenario())


def test_a_reader_that_never_reads_holds_a_bounded_backlog() -> None:
    ex = make_exchange(seed=4)
    agent = ex.authenticate(KEY)
    market = ex.market("BTC-PERP")
    ex.quote(agent, QuoteRequest("BTC-PERP", bid_price=market.mid * 0.9999, bid_size=100,
                                 ask_price=market.mid * 1.0001, ask_size=100, auto_refresh=True,
                                 refresh_interval_seconds=1))
    hub = FeedHub(lambda: ex, tick_s=3600)      # looks are taken by hand below

    async def scenario() -> Subscriber:
        sub = hub.join(Topic("BTC-PERP", agent.agent_id))
        watch = hub.watches[("BTC-PERP", 20)]
        for _ in range(40):
            ex.advance(30)
            hub._look(watch)
        hub.leave(sub)
        return sub

    sub = asyncio.run(scenario())
    assert ex.market("BTC-PERP").trades_printed > MAX_ROWS      # more happened than one reader may hold
    assert all(len(rows) <= MAX_ROWS for rows in sub.rows.values())
    assert "trades" in sub.gaps
    assert set(sub.snapshots) <= {"clock", "price", "book", "orders", "inventory", "pnl", "session"}
    drained = dict(sub.pending())
    assert drained["trades"]["gap"] is True and len(drained["trades"]["trades"]) == MAX_ROWS
    newest = ex.market("BTC-PERP").trades[-1]
    assert drained["trades"]["trades"][-1]["timestamp"] == newest.time_us // 1000      # the floor: the ms a client is shown


def test_guardrail_events_reach_the_session_panel_at_their_instants() -> None:
    ex = make_exchange(seed=11)
    agent = ex.authenticate(KEY)
    mid = ex.market("BTC-PERP").mid
    ex.quote(agent, QuoteRequest("BTC-PERP", bid_price=mid * 0.9998, bid_size=200, ask_price=mid * 1.0002,
                                 ask_size=200, session_stop_loss_usd=0.5))
    ex.jump("BTC-PERP", -60)
    ex.advance(120)
    session = agent.sessions["BTC-PERP"]
    assert session.status == "stopped"

    async def first_look() -> dict:
        sub = FeedHub(lambda: ex, tick_s=3600).join(Topic("BTC-PERP", agent.agent_id))
        return dict(sub.pending())

    sent = asyncio.run(first_look())["session"]
    assert sent["status"] == "stopped"
    assert sent["events"] == [{"timestamp": sent["stopped_at"], "symbol": "BTC-PERP",
                               "guardrail": "session_stop_loss_usd", "detail": "stop_loss"}]
    assert sent["stopped_at"] == round(session.stopped_at * 1000)


def test_one_leaderboard_read_reaches_the_subscribers_of_every_market() -> None:
    from pf_mock.leaderboard import leaderboard
    ex = make_exchange(seed=6)
    agent = ex.authenticate(KEY)

    async def scenario() -> tuple[dict, dict]:
        hub = FeedHub(lambda: ex, leaderboard=leaderboard, tick_s=3600)
        btc, eth = hub.join(Topic("BTC-PERP", leaderboard=True)), hub.join(Topic("ETH-PERP", leaderboard=True))
        assert dict(btc.pending())["leaderboard"]["agents"][0]["fills"] == 0
        eth.pending()
        mid = ex.market("BTC-PERP").mid
        ex.quote(agent, QuoteRequest("BTC-PERP", bid_price=mid * 0.9998, bid_size=100))
        ex.jump("BTC-PERP", -50)                    # the bid fills: the board changes
        hub._board_at = -1e18                       # as if a second had passed
        for watch in list(hub.watches.values()):
            hub._look(watch)
        return dict(btc.pending()), dict(eth.pending())

    btc, eth = asyncio.run(scenario())
    assert btc["leaderboard"] == eth["leaderboard"]
    assert btc["leaderboard"]["agents"][0]["fills"] == 1


# ---- who may see what ------------------------------------------------------------------------------------
def feed_client(**options):
    """An app for refusals and static pages only: a feed that is answered never ends, and this client
    (like TestClient's get) reads an answer to its end."""
    from app_client import AppClient
    return AppClient(create_app(make_exchange(**{k: v for k, v in options.items() if k == "strict_auth"}),
                                AppOptions(**{k: v for k, v in options.items() if k != "strict_auth"})))


@pytest.mark.parametrize("headers, status, code", [
    ({"Authorization": "Bearer nonsense"}, 401, "invalid_key"),
    ({"X-API-Key": "pf_test_short"}, 401, "invalid_key"),
])
def test_a_bad_key_is_refused_as_rest_refuses_it(headers, status, code) -> None:
    with feed_client() as c:
        assert_error(c.get("/feed", params={"symbol": "BTC-PERP"}, headers=headers), status, code)
        assert_error(c.get("/v1/mm/orders", headers=headers), status, code)


def test_strict_auth_refuses_an_unknown_key_on_the_feed_too() -> None:
    with feed_client(strict_auth=True) as c:
        assert_error(c.get("/feed", params={"symbol": "BTC-PERP"}, headers={"X-API-Key": KEY}), 401, "invalid_key")


@pytest.mark.parametrize("params, status, code, field", [
    ({"symbol": "NOPE-PERP"}, 404, "market_not_found", None),
    ({}, 400, "invalid_request", "symbol"),
    ({"symbol": "BTC-PERP", "depth": 0}, 400, "invalid_request", "depth"),
    ({"symbol": "BTC-PERP", "depth": 51}, 400, "invalid_request", "depth"),
    ({"symbol": "BTC-PERP", "depth": "x"}, 400, "invalid_request", "depth"),
    ({"symbol": "BTC-PERP", "leaderboard": "maybe"}, 400, "invalid_request", "leaderboard"),
])
def test_bad_feed_parameters_are_refused_in_the_contracts_shape(params, status, code, field) -> None:
    with feed_client() as c:
        assert_error(c.get("/feed", params=params), status, code, field)


def test_the_leaderboard_on_the_feed_needs_the_admin_rights() -> None:
    with feed_client(admin_token="sesame-open") as c:
        assert_error(c.get("/feed", params={"symbol": "BTC-PERP", "leaderboard": "true"},
                           headers={"X-API-Key": KEY}), 401, "unauthorized")
        assert c.app.state.exchange.agents == {}        # refused: no agent provisioned on the way
    with feed_client(admin=False) as c:
        assert_error(c.get("/feed", params={"symbol": "BTC-PERP", "leaderboard": "true"}), 404, "not_found")


def test_the_page_and_its_assets_are_served_from_the_package() -> None:
    with feed_client(admin=False) as c:
        page = c.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        for asset in ("/static/app.js", "/static/style.css"):
            assert asset in page.text
            assert c.get(asset).status_code == 200
        assert "http" not in c.get("/static/app.js").text.replace("http://www.w3.org/2000/svg", "")
        assert_error(c.get("/static/nope.js"), 404, "not_found")


def test_an_open_feed_does_not_keep_the_server_from_stopping() -> None:
    import signal

    from test_cli import kill, ready_port, start, stop_with
    proc = start("--port", "0", "--clock", "manual")
    try:
        reader = FeedReader(f"http://127.0.0.1:{ready_port(proc)}/feed", {"symbol": "BTC-PERP"}, {})
        reader.until(lambda e, d: e == "book")
        # Without the hub ending its streams, uvicorn would wait on this one for ever: a failure here.
        code, out, _ = stop_with(proc, signal.SIGTERM)
        assert code == 0 and out.count("\n") == 1       # the one line saying it stopped
    finally:
        kill(proc)
