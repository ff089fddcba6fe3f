"""Snapshot and restore: the document is the state. A stateful property test runs random histories,
snapshots at a random point, restores into a fresh exchange and requires every answer from then on to be
the same bytes from both; a snapshot's size follows the state, not the history; the document matches its
published JSON Schema; ``serve --restore`` and ``serve --state`` start from a file and ``--state`` writes
one, atomically, on a clean stop. (Refused documents: ``test_snapshot_hostile.py``.)"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import jsonschema_rs
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from pf_mock import state as core
from pf_mock.state_document import json_schema
# the mock's own build, its two clients served in this thread (tests/app_client.py): the same answers
# at about a third of a TestClient's CPU a request
from app_client import in_process

ROOT = Path(__file__).resolve().parent.parent
SYMBOLS = ["BTC-PERP", "ETH-PERP", "SOL-PERP"]
OTHER = {"Authorization": "Bearer pf_test_second_agent_01"}
READS = ["/v1/account", "/v1/mm/orders", "/v1/mm/orders?status=closed&limit=1000", "/v1/mm/fills?limit=1000",
         "/v1/mm/pnl", "/v1/mm/session?symbol=BTC-PERP", "/v1/markets/ETH-PERP/orderbook?depth=50",
         "/v1/markets/BTC-PERP/trades?limit=500", "/v1/markets/SOL-PERP/candles?limit=100", "/_mock/leaderboard",
         "/_mock/state"]
GUARDS = [{}, {"max_inventory_usd": 150}, {"auto_hedge_threshold_usd": 60}, {"session_stop_loss_usd": 0.05},
          {"max_spread_bps": 1.5}, {"max_inventory_usd": 300, "auto_hedge_threshold_usd": 200}]


def snap(mock) -> bytes:
    r = mock._control.post("/_mock/snapshot")
    assert r.status_code == 200, r.text
    return r.content


def restore(mock, document: bytes | dict) -> httpx.Response:
    if isinstance(document, dict):
        return mock._control.post("/_mock/restore", json=document)
    return mock._control.post("/_mock/restore", content=document, headers={"content-type": "application/json"})


def reads(mock) -> list[bytes]:
    return [mock.client.get("/v1/account", headers=OTHER).content] + [mock.client.get(p).content for p in READS]


# ---- the stateful property ------------------------------------------------------------------------
class ContinuationMachine(RuleBasedStateMachine):
    """Operations go to the original; from the snapshot on, to the restored copy as well, and every
    answer (and the reads after it) must be the same bytes from both."""

    def __init__(self):
        super().__init__()
        self.stack = contextlib.ExitStack()
        self.copy = None
        self.registered = 0
        self.steps = 0

    @initialize(seed=st.integers(0, 3), snapshot_at=st.integers(0, 6), via_text=st.booleans(),
                latency=st.sampled_from([None, 250.0]))
    def start(self, seed, snapshot_at, via_text, latency):
        # latency: quotes and cancels on their way when the snapshot is taken (None: the suite's 0)
        self.original = self.stack.enter_context(in_process(seed=seed, latency_ms=latency))
        self.seed, self.snapshot_at, self.via_text = seed, snapshot_at, via_text

    def teardown(self):
        try:
            if self.copy is not None:
                assert snap(self.copy) == snap(self.original)       # and a snapshot of each is the same
        finally:
            self.stack.close()

    def both(self, send) -> None:
        self.steps += 1
        if self.copy is None and self.steps > self.snapshot_at:
            self.snapshot_and_restore()
        a = send(self.original)
        if self.copy is not None:
            b = send(self.copy)
            assert (b.status_code, b.content) == (a.status_code, a.content)

    # operations
    @rule(symbol=st.sampled_from(SYMBOLS), bps=st.integers(0, 30), usd=st.integers(20, 400),
          tif=st.sampled_from(["GTC", "ALO", "IOC"]), refresh=st.booleans(), guard=st.sampled_from(GUARDS),
          other=st.booleans())
    def quote(self, symbol, bps, usd, tif, refresh, guard, other):
        def send(mock):
            mid = mock.client.get(f"/v1/markets/{symbol}/price").json()["mid"]
            return mock.client.post("/v1/mm/quote", headers=OTHER if other else {}, json={
                "symbol": symbol, "bid_price": mid * (1 - bps / 1e4), "bid_size": usd,
                "ask_price": mid * (1 + bps / 1e4) * 1.00001, "ask_size": usd, "time_in_force": tif,
                "auto_refresh": refresh, "refresh_interval_seconds": 5, **guard})
        self.both(send)

    @rule(symbol=st.sampled_from(SYMBOLS), other=st.booleans())
    def cancel(self, symbol, other):
        self.both(lambda m: m.client.post("/v1/mm/cancel", headers=OTHER if other else {}, json={"symbol": symbol}))

    @rule(symbol=st.sampled_from(SYMBOLS), pct=st.sampled_from([0.5, 1.0]))
    def hedge(self, symbol, pct):
        self.both(lambda m: m.client.post("/v1/mm/hedge", json={"symbol": symbol, "hedge_pct": pct}))

    @rule(symbol=st.sampled_from(SYMBOLS))
    def session_reset(self, symbol):
        self.both(lambda m: m.client.post("/v1/mm/session/reset", json={"symbol": symbol}))

    @rule(seconds=st.sampled_from([0.3, 1, 7, 45, 200]))
    def advance(self, seconds):
        self.both(lambda m: m._control.post("/_mock/clock/advance", json={"seconds": seconds}))

    @rule(symbol=st.sampled_from(SYMBOLS), bps=st.integers(-200, 200))
    def jump(self, symbol, bps):
        self.both(lambda m: m._control.post(f"/_mock/markets/{symbol}/jump", json={"move_bps": bps}))

    @rule(symbol=st.sampled_from(SYMBOLS), spread=st.integers(1, 30))
    def regime(self, symbol, spread):
        self.both(lambda m: m._control.post(f"/_mock/markets/{symbol}/regime", json={"spread_bps": spread}))

    @rule(symbol=st.sampled_from(SYMBOLS), at=st.integers(1, 90), move=st.integers(-150, 150))
    def scenario(self, symbol, at, move):
        document = {"name": "steps", "description": "a jump, then a wide spread for a while", "markets": {symbol: {
            "regime": {"volatility_annual": 0.9},
            "events": [{"at_seconds": at, "type": "jump", "move_bps": move},
                       {"at_seconds": at + 5, "type": "regime", "spread_bps": 25, "duration_seconds": 30}]}}}
        self.both(lambda m: m._control.post("/_mock/scenario", json=document))

    @rule()
    def faucet(self):
        self.both(lambda m: m.client.post("/v1/faucet/claim"))

    @rule()
    def register(self):
        if self.copy is None:       # before the snapshot only: a registration's key is random, by design
            self.registered += 1
            self.original.client.post("/v1/agents/register", json={"agent_id": f"bot_{self.registered}"})

    def snapshot_and_restore(self):
        document = snap(self.original)
        self.copy = self.stack.enter_context(in_process(seed=self.seed + 50))
        self.copy.client.post("/v1/mm/quote", json={"symbol": "ADA-PERP", "bid_price": 0.1, "bid_size": 50})
        r = restore(self.copy, document if self.via_text else json.loads(document))
        assert r.status_code == 200, r.text
        event("restored")

    @invariant()
    def same_reads(self):
        if self.copy is not None:
            assert reads(self.copy) == reads(self.original)


ContinuationMachine.TestCase.settings = settings(
    max_examples=max(3, settings.default.max_examples // 25), stateful_step_count=10, deadline=None)   # more under a long profile
TestContinuation = ContinuationMachine.TestCase


# ---- what the document holds, and how big it is -----------------------------------------------------
def loop(mock, rounds: int, symbol: str = "BTC-PERP") -> None:
    """The seed page's client: cancel, quote 5 bps wide, wait 5 s."""
    for _ in range(rounds):
        mid = mock.client.get(f"/v1/markets/{symbol}/price").json()["mid"]
        mock.client.post("/v1/mm/cancel", json={"symbol": symbol})
        mock.client.post("/v1/mm/quote", json={"symbol": symbol, "bid_price": mid * (1 - 2.5e-4), "bid_size": 100,
                                               "ask_price": mid * (1 + 2.5e-4), "ask_size": 100})
        mock.advance(5)


