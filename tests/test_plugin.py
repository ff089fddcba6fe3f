"""The pytest plugin (``pf_mock.pytest_plugin``, loaded through the ``pytest11`` entry point).

Two halves: this suite's own tests taking the ``pf_mock`` and ``pf_mock_server`` fixtures as any user's
test would, and ``pytester`` runs of generated test files in a fresh directory (no conftest, the plugin
loaded only because pf-mock is installed): the README's examples verbatim, the marker and
``--pf-mock-seed``, and a ``-n 2`` run showing that every test gets a mock of its own.
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pf_mock.agents import KEY_PATTERN
from pf_mock.clock import DEFAULT_EPOCH
from pf_mock.exchange import Exchange
from pf_mock.testing import TEST_KEY, MockControlError

SYMBOL = "BTC-PERP"
EPOCH_MS = int(DEFAULT_EPOCH * 1000)
README = Path(__file__).resolve().parent.parent / "README.md"
README_HEADING = "## Use it in your tests"
TESTING_DOC = Path(__file__).resolve().parent.parent / "docs" / "testing.md"     # the whole page is examples
# For the generated runs: no cache files, and neither the hypothesis nor the schemathesis plugin (they are
# not what is under test here; loading them takes one to two seconds of CPU per process, three processes
# under xdist). pf-mock's own plugin still loads from its entry point, as in a user's project.
RUN_ARGS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:schemathesis")


def quote(client, bps: float = 5, usd: float = 100, **extra):
    mid = client.get(f"/v1/markets/{SYMBOL}/price").json()["mid"]
    return client.post("/v1/mm/quote", json={"symbol": SYMBOL, "bid_price": mid * (1 - bps / 1e4), "bid_size": usd,
                                             "ask_price": mid * (1 + bps / 1e4), "ask_size": usd, **extra})


def assert_error(exc: MockControlError, status: int, code: str) -> None:
    assert exc.status_code == status
    assert exc.body["error"] == code and isinstance(exc.body["message"], str) and exc.body["message"]


# ---- the fixtures, used directly ----------------------------------------------------------------

def test_pf_mock_hands_out_a_fresh_mock_and_an_authorised_client(pf_mock, pytestconfig):
    assert isinstance(pf_mock.exchange, Exchange) and isinstance(pf_mock.app, FastAPI)
    assert pf_mock.app.state.exchange is pf_mock.exchange
    # Starlette's TestClient is built on httpx, or on httpx2 once that is installed (the MCP extra brings it).
    assert isinstance(pf_mock.client, TestClient)
    assert str(pf_mock.client.base_url) == "http://testserver"
    assert pf_mock.api_key == TEST_KEY and KEY_PATTERN.match(pf_mock.api_key)
    assert pf_mock.client.headers["authorization"] == f"Bearer {pf_mock.api_key}"
    assert pf_mock.client.get("/v1/account").json()["agent_id"] == pf_mock.agent_id
    assert pf_mock.state() == {"seed": pytestconfig.getoption("--pf-mock-seed"),
                               "clock": {"mode": "manual", "now": EPOCH_MS, "speed": 0.0},
                               "agents": 1, "active_markets": [], "scenario": None}


def test_pf_mock_quotes_advances_and_fills(pf_mock):
    answer = quote(pf_mock.client)
    assert answer.status_code == 200, answer.text
    bid_id, bid_price = answer.json()["bid_id"], answer.json()["bid_price"]
    assert len(pf_mock.client.get("/v1/mm/orders").json()["orders"]) == 2

    assert pf_mock.advance(1) == {"clock": {"mode": "manual", "now": EPOCH_MS + 1000, "speed": 0.0}}
    assert pf_mock.client.get("/v1/mm/fills").json()["fills"] == []
    jumped = pf_mock.jump(SYMBOL, -50)
    assert jumped["symbol"] == SYMBOL and jumped["timestamp"] == EPOCH_MS + 1000

    [fill] = pf_mock.client.get("/v1/mm/fills").json()["fills"]
    assert (fill["order_id"], fill["side"], fill["liquidity"], fill["kind"], fill["price"]) == \
        (bid_id, "buy", "maker", "quote", bid_price)
    assert fill["fee_usd"] < 0                               # a maker's rebate
    inventory = pf_mock.client.get("/v1/mm/inventory", params={"symbol": SYMBOL}).json()
    assert inventory["position"] == fill["size"]

    pf_mock.advance(120)
    pnl = pf_mock.client.get("/v1/mm/pnl").json()
    assert pnl["fills"] >= 1 and pnl["until"] == EPOCH_MS + 121_000
    assert pnl["net_pnl"] == pytest.approx(
        pnl["spread_income"] + pnl["rebates"] + pnl["inventory_pnl"] - pnl["hedge_cost"], abs=1e-6)
    # The fixture's exchange is the one behind the client.
    agent = pf_mock.exchange.agents[pf_mock.agent_id]
    assert pf_mock.exchange.pnl(agent).window.net_pnl == pytest.approx(pnl["net_pnl"], abs=1e-6)


@pytest.mark.pf_mock(seed=11, starting_balance=250, strict_auth=True)
def test_the_marker_configures_the_fixture(pf_mock):
    assert pf_mock.state()["seed"] == 11
    assert pf_mock.client.get("/v1/account").json()["balance_usd"] == 250
    before = pf_mock.state()
    stranger = pf_mock.client.get("/v1/account", headers={"Authorization": "Bearer pf_test_stranger1"})
    assert stranger.status_code == 401
    assert stranger.json()["error"] == "invalid_key" and stranger.json()["message"]
    assert pf_mock.state() == before                         # nobody was provisioned


@pytest.mark.pf_mock(seed=5, starting_balance=300)
class TestMarkersNest:
    def test_a_class_marker_applies(self, pf_mock):
        assert pf_mock.state()["seed"] == 5
        assert pf_mock.client.get("/v1/account").json()["balance_usd"] == 300

    @pytest.mark.pf_mock(starting_balance=400)
    def test_the_nearest_marker_wins_field_by_field(self, pf_mock):
        assert pf_mock.state()["seed"] == 5
        assert pf_mock.client.get("/v1/account").json()["balance_usd"] == 400


def test_faults_and_the_journal(pf_mock):
    added = pf_mock.faults(path="/v1/mm/quote", status=503, count=1)
    assert added["fault"]["status"] == 503 and len(added["faults"]) == 1
    failed = quote(pf_mock.client)
    assert failed.status_code == 503 and failed.json()["error"] == "service_unavailable"
    assert pf_mock.client.get("/v1/mm/orders").json()["orders"] == []       # the exchange never saw it
    assert quote(pf_mock.client).status_code == 200

    pf_mock.faults(path="/v1/markets/*", status=500)
    assert pf_mock.client.get(f"/v1/markets/{SYMBOL}/price").status_code == 500
    assert pf_mock.clear_faults()["cleared"] == 1
    assert pf_mock.client.get(f"/v1/markets/{SYMBOL}/price").status_code == 200

    mine = pf_mock.requests(agent=pf_mock.agent_id)
    assert [(r["method"], r["path"], r["status"]) for r in mine] == [
        ("GET", f"/v1/markets/{SYMBOL}/price", 200), ("POST", "/v1/mm/quote", 503),
        ("GET", "/v1/mm/orders", 200),
        ("GET", f"/v1/markets/{SYMBOL}/price", 200), ("POST", "/v1/mm/quote", 200),
        ("GET", f"/v1/markets/{SYMBOL}/price", 500), ("GET", f"/v1/markets/{SYMBOL}/price", 200)]
    assert all(r["agent"] == pf_mock.agent_id and r["time"] == EPOCH_MS for r in mine)
    assert mine[1]["body"]["symbol"] == SYMBOL
    assert pf_mock.requests(agent=pf_mock.agent_id, limit=2) == mine[-2:]
    assert pf_mock.requests(agent="ag_nobody") == []
    assert len(pf_mock.requests()) == len(mine)              # the helpers' own calls are not journaled


def test_scenarios_regimes_and_reset(pf_mock):
    loaded = pf_mock.load_scenario("calm")
    assert loaded["scenario"] == "calm"
    assert pf_mock.state()["scenario"] == "calm"
    regime = pf_mock.regime(SYMBOL, spread_bps=40)
    assert regime["regime"]["spread_bps"] == 40

    pf_mock.advance(30)
    assert pf_mock.client.post("/v1/faucet/claim").status_code == 200
    restarted = pf_mock.reset(seed=3)
    assert (restarted["seed"], restarted["clock"]["now"], restarted["agents"]) == (3, EPOCH_MS, 0)
    # Under open auth the client's key still works after a reset, as the same agent, started afresh.
    account = pf_mock.client.get("/v1/account").json()
    assert (account["agent_id"], account["balance_usd"]) == (pf_mock.agent_id, 10_000.0)


def test_refused_helper_calls_raise_and_change_nothing(pf_mock):
    pf_mock.client.get(f"/v1/markets/{SYMBOL}/price")
    before = pf_mock.state()
    mid = pf_mock.exchange.market(SYMBOL).mid
    with pytest.raises(MockControlError) as bad_jump:
        pf_mock.jump(SYMBOL, -20_000)
    assert_error(bad_jump.value, 400, "invalid_request")
    with pytest.raises(MockControlError) as unknown:
        pf_mock.load_scenario("no_such_scenario")
    assert_error(unknown.value, 404, "scenario_not_found")
    with pytest.raises(MockControlError) as bad_fault:
        pf_mock.faults(path="/v1/mm/quote", status=200)
    assert_error(bad_fault.value, 400, "invalid_request")
    assert pf_mock.state() == before and pf_mock.exchange.market(SYMBOL).mid == mid
    assert quote(pf_mock.client).status_code == 200        # no fault rule was left standing


@pytest.mark.pf_mock(admin_token="t0ken", rate_limit=3)
def test_server_options_reach_the_in_process_app(pf_mock):
    assert pf_mock.state()["agents"] == 1                     # the helpers send the admin token
    refused = pf_mock.client.get("/_mock/state")              # the client does not
    assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
    statuses = [pf_mock.client.get("/v1/account").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_pf_mock_server_speaks_real_http(pf_mock_server):
    url = httpx.URL(pf_mock_server.base_url)
    assert url.host == "127.0.0.1" and url.port == pf_mock_server.port > 0
    headers = {"Authorization": f"Bearer {pf_mock_server.api_key}"}
    with httpx.Client(base_url=pf_mock_server.base_url, headers=headers) as http:
        answer = quote(http)
        assert answer.status_code == 200, answer.text
        pf_mock_server.jump(SYMBOL, -50)
        fills = http.get("/v1/mm/fills").json()["fills"]
        assert [(f["side"], f["liquidity"]) for f in fills] == [("buy", "maker")]
    journal = pf_mock_server.requests(agent=pf_mock_server.agent_id)
    assert [r["path"] for r in journal] == [f"/v1/markets/{SYMBOL}/price", "/v1/mm/quote", "/v1/mm/fills"]


# ---- generated test files, run by pytester ------------------------------------------------------

def readme_blocks() -> list[str]:
    """The ```python blocks of the README's "Use it in your tests" section, then those of docs/testing.md,
    in order."""
    text = README.read_text(encoding="utf-8")
    start = text.index(README_HEADING) + len(README_HEADING)
    end = text.find("\n## ", start)
    section = (text[start:] if end == -1 else text[start:end]) + "\n" + TESTING_DOC.read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```", section, re.S | re.M)


