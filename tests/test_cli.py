"""The command line: ``pf-mock serve`` (and ``python -m pf_mock serve``) starts a real server that prints
one ready line naming the port it bound, answers over HTTP, and stops in one line on Ctrl-C or SIGTERM;
every mistake on the command line is one line on stderr and exit code 2, with nothing started.

Option checks run in process (fast); only what needs a real process (signals, the ready line, the
access log, the installed entry points) starts one."""

from __future__ import annotations

import gc
import importlib.metadata
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import time
import tomllib
import types
from importlib import resources
from pathlib import Path

import httpx
import pytest
from app_client import AppClient

import pf_mock
import pf_mock.server
from pf_mock.cli import check_serve, main, parser
from pf_mock.server import ServeOptions, build_app

ROOT = Path(__file__).resolve().parent.parent
READY = re.compile(r"^pf-mock ready on http://127\.0\.0\.1:(\d+)\b")
STARTUP_GUARD_S = 60.0      # only to stop a broken server hanging the suite; never a measured time
TOKEN = "s3cret-token"


def read_line(proc: subprocess.Popen) -> str:
    """The next line on stdout, or a failure if the process dies or stays silent."""
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + STARTUP_GUARD_S
    while time.monotonic() < deadline:
        if selector.select(timeout=0.5):
            line = proc.stdout.readline()
            if line:
                return line
        if proc.poll() is not None:
            pytest.fail(f"pf-mock exited with {proc.returncode}: {proc.stderr.read()}")
    pytest.fail("pf-mock printed nothing in time")


def start(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "pf_mock", "serve", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def ready_port(proc: subprocess.Popen) -> int:
    line = read_line(proc)
    match = READY.match(line)
    assert match, line
    return int(match.group(1))


def stop_with(proc: subprocess.Popen, sig: signal.Signals) -> tuple[int, str, str]:
    """Send ``sig``; the exit code and what the process printed after that on stdout and stderr."""
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=STARTUP_GUARD_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"pf-mock did not stop on {sig.name}")
    return proc.returncode, out, err


def kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.communicate()


def entry_points() -> list[list[str]]:
    """The installed ``pf-mock`` script (when there is one) and ``python -m pf_mock``."""
    script = Path(sys.executable).with_name("pf-mock")
    return ([[str(script)]] if script.exists() else []) + [[sys.executable, "-m", "pf_mock"]]


# ---- real processes ------------------------------------------------------------------------------
def test_serve_on_port_zero_answers_alike_across_processes_and_stops_in_one_line_with_an_access_log_if_asked() -> None:
    """Two ``pf-mock serve --seed 3`` processes (a server's start is most of a test's cost here, so one pair
    serves every check), the second with ``--access-log``: each binds a port of its own and says which; the
    first answers a few reads of each kind; then both take the same requests and answer them byte for byte
    alike (the first's earlier reads change nothing: reads never change a market's path, and logging
    changes no answer); SIGTERM stops the first in one line and nothing else (no access log unless asked);
    Ctrl-C (SIGINT) stops the second in one line, after one access-log line per request it took."""
    procs = [start("--port", "0", "--clock", "manual", "--seed", "3"),
             start("--port", "0", "--clock", "manual", "--seed", "3", "--access-log")]
    try:
        line = read_line(procs[0])
        match = READY.match(line)
        assert match, line
        assert "seed 3" in line and "manual" in line
        ports = [int(match.group(1)), ready_port(procs[1])]
        assert ports[0] != ports[1]
        with httpx.Client(base_url=f"http://127.0.0.1:{ports[0]}", timeout=10) as client:
            price = client.get("/v1/markets/BTC-PERP/price")
            assert price.status_code == 200
            body = price.json()
            assert body["symbol"] == "BTC-PERP" and body["best_bid"] < body["best_ask"]
            state = client.get("/_mock/state").json()
            assert state["seed"] == 3 and state["clock"]["mode"] == "manual"
            missing = client.get("/v1/markets/NOPE-PERP/price")
            assert missing.status_code == 404 and missing.json()["error"] == "market_not_found"
            assert client.get("/health").json()["status"] == "ok"
        answers = []
        for port in ports:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                client.get("/v1/markets/BTC-PERP/price")
                client.post("/_mock/clock/advance", json={"seconds": 42})
                answers.append(client.get("/v1/markets/BTC-PERP/orderbook").content)
        assert answers[0] == answers[1]
        with httpx.Client(base_url=f"http://127.0.0.1:{ports[1]}", timeout=10) as client:
            assert client.get("/health").status_code == 200
            assert client.get("/v1/markets/NOPE-PERP").status_code == 404
        stopped_by_term = stop_with(procs[0], signal.SIGTERM)
        code, out, err = stop_with(procs[1], signal.SIGINT)
    finally:
        for proc in procs:
            kill(proc)
    # No access log unless asked: after the ready line, only the stop line.
    assert stopped_by_term == (0, "pf-mock stopped (SIGTERM)\n", "")
    assert (code, err) == (0, "")
    logged, stopped = out.splitlines()[:-1], out.splitlines()[-1]
    assert len(logged) == 5, out
    for line, request in zip(logged, ['GET /v1/markets/BTC-PERP/price HTTP/1\\.1" 200',
                                      'POST /_mock/clock/advance HTTP/1\\.1" 200',
                                      'GET /v1/markets/BTC-PERP/orderbook HTTP/1\\.1" 200',
                                      'GET /health HTTP/1\\.1" 200', 'GET /v1/markets/NOPE-PERP HTTP/1\\.1" 404']):
        assert re.fullmatch(r'127\.0\.0\.1:\d+ - "' + request, line), (line, logged)
    assert stopped == "pf-mock stopped (SIGINT)"