def without_fills(document: dict) -> dict:
    """The document less what grows with the agents' fills and closed orders (which are state: the API
    answers them) and the tape kept (bounded)."""
    out = json.loads(json.dumps(document))
    for agent in out["agents"]:
        agent["fills"], agent["closed_orders"]["orders"] = [], []
    for market in out["markets"]:
        market["trades"], market["candles"] = [], []
    return out


def test_the_size_follows_the_state_not_the_number_of_requests():
    with in_process(seed=1) as mock:
        loop(mock, 6)
        small = json.loads(snap(mock))
        loop(mock, 60)
        large = json.loads(snap(mock))
        # Ten times the requests: the parts that are not the fills, closed orders and tape stay the same size.
        a, b = len(json.dumps(without_fills(small))), len(json.dumps(without_fills(large)))
        assert b < a * 1.2, (a, b)
        # A thousand reads change nothing at all.
        for _ in range(50):
            mock.client.get("/v1/account")
            mock.client.get("/v1/markets/BTC-PERP/orderbook")
        assert json.loads(snap(mock)) == large


def test_the_document_matches_its_published_schema():
    schema = json.loads((ROOT / "docs" / "snapshot.schema.json").read_text())
    assert schema == json_schema(), "docs/snapshot.schema.json is stale: python -m pf_mock.state_document"
    validator = jsonschema_rs.validator_for(schema)
    with in_process(seed=2, scenario="flash_crash") as mock:
        mock.client.post("/v1/mm/quote", json={"symbol": "BTC-PERP", "bid_price": 68_000, "bid_size": 100,
                                               "auto_refresh": True, "max_inventory_usd": 500})
        loop(mock, 6, "ETH-PERP")
        document = json.loads(snap(mock))
        validator.validate(document)
        assert document["scenario"]["document"]["name"] == "flash_crash"
        assert any(e[2]["type"] == "refresh" for m in document["markets"] for e in m["schedule"])
        assert any(e[2]["type"].startswith("scenario_") for m in document["markets"] for e in m["schedule"])
        # The oracle: the schema does refuse what breaks it.
        document["config"]["taker_fee_bps"] = -500
        assert not validator.is_valid(document)