def readme_tests() -> list[str]:
    return [block for block in readme_blocks() if re.search(r"^def test_", block, re.M)]


def readme_scripts() -> list[str]:
    return [block for block in readme_blocks() if not re.search(r"^def test_", block, re.M)]


def count_tests(*sources: str) -> int:
    return sum(len(re.findall(r"^\s*def test_", source, re.M)) for source in sources)


def test_the_readme_section_has_examples_of_every_entry_point():
    tests, scripts = "\n".join(readme_tests()), "\n".join(readme_scripts())
    assert count_tests(tests) >= 5
    for used in ("(pf_mock)", "(pf_mock_server)", "@pytest.mark.pf_mock(", "--pf-mock-seed",
                 ".advance(", ".jump(", ".faults(", ".requests("):
        assert used in tests, used
    assert "MockExchange(" in scripts and "run_server(" in scripts


def write_readme_tests(pytester) -> int:
    """The README's test examples as files in the pytester directory; returns how many tests they hold."""
    blocks = readme_tests()
    for i, block in enumerate(blocks):
        pytester.makepyfile(**{f"test_readme_{i}": block})
    return count_tests(*blocks)


def test_the_readme_scripts_run_as_written(pytester):
    scripts = [pytester.makepyfile(**{f"readme_script_{i}": block}) for i, block in enumerate(readme_scripts())]
    runner = pytester.makepyfile(run_all=textwrap.dedent(f'''
        import runpy
        for path in {[str(script) for script in scripts]!r}:
            runpy.run_path(path, run_name="__main__")
            print("ran", path)
    '''))
    result = pytester.run(sys.executable, str(runner))       # one interpreter for all: fewer slow starts
    assert result.ret == 0, result.stderr.str()
    assert [line for line in result.outlines if line.startswith("ran ")] == [f"ran {s}" for s in scripts]


