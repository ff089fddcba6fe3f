"""A rule-based orchestrator agent that runs a market-making sub-agent through pf-mock's MCP tools only.

What the seed page has an LLM do ("dynamically adjusting spread width based on volatility signals or
pausing quoting during news events"), done by fixed rules, so that it is deterministic and testable
without a model. Every step (``step_seconds`` of mock time) the orchestrator:

1. has the maker cancel its quotes (``mm_cancel``), then reads the market without them
   (``market_price``: mid and the market's own spread) and its volatility (``market_candles``: the mean
   1-minute high-low range of the last ``vol_candles`` candles, in bps);
2. decides, in this order:
   - **news**: within ``news_before_s`` before to ``news_after_s`` after a scheduled event of the scenario
     (the news calendar ``mock_load_scenario`` answers), the maker pauses; entering a pause it goes flat
     (``mm_hedge``) so that no inventory rides through the news;
   - **market spread**: while the market's own spread is wider than ``max_market_spread_bps``, pause;
   - otherwise quote, half-spread = max(``base_half_spread_bps``, ``vol_factor`` x volatility), capped
     at ``max_half_spread_bps``: the spread widens as volatility rises;
3. reads the maker's inventory (``mm_inventory``) and, past ``hedge_threshold_usd`` of net delta, has it
   hedge to flat (``mm_hedge``);
4. has the maker quote (``mm_post_quotes``) ``order_size_usd`` a side around the mid, unless paused;
5. moves the manual clock on (``mock_advance_clock``; the server needs ``--mcp-admin``).

At the end the maker cancels, goes flat, and the orchestrator reports PnL (``mm_pnl``) and checks that no
order is left (``mm_orders``). Run it against a mock on a manual clock:

    pf-mock serve --clock manual --mcp-admin &
    python -m clients.mcp_orchestrator --scenario flash_crash              # over /mcp
    python -m clients.mcp_orchestrator --scenario flash_crash --stdio      # through `pf-mock mcp`
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

DEFAULT_BASE = "http://127.0.0.1:8000"
DEFAULT_KEY = "pf_test_mcp_orchestrator"


class ToolError(RuntimeError):
    """A tool answered an error the orchestrator cannot carry on from."""

    def __init__(self, tool: str, body: Any):
        super().__init__(f"{tool} failed: {body}")
        self.tool = tool
        self.body = body


def error_of(result: Any) -> dict:
    """A tool error's body: pf-mock sends ``<code>: <message>`` and then the body as JSON, as text (a tool
    error carries no structured content)."""
    texts = [getattr(block, "text", "") for block in result.content or []]
    for text in texts[1:2]:
        try:
            body = json.loads(text)
        except ValueError:
            break
        if isinstance(body, dict) and "error" in body:
            return body
    first = texts[0] if texts else ""
    code, _, message = first.partition(": ")
    return {"error": code or "tool_error", "message": message or first}


class ToolClient(Protocol):
    """What the orchestrator needs of an MCP client: ``mcp.Client`` is one."""

    async def call_tool(self, name: str, arguments: dict[str, Any] | None = None) -> Any: ...


@dataclass(frozen=True)
class Rules:
    symbol: str = "BTC-PERP"
    step_seconds: float = 10.0          # one decision every 10 s of mock time
    order_size_usd: float = 100.0       # per side
    base_half_spread_bps: float = 4.0   # the half-spread in a quiet market
    vol_candles: int = 5                # 1-minute candles read for volatility
    vol_factor: float = 0.5             # half-spread >= this x the mean 1-minute range (bps)
    max_half_spread_bps: float = 150.0
    news_before_s: float = 30.0         # pause this long before a scheduled event ...
    news_after_s: float = 60.0          # ... until this long after it
    max_market_spread_bps: float = 10.0  # pause while the market's own spread is wider
    hedge_threshold_usd: float = 250.0  # hedge to flat when |net delta| passes this


@dataclass
class Step:
    """One decision, as the report shows it."""
    t_seconds: float                    # since the scenario was loaded
    mid: float
    market_spread_bps: float | None
    volatility_bps: float
    action: str                         # "quote", "pause_news" or "pause_spread"
    half_spread_bps: float | None       # when quoting
    net_delta_usd: float
    hedged: bool = False
    posted: dict = field(default_factory=dict)    # the quote's answer: ids, prices, sizes


@dataclass
class Report:
    scenario: str
    start_ms: int                       # when the scenario was loaded (mock clock)
    news_at_seconds: list[float]
    steps: list[Step]
    final_position: float
    open_orders: int
    pnl: dict
    tool_calls: int
    errors: list[dict]

    def lines(self) -> list[str]:
        quoted = [s for s in self.steps if s.action == "quote"]
        paused = {a: sum(1 for s in self.steps if s.action == a) for a in ("pause_news", "pause_spread")}
        halves = [s.half_spread_bps for s in quoted] or [0.0]
        p = self.pnl
        return [
            f"scenario {self.scenario}: news at {', '.join(f't+{t:g}s' for t in self.news_at_seconds) or 'none'}",
            f"{len(self.steps)} steps: {len(quoted)} quoted (half-spread {min(halves):.1f}-{max(halves):.1f} bps), "
            f"{paused['pause_news']} paused for news, {paused['pause_spread']} for a wide market, "
            f"{sum(s.hedged for s in self.steps)} hedges",
            f"net PnL ${p['net_pnl']:+.2f} = spread ${p['spread_income']:+.2f} + rebates ${p['rebates']:+.2f} "
            f"+ inventory ${p['inventory_pnl']:+.2f} - hedge cost ${p['hedge_cost']:.2f} "
            f"on ${p['volume_usd']:,.0f} volume",
            f"ended with position {self.final_position:g} and {self.open_orders} open orders; "
            f"{self.tool_calls} tool calls, {len(self.errors)} tool errors",
        ]


def volatility_bps(candles: list[dict], count: int) -> float:
    """The mean high-low range of the last ``count`` candles, in bps of their close."""
    recent = candles[-count:]
    if not recent:
        return 0.0
    return sum(math.log(c["high"] / c["low"]) * 1e4 for c in recent) / len(recent)


class Orchestrator:
    def __init__(self, client: ToolClient, rules: Rules = Rules(), say: Callable[[str], None] = lambda s: None):
        self.client = client
        self.rules = rules
        self.say = say
        self.calls = 0
        self.errors: list[dict] = []

    async def tool(self, tool: str, /, **arguments: Any) -> dict:
        """Call a tool; its structured answer, or ``ToolError``."""
        self.calls += 1
        result = await self.client.call_tool(tool, arguments)
        if result.is_error:
            body = error_of(result)
            self.errors.append({"tool": tool, **body})
            raise ToolError(tool, body)
        return result.structured_content

    async def try_tool(self, tool: str, /, **arguments: Any) -> dict | None:
        """Call a tool whose error the orchestrator can live with (recorded, and None)."""
        try:
            return await self.tool(tool, **arguments)
        except ToolError:
            return None

    # ---- the sub-agent: the maker ---------------------------------------------------------------
    async def maker_cancel(self) -> None:
        await self.tool("mm_cancel", symbol=self.rules.symbol)

    async def maker_flatten(self) -> bool:
        inventory = await self.tool("mm_inventory", symbol=self.rules.symbol)
        if inventory["position"] == 0:
            return False
        await self.tool("mm_hedge", symbol=self.rules.symbol, hedge_pct=1.0)
        return True

    async def maker_quote(self, mid: float, half_spread_bps: float) -> dict:
        r = self.rules
        answer = await self.try_tool("mm_post_quotes", symbol=r.symbol, bid_price=mid * (1 - half_spread_bps / 1e4),
                                     bid_size=r.order_size_usd, ask_price=mid * (1 + half_spread_bps / 1e4),
                                     ask_size=r.order_size_usd)
        if answer is None:
            return {}
        return {k: answer[k] for k in ("bid_id", "ask_id", "bid_price", "ask_price", "bid_size", "ask_size")}

    # ---- the orchestrator's rules -------------------------------------------------------------
    def in_news_window(self, now_ms: int, news_ms: list[int]) -> bool:
        r = self.rules
        return any(at - r.news_before_s * 1000 <= now_ms <= at + r.news_after_s * 1000 for at in news_ms)

    def half_spread(self, vol_bps: float) -> float:
        r = self.rules
        return min(r.max_half_spread_bps, max(r.base_half_spread_bps, r.vol_factor * vol_bps))

    async def run(self, scenario: str, duration_seconds: float) -> Report:
        r = self.rules
        loaded = await self.tool("mock_load_scenario", name=scenario)
        start_ms = loaded["loaded_at"]
        news_ms = sorted({e["at"] for e in loaded["scheduled"] if e["symbol"] == r.symbol})
        self.say(f"{scenario}: news at " + ", ".join(f"t+{(at - start_ms) / 1000:g}s" for at in news_ms))
        steps: list[Step] = []
        paused_for_news = False
        for _ in range(int(duration_seconds // r.step_seconds)):
            await self.maker_cancel()
            price = await self.tool("market_price", symbol=r.symbol)
            candles = await self.tool("market_candles", symbol=r.symbol, interval="1m", limit=r.vol_candles)
            vol = volatility_bps(candles["candles"], r.vol_candles)
            now_ms, mid, spread = price["timestamp"], price["mid"], price["spread_bps"]
            hedged = False
            if self.in_news_window(now_ms, news_ms):
                action = "pause_news"
                if not paused_for_news:         # entering the window: no inventory rides through the news
                    hedged = await self.maker_flatten()
                paused_for_news = True
            else:
                paused_for_news = False
                action = "pause_spread" if spread is None or spread > r.max_market_spread_bps else "quote"
            inventory = await self.tool("mm_inventory", symbol=r.symbol)
            if abs(inventory["net_delta_usd"]) > r.hedge_threshold_usd:
                await self.tool("mm_hedge", symbol=r.symbol, hedge_pct=1.0)
                hedged = True
            half = self.half_spread(vol) if action == "quote" else None
            posted = await self.maker_quote(mid, half) if action == "quote" else {}
            steps.append(Step(round((now_ms - start_ms) / 1000, 3), mid, spread, round(vol, 6), action, half,
                              inventory["net_delta_usd"], hedged, posted))
            self.say(f"t+{steps[-1].t_seconds:>5g}s mid {mid:,.2f} spread {spread} bps vol {vol:6.1f} bps "
                     f"-> {action}{f' +/-{half:.1f} bps' if half else ''}{' (hedged)' if hedged else ''}")
            await self.tool("mock_advance_clock", seconds=r.step_seconds)
        await self.maker_cancel()
        await self.maker_flatten()
        left = await self.tool("mm_orders", symbol=r.symbol)
        final = await self.tool("mm_inventory", symbol=r.symbol)
        pnl = await self.tool("mm_pnl", symbol=r.symbol)
        report = Report(scenario, start_ms, [(at - start_ms) / 1000 for at in news_ms], steps, final["position"],
                        len(left["orders"]), pnl, self.calls, self.errors)
        for line in report.lines():
            self.say(line)
        return report


async def run_over(server: Any, scenario: str, duration_seconds: float, rules: Rules = Rules(),
                   say: Callable[[str], None] = print) -> Report:
    """Connect the SDK's client to ``server`` (a URL, ``StdioServerParameters`` or a transport) and run."""
    from mcp import Client

    async with Client(server) as client:
        return await Orchestrator(client, rules, say).run(scenario, duration_seconds)