def test_a_restore_keeps_the_servers_own_clock_mode_and_resets_to_the_snapshots_start():
    with in_process(seed=3) as original, in_process(seed=3) as copy:
        loop(original, 3)
        assert restore(copy, snap(original)).status_code == 200
        for mock in (original, copy):
            mock._control.post("/_mock/reset", json={})
        assert reads(copy) == reads(original)


def test_a_realtime_snapshot_restores_into_either_clock_at_its_instant():
    with in_process(seed=1, clock="realtime", speed=50) as original, in_process(seed=2) as manual, \
            in_process(seed=2, clock="realtime", speed=50) as realtime:
        original.client.post("/v1/mm/quote", json={"symbol": "BTC-PERP", "bid_price": 68_000, "bid_size": 100,
                                                   "auto_refresh": True})
        document = json.loads(snap(original))
        assert document["ran_to_us"] == document["clock"]["now_us"]     # one instant, nothing to catch up
        for target in (manual, realtime):
            assert restore(target, document).status_code == 200
            state = target._control.get("/_mock/state").json()
            assert state["clock"]["mode"] == target.options.clock          # the server keeps its own mode
            assert state["clock"]["now"] >= document["clock"]["now_us"] // 1000
            assert len(target.client.get("/v1/mm/orders").json()["orders"]) == 1
        assert manual._control.get("/_mock/state").json()["clock"]["now"] == document["clock"]["now_us"] // 1000


