"""MCP from TypeScript: the MCP Inspector's CLI and the TypeScript SDK's client (pinned in package.json,
installed by ``make test`` into node_modules) against ``pf-mock mcp`` on stdio and ``/mcp`` of a real
server. The TypeScript SDK checks a result's ``structuredContent`` against the tool's output schema, even
on an error, and refuses the whole result when it does not match; so every tool is called and every error
path taken, and each must come back as an answer or as ``isError`` with the contract's code.

Skipped where node or the installed packages are missing, except under CI (``CI=true``), where that fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from mcp_helpers import KEY
from pf_mock.mcp import tools
from pf_mock.testing import run_server
from test_mcp import ERRORS, script

ROOT = Path(__file__).resolve().parent.parent
DRIVER = Path(__file__).resolve().parent / "mcp_ts_client.mjs"
INSPECTOR = ROOT / "node_modules" / "@modelcontextprotocol" / "inspector" / "cli" / "build" / "cli.js"
# What the bin above runs, with the same arguments and environment, for ``--cli`` (a second node process):
# the program that connects, calls and prints.
INSPECTOR_CLI = INSPECTOR.parent / "index.js"
SDK = ROOT / "node_modules" / "@modelcontextprotocol" / "sdk" / "package.json"
TIMEOUT = 120       # a guard against a hang, never a measured time


def node() -> str:
    found = shutil.which("node")
    missing = "node" if not found else next((str(p) for p in (INSPECTOR, SDK) if not p.exists()), None)
    if missing:
        why = f"{missing} is missing (make test installs the packages package.json pins; .ci/run installs node)"
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    return found


def stdio_env(base: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PF_API_KEY", "PF_BASE", "PF_ADMIN_TOKEN")}
    return {**env, "PF_BASE": base, "PF_API_KEY": KEY}


# The mock tools' own error paths, beside the API tools' (test_mcp.ERRORS).
MOCK_ERRORS = [
    ("mock_advance_clock", {"seconds": -1}, "invalid_request", "seconds"),
    ("mock_jump", {"symbol": "BTC-PERP", "move_bps": -20_000}, "invalid_request", "move_bps"),
    ("mock_jump", {"symbol": "NOPE-PERP", "move_bps": 5}, "market_not_found", None),
    ("mock_load_scenario", {"name": "no_such_scenario"}, "scenario_not_found", None),
    ("mock_reset", {"seed": -1}, "invalid_request", "seed"),
]
EVERY_ERROR = ERRORS + MOCK_ERRORS


def planned_calls(price: dict) -> list[dict]:
    """Every error path first (each changes nothing), then a session touching every tool."""
    calls = [{"tool": tool, "arguments": args} for tool, args, _, _ in EVERY_ERROR]

    async def record(tool, args):
        calls.append({"tool": tool, "arguments": args})

    anyio.run(script, record, price)
    return calls


def drive(exe: str, transport: dict, calls: list[dict]) -> dict:
    done = subprocess.run([exe, str(DRIVER)], input=json.dumps({"transport": transport, "calls": calls}),
                          capture_output=True, text=True, cwd=ROOT, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def check(out: dict, calls: list[dict]) -> None:
    assert {t["name"] for t in out["tools"]} == {spec.name for spec in tools.TOOLS}
    results = out["results"]
    assert [r["tool"] for r in results] == [c["tool"] for c in calls]
    thrown = [(r["tool"], r["thrown"]) for r in results if "thrown" in r]
    assert thrown == []         # the SDK took every result, errors included
    for result, (tool, args, code, field) in zip(results, EVERY_ERROR):
        assert result["isError"] is True, (tool, args, result)
        assert result["structuredContent"] is None, (tool, args)
        assert result["text"][0].startswith(f"{code}: "), (tool, args, result["text"])
        body = json.loads(result["text"][1])
        assert body["error"] == code and body.get("field") == field, (tool, args, body)
    for result in results[len(EVERY_ERROR):]:
        assert result["isError"] is False and isinstance(result["structuredContent"], dict), result


@pytest.fixture(scope="module")
def srv():
    """One server for the file (a tool call's answers depend only on the state the calls leave)."""
    with run_server(seed=4, mcp_admin=True) as served:
        yield served


def test_the_typescript_sdk_takes_every_answer_and_every_error_over_stdio_and_http(srv):
    exe = node()
    calls = planned_calls(srv.client.get("/v1/markets/BTC-PERP/price").json())
    check(drive(exe, {"command": sys.executable, "args": ["-m", "pf_mock", "mcp", "--mcp-admin"],
                      "env": stdio_env(srv.base_url)}, calls), calls)
    calls = planned_calls(srv.client.get("/v1/markets/BTC-PERP/price").json())     # the script reset the mock
    check(drive(exe, {"url": f"{srv.base_url}/mcp", "headers": {"Authorization": f"Bearer {KEY}"}}, calls), calls)


def inspect(exe: str, target: list[str], *args: str, env: dict | None = None, bin: bool = False) -> dict:
    """``mcp-inspector --cli TARGET ARGS``: it must exit 0 and print the result as JSON. With ``bin`` through
    the package's bin, as ``npx @modelcontextprotocol/inspector --cli`` runs it; otherwise straight through
    the program that bin hands ``--cli`` to (the same arguments and environment, one node start fewer)."""
    command = [str(INSPECTOR), "--cli"] if bin else [str(INSPECTOR_CLI)]
    done = subprocess.run([exe, *command, *target, *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=TIMEOUT)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return json.loads(done.stdout)


def test_the_mcp_inspector_cli_lists_the_tools_and_shows_errors_with_their_codes(srv):
    """The Inspector's CLI (one process per call, so a few calls: the TypeScript SDK test above calls
    every tool). It has no option for a header, so over /mcp only calls that need no key succeed; a
    key-needing tool answers ``unauthorized``, which is itself an error path."""
    exe = node()
    url = [f"{srv.base_url}/mcp"]
    listed = inspect(exe, url, "--method", "tools/list", bin=True)      # docs/mcp.md's first command, as written
    assert {t["name"] for t in listed["tools"]} == {spec.name for spec in tools.TOOLS}
    no_key = inspect(exe, url, "--method", "tools/call", "--tool-name", "mm_pnl")
    stdio = [sys.executable, "-m", "pf_mock", "mcp"]
    crossed = inspect(exe, stdio, "--method", "tools/call", "--tool-name", "mm_post_quotes", "--tool-arg",
                      "symbol=BTC-PERP", "bid_price=71000", "bid_size=100", "ask_price=70000", "ask_size=100",
                      env=stdio_env(srv.base_url))
    for result, code in ((no_key, "unauthorized"), (crossed, "crossed_quote")):
        assert result["isError"] is True and "structuredContent" not in result, result
        assert result["content"][0]["text"].startswith(f"{code}: "), result
        assert json.loads(result["content"][1]["text"])["error"] == code
