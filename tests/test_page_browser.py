"""The live page in a real browser: Playwright drives headless Chromium (the system's, never a
downloaded one) against what ``pf-mock serve`` serves, on loopback (in a thread of the test's process), at a desktop's size (1366 x 800) and a phone's
(390 x 844).

Without Chromium or Playwright these tests skip with one line saying which is missing; under CI
(``CI=true``) they fail instead, since CI must run them (``.ci/run`` installs Chromium when missing).
The accessibility checks run axe-core from ``node_modules/`` (the version ``package.json`` pins, which
``make test`` installs with npm); without it they skip, and under CI they fail. Nothing is downloaded
at test time. ``PF_MOCK_CHROMIUM`` names another Chromium binary. ``PF_MOCK_UPDATE_SCREENSHOT=1`` makes
the flash-crash test write the pictures in docs/ (``page.png``, ``page-phone.png``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from pf_mock.client.tls import default_tls
from pf_mock.server import ReadyServer, ServeOptions, build_app, listen, uvicorn_config

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = {"desktop": ROOT / "docs" / "page.png", "phone": ROOT / "docs" / "page-phone.png"}
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1366, "height": 800}
PHONE = {"width": 390, "height": 844}
SIZES = {"desktop": DESKTOP, "phone": PHONE}
IN_CI = os.environ.get("CI", "").lower() in ("true", "1")
WAIT_MS = 20_000            # only stops a broken page hanging the suite; nothing here is timed
UPDATE_SCREENSHOTS = os.environ.get("PF_MOCK_UPDATE_SCREENSHOT") == "1"
MARKET_LIST = "/v1/markets?limit=500"   # what the page asks for its market field's suggestions
ALICE = "pf_test_alice_page_0001"
BOB = "pf_test_bob_page_0002"


def chromium_path() -> str | None:
    return os.environ.get("PF_MOCK_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def missing_browser() -> str | None:
    # Whether Playwright is installed, without loading it: every xdist worker collects this module, and
    # only the one that runs these tests needs it (the browser fixture imports it).
    if importlib.util.find_spec("playwright") is None:
        return "Playwright is not installed (pip install -e '.[test]')"
    if chromium_path() is None:
        return "no Chromium on this machine (apt-get install chromium)"
    return None


MISSING = missing_browser()
if MISSING is not None:
    if IN_CI:
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
    """What ``pf-mock serve`` runs (``build_app``, its uvicorn configuration, a loopback socket), in a
    thread of this process: a server's own interpreter would cost a second or more of imports each, and
    the page is what is under test here (tests/test_cli.py starts the command itself). Manual clock and
    orders that act at once unless the options say otherwise.

    ``market_list``, when set, is handed to the page in place of its request for the list of markets (the
    market field's suggestions, ``MARKET_LIST``): see ``browsing``."""

    def __init__(self, **options):
        opts = ServeOptions(port=0, **{"clock": "manual", "latency_ms": 0.0, **options})
        self.server = ReadyServer(uvicorn_config(build_app(opts), opts), quiet=True)
        self.market_list: bytes | None = None
        self.socket = listen("127.0.0.1", 0)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 60        # a guard against a hang, never a measured time
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.01)
        self.base = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.http = httpx.Client(base_url=self.base, timeout=10, verify=default_tls())

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
        self.server.stop()
        self.thread.join(timeout=30)
        self.socket.close()
        assert not self.thread.is_alive(), "the server did not stop"


@pytest.fixture(scope="module")
def shared_server():
    """One server for every test that needs no options of its own, reset before each (a server's start
    costs seconds; a reset, nothing). Its list of markets is read once here, for every page of the module
    (see ``browsing``)."""
    srv = Server()
    answer = srv.http.get(MARKET_LIST)
    assert answer.status_code == 200 and len(answer.json()["markets"]) == 275, answer.text
    srv.market_list = answer.content
    yield srv
    srv.close()


@pytest.fixture
def server(request, shared_server):
    marker = request.node.get_closest_marker("serve_args")
    if marker is None:
        shared_server.post("/_mock/reset", {})
        yield shared_server
        return
    srv = Server(**marker.kwargs)
    srv.market_list = shared_server.market_list     # the same catalog: the same names
    yield srv
    srv.close()


@pytest.fixture
def market_list_from_the_server(server):
    """For a test of the list of markets itself: the page asks the server for it, as a page always does."""
    kept, server.market_list = server.market_list, None
    yield
    server.market_list = kept


@pytest.fixture
def allowed_console() -> list[str]:
    """Console errors a test expects (regular expressions): Chromium logs every refused request as one."""
    return []


@pytest.fixture
def size(request) -> str:
    """The window's size by name (``desktop`` unless a test is parametrized with ``indirect=["size"]``)."""
    return getattr(request, "param", "desktop")