def test_a_stopping_server_ends_a_restore_early_and_changes_nothing():
    with in_process(seed=3) as original, in_process(seed=4) as copy:
        loop(original, 2)
        document = snap(original)
        before = reads(copy)
        copy.app.state.stopping = True
        r = restore(copy, document)
        copy.app.state.stopping = False
        assert r.status_code == 503 and r.json()["error"] == "server_stopping", r.text
        assert reads(copy) == before
        with pytest.raises(core.Stopped):
            core.build(copy.exchange, document, stop=lambda: True)


def test_every_stop_check_of_a_restore_ends_it_there_and_changes_nothing():
    """``build`` asks ``stop()`` after reading the document and between its parts (agents, an agent's
    markets, markets); told to stop at any of those checks it raises ``Stopped`` and the exchange is as it
    was."""
    with in_process(seed=3) as original, in_process(seed=4) as copy:
        loop(original, 3)
        loop(original, 3, "ETH-PERP")
        original.client.get("/v1/account", headers=OTHER)
        document = snap(original)
        checks = []
        core.build(copy.exchange, document, stop=lambda: checks.append(1) and False)
        assert len(checks) >= 1 + 2 + 2 + 2, len(checks)     # after reading; 2 agents, 2 of one's markets, 2 markets
        before = snap(copy)
        for k in range(len(checks)):
            asked = []
            with pytest.raises(core.Stopped):
                core.build(copy.exchange, document, stop=lambda: asked.append(1) or len(asked) > k)
            assert len(asked) == k + 1
        assert snap(copy) == before