OPTIONS_FILE = '''
import pytest


def test_the_seed_comes_from_the_command_line(pf_mock, pf_mock_server):
    assert pf_mock.state()["seed"] == 42
    assert pf_mock_server.state()["seed"] == 42


@pytest.mark.pf_mock(seed=7, starting_balance=250)
def test_the_marker_wins_for_both_fixtures(pf_mock, pf_mock_server):
    for mock in (pf_mock, pf_mock_server):
        assert mock.state()["seed"] == 7
        assert mock.client.get("/v1/account").json()["balance_usd"] == 250


@pytest.mark.pf_mock(strict_auth=True)
def test_strict_auth_over_real_http(pf_mock_server):
    assert pf_mock_server.client.get("/v1/account").status_code == 200
    assert pf_mock_server.client.get("/v1/account", headers={"Authorization": "Bearer pf_test_stranger1"}
                                     ).json()["error"] == "invalid_key"


@pytest.mark.pf_mock(no_such_option=1)
def test_an_unknown_option(pf_mock):
    pass


@pytest.mark.pf_mock(3)
def test_a_positional_argument(pf_mock_server):
    pass
'''


def test_the_readme_examples_the_marker_and_the_seed_option(pytester):
    """The README's examples pass under another seed too; the marker is registered (``--strict-markers``)
    and beats the command line's seed; a malformed marker fails its test with a plain message."""
    readme = write_readme_tests(pytester)
    pytester.makepyfile(test_options=OPTIONS_FILE)
    result = pytester.runpytest_inprocess(*RUN_ARGS, "--strict-markers", "--pf-mock-seed", "42")
    result.assert_outcomes(passed=readme + 3, errors=2, warnings=0)
    result.stdout.fnmatch_lines(["*@pytest.mark.pf_mock: unknown pf-mock option(s) no_such_option*"])
    result.stdout.fnmatch_lines(["*@pytest.mark.pf_mock takes keyword arguments only*"])