@pytest.fixture(scope="module")
def tabs(browser):
    """One tab per window size for the whole module, handed to each test at a blank document (a new tab
    costs a renderer's start, most of a simple test's time). ``browsing`` leaves it as it found it."""
    made = {}

    def tab(size: str):
        if size not in made:
            # A phone's screen has two device pixels to the CSS pixel, as most do: the charts must stay sharp there.
            context = browser.new_context(viewport=SIZES[size], device_scale_factor=2 if size == "phone" else 1)
            made[size] = context.new_page()
        return made[size]

    yield tab
    for opened in made.values():
        opened.context.close()


@contextmanager
def browsing(tabs, server: Server, size: str, allowed_console: list[str]):
    """The tab at ``size``, which may ask nothing of anyone but ``server``; on leaving, not one console
    error but those ``allowed_console`` expects, and not one request beyond the server. Then the tab's
    session storage (the key and token the page keeps) is cleared and it goes back to a blank document,
    which ends the page, its feed and its timers: the next test starts where a new tab would.

    The page's request for the list of markets (``MARKET_LIST``: only the market field's suggestions, by
    name) is answered with ``server.market_list``, the shared server's own answer read once, unless a test
    asks for ``market_list_from_the_server``. After each reset that request would build all 275 markets
    anew, some 0.3 CPU-s in the server's one thread while the page waits behind it for its first look;
    the test of the list itself gets it from the server."""
    opened = tabs(size)
    opened.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    outside: list[str] = []

    def console(message) -> None:
        if message.type == "error":
            errors.append(message.text)

    def page_error(error) -> None:
        errors.append(str(error))

    def only_the_server(route) -> None:     # offline: anything not asked of pf-mock itself is refused
        if route.request.url == server.base + MARKET_LIST and server.market_list is not None:
            route.fulfill(status=200, content_type="application/json", body=server.market_list)
        elif route.request.url.startswith(server.base + "/") or route.request.url.startswith("data:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    opened.on("console", console)
    opened.on("pageerror", page_error)
    opened.context.route("**/*", only_the_server)
    try:
        yield opened
    finally:
        opened.remove_listener("console", console)
        opened.remove_listener("pageerror", page_error)
        if opened.url.startswith("http"):
            opened.evaluate("sessionStorage.clear()")
        opened.unroute_all(behavior="ignoreErrors")     # a test's own routes on the tab (held requests) end with it
        opened.goto("about:blank")
        opened.context.unroute("**/*", only_the_server)
    errors = [e for e in errors if not any(re.search(allowed, e) for allowed in allowed_console)]
    assert errors == [], errors         # every test: not one console error it did not expect
    assert outside == [], outside       # and not one request beyond the server


@pytest.fixture
def page(tabs, server, size, allowed_console):
    with browsing(tabs, server, size, allowed_console) as opened:
        yield opened


# Every wait looks at the page from inside it, every POLL_MS. Playwright's wait_for_selector asks from
# outside at growing intervals (20, 50, 100, 100, then 500 ms apart), so a change that comes a quarter of
# a second after the wait began was seen up to half a second late: most of a short test's time.
# (wait_for_function's own default looks at every animation frame, which keeps the page drawing frames.)
POLL_MS = 20
SHOWN = """(selector) => {     // Playwright's own rule for "visible": not hidden by style, and a box of some size
    const found = document.querySelector(selector);
    if (!found || !found.checkVisibility() || getComputedStyle(found).visibility !== 'visible') return false;
    const box = found.getBoundingClientRect();
    return box.width > 0 && box.height > 0;
}"""


def until(page, predicate: str, arg=None) -> None:
    """Until ``predicate`` (a JavaScript function of ``arg``) is true in the page."""
    page.wait_for_function(predicate, arg=arg, polling=POLL_MS)


def until_shown(page, selector: str) -> None:
    """Until an element matching ``selector`` is shown (the first one, as Playwright's wait_for_selector)."""
    until(page, SHOWN, selector)


def until_attached(page, selector: str) -> None:
    """Until an element matching ``selector`` is in the document, shown or not."""
    until(page, "(selector) => document.querySelector(selector) !== null", selector)


def open_page(page, server: Server, key: str | None = None, symbol: str = "BTC-PERP") -> None:
    page.goto(f"{server.base}/#{symbol}")
    if key:
        page.fill("#key", key)
        page.click("#connect")
        until_shown(page, "#agent-panel:not([hidden])")
    until_shown(page, "#ladder tr.bid")


def held(page, routes: list, count: int) -> list:
    """``routes`` once a test's route handler has held ``count`` requests. Playwright runs handlers while
    the test waits on the page, and a request's event can come before its handler has run."""
    deadline = time.monotonic() + WAIT_MS / 1000        # a guard against a hang, never a measured time
    while len(routes) < count:
        assert time.monotonic() < deadline, f"{len(routes)} of {count} requests held"
        page.wait_for_timeout(10)
    return routes


def ladder(page, side: str) -> list[tuple[float, float, float]]:
    """The ladder's rows of one side as the page draws them: (price, size, the agent's part), in order. Read
    in one look (a handle and an attribute read per cell would be some 120 round trips to the browser)."""
    rows = page.evaluate("""(side) => [...document.querySelectorAll('#ladder tr.' + side)].map(
        (r) => [r.getAttribute('data-price'), r.getAttribute('data-size'), r.getAttribute('data-mine')])""", side)
    return [(float(price), float(size), float(mine)) for price, size, mine in rows]


def test_the_page_loads_and_its_ladder_is_the_book_rest_shows(market_list_from_the_server, page, server) -> None:
    open_page(page, server)
    book = server.get("/v1/markets/BTC-PERP/orderbook", depth=20)      # the manual clock stands still
    assert ladder(page, "bid") == [(level["price"], level["size"], 0.0) for level in book["bids"]]
    asks = [(level["price"], level["size"], 0.0) for level in book["asks"]]
    assert ladder(page, "ask") == asks[::-1]          # asks read downwards to the spread
    until_attached(page, "#markets option")           # appended all at once, when the list has come
    assert page.locator("#markets option").count() == 275
    assert page.locator("#admin-panel").is_visible()  # /_mock is open on loopback


def test_a_quote_posted_over_rest_shows_in_the_ladder_as_the_agents_and_someone_elses_does_not(page, server) -> None:
    """One page: another agent's quote is drawn but not marked as yours, then yours is, and only yours."""
    open_page(page, server, key=ALICE)
    assert page.locator("#ladder tr.mine").count() == 0
    theirs = server.quote(BOB, bps=0.5)
    until_shown(page, f'#ladder tr.bid[data-price="{theirs["bid_price"]:g}"]')
    until_shown(page, f'#ladder tr.ask[data-price="{theirs["ask_price"]:g}"]')
    assert page.locator("#ladder tr.mine").count() == 0
    posted = server.quote(ALICE)
    until_shown(page, f'#ladder tr.bid.mine[data-price="{posted["bid_price"]:g}"]')
    until_shown(page, f'#ladder tr.ask.mine[data-price="{posted["ask_price"]:g}"]')
    mine = {(price, size) for price, _, size in ladder(page, "bid") + ladder(page, "ask") if size}
    assert mine == {(posted["bid_price"], posted["bid_qty"]), (posted["ask_price"], posted["ask_qty"])}
    shown = {price for price, _, _ in ladder(page, "bid") + ladder(page, "ask")}
    assert {theirs["bid_price"], theirs["ask_price"]} <= shown      # the other agent's quote is still drawn


def test_a_fill_shows_on_the_chart_and_in_the_pnl_panel(page, server) -> None:
    open_page(page, server, key=ALICE)
    posted = server.quote(ALICE)
    until_shown(page, "#ladder tr.mine")
    server.post("/_mock/markets/BTC-PERP/jump", {"move_bps": -50})     # runs through the agent's bid
    fills = server.get("/v1/mm/fills", ALICE, symbol="BTC-PERP")["fills"]
    assert fills and fills[0]["order_id"] == posted["bid_id"]
    for fill in fills:
        until_shown(page, f'#price-chart path.fill[data-fill-id="{fill["fill_id"]}"]')
    pnl = server.get("/v1/mm/pnl", ALICE, symbol="BTC-PERP")
    until(page, "(want) => document.querySelector('#pnl-fills')?.textContent.startsWith(want)",
          arg=f"{pnl['fills']} (")
    shown = page.text_content("#pnl-net")
    assert shown == ("−$" if pnl["net_pnl"] < 0 else "$") + f"{abs(pnl['net_pnl']):,.2f}"
    assert page.locator("#pnl-chart path").count() >= 5         # the five components over time
    position = server.get("/v1/mm/inventory", ALICE, symbol="BTC-PERP")["position"]
    amount, unit = page.text_content("#inv-position").split()
    assert float(amount.replace(",", "")) == pytest.approx(position) and unit == "BTC"


def test_the_controls_jump_the_price_and_advance_a_manual_clock(page, server) -> None:
    open_page(page, server)
    before = server.get("/v1/markets/BTC-PERP/price")
    top = ladder(page, "bid")[0][0]
    page.fill("#jump-bps", "-200")
    page.click("#jump")
    until(page, "(top) => Number(document.querySelector('#ladder tr.bid').dataset.price) < top * 0.99",
          arg=top)
    after = server.get("/v1/markets/BTC-PERP/price")
    # The jump moves the fair value; the mark shows it rounded to the nearest tick, so the two marks
    # may each be half a tick off the exact -2%.
    tick = server.get("/v1/markets/BTC-PERP")["tick_size"]
    assert after["mark_price"] == pytest.approx(before["mark_price"] * (1 - 0.02), abs=tick)
    assert ladder(page, "bid")[0][0] == after["best_bid"]

    # The same page's clock control: the manual clock goes on by exactly what was asked.
    now = server.get("/_mock/state")["clock"]["now"]
    page.fill("#advance-seconds", "30")
    page.click("#advance")
    until(page, "() => document.querySelector('#clock').textContent.includes('00:00:30')")
    assert server.get("/_mock/state")["clock"]["now"] == now + 30_000


@pytest.mark.serve_args(admin=False)
def test_without_admin_there_are_no_controls_and_no_leaderboard(page, server) -> None:
    open_page(page, server, key=ALICE)
    # Waited for, not looked at once: the watch the page began on loading (before the key was typed) may
    # show the panel first, and the one Watch began hides it again until its own feed says hello.
    until_shown(page, "#agent-panel:not([hidden])")
    assert not page.locator("#admin-panel").is_visible()


def test_the_leaderboard_ranks_two_agents_by_net_pnl(page, server) -> None:
    server.quote(ALICE, bps=4, auto_refresh=True)
    server.quote(BOB, bps=1, session_stop_loss_usd=0.5)
    server.post("/_mock/markets/BTC-PERP/jump", {"move_bps": -60})
    server.post("/_mock/clock/advance", {"seconds": 120})
    open_page(page, server, key=ALICE)
    until_shown(page, "#leaderboard tbody tr:nth-child(2)")
    shown = [row.get_attribute("data-agent") for row in page.query_selector_all("#leaderboard tbody tr")]
    net = {server.get("/v1/account", key)["agent_id"]: server.get("/v1/mm/pnl", key)["net_pnl"] for key in (ALICE, BOB)}
    assert net[shown[0]] > net[shown[1]] and set(shown) == set(net)
    assert shown == [row["agent_id"] for row in server.get("/_mock/leaderboard")["agents"]]
    assert "me" in page.get_attribute(f'#leaderboard tr[data-agent="{shown[0]}"]', "class")     # Alice's own row


@pytest.mark.serve_args(admin_token="sesame-open")
def test_an_admin_token_opens_the_controls_only_to_whoever_gives_it(page, server) -> None:
    open_page(page, server)
    assert not page.locator("#admin-panel").is_visible()
    page.fill("#admin-token", "sesame-open")
    page.click("#connect")
    until_shown(page, "#admin-panel:not([hidden])")
    until_attached(page, "#scenario option")


@pytest.mark.serve_args(scenario="flash_crash", seed=7)
def test_a_flash_crash_stays_on_the_chart_for_the_whole_window(tabs, page, server, allowed_console,
                                                                tmp_path) -> None:
    """The pictures in docs/: a guarded maker and a careless one through the crash at t+300 s, on a
    desktop's page and a phone's, both open from the start and following the same feed. Then on to near
    the end of the chart's ten-minute window after the crash: every minute since the page opened still
    has all its prints on the chart (its dots reach the minute candle's low and high, which REST builds
    from the same trades), the crash's included."""
    guarded = {"max_inventory_usd": 400, "max_spread_bps": 12, "auto_hedge_threshold_usd": 300,
               "session_stop_loss_usd": 25}
    server.post("/_mock/clock/advance", {"seconds": 200})
    server.quote(ALICE, bps=3, usd=150, auto_refresh=True, refresh_interval_seconds=5, **guarded)
    server.quote(BOB, bps=2, usd=150, auto_refresh=True, refresh_interval_seconds=5)
    with browsing(tabs, server, "phone", allowed_console) as phone:
        pages = {"desktop": page, "phone": phone}
        for each in pages.values():
            open_page(each, server, key=ALICE)
        opened = server.get("/_mock/state")["clock"]["now"]
        for each in pages.values():
            until_shown(each, "#leaderboard tbody tr:nth-child(2)")
        # To t+460 s a step at a time, each drawn before the next: ten seconds for the pictures in docs/ (a
        # fine line), otherwise four steps of 65 s, two before the crash and two after it. Fills and
        # guardrail events do not depend on how time is stepped (the core's rule), and a step's prints
        # reach the page whole in the one look after it (at most ~400 here, under the 1,000 a look holds).
        step = 10 if UPDATE_SCREENSHOTS else 65
        for _ in range(260 // step):
            advance_and_wait(pages.values(), server, step)
        for size, each in pages.items():
            until_shown(each, "#session li.event")
            events = [e.text_content() for e in each.query_selector_all("#session li.event")]
            assert any("max_spread_bps" in e for e in events), (size, events)
            assert each.locator("#price-chart line.event").count() == len(events), size
            shot = SCREENSHOTS[size] if UPDATE_SCREENSHOTS else tmp_path / f"page-{size}.png"
            shot.parent.mkdir(parents=True, exist_ok=True)
            each.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000, size

    # The window's check, on the desktop's page: to t+820 s in three steps of two minutes (thirty seconds
    # at a time for the pictures); the crash is then 520 s old, inside the 600 s window.
    step = 30 if UPDATE_SCREENSHOTS else 120
    for _ in range(360 // step):
        advance_and_wait([page], server, step)
    x0, x1 = (float(page.get_attribute("#price-chart", a)) for a in ("data-x0", "data-x1"))
    assert x1 - x0 == 600_000
    dots = page.evaluate("() => [...document.querySelectorAll('#price-chart circle.trade')]"
                         ".map((c) => [Number(c.dataset.t), Number(c.dataset.price)])")
    candles = server.get("/v1/markets/BTC-PERP/candles", interval="1m", limit=60)["candles"]
    checked = 0
    for candle in candles:
        begin = candle["timestamp"]
        if begin < max(x0, opened) or begin + 60_000 > x1 or candle["volume_usd"] == 0:
            continue
        inside = [price for t, price in dots if begin <= t < begin + 60_000]
        assert (min(inside), max(inside)) == (candle["low"], candle["high"]), begin
        checked += 1
    assert checked >= 9
    crash = min(low for low in (c["low"] for c in candles))
    assert min(price for _, price in dots) == crash        # the crash's lowest print is still drawn


def advance_and_wait(pages, server: Server, seconds: int) -> None:
    now = server.post("/_mock/clock/advance", {"seconds": seconds})["clock"]["now"]
    for page in pages:
        until(page, "(t) => document.querySelector('#clock').textContent.includes(t)", arg=_hms(now))


# ---- at a desktop's size and a phone's ----------------------------------------------------------------

def fits_across(page, *selectors: str) -> None:
    """Each element is there, shown (hidden, it has no size), and lies within the window's width (nothing
    cut off at the side). Their boxes are read in one look at the page."""
    boxes = page.evaluate("""(selectors) => selectors.map((s) => {
        const found = document.querySelector(s);
        if (!found) return null;
        const box = found.getBoundingClientRect();
        return {x: box.x, width: box.width, height: box.height};
    })""", list(selectors))
    width = page.viewport_size["width"]
    for selector, box in zip(selectors, boxes, strict=True):
        assert box is not None and box["width"] > 0 and box["height"] > 0, (selector, box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (selector, box, width)


def no_sideways_scroll(page) -> None:
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"the page is {scroll} px wide in a {inner} px window"


def chart_geometry(page, selector: str) -> dict:
    """The chart's drawing units against its box on screen, and its axes' text."""
    return page.evaluate("""(sel) => {
        const svg = document.querySelector(sel), m = svg.getScreenCTM(), vb = svg.viewBox.baseVal;
        const text = (cls) => [...svg.querySelectorAll('text.' + cls)].map((t) => t.textContent);
        const label = svg.querySelector('text.x-label'), box = label.getBoundingClientRect(), own = label.getBBox();
        return {a: m.a, d: m.d, b: m.b, c: m.c, vbw: vb.width, vbh: vb.height, w: svg.clientWidth, h: svg.clientHeight,
                left: svg.getBoundingClientRect().left, x0: Number(svg.dataset.x0), x1: Number(svg.dataset.x1),
                text_w: box.width / own.width, text_h: box.height / own.height,
                y_title: text('y-title'), x_title: text('x-title'),
                x_labels: [...svg.querySelectorAll('text.x-label')].map((t) => [t.textContent, Number(t.getAttribute('x'))])};
    }""", selector)


def tick_decimals(tick: float) -> int:
    from decimal import Decimal
    return max(2, -Decimal(repr(tick)).normalize().as_tuple().exponent)


def test_every_panel_fits_and_the_charts_keep_their_shape(tabs, page, server, allowed_console) -> None:
    """At a desktop's size and a phone's, two pages open side by side on the same market and the same
    agents, each checked whole."""
    with browsing(tabs, server, "phone", allowed_console) as phone:
        pages = (page, phone)
        for each in pages:
            open_page(each, server)                 # without a key: the market and (on loopback) the controls
            no_sideways_scroll(each)
            fits_across(each, "header", "#book-panel", "#ladder", "#price-chart", "#admin-panel",
                        "#leaderboard-scroll")
            assert each.locator("#agent-panel").is_hidden()

        server.quote(ALICE, bps=3)
        server.quote(BOB, bps=2)
        server.post("/_mock/markets/BTC-PERP/jump", {"move_bps": -50})     # fills Alice's bid
        server.post("/_mock/clock/advance", {"seconds": 30})
        posted = server.quote(ALICE, bps=3)
        for each in pages:
            each.fill("#key", ALICE)
            each.click("#connect")
        for each in pages:
            until_shown(each, "#agent-panel:not([hidden])")
            until_shown(each, "#leaderboard tbody tr:nth-child(2)")
            until(each, "() => document.querySelectorAll('#pnl-chart path').length >= 5")
            until_shown(each, f'#ladder tr.ask.mine[data-price="{posted["ask_price"]:g}"]')
        for size, each in zip(("desktop", "phone"), pages):
            try:
                panels_fit_and_charts_keep_their_shape(each, server)
            except AssertionError as failure:
                failure.add_note(f"on the {size}'s page")
                raise


def panels_fit_and_charts_keep_their_shape(page, server: Server) -> None:
    no_sideways_scroll(page)
    fits_across(page, "#price-chart", "#agent-panel", "#inventory", "#pnl", "#pnl-chart", "#admin-panel",
                "#leaderboard-scroll", "#fills-panel")

    # The heading names the market; the ladder's prices read like every other USD figure, with units.
    market = server.get("/v1/markets/BTC-PERP")
    assert "BTC-PERP" in page.text_content("h1") and "BTC-PERP" in page.title()
    assert "BTC-PERP" in page.text_content("#book-heading") and "BTC-PERP" in page.text_content("#price-heading")
    assert [h.strip() for h in page.locator("#ladder th").all_text_contents()] == \
        ["bid size (BTC)", "price (USD)", "ask size (BTC)"]
    decimals = tick_decimals(market["tick_size"])
    rows = page.evaluate("""() => [...document.querySelectorAll('#ladder tr.bid, #ladder tr.ask')].map(
        (r) => [r.dataset.side, r.getAttribute('data-price'), r.getAttribute('data-size'),
                [...r.querySelectorAll('td')].map((cell) => cell.textContent)])""")
    assert {side for side, *_ in rows} == {"bid", "ask"}      # every row of both sides, in one look
    for _, price, size, cells in rows:
        assert cells[1] == f"{float(price):,.{decimals}f}"
        shown_size = cells[0] or cells[2]
        assert shown_size == f"{float(size):,.{market['sz_decimals']}f}"
    # "yours" stays on its row's line: a row of the agent's is as tall as any other.
    heights = page.evaluate("() => [...document.querySelectorAll('#ladder tr.ask')].map((r) => [r.classList.contains('mine'), r.getBoundingClientRect().height])")
    assert {round(h, 1) for mine, h in heights if mine} <= {round(h, 1) for mine, h in heights if not mine}

    # Drawn in the box's own pixels: one drawing unit is one CSS pixel both ways, text included.
    price, pnl = chart_geometry(page, "#price-chart"), chart_geometry(page, "#pnl-chart")
    for chart in (price, pnl):
        assert (chart["vbw"], chart["vbh"]) == (chart["w"], chart["h"])
        assert chart["a"] == pytest.approx(1) and chart["d"] == pytest.approx(1) and chart["b"] == chart["c"] == 0
        assert chart["text_w"] == pytest.approx(1, abs=0.02) and chart["text_h"] == pytest.approx(1, abs=0.02)
    # One time axis: the same span and the same pixels for the same instant; both axes say their units.
    assert (price["x0"], price["x1"]) == (pnl["x0"], pnl["x1"]) and price["left"] == pnl["left"]
    assert price["w"] == pnl["w"] and price["x_labels"] and dict(pnl["x_labels"]) == dict(price["x_labels"])
    assert price["y_title"] == ["price (USD)"] and pnl["y_title"] == ["PnL (USD)"]
    assert price["x_title"] == pnl["x_title"] == ["time (UTC, mock clock)"]


def axe_violations(page, only: str | None = None) -> list[dict]:
    """axe-core's critical and serious findings on the page as it stands, from the pinned copy: every rule
    it has, or ``only`` the one named."""
    if not AXE.exists():
        if IN_CI:
            pytest.fail(f"{AXE} is missing: `make test` installs it with npm (package.json)")
        pytest.skip("axe-core is not installed here (make test installs it with npm; npm missing?)")
    if not page.evaluate("typeof axe !== 'undefined'"):     # once per page load
        page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async (only) => {
        const r = await axe.run(document, {resultTypes: ['violations'],
                                           ...(only ? {runOnly: {type: 'rule', values: [only]}} : {})});
        return {engine: r.testEngine, rules: [...new Set([...r.passes, ...r.violations, ...r.incomplete].map((x) => x.id))],
                violations: r.violations.map((v) => ({id: v.id, impact: v.impact,
                    nodes: v.nodes.map((n) => n.target.join(' ') + ': ' + n.failureSummary)}))};
    }""", only)
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["axe-core"]
    assert found["engine"] == {"name": "axe-core", "version": pinned}
    if only is None:
        assert len(found["rules"]) > 20             # it looked: a run of no rules would pass anything
    else:
        assert found["rules"] == [only]             # the one rule named, and it ran
    return [v for v in found["violations"] if v["impact"] in ("critical", "serious")]


@pytest.mark.parametrize("size", ["desktop", "phone"], indirect=True)
def test_axe_finds_nothing_critical_or_serious_without_a_key_and_with_one(page, server, size) -> None:
    """One page at each size, checked as anyone sees it, then again once the agent's key has opened its
    part (its quote on the ladder, its fills, its session)."""
    server.quote(BOB, bps=2)                        # someone on the leaderboard
    server.post("/_mock/clock/advance", {"seconds": 30})         # some trades on the chart
    open_page(page, server)
    until_shown(page, "#leaderboard tbody tr")
    until_shown(page, "#price-chart circle.trade")
    assert axe_violations(page) == [], "without a key"
    no_sideways_scroll(page)

    server.quote(ALICE, bps=3, auto_refresh=True, session_stop_loss_usd=50)
    server.post("/_mock/markets/BTC-PERP/jump", {"move_bps": -50})
    server.post("/_mock/clock/advance", {"seconds": 30})
    page.fill("#key", ALICE)
    page.click("#connect")
    until_shown(page, "#agent-panel:not([hidden])")
    until_shown(page, "#fills tbody tr")
    until_shown(page, "#ladder tr.mine")
    until_shown(page, "#session-status")
    assert axe_violations(page) == [], "with a key"
    no_sideways_scroll(page)

    if size == "desktop":
        # The check can fail: the old grey (#777 on white, 4.47:1) is a serious finding on this same page
        # (asked of the contrast rule alone: the whole run again would cost half a CPU-second).
        page.add_style_tag(content=":root { --muted: #777; }")
        assert "color-contrast" in {v["id"] for v in axe_violations(page, only="color-contrast")}


# ---- mistakes, and the address ---------------------------------------------------------------------------

def book_on_page_is(page, server: Server, symbol: str) -> None:
    """The ladder shows ``symbol``'s book as REST shows it (the manual clock stands still)."""
    book = server.get(f"/v1/markets/{symbol}/orderbook", depth=20)
    until(page, "(p) => Number(document.querySelector('#ladder tr.bid')?.dataset.price) === p",
          arg=book["bids"][0]["price"])
    assert ladder(page, "bid") == [(level["price"], level["size"], 0.0) for level in book["bids"]]


def test_an_unknown_market_is_said_and_the_page_goes_on_watching(page, server, allowed_console) -> None:
    allowed_console.append("status of 404")
    open_page(page, server)
    page.fill("#market", "NOPE-PERP")
    page.dispatch_event("#market", "change")
    until_shown(page, "#error:not([hidden])")
    message = page.text_content("#error")
    assert "NOPE-PERP" in message and "No market" in message and "Still showing BTC-PERP" in message
    assert page.get_attribute("#market", "aria-invalid") == "true"
    assert "BTC-PERP" in page.text_content("h1") and "NOPE" not in page.text_content("#book-heading")
    # Still live: a jump of BTC-PERP reaches the ladder.
    top = ladder(page, "bid")[0][0]
    server.post("/_mock/markets/BTC-PERP/jump", {"move_bps": -200})
    until(page, "(top) => Number(document.querySelector('#ladder tr.bid').dataset.price) < top * 0.99",
          arg=top)
    # And a good name after the bad one works.
    page.fill("#market", "eth")
    page.dispatch_event("#market", "change")
    until(page, "() => document.querySelector('h1').textContent.includes('ETH-PERP')")
    assert page.is_hidden("#error") and page.get_attribute("#market", "aria-invalid") is None
    book_on_page_is(page, server, "ETH-PERP")
    assert page.evaluate("location.hash") == "#ETH-PERP"


def test_a_malformed_key_is_said_and_the_market_keeps_streaming(page, server, allowed_console) -> None:
    allowed_console.append("status of 401")
    # The list of markets (the market field's suggestions) is held until after Watch is pressed: the page
    # must show its market without it, and its arrival must not undo what the press's watch said.
    listing: list = []
    page.route(lambda url: url.endswith(MARKET_LIST), lambda route: listing.append(route))
    page.goto(f"{server.base}/#BTC-PERP")
    until_shown(page, "#ladder tr.bid")
    page.fill("#key", "pf_test_x")                  # too short to be a key
    page.click("#connect")
    until_shown(page, "#error:not([hidden])")
    held(page, listing, 1).pop().fallback()
    until_attached(page, "#markets option")
    assert "API key refused" in page.text_content("#error") and page.get_attribute("#key", "aria-invalid") == "true"
    book_on_page_is(page, server, "BTC-PERP")
    server.post("/_mock/clock/advance", {"seconds": 30})
    until(page, "() => document.querySelector('#clock').textContent.includes('00:00:30')")
    assert page.is_hidden("#agent-panel")
    # Mended, the key shows the agent's own part.
    page.fill("#key", ALICE)
    page.click("#connect")
    until_shown(page, "#agent-panel:not([hidden])")
    assert page.is_hidden("#error")


def test_a_refusal_that_comes_back_after_watch_is_pressed_again_does_not_refuse_the_new_key(
        page, server, allowed_console) -> None:
    """The feed's 401 for a bad key, answered only after a good key has been typed and Watch pressed again,
    is about the key it was sent with: the good one is still tried (its agent's panel shows) and no error
    stays. The test holds the requests to decide the order: the bad key's feed until the second press, and
    the new watch's first request until the held 401 has been read."""
    allowed_console.append("status of 401")
    bad = "pf_test_stale_page_0003"
    routes: list = []

    def hold(route) -> None:
        routes.append(route)

    page.goto(f"{server.base}/#BTC-PERP")
    until_shown(page, "#ladder tr.bid")
    page.route(lambda url: "/feed?" in url, lambda route: hold(route) if route.request.headers.get(
        "authorization") == f"Bearer {bad}" else route.fallback())
    page.fill("#key", bad)
    with page.expect_request(lambda r: "/feed?" in r.url and r.headers.get("authorization") == f"Bearer {bad}"):
        page.click("#connect")
    page.route(f"{server.base}/v1/markets/BTC-PERP", hold)          # the new watch's first request
    page.fill("#key", ALICE)
    with page.expect_request(f"{server.base}/v1/markets/BTC-PERP"):
        page.click("#connect")
    stale_feed, new_watch = held(page, routes, 2)
    with page.expect_request(lambda r: "/feed?" in r.url):           # the old watch, having read its 401
        stale_feed.fulfill(status=401, content_type="application/json",
                           body=json.dumps({"error": "invalid_key", "message": "Unknown API key."}))
    new_watch.fallback()
    # The end state, waited for as one: the old watch, not yet stopped, may show the agent's panel (it asks
    # again with the key now in the field) before the new watch clears what the stale refusal said.
    until(page, """() => !document.querySelector('#agent-panel').hidden
        && document.querySelector('#error').hidden && !document.querySelector('#key').hasAttribute('aria-invalid')""")


def test_the_address_picks_the_market(page, server, allowed_console) -> None:
    allowed_console.append("status of 404")
    page.goto(f"{server.base}/#NOPE-PERP")          # a bad one first: said, and nothing to show yet
    until_shown(page, "#error:not([hidden])")
    assert "NOPE-PERP" in page.text_content("#error")
    page.evaluate("location.hash = '#SOL-PERP'")    # as typing it into the address bar does
    until(page, "() => document.querySelector('h1').textContent.includes('SOL-PERP')")
    book_on_page_is(page, server, "SOL-PERP")
    assert page.is_hidden("#error") and page.input_value("#market") == "SOL-PERP"
    page.evaluate("location.hash = '#kPEPE-PERP'")  # a price below a dollar keeps its tick's decimals
    until(page, "() => document.querySelector('h1').textContent.includes('kPEPE-PERP')")
    book_on_page_is(page, server, "kPEPE-PERP")
    decimals = tick_decimals(server.get("/v1/markets/kPEPE-PERP")["tick_size"])
    row = page.query_selector("#ladder tr.bid")
    assert row.query_selector("td.price").text_content() == f"{float(row.get_attribute('data-price')):,.{decimals}f}"
    assert decimals > 2


# ×4, not faster: the server simulates speed × the test's wall time, which grows on a loaded machine
# (×60 cost tens of CPU-s there); four simulated seconds a second bring trades and a fill within a second or two.
@pytest.mark.serve_args(clock="realtime", speed=4.0)
def test_in_realtime_the_page_moves_by_itself(page, server) -> None:
    server.quote(ALICE, bps=1, auto_refresh=True, refresh_interval_seconds=1)
    open_page(page, server, key=ALICE)
    first = page.text_content("#clock")
    trades = page.locator("#price-chart circle.trade").count()
    # No request from here on: the feed's own looks bring the watched market forward.
    until(page, "(t) => document.querySelector('#clock').textContent !== t", arg=first)
    until(page, "(n) => document.querySelectorAll('#price-chart circle.trade').length > n", arg=trades)
    until_shown(page, "#fills tbody tr")
    assert "realtime" in page.text_content("#clock")
    assert not page.locator("#advance-controls").is_visible()      # no manual clock to advance


def _hms(ms: int) -> str:
    import datetime
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%H:%M:%S")