def test_health_is_answered_between_the_steps_of_a_restore():
    """The restore route hands the event loop back between the build's steps: a ``/health`` sent after
    the restore has started is answered before the restore is."""
    import asyncio
    with in_process(seed=3) as original, in_process(seed=4) as copy:
        for symbol in SYMBOLS:
            loop(original, 2, symbol)
        original.client.get("/v1/account", headers=OTHER)
        document = snap(original)

        async def both() -> list[str]:
            done = []
            transport = httpx.ASGITransport(app=copy.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
                async def restore():
                    r = await c.post("/_mock/restore", content=document, headers={"content-type": "application/json"})
                    assert r.status_code == 200, r.text
                    done.append("restore")

                async def health():
                    turn = copy.app.state.__dict__.get
                    while not (turn("turn") and turn("turn").locked()) and not done:
                        await asyncio.sleep(0)          # until the restore holds the exchange's turn
                    assert (await c.get("/health")).status_code == 200
                    done.append("health")

                await asyncio.gather(restore(), health())
            return done

        assert asyncio.run(both()) == ["health", "restore"]
        assert snap(copy) == document


# ---- the command line -----------------------------------------------------------------------------
def test_serve_restore_starts_from_a_snapshot_file(tmp_path):
    from pf_mock.testing import run_server
    with in_process(seed=6) as original:
        loop(original, 4)
        path = tmp_path / "snap.json"
        path.write_bytes(snap(original))
        with run_server(restore=str(path)) as served:
            for p in ("/v1/mm/fills?limit=1000", "/v1/account", "/v1/mm/orders"):
                assert served.client.get(p).content == original.client.get(p).content


@pytest.mark.parametrize("option", ["--restore", "--state"])
@pytest.mark.parametrize("text, said", [
    ('{"format": "pf-mock-snapshot", "version": 99}', "version 99 is not one this pf-mock reads"),
    ('{"format": "pf-mock-snapshot", "version": 2, "seed": 1e308}', "seed"),
    ("not json", "is not JSON"),
])
def test_serve_refuses_a_bad_snapshot_file_in_one_line(tmp_path, capsys, option, text, said):
    from pf_mock.cli import main
    path = tmp_path / "bad.json"
    path.write_text(text)
    assert main(["serve", "--port", "0", "--clock", "manual", option, str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"pf-mock: error: {option}: ") and said in err, err


def _serve(state: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "pf_mock", "serve", "--port", "0", "--clock", "manual",
                             "--state", str(state)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    assert found, (line, proc.stderr.read() if proc.poll() is not None else "")
    return proc, f"http://127.0.0.1:{found.group(1)}"


def big_document(document: bytes, fills: int) -> bytes:
    """``document`` with its first agent's fills replaced by ``fills`` made-up ones on BTC-PERP (a valid
    document: in time order, none after its now), to make a restore long."""
    doc = json.loads(document)
    agent = doc["agents"][0]
    if "BTC-PERP" not in agent["ledgers"]:
        agent["ledgers"].append("BTC-PERP")
    start, now = doc["clock"]["start_us"] / 1e6, doc["clock"]["now_us"] / 1e6
    agent["fills"] = [["BTC-PERP", f"fill_{i:012x}", f"ord_{i:012x}", i % 2 == 0, 68_000.0 + i % 7, 150 + i % 5,
                       102.0, i % 3 > 0, -0.0255, 68_003.0, "quote", start + (now - start) * i / fills]
                      for i in range(fills)]
    return json.dumps(doc, separators=(",", ":")).encode()


def test_sigterm_ends_a_restore_and_the_state_file_keeps_the_state_from_before_it(tmp_path):
    """A real ``pf-mock serve --state FILE`` process is sent SIGTERM while a big restore is under way (its
    body being read; ``Expect: 100-continue`` tells when the route has started): the restore answers
    503 ``server_stopping``, the process exits 0, FILE holds the state from before the restore, whole
    (no temporary file left), and the next start reads it and answers the same bytes."""
    import socket
    from urllib.parse import urlsplit

    from pf_mock.api import in_process_client
    from pf_mock.server import ServeOptions, build_app
    from test_callers import refuses, until
    state = tmp_path / "exchange.json"
    key = {"Authorization": "Bearer pf_test_state_file_01"}
    paths = ("/v1/account", "/v1/mm/orders", "/v1/mm/fills", "/_mock/state")
    proc, url = _serve(state)
    try:
        with httpx.Client(base_url=url, headers=key) as c:
            assert c.post("/v1/mm/quote", json={"symbol": "BTC-PERP", "bid_price": 68_000, "bid_size": 100}
                          ).status_code == 200
            assert c.post("/_mock/clock/advance", json={"seconds": 30}).status_code == 200
            before = [c.get(p).content for p in paths]
            document = c.post("/_mock/snapshot").content
        body = big_document(document, 20_000)
        where = urlsplit(url)
        with socket.create_connection((where.hostname, where.port), timeout=60) as sock:
            sock.sendall(f"POST /_mock/restore HTTP/1.1\r\nHost: {where.netloc}\r\nContent-Type: application/json"
                         f"\r\nContent-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n".encode())
            assert sock.recv(64).startswith(b"HTTP/1.1 100 "), "the route did not start reading the body"
            sock.sendall(body[:-1])
            proc.send_signal(signal.SIGTERM)
            # The signal has landed once the server stops listening: its handler marks the server as
            # stopping, then the stop closes the listening socket (new connections are refused).
            until(lambda: refuses(where.hostname, where.port), "the server kept listening after SIGTERM", 60)
            sock.sendall(body[-1:])
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        head, _, payload = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503 ") and json.loads(payload)["error"] == "server_stopping", answer[:300]
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert os.listdir(tmp_path) == [state.name]          # no temporary file left beside it
    assert state.read_bytes() == document               # the state from before the restore, whole
    app = build_app(ServeOptions(clock="manual", state=str(state)))       # the next start reads it
    with in_process_client(app, headers=key) as c:
        assert [c.get(p).content for p in paths] == before


def test_a_crash_mid_write_leaves_the_old_state_file(tmp_path, monkeypatch):
    from pf_mock import server
    state = tmp_path / "exchange.json"
    state.write_text("old")
    with in_process(seed=1) as mock:
        def crash(fd):
            raise OSError("disk gone")
        monkeypatch.setattr(server.os, "fsync", crash)
        with pytest.raises(OSError):
            server.write_state(mock.exchange, str(state))
    assert state.read_text() == "old" and os.listdir(tmp_path) == [state.name]


# ---- a ledger loaded whole is the ledger built fill by fill ----------------------------------------------
fill_rows = st.lists(st.tuples(
    st.booleans(), st.floats(0.01, 1e6), st.integers(1, 10 ** 6), st.floats(0, 1e7), st.booleans(),
    st.floats(-1e3, 1e3), st.floats(0.01, 1e6), st.sampled_from(["quote", "hedge", "auto_hedge"]),
    st.integers(0, 10 ** 6)), max_size=40)


@settings(max_examples=max(20, settings.default.max_examples // 2), deadline=None)
@given(rows=fill_rows, lot_scale=st.sampled_from([1, 100, 100_000]))
def test_a_loaded_ledger_is_bit_for_bit_the_one_built_fill_by_fill(rows, lot_scale):
    from pf_mock.ledger import FillOrder, SymbolLedger
    one_by_one, loaded = SymbolLedger("BTC-PERP", lot_scale, FillOrder()), SymbolLedger("BTC-PERP", lot_scale)
    full = []
    t = 1_767_225_600.0
    for i, (is_buy, price, lots, notional, maker, fee, mid, kind, dt) in enumerate(rows):
        t += dt / 1e6
        one_by_one.apply(fill_id=f"fill_{i:012x}", order_id=f"ord_{i * 7:012x}", is_buy=is_buy, price=price, lots=lots,
                         notional=notional, maker=maker, fee=fee, mid=mid, kind=kind, time=t)
        full.append(("BTC-PERP", f"fill_{i:012x}", f"ord_{i * 7:012x}", is_buy, price, lots, notional, maker, fee,
                     mid, kind, t))
    loaded.load(full)
    a, b = one_by_one.fills, loaded.fills
    for name in ("fill_ids", "order_ids", "flags", "price", "size", "notional", "fee", "mid", "time", "edge"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name
    for name in a.totals:
        assert a.totals[name].tobytes() == b.totals[name].tobytes(), name
    assert one_by_one.totals == loaded.totals and one_by_one._times == loaded._times
    for cost in ("at_fill_prices", "_at_mids"):
        x, y = getattr(one_by_one, cost), getattr(loaded, cost)
        assert (x.lots, x.avg, x.realized) == (y.lots, y.avg, y.realized)


@given(numbers=st.lists(st.integers(0, 16 ** 12 - 1), max_size=30))
def test_ids_become_numbers_and_back_as_python_formats_them(numbers):
    from pf_mock.ledger import id_numbers, id_texts
    texts = [f"ord_{n:012x}" for n in numbers]
    assert id_texts(numbers, "ord") == texts
    assert id_numbers(texts, "ord").tolist() == numbers


@pytest.mark.parametrize("ids", [["fill_00000000000g"], ["fill_00000000000A"], ["fil_0000000000001"],
                                 ["fill_0000000000001"], ["fill_000000000001", "fill_00000000001"],
                                 ["fill_00000000000\u00e9"], ["ord_000000000001"]])
def test_an_id_that_is_not_fill_and_12_hex_digits_is_refused(ids):
    from pf_mock.ledger import id_numbers
    with pytest.raises(ValueError):
        id_numbers(ids, "fill")