ISOLATION_FILE = '''
import os
from pathlib import Path

import pytest

EPOCH_MS = 1_767_225_600_000


def fresh_then_dirty(mock, n):
    """Assert the mock is untouched, then leave state behind for any test that would wrongly share it."""
    assert mock.state() == {"seed": 0, "clock": {"mode": "manual", "now": EPOCH_MS, "speed": 0.0},
                            "agents": 1, "active_markets": [], "scenario": None}
    assert mock.requests() == []
    assert mock.client.get("/v1/mm/orders").json()["orders"] == []
    mid = mock.client.get("/v1/markets/BTC-PERP/price").json()["mid"]
    answer = mock.client.post("/v1/mm/quote", json={"symbol": "BTC-PERP", "bid_price": mid * 0.999, "bid_size": 100})
    assert answer.status_code == 200
    mock.faults(path="/v1/*", latency_ms=1)
    mock.advance(10 + n)
    assert len(mock.client.get("/v1/mm/orders").json()["orders"]) == 1
    name = f"{os.environ['PYTEST_XDIST_WORKER']}-{os.getpid()}-{type(mock).__name__}-{n}"
    (Path(os.environ["PF_MOCK_RECORDS"]) / name).write_text(getattr(mock, "base_url", "in process"))


@pytest.mark.parametrize("n", range(4))
def test_in_process(pf_mock, n):
    fresh_then_dirty(pf_mock, n)


@pytest.mark.parametrize("n", range(4))
def test_over_http(pf_mock_server, n):
    fresh_then_dirty(pf_mock_server, n)
'''


def test_each_test_has_its_own_mock_under_xdist(pytester, monkeypatch, tmp_path):
    """``-n 2``: both fixtures, several tests per worker, each starting from an untouched mock; the
    README's examples (on the default seed) run alongside."""
    records = tmp_path / "records"
    records.mkdir()
    monkeypatch.setenv("PF_MOCK_RECORDS", str(records))
    readme = write_readme_tests(pytester)
    pytester.makepyfile(test_isolation=ISOLATION_FILE)
    # The run's two workers are processes of their own (their records below say so); the run that starts
    # them is this one, which spares an interpreter and pytest's start-up.
    result = pytester.runpytest_inprocess(*RUN_ARGS, "-n", "2")
    result.assert_outcomes(passed=readme + 8, warnings=0)
    names = sorted(path.name for path in records.iterdir())
    assert len(names) == 8
    workers = {name.split("-")[0]: name.split("-")[1] for name in names}
    assert set(workers) == {"gw0", "gw1"} and workers["gw0"] != workers["gw1"]     # two processes
    urls = [(records / name).read_text() for name in names if "RunningServer" in name]
    assert len(urls) == 4 and all(re.fullmatch(r"http://127\.0\.0\.1:\d+", url) for url in urls)


def test_the_plugin_module_imports_nothing_heavy(pytester):
    """Every pytest run in an environment with pf-mock installed imports the plugin: it must stay light."""
    script = pytester.makepyfile(check=textwrap.dedent('''
        import sys
        import pf_mock.pytest_plugin
        heavy = sorted({"fastapi", "uvicorn", "numpy", "pf_mock.exchange"} & set(sys.modules))
        assert heavy == [], heavy
    '''))
    result = pytester.run(sys.executable, str(script))
    assert result.ret == 0, result.stderr.str()