@pytest.mark.parametrize("command", entry_points(), ids=lambda c: Path(c[-1]).name)
def test_entry_points_are_the_same_program(command: list[str]) -> None:
    version = subprocess.run([*command, "--version"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (version.returncode, version.stdout, version.stderr) == (0, f"pf-mock {pf_mock.__version__}\n", "")
    bad = subprocess.run([*command, "serve", "--port", "99999"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and bad.stderr.startswith("pf-mock: error: argument --port: 99999"), bad.stderr
    usage = subprocess.run([*command, "serve", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert usage.returncode == 0, usage.stderr
    for option in ("--port", "--seed", "--clock", "--access-log", "--log-level", "--admin-token"):
        assert option in usage.stdout


# ---- options, in process -------------------------------------------------------------------------
@pytest.fixture
def nothing_starts(monkeypatch):
    """Fail the test if a server would be built or bound."""
    def refuse(*args, **kwargs):
        raise AssertionError("a server was started")
    monkeypatch.setattr(pf_mock.server, "serve", refuse)
    monkeypatch.setattr(pf_mock.server, "build_app", refuse)
    monkeypatch.setattr(pf_mock.server, "listen", refuse)


def run_main(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:       # argparse's own exits (--help, --version, a bad value)
        return exc.code


BAD_OPTIONS = [
    ["serve", "--port", "99999"], ["serve", "--port", "65536"], ["serve", "--port", "-1"], ["serve", "--port", "x"],
    ["serve", "--seed", "-1"], ["serve", "--seed", "1.5"], ["serve", "--seed", str(2**53)],
    ["serve", "--starting-balance", "-1"], ["serve", "--starting-balance", "nan"],
    ["serve", "--starting-balance", "1e10"],
    ["serve", "--speed", "0"], ["serve", "--speed", "-2"], ["serve", "--speed", "inf"], ["serve", "--speed", "10000.5"],
    ["serve", "--rate-limit", "0"], ["serve", "--rate-limit", "1.5"], ["serve", "--rate-limit", "1000001"],
    ["serve", "--maker-rebate-bps", "-0.5"], ["serve", "--taker-fee-bps", "100.5"],
    ["serve", "--latency-ms", "-1"], ["serve", "--latency-ms", "nan"], ["serve", "--latency-ms", "60000.5"],
    ["serve", "--latency-ms", "fast"],
    ["serve", "--clock", "sundial"], ["serve", "--log-level", "loud"],
    ["serve", "--scenario", "no_such_scenario"], ["serve", "--scenario", "missing/file.toml"],
    ["serve", "--clock", "manual", "--speed", "2"], ["serve", "--clock", "manual", "--speed", "1"],
    ["serve", "--admin-token", ""], ["serve", "--admin-token", "short12"], ["serve", "--admin-token", "has a space"],
    ["serve", "--admin-token", "tab\tinside1"], ["serve", "--admin-token", "é" * 10],
    ["serve", "--no-admin", "--admin-token", TOKEN],
    ["serve", "--host", ""], ["serve", "--host", "0.0.0.0"], ["serve", "--host", "::"],
    ["serve", "--host", "no-such-host.invalid"], ["serve", "--host", "no-such-host.invalid", "--no-admin"],
    [], ["launch"], ["--port", "8000"], ["serve", "extra"],
]


@pytest.mark.parametrize("argv", BAD_OPTIONS, ids=lambda argv: " ".join(argv) or "(nothing)")
def test_a_bad_option_is_one_line_and_exit_2(argv: list[str], capsys, nothing_starts) -> None:
    assert run_main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("pf-mock: error: ") and err.endswith("\n") and err.count("\n") == 1, err


def test_a_malformed_scenario_file_is_one_line(tmp_path, capsys, nothing_starts) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\ndescription = "x"\n[markets.BTC-PERP]\nregime = { spread_bps = -1 }\n')
    assert run_main(["serve", "--scenario", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "markets.BTC-PERP.regime.spread_bps" in err, err


@pytest.mark.parametrize("argv, expected", [
    (["serve", "--port", "99999"], "argument --port: 99999 is out of range: expected a whole number from 0 to 65,535"),
    (["serve", "--speed", "0"], "argument --speed: 0 is out of range: expected a number above 0, at most 10,000"),
    (["serve", "--clock", "manual", "--speed", "2"], "--speed applies to the realtime clock only"),
    (["serve", "--admin-token", ""], "the token must not be empty"),
    (["serve", "--host", "0.0.0.0"], "--host 0.0.0.0 reaches beyond this machine"),
])
def test_each_refusal_names_the_option_and_why(argv, expected, capsys, nothing_starts) -> None:
    assert run_main(argv) == 2
    assert expected in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["--port", "0"], ["--port", "65535"], ["--seed", str(2**53 - 1)], ["--starting-balance", "0"],
    ["--starting-balance", "1e9"], ["--speed", "0.001"], ["--speed", "10000"], ["--rate-limit", "1"],
    ["--maker-rebate-bps", "0"], ["--taker-fee-bps", "100"], ["--clock", "manual"],
    ["--admin-token", "12345678"], ["--admin-token", "x" * 256], ["--host", "localhost"], ["--host", "127.0.0.2"],
    ["--host", "::1"], ["--host", "0.0.0.0", "--admin-token", TOKEN], ["--host", "0.0.0.0", "--no-admin"],
    ["--scenario", "calm"], ["--log-level", "debug", "--access-log"],
])
def test_the_edges_of_each_range_are_accepted(argv: list[str]) -> None:
    opts = check_serve(parser().parse_args(["serve", *argv]))
    assert isinstance(opts, ServeOptions)


def test_a_token_one_character_short_or_long_is_refused(capsys, nothing_starts) -> None:
    assert run_main(["serve", "--admin-token", "1234567"]) == 2
    assert run_main(["serve", "--admin-token", "x" * 257]) == 2


def test_defaults_follow_the_contract() -> None:
    opts = check_serve(parser().parse_args(["serve"]))
    assert (opts.host, opts.port, opts.seed, opts.clock, opts.speed) == ("127.0.0.1", 8000, 0, "realtime", 1.0)
    assert opts.starting_balance == 10_000 and not opts.strict_auth and opts.admin and opts.admin_token is None
    assert (opts.log_level, opts.access_log) == ("warning", False)


def test_an_address_in_use_is_one_line_and_exit_1(capsys) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert run_main(["serve", "--port", str(port), "--clock", "manual"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err == f"pf-mock: error: cannot listen on 127.0.0.1:{port}: address already in use\n"


def test_version_in_process(capsys) -> None:
    assert run_main(["--version"]) == 0
    assert capsys.readouterr().out == f"pf-mock {pf_mock.__version__}\n"


def test_the_command_line_checks_its_options_without_loading_the_server() -> None:
    """Every option of every command declared and read, as ``--help``, ``--version`` and a mistake are,
    with none of the contract's models (pydantic), the market's arrays (numpy) or the web framework loaded:
    they load with the command that needs them, and each pf-mock process started pays only for its own."""
    script = ("import sys; from pf_mock import cli;"
              " cli.parser().parse_args(['serve', '--latency-ms', '60000', '--seed', '9007199254740991']);"
              " cli.parser().parse_args(['simulate', '--seeds', '0-1', '--replay-latency-ms', '5']);"
              " print(sorted({'pydantic', 'numpy', 'fastapi', 'pf_mock.messages'} & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"


# ---- /health -------------------------------------------------------------------------------------
@pytest.mark.parametrize("admin", [True, False])
def test_health_needs_no_key_and_stays_without_the_admin_api(admin: bool) -> None:
    app = build_app(ServeOptions(clock="manual", admin=admin))
    with AppClient(app) as client:
        answer = client.get("/health")
        assert answer.status_code == 200
        assert answer.json() == {"status": "ok", "version": pf_mock.__version__, "timestamp": 1_767_225_600_000}
        assert client.get("/_mock/health").status_code == 404


# ---- the package ---------------------------------------------------------------------------------
def test_the_version_has_one_source() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert pf_mock.__version__ == importlib.metadata.version("pf-mock") == declared
    app = build_app(ServeOptions(clock="manual"))
    assert app.openapi()["info"]["version"] == declared


def test_the_package_lists_its_public_names_and_ships_its_types() -> None:
    assert {"MockExchange", "run_server", "__version__"} <= set(dir(pf_mock))
    assert all(hasattr(pf_mock, name) for name in dir(pf_mock))
    assert resources.files("pf_mock").joinpath("py.typed").is_file()


def test_the_license_is_an_spdx_string_with_its_file() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert importlib.metadata.metadata("pf-mock")["License-Expression"] == "MIT"


@pytest.mark.parametrize("command", [["serve", "--clock", "manual"], ["mcp"]])
def test_only_the_program_sets_its_start_up_aside_from_the_garbage_collector(command, monkeypatch) -> None:
    """pf-mock's own process (``main()`` reading its command line) loads with the collector off, then freezes
    what it loaded (cli.loading); ``main(argv)`` inside another program leaves that program's collector as
    it was. Each command's work is stubbed out, the MCP front's whole module (the SDK is not loaded here):
    only the loading is run."""
    stdio = types.ModuleType("pf_mock.mcp.stdio")
    stdio.StdioConfig, stdio.run = types.SimpleNamespace(from_env=lambda admin: None), lambda config: None
    monkeypatch.setitem(sys.modules, "pf_mock.mcp.stdio", stdio)
    monkeypatch.setattr(pf_mock.server, "serve", lambda opts: None)
    seen = []
    monkeypatch.setattr(gc, "freeze", lambda: seen.append(gc.isenabled()))   # the worker's heap stays its own
    assert gc.isenabled()
    assert main(command) == 0
    assert seen == [] and gc.isenabled()
    monkeypatch.setattr(sys, "argv", ["pf-mock", *command])
    assert main() == 0
    assert seen == [False] and gc.isenabled()       # frozen once, with the collector still off; on again after
    gc.disable()
    try:                                            # a program that had it off keeps it off
        assert main() == 0
        assert seen == [False, False] and not gc.isenabled()
    finally:
        gc.enable()


def test_only_the_program_sets_up_pf_mocks_own_logger() -> None:
    """A server inside someone's tests (run_server) must not take over their logging of pf_mock."""
    from pf_mock.server import log_config

    assert "pf_mock" not in log_config("debug")["loggers"]
    assert log_config("debug", program=True)["loggers"]["pf_mock"]["level"] == "DEBUG"
    assert log_config(access_log=True)["loggers"]["uvicorn.access"]["level"] == "INFO"
    assert log_config()["loggers"]["uvicorn.access"]["level"] == "WARNING"