def main(argv: list[str] | None = None) -> int:
    import anyio
    import httpx2
    from mcp import StdioServerParameters
    from mcp.client.streamable_http import streamable_http_client

    parser = argparse.ArgumentParser(prog="python -m clients.mcp_orchestrator", description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", default="flash_crash")
    parser.add_argument("--seconds", type=float, default=720, help="mock seconds to run")
    parser.add_argument("--symbol", default="BTC-PERP")
    parser.add_argument("--stdio", action="store_true",
                        help="talk through `pf-mock mcp --mcp-admin` (PF_BASE, PF_API_KEY) instead of PF_BASE/mcp")
    args = parser.parse_args(argv)
    base = os.environ.get("PF_BASE", DEFAULT_BASE).rstrip("/")
    key = os.environ.get("PF_API_KEY", DEFAULT_KEY)
    rules = Rules(symbol=args.symbol)

    async def go() -> Report:
        if args.stdio:
            params = StdioServerParameters(command=sys.executable, args=["-m", "pf_mock", "mcp", "--mcp-admin"],
                                           env={**os.environ, "PF_BASE": base, "PF_API_KEY": key})
            return await run_over(params, args.scenario, args.seconds, rules)
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=120)
        async with http:
            return await run_over(streamable_http_client(f"{base}/mcp", http_client=http), args.scenario,
                                  args.seconds, rules)

    try:
        report = anyio.run(go)
    except BaseException as exc:       # the SDK's task groups wrap what went wrong in exception groups
        if isinstance(exc, KeyboardInterrupt):
            raise
        line, code = explain(innermost(exc), base, args.stdio)
        print(line, file=sys.stderr)
        return code
    return 0 if report.open_orders == 0 and report.final_position == 0 else 1


