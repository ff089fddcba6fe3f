"""The command line (CONTRACT section 8): ``python -m pf_mock serve`` starts a real server that prints
one ready line naming the port it bound, and answers over HTTP."""

from __future__ import annotations

import os
import re
import selectors
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pf_mock.cli import parser

ROOT = Path(__file__).resolve().parent.parent
READY = re.compile(r"^pf-mock ready on http://127\.0\.0\.1:(\d+)\b")
STARTUP_GUARD_S = 60.0      # only to stop a broken server hanging the suite; never a measured time


def read_ready_line(proc: subprocess.Popen) -> str:
    """The first line on stdout, or a failure if the process dies or stays silent."""
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
    pytest.fail("pf-mock never printed its ready line")


def start(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "pf_mock", "serve", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_serve_on_port_zero_reports_the_bound_port_and_answers() -> None:
    proc = start("--port", "0", "--clock", "manual", "--seed", "3")
    try:
        line = read_ready_line(proc)
        match = READY.match(line)
        assert match, line
        port = int(match.group(1))
        assert port > 0
        assert "seed 3" in line and "manual" in line
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10) as client:
            price = client.get("/v1/markets/BTC-PERP/price")
            assert price.status_code == 200
            body = price.json()
            assert body["symbol"] == "BTC-PERP"
            assert body["best_bid"] < body["best_ask"]
            state = client.get("/_mock/state").json()
            assert state["seed"] == 3 and state["clock"]["mode"] == "manual"
            missing = client.get("/v1/markets/NOPE-PERP/price")
            assert missing.status_code == 404 and missing.json()["error"] == "market_not_found"
        # Nothing else on stdout: the ready line is the only one.
    finally:
        stop(proc)
    assert proc.stdout.read() == ""


def test_two_servers_with_the_same_seed_answer_alike() -> None:
    procs = [start("--port", "0", "--clock", "manual", "--seed", "3") for _ in range(2)]
    try:
        ports = [int(READY.match(read_ready_line(p)).group(1)) for p in procs]
        assert ports[0] != ports[1]
        answers = []
        for port in ports:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                client.get("/v1/markets/BTC-PERP/price")
                client.post("/_mock/clock/advance", json={"seconds": 42})
                answers.append(client.get("/v1/markets/BTC-PERP/orderbook").content)
        assert answers[0] == answers[1]
    finally:
        for proc in procs:
            stop(proc)


def test_serve_help_exits_zero() -> None:
    script = Path(sys.executable).with_name("pf-mock")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "pf_mock"]
    run = subprocess.run([*command, "serve", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "--port" in run.stdout and "--seed" in run.stdout and "--clock" in run.stdout


@pytest.mark.parametrize("args", [["serve", "--clock", "sundial"], ["serve", "--speed", "0"],
                                  ["serve", "--port", "x"], ["serve", "--seed", "1.5"], [], ["launch"]])
def test_bad_arguments_exit_with_usage(args: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        parser().parse_args(args)
    assert exit_.value.code == 2
    assert "usage: pf-mock" in capsys.readouterr().err


def test_defaults_follow_the_contract() -> None:
    args = parser().parse_args(["serve"])
    assert (args.host, args.port, args.seed, args.clock, args.speed) == ("127.0.0.1", 8000, 0, "realtime", 1.0)
    assert args.starting_balance == 10_000 and not args.strict_auth and not args.no_admin
