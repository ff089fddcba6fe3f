"""The reference clients' mistakes: a bad key, an unknown market, --advance-clock on a realtime server and
no server at all each end in one line carrying the server's error and message (or saying no server
answers) and what to do, exit code 2, after a bounded number of tries; the quote width means one thing;
the inventory-aware maker reports PnL as the seed's maker does and says once that it stopped."""

from __future__ import annotations

import socket

import httpx
import pytest

import clients.inventory_mm as inventory_mm
import clients.simple_mm as simple_mm
from pf_mock.client import Client
from pf_mock.client.core import RetryPolicy
from pf_mock.client.tls import default_tls
from pf_mock.testing import run_server

BAD_KEY = "not-a-key"


def free_base() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def server_error(base: str, method: str, path: str, **kwargs) -> dict:
    """What the server itself answers to the request the client trips on (the oracle for its line)."""
    answer = httpx.request(method, base + path, verify=default_tls(), **kwargs)
    assert answer.status_code >= 400
    return answer.json()


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


MAINS = {"simple_mm": simple_mm.main, "inventory_mm": inventory_mm.main}


@pytest.fixture(scope="module")
def manual():
    with run_server(seed=1) as srv:
        yield srv


@pytest.fixture(scope="module")
def realtime():
    with run_server(clock="realtime") as srv:
        yield srv


@pytest.mark.parametrize("client", sorted(MAINS))
def test_a_malformed_key_is_the_servers_error_and_message_in_one_line(client, manual, monkeypatch, capsys):
    monkeypatch.setenv("PF_BASE", manual.base_url)
    monkeypatch.setenv("PF_API_KEY", BAD_KEY)
    assert MAINS[client](["--iterations", "3", "--interval", "0"]) == 2
    line = one_line(capsys.readouterr().err)
    body = server_error(manual.base_url, "GET", "/v1/mm/inventory", params={"symbol": "BTC-PERP"},
                        headers={"Authorization": f"Bearer {BAD_KEY}"})
    assert line.startswith(f"{client}: {body['error']}: {body['message']}"), line
    assert "set PF_API_KEY" in line and "bid_id" not in line


@pytest.mark.parametrize("client", sorted(MAINS))
def test_an_unknown_market_is_one_line(client, manual, monkeypatch, capsys):
    monkeypatch.setenv("PF_BASE", manual.base_url)
    monkeypatch.setenv("PF_API_KEY", "pf_test_reference_clients")
    assert MAINS[client](["--iterations", "3", "--interval", "0", "--symbol", "NOPE-PERP"]) == 2
    line = one_line(capsys.readouterr().err)
    body = server_error(manual.base_url, "GET", "/v1/markets/NOPE-PERP/price")
    assert f"{body['error']}: {body['message']}" in line and "GET /v1/markets" in line


@pytest.mark.parametrize("client", sorted(MAINS))
def test_advance_clock_on_a_realtime_server_is_its_clock_not_manual_message(client, realtime, monkeypatch, capsys):
    monkeypatch.setenv("PF_BASE", realtime.base_url)
    monkeypatch.setenv("PF_API_KEY", "pf_test_reference_clients")
    assert MAINS[client](["--iterations", "3", "--advance-clock"]) == 2
    line = one_line(capsys.readouterr().err)
    body = server_error(realtime.base_url, "POST", "/_mock/clock/advance", json={"seconds": 5})
    assert body["error"] == "clock_not_manual"
    assert f"clock_not_manual: {body['message']}" in line and "--clock manual" in line
    assert realtime.client.get("/v1/mm/orders").json()["orders"] == []     # nothing left behind


def test_simple_mm_without_a_server_tries_a_few_times_then_says_so(monkeypatch, capsys):
    waits: list[float] = []
    maker = simple_mm.SimpleMarketMaker("BTC-PERP", base_url=free_base(), connect_pauses=(0.01, 0.02),
                                        wait=waits.append, say=lambda line: None, sleep=lambda s: None)
    with pytest.raises(simple_mm.Stop, match="no pf-mock answers at .* start one with `pf-mock serve`"):
        maker.run(max_iterations=720)
    assert waits == [0.01, 0.02]            # bounded: the pauses given, then the stop
    assert maker.summary.iterations == 1
    monkeypatch.setattr(simple_mm, "CONNECT_PAUSES", (0.0,))
    monkeypatch.setenv("PF_BASE", free_base())
    assert simple_mm.main(["--iterations", "720"]) == 2
    assert "set PF_BASE" in one_line(capsys.readouterr().err)