START = "start one with: pf-mock serve --clock manual --mcp-admin"


def innermost(exc: BaseException) -> BaseException:
    """The first exception an exception group holds (however deeply), or ``exc`` itself."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def explain(exc: BaseException, base: str, stdio: bool) -> tuple[str, int]:
    """One line saying what went wrong and what to do, and the exit code (2: the server is not one the
    orchestrator can run against; 1: a tool failed on the way)."""
    if isinstance(exc, ToolError):
        body = exc.body if isinstance(exc.body, dict) else {}
        if body.get("error") == "upstream_unreachable":
            return f"orchestrator: no pf-mock answers at {base} (set PF_BASE, or {START})", 2
        if body.get("error") == "clock_not_manual":
            return f"orchestrator: the server at {base} runs a realtime clock; {START}", 2
        if body.get("error") == "unauthorized" and exc.tool.startswith("mock_"):
            return (f"orchestrator: {exc.tool}: {body.get('message')} Set PF_ADMIN_TOKEN (stdio) or start the "
                    "server without --admin-token.", 2)
        return f"orchestrator stopped: {exc.tool}: {body.get('error')}: {body.get('message')}", 1
    text = str(exc)
    if "Unknown tool 'mock_" in text:
        return f"orchestrator: the server at {base} offers no mock_* tools over MCP; {START}", 2
    if type(exc).__name__ in ("ConnectError", "ConnectTimeout") or "connection" in text.lower():
        return f"orchestrator: no pf-mock answers at {base} (set PF_BASE, or {START})", 2
    return f"orchestrator stopped: {type(exc).__name__}: {text or 'no message'}" + \
        (" (through pf-mock mcp)" if stdio else ""), 1


if __name__ == "__main__":
    sys.exit(main())
