"""The live page in a real browser: Playwright drives headless Chromium (the system's, never a
downloaded one) against ``pf-mock serve`` on loopback.

Without Chromium or Playwright these tests skip with one line saying which is missing; under CI
(``CI=true``) they fail instead, since CI must run them (``.ci/run`` installs Chromium when missing).
``PF_MOCK_CHROMIUM`` names another Chromium binary. ``PF_MOCK_UPDATE_SCREENSHOT=1`` makes the
flash-crash test write the README's picture, ``docs/page.png``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import pytest

from test_cli import kill, ready_port, start

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ROOT / "docs" / "page.png"
WAIT_MS = 20_000            # only stops a broken page hanging the suite; nothing here is timed
ALICE = "pf_test_alice_page_0001"
BOB = "pf_test_bob_page_0002"


def chromium_path() -> str | None:
    return os.environ.get("PF_MOCK_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def missing_browser() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[test]')"
    if chromium_path() is None:
        return "no Chromium on this machine (apt-get install chromium)"
    return None


MISSING = missing_browser()
if MISSING is not None:
    if os.environ.get("CI", "").lower() in ("true", "1"):
        raise RuntimeError(f"the browser tests must run in CI, but {MISSING}")
    pytest.skip(MISSING, allow_module_level=True)       # the whole module: one line


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        found = pw.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield found
        found.close()


class Server:
    def __init__(self, *args: str):
        self.proc = start("--port", "0", "--clock", "manual", *args)
        self.base = f"http://127.0.0.1:{ready_port(self.proc)}"
        self.http = httpx.Client(base_url=self.base, timeout=10)

    def get(self, path: str, key: str | None = None, **params) -> dict:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        answer = self.http.get(path, params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def post(self, path: str, body: dict, key: str | None = None) -> dict:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        answer = self.http.post(path, json=body, headers=headers)
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    def quote(self, key: str, symbol: str = "BTC-PERP", bps: float = 3.0, usd: float = 100, **extra) -> dict:
        mid = self.get(f"/v1/markets/{symbol}/price")["mid"]
        return self.post("/v1/mm/quote", {"symbol": symbol, "bid_price": mid * (1 - bps / 1e4), "bid_size": usd,
                                          "ask_price": mid * (1 + bps / 1e4), "ask_size": usd, **extra}, key)

    def close(self) -> None:
        self.http.close()
        kill(self.proc)


@pytest.fixture(scope="module")
def servers():
    """One server per set of options for the whole file (starting one is most of a test's cost)."""
    started: dict[tuple[str, ...], Server] = {}
    yield started
    for srv in started.values():
        srv.close()


@pytest.fixture
def server(request, servers):
    """A server with the test's options; one used before is reset first (``POST /_mock/reset``: agents,
    orders, fills, the clock and every market start again from the seed), so each test starts as from a
    fresh start."""
    marker = request.node.get_closest_marker("serve_args")
    args = tuple(marker.args if marker else ())
    if args in servers:
        servers[args].post("/_mock/reset", {})
    else:
        servers[args] = Server(*args)
    return servers[args]


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    opened.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    opened.on("pageerror", lambda error: errors.append(str(error)))
    outside: list[str] = []

    def only_the_server(route) -> None:     # offline: anything not asked of pf-mock itself is refused
        if route.request.url.startswith(server.base + "/") or route.request.url.startswith("data:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_server)
    yield opened
    context.close()
    assert errors == [], errors         # every test: not one console error
    assert outside == [], outside       # and not one request beyond the server


def open_page(page, server: Server, key: str | None = None, symbol: str = "BTC-PERP") -> None:
    page.goto(f"{server.base}/#{symbol}")
    if key:
        page.fill("#key", key)
        page.click("#connect")
        page.wait_for_selector("#agent-panel:not([hidden])")
    page.wait_for_selector("#ladder tr.bid")


def ladder(page, side: str) -> list[tuple[float, float, float]]:
    return [(float(r.get_attribute("data-price")), float(r.get_attribute("data-size")),
             float(r.get_attribute("data-mine"))) for r in page.query_selector_all(f"#ladder tr.{side}")]


def test_the_page_loads_and_its_ladder_is_the_book_rest_shows(page, server) -> None:
    open_page(page, server)
    book = server.get("/v1/markets/BTC-PERP/orderbook", depth=20)      # the manual clock stands still
    assert ladder(page, "bid") == [(level["price"], level["size"], 0.0) for level in book["bids"]]
    asks = [(level["price"], level["size"], 0.0) for level in book["asks"]]
    assert ladder(page, "ask") == asks[::-1]          # asks read downwards to the spread
    assert page.locator("#markets option").count() == 275
    assert page.locator("#admin-panel").is_visible()  # /_mock is open on loopback


def test_a_quote_posted_over_rest_shows_in_the_ladder_as_the_agents(page, server) -> None:
    open_page(page, server, key=ALICE)
    assert page.locator("#ladder tr.mine").count() == 0
    posted = server.quote(ALICE)
    page.wait_for_selector(f'#ladder tr.bid.mine[data-price="{posted["bid_price"]:g}"]')
    page.wait_for_selector(f'#ladder tr.ask.mine[data-price="{posted["ask_price"]:g}"]')
    mine = {(price, size) for price, _, size in ladder(page, "bid") + ladder(page, "ask") if size}
    assert mine == {(posted["bid_price"], posted["bid_qty"]), (posted["ask_price"], posted["ask_qty"])}


def test_someone_elses_quote_is_not_marked_as_yours(page, server) -> None:
    open_page(page, server, key=ALICE)
    posted = server.quote(BOB, bps=0.5)
    page.wait_for_selector(f'#ladder tr.bid[data-price="{posted["bid_price"]:g}"]')
    assert page.locator("#ladder tr.mine").count() == 0


def test_a_fill_shows_on_the_chart_and_in_the_pnl_panel(page, server) -> None:
    open_page(page, server, key=ALICE)
    posted = server.quote(ALICE)
    page.wait_for_selector("#ladder tr.mine")
    server.post("/_mock/markets/BTC-PERP/jump", {"move_bps": -50})     # runs through the agent's bid
    fills = server.get("/v1/mm/fills", ALICE, symbol="BTC-PERP")["fills"]
    assert fills and fills[0]["order_id"] == posted["bid_id"]
    for fill in fills:
        page.wait_for_selector(f'#price-chart path.fill[data-fill-id="{fill["fill_id"]}"]')
    pnl = server.get("/v1/mm/pnl", ALICE, symbol="BTC-PERP")
    page.wait_for_function("(want) => document.querySelector('#pnl-fills')?.textContent.startsWith(want)",
                           arg=f"{pnl['fills']} (")
    shown = page.text_content("#pnl-net")
    assert shown == ("−$" if pnl["net_pnl"] < 0 else "$") + f"{abs(pnl['net_pnl']):,.2f}"
    assert page.locator("#pnl-chart path").count() >= 5         # the five components over time
    position = server.get("/v1/mm/inventory", ALICE, symbol="BTC-PERP")["position"]
    assert float(page.text_content("#inv-position").replace(",", "")) == pytest.approx(position)


def test_a_jump_from_the_controls_moves_the_price(page, server) -> None:
    open_page(page, server)
    before = server.get("/v1/markets/BTC-PERP/price")
    top = ladder(page, "bid")[0][0]
    page.fill("#jump-bps", "-200")
    page.click("#jump")
    page.wait_for_function("(top) => Number(document.querySelector('#ladder tr.bid').dataset.price) < top * 0.99",
                           arg=top)
    after = server.get("/v1/markets/BTC-PERP/price")
    # The jump moves the fair value; the mark shows it rounded to the nearest tick, so the two marks
    # may each be half a tick off the exact -2%.
    tick = server.get("/v1/markets/BTC-PERP")["tick_size"]
    assert after["mark_price"] == pytest.approx(before["mark_price"] * (1 - 0.02), abs=tick)
    assert ladder(page, "bid")[0][0] == after["best_bid"]


def test_the_clock_control_advances_a_manual_clock(page, server) -> None:
    open_page(page, server)
    before = server.get("/_mock/state")["clock"]["now"]
    page.fill("#advance-seconds", "30")
    page.click("#advance")
    page.wait_for_function("() => document.querySelector('#clock').textContent.includes('00:00:30')")
    assert server.get("/_mock/state")["clock"]["now"] == before + 30_000


@pytest.mark.serve_args("--no-admin")
def test_without_admin_there_are_no_controls_and_no_leaderboard(page, server) -> None:
    open_page(page, server, key=ALICE)
    assert not page.locator("#admin-panel").is_visible()
    assert page.locator("#agent-panel").is_visible()


def test_the_leaderboard_ranks_two_agents_by_net_pnl(page, server) -> None:
    server.quote(ALICE, bps=4, auto_refresh=True)
    server.quote(BOB, bps=1, session_stop_loss_usd=0.5)
    server.post("/_mock/markets/BTC-PERP/jump", {"move_bps": -60})
    server.post("/_mock/clock/advance", {"seconds": 120})
    open_page(page, server, key=ALICE)
    page.wait_for_selector("#leaderboard tbody tr:nth-child(2)")
    shown = [row.get_attribute("data-agent") for row in page.query_selector_all("#leaderboard tbody tr")]
    net = {server.get("/v1/account", key)["agent_id"]: server.get("/v1/mm/pnl", key)["net_pnl"] for key in (ALICE, BOB)}
    assert net[shown[0]] > net[shown[1]] and set(shown) == set(net)
    assert shown == [row["agent_id"] for row in server.get("/_mock/leaderboard")["agents"]]
    assert "me" in page.get_attribute(f'#leaderboard tr[data-agent="{shown[0]}"]', "class")     # Alice's own row


@pytest.mark.serve_args("--admin-token", "sesame-open")
def test_an_admin_token_opens_the_controls_only_to_whoever_gives_it(page, server) -> None:
    open_page(page, server)
    assert not page.locator("#admin-panel").is_visible()
    page.fill("#admin-token", "sesame-open")
    page.click("#connect")
    page.wait_for_selector("#admin-panel:not([hidden])")
    page.wait_for_selector("#scenario option", state="attached")


@pytest.mark.serve_args("--scenario", "flash_crash", "--seed", "7")
def test_a_flash_crash_on_the_page(page, server, tmp_path) -> None:
    """The README's picture: a guarded maker and a careless one through the crash at t+300 s."""
    guarded = {"max_inventory_usd": 400, "max_spread_bps": 12, "auto_hedge_threshold_usd": 300,
               "session_stop_loss_usd": 25}
    server.post("/_mock/clock/advance", {"seconds": 200})
    server.quote(ALICE, bps=3, usd=150, auto_refresh=True, refresh_interval_seconds=5, **guarded)
    server.quote(BOB, bps=2, usd=150, auto_refresh=True, refresh_interval_seconds=5)
    open_page(page, server, key=ALICE)
    page.wait_for_selector("#leaderboard tbody tr:nth-child(2)")
    for _ in range(26):             # to t+460 s, ten seconds at a time, so the chart has every step
        now = server.post("/_mock/clock/advance", {"seconds": 10})["clock"]["now"]
        page.wait_for_function("(t) => document.querySelector('#clock').textContent.includes(t)",
                               arg=_hms(now))
    page.wait_for_selector("#session li.event")
    events = [e.text_content() for e in page.query_selector_all("#session li.event")]
    assert any("max_spread_bps" in e for e in events), events
    assert page.locator("#price-chart line.event").count() == len(events)
    shot = SCREENSHOT if os.environ.get("PF_MOCK_UPDATE_SCREENSHOT") == "1" else tmp_path / "page.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


@pytest.mark.serve_args("--clock", "realtime", "--speed", "60")
def test_in_realtime_the_page_moves_by_itself(page, server) -> None:
    server.quote(ALICE, bps=1, auto_refresh=True, refresh_interval_seconds=1)
    open_page(page, server, key=ALICE)
    first = page.text_content("#clock")
    trades = page.locator("#price-chart circle.trade").count()
    # No request from here on: the feed's own looks bring the watched market forward.
    page.wait_for_function("(t) => document.querySelector('#clock').textContent !== t", arg=first)
    page.wait_for_function("(n) => document.querySelectorAll('#price-chart circle.trade').length > n", arg=trades)
    page.wait_for_selector("#fills tbody tr")
    assert "realtime" in page.text_content("#clock")
    assert not page.locator("#advance-controls").is_visible()      # no manual clock to advance


def _hms(ms: int) -> str:
    import datetime
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%H:%M:%S")