def test_inventory_mm_without_a_server_stops_after_the_clients_retries(monkeypatch, capsys):
    naps: list[float] = []
    client = Client(free_base(), "pf_test_reference_clients", retry=RetryPolicy(retries=2, backoff_s=0.01),
                    sleep=naps.append)
    maker = inventory_mm.InventoryMarketMaker("BTC-PERP", client=client, say=lambda line: None,
                                              sleep=lambda s: None)
    with pytest.raises(inventory_mm.Stop, match="no pf-mock answers at .*set PF_BASE"):
        maker.run(max_iterations=None)      # "until stopped": the stop must come from the client's retries
    assert naps == [0.01, 0.02] * 2         # bounded: the first read's retries, then the parting cancel's


def test_inventory_mm_reports_pnl_as_simple_mm_does_and_says_once_that_it_stopped(manual):
    lines: list[str] = []
    with Client(manual.base_url, "pf_test_inventory_lines") as pf:
        maker = inventory_mm.InventoryMarketMaker("BTC-PERP", client=pf, say=lines.append,
                                                  sleep=lambda s: pf.mock.advance(s))
        maker.run(interval_seconds=5, max_iterations=61)
        pnl = pf.pnl("BTC-PERP")
    seed_lines: list[str] = []
    seed = simple_mm.SimpleMarketMaker("BTC-PERP", base_url=manual.base_url, api_key="pf_test_seed_lines",
                                       say=seed_lines.append, sleep=lambda s: manual.advance(s))
    seed.run(max_iterations=61)
    seed.close()
    shape = [line.split("$")[0] for line in seed_lines if "PnL:" in line]
    reported = [line for line in lines if "PnL:" in line]
    assert len(reported) == len(shape) == 2             # rounds 0 and 60, as the seed's maker
    assert [line.split("$")[0] for line in reported] == shape
    assert lines.count(reported[-1]) == 1
    last = maker.summary.pnl_reports[-1]
    assert reported[-1] == (f"  PnL: Spread=${last.spread_income:+.2f} Rebates=${last.rebates:+.2f} "
                            f"Inventory=${last.inventory_pnl:+.2f} Net=${last.net_pnl:+.2f}")
    assert pnl.fills >= last.fills
    assert sum("stopped" in line for line in lines) == 1 and lines[-1].endswith("All orders cancelled.")


def test_spread_bps_is_the_full_width_for_both_makers(manual):
    """One convention: a parameter named spread_bps is the quote's full width, bid to ask, in bps of the
    mid (each side half of it away); the orchestrator's half_spread_bps is the distance of each side."""
    seed = simple_mm.SimpleMarketMaker("BTC-PERP", spread_bps=10, base_url=manual.base_url,
                                       api_key="pf_test_width_seed", say=lambda line: None)
    mid = seed.mid_price()
    seed.cancel_all()
    seed.post_quotes(mid)
    seed.cancel_all()
    seed.close()
    sent = seed.summary.of("POST", "/v1/mm/quote")[0].body        # before the server rounds to its tick
    assert (sent["ask_price"] - sent["bid_price"]) / mid * 1e4 == pytest.approx(10, abs=0.01)
    assert (sent["ask_price"] + sent["bid_price"]) / 2 == pytest.approx(mid, abs=0.01)
    with Client(manual.base_url, "pf_test_width_inventory") as pf:
        maker = inventory_mm.InventoryMarketMaker("BTC-PERP", client=pf, min_spread_bps=8, max_spread_bps_quote=8,
                                                  say=lambda line: None)
        bid, ask = maker.quote_distances(0.0)
    assert bid + ask == pytest.approx(8)
