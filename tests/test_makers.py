"""The reference makers against a live server: the inventory-aware maker in simulated time (its sleeps
advance a manual clock) and in real time, its clean exit on SIGTERM, its quoting formula, and the seed
maker's --advance-clock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clients.inventory_mm import InventoryMarketMaker
from clients.simple_mm import main as simple_main
from pf_mock.client import Client
from pf_mock.testing import run_server

ROOT = Path(__file__).resolve().parent.parent
SYMBOL = "BTC-PERP"


def test_the_skew_leans_against_the_inventory():
    maker = InventoryMarketMaker(client=Client("http://127.0.0.1:9", "pf_test_offline_maker"), say=lambda s: None)
    flat_bid, flat_ask = maker.quote_distances(0.0)
    assert flat_bid == pytest.approx(flat_ask)
    long_bid, long_ask = maker.quote_distances(1.0)
    assert long_bid > flat_bid and long_ask < flat_ask                  # long: buy less, sell sooner
    short_bid, short_ask = maker.quote_distances(-1.0)
    assert short_bid == pytest.approx(long_ask) and short_ask == pytest.approx(long_bid)
    calmer = InventoryMarketMaker(gamma=0.05, client=maker.client, say=lambda s: None)
    assert calmer.quote_distances(1.0)[0] - calmer.quote_distances(0.0)[0] < long_bid - flat_bid
    maker.est.sigma_bps *= 4                                              # more volatile: wider
    assert sum(maker.quote_distances(0.0)) > flat_bid + flat_ask
    maker.client.close()


def test_in_simulated_time_on_a_live_server():
    with run_server(seed=3) as srv, Client(srv.base_url, srv.api_key) as pf:
        start = pf.mock.state().clock.now
        maker = InventoryMarketMaker(SYMBOL, client=pf, sleep=lambda s: pf.mock.advance(s), say=lambda s: None)
        summary = maker.run(interval_seconds=5, max_iterations=36)
        assert summary.errors == [] and summary.quotes == 36
        assert pf.mock.state().clock.now == start + 36 * 5_000
        assert pf.orders(SYMBOL).orders == []
        quotes = [r for r in srv.requests(agent=srv.agent_id) if r["path"] == "/v1/mm/quote"]
        assert len(quotes) == 36 and all(r["status"] == 200 for r in quotes)
        for body in (q["body"] for q in quotes):        # the guardrails ride on every quote
            assert body["max_inventory_usd"] == 200 and body["auto_hedge_threshold_usd"] == 300
            assert body["max_spread_bps"] == 25 and body["session_stop_loss_usd"] == 50
        assert 0 < summary.fills <= len(pf.fills(SYMBOL, limit=1000).fills)   # the last round's fills come after it


def test_in_real_time_and_backing_off_on_errors():
    with run_server(clock="realtime", speed=50) as srv, Client(srv.base_url, srv.api_key) as pf:
        pf.mock.add_fault("/v1/mm/quote", status=500, count=2)
        naps: list[float] = []

        def sleep(seconds: float) -> None:      # the nap's simulated seconds pass on the server's x50 clock
            naps.append(seconds)
            time.sleep(seconds / 50)

        maker = InventoryMarketMaker(SYMBOL, client=pf, sleep=sleep, say=lambda s: None)
        summary = maker.run(interval_seconds=0.05, max_iterations=8)
        assert len(summary.errors) == 2 and "internal_error" in summary.errors[0]
        assert naps[:3] == [1.0, 2.0, 0.05]              # backoff doubles, then the normal interval
        assert pf.orders(SYMBOL).orders == []


def test_sigterm_cancels_everything_and_exits_cleanly():
    with run_server(clock="realtime", speed=20) as srv, Client(srv.base_url, srv.api_key) as pf:
        env = {**os.environ, "PF_BASE": srv.base_url, "PF_API_KEY": srv.api_key}
        proc = subprocess.Popen([sys.executable, "-m", "clients.inventory_mm", "--interval", "0.2"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 60
            while not pf.orders(SYMBOL).orders:
                assert proc.poll() is None and time.monotonic() < deadline, "the maker never quoted"
                time.sleep(0.05)
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, out
        assert "SIGTERM" in out and "cancelled" in out
        assert out.count("stopped") == 1, out           # one line says it stopped, and why
        assert pf.orders(SYMBOL).orders == []


def test_the_seed_maker_advances_a_manual_clock(capsys, monkeypatch):
    with run_server(seed=1) as srv:
        monkeypatch.setenv("PF_BASE", srv.base_url)
        monkeypatch.setenv("PF_API_KEY", srv.api_key)
        start = srv.state()["clock"]["now"]
        assert simple_main(["--iterations", "3", "--advance-clock"]) == 0
        assert srv.state()["clock"]["now"] == start + 15_000
        paths = [r["path"] for r in srv.requests(agent=srv.agent_id)]
        assert paths.count("/v1/mm/quote") == 3 and paths[-1] == "/v1/mm/cancel"
    assert "Market maker stopped" in capsys.readouterr().out
