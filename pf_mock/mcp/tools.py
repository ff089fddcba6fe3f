"""The MCP tools: each one stands for one REST route and is carried out by calling that route.

A tool's input schema is its route's inputs (``pf_mock.mcp.operations``: the path and query parameters
and the body model the route validates with), so a field is declared once, on the route. A call turns
its arguments into that route's request, sends it through an ``httpx.AsyncClient`` (to a pf-mock over
the network for stdio, or into the same app in process for ``/mcp``) and hands back the answer:

- a 2xx answer: ``structuredContent`` is the route's JSON answer, the first text block a one-line
  summary a model can read, the second the answer as JSON (for clients that do not read
  ``structuredContent``);
- any other answer: an MCP tool error (``isError``) with no ``structuredContent`` (clients check that
  against the tool's output schema, the answer's, even on an error): its first text block is
  ``<code>: <message>``, its second the contract's error body as JSON, ``{"error": "<code>",
  "message": "<sentence>", ...}``, unchanged.

A tool's description is its purpose, written here, and its answer's fields with their meanings, read from
the answer's schema (the ``Field`` descriptions in ``pf_mock.messages``), so the description, the output
schema and the generated ``docs/mcp-tools.md`` cannot say different things.

So a tool answers exactly what the route answers, with the same rules, the same errors, the same rate
limit, fault rules and journal, whichever transport carries it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import quote

import httpx

from .operations import Operation, operation

if TYPE_CHECKING:
    import mcp_types as types


def _types():
    """The MCP SDK's protocol types (``mcp_types``), loaded when a tool is first listed or called: about
    0.13 s of CPU (it builds the protocol's pydantic models), which what only reads the tool specs (their
    names, schemas and descriptions: the tests, the docs' generator) does not pay."""
    import mcp_types
    return mcp_types

Summary = Callable[[dict, dict], str]     # (arguments, answer) -> one line


def _money(x: Any) -> str:
    if not isinstance(x, (int, float)):
        return "n/a"
    return f"{'-' if x < 0 and round(x, 2) else ''}${abs(x):,.2f}"


def _num(x: Any) -> str:
    return f"{x:,.10g}" if isinstance(x, (int, float)) else "n/a"


def _bps(x: Any) -> str:
    return f"{x:.2f} bps" if isinstance(x, (int, float)) else "n/a"


def _markets(args: dict, a: dict) -> str:
    names = [m.get("symbol", "?") for m in a.get("markets", [])]
    shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    return f"{a.get('count', len(names))} of {a.get('total', '?')} markets from offset {a.get('offset', 0)}: {shown}."


def _market(args: dict, a: dict) -> str:
    return (f"{a.get('symbol')}: mid {_num(a.get('mid'))}, spread {_bps(a.get('spread_bps'))}, tick "
            f"{_num(a.get('tick_size'))}, 24 h change {_num(a.get('change_24h_pct'))}%, volume "
            f"{_money(a.get('volume_24h_usd'))}.")


def _price(args: dict, a: dict) -> str:
    return (f"{a.get('symbol')}: bid {_num(a.get('best_bid'))} / ask {_num(a.get('best_ask'))}, mid "
            f"{_num(a.get('mid'))}, spread {_bps(a.get('spread_bps'))}.")


def _book(args: dict, a: dict) -> str:
    bids, asks = a.get("bids", []), a.get("asks", [])
    top = lambda levels: _num(levels[0].get("price")) if levels else "none"     # noqa: E731
    return (f"{a.get('symbol')} book: {len(bids)} bid levels from {top(bids)}, {len(asks)} ask levels from "
            f"{top(asks)}, spread {_bps(a.get('spread_bps'))}.")


def _trades(args: dict, a: dict) -> str:
    trades = a.get("trades", [])
    last = f", newest {trades[0].get('side')} {_num(trades[0].get('size'))} at {_num(trades[0].get('price'))}" \
        if trades else ""
    return f"{len(trades)} recent {a.get('symbol')} trades{last}."


def _candles(args: dict, a: dict) -> str:
    candles = a.get("candles", [])
    if not candles:
        return f"No {a.get('interval')} candles of {a.get('symbol')} yet."
    low = min(c.get("low", math.inf) for c in candles)
    high = max(c.get("high", -math.inf) for c in candles)
    return (f"{len(candles)} {a.get('interval')} candles of {a.get('symbol')}: range {_num(low)}-{_num(high)}, "
            f"last close {_num(candles[-1].get('close'))}.")


def _quote(args: dict, a: dict) -> str:
    sides = []
    for side in ("bid", "ask"):
        if a.get(f"{side}_id"):
            sides.append(f"{side} {_money(a.get(f'{side}_size'))} at {_num(a.get(f'{side}_price'))}")
        elif side in (a.get("skipped") or {}):
            sides.append(f"{side} skipped ({a['skipped'][side]})")
    status = (a.get("session") or {}).get("status")
    return f"{a.get('symbol')}: " + ("; ".join(sides) or "nothing posted") + f"; session {status}."


def _cancel(args: dict, a: dict) -> str:
    return f"Cancelled {a.get('cancelled')} {a.get('symbol')} order(s)."


def _orders(args: dict, a: dict) -> str:
    orders = a.get("orders", [])
    if args.get("status") == "closed":
        counts: dict[str, int] = {}
        for o in orders:
            key = f"{o.get('status')} ({o.get('reason')})" if o.get("reason") else str(o.get("status"))
            counts[key] = counts.get(key, 0) + 1
        shown = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        return f"{len(orders)} closed order(s)" + (f": {shown}." if shown else ".")
    bids = sum(1 for o in orders if o.get("side") == "buy")
    return f"{len(orders)} open order(s): {bids} bid(s), {len(orders) - bids} ask(s)."


def _fills(args: dict, a: dict) -> str:
    fills = a.get("fills", [])
    notional = sum(f.get("notional_usd", 0) for f in fills)
    return f"{len(fills)} fill(s), {_money(notional)} notional."


def _inventory(args: dict, a: dict) -> str:
    return (f"{a.get('symbol')}: position {_num(a.get('position'))} (net delta {_money(a.get('net_delta_usd'))}) "
            f"at mark {_num(a.get('mark_price'))}; unrealized {_money(a.get('unrealized_pnl'))}, realized "
            f"{_money(a.get('realized_pnl'))}.")


def _hedge(args: dict, a: dict) -> str:
    return (f"Hedged {a.get('symbol')}: {a.get('side')} {_num(a.get('size'))} ({_money(a.get('size_usd'))}) at "
            f"{_num(a.get('fill_price'))}; fee {_money(a.get('fee_usd'))}, slippage {_money(a.get('slippage_usd'))}; "
            f"net delta now {_money(a.get('net_delta_usd'))}.")


def _pnl(args: dict, a: dict) -> str:
    return (f"Net PnL {_money(a.get('net_pnl'))} on {a.get('fills')} fill(s) ({_money(a.get('volume_usd'))}): "
            f"spread {_money(a.get('spread_income'))}, rebates {_money(a.get('rebates'))}, inventory "
            f"{_money(a.get('inventory_pnl'))}, hedge cost {_money(a.get('hedge_cost'))}.")


def _session(args: dict, a: dict) -> str:
    reason = f" ({a['reason']})" if a.get("reason") else ""
    return f"{a.get('symbol')} session {a.get('status')}{reason}, auto_refresh {a.get('auto_refresh')}."


def _account(args: dict, a: dict) -> str:
    return (f"Agent {a.get('agent_id')}: balance {_money(a.get('balance_usd'))}, equity "
            f"{_money(a.get('equity_usd'))}, {a.get('open_orders')} open order(s), "
            f"{len(a.get('positions', []))} position(s).")


def _state(args: dict, a: dict) -> str:
    clock = a.get("clock") or {}
    return (f"Mock clock {clock.get('mode')} at {clock.get('now')} ms; seed {a.get('seed')}; "
            f"scenario {a.get('scenario')}.")


def _advanced(args: dict, a: dict) -> str:
    return f"Mock clock now at {(a.get('clock') or {}).get('now')} ms."


def _scenario(args: dict, a: dict) -> str:
    events = len(a.get("scheduled", []))
    return f"Scenario {a.get('scenario')} loaded at {a.get('loaded_at')} ms with {events} event(s)."


def _jumped(args: dict, a: dict) -> str:
    return f"{a.get('symbol')} mid jumped to {_num(a.get('mid'))}."


def _described(name: str, schema: dict) -> str:
    text = (schema.get("description") or "").strip().rstrip(".")
    return f"{name}: {text}" if text else name


def answer_fields(output_schema: dict | None) -> list[str]:
    """``name: meaning`` for each field of a route's answer, and ``name[].field: meaning`` for the fields
    of a list of objects of one kind (``fills[].fee_usd``), read from the answer's schema: that is, from
    the ``Field`` descriptions of its model in ``pf_mock.messages``, the one place a field's meaning is
    written."""
    lines = []
    for name, schema in ((output_schema or {}).get("properties") or {}).items():
        lines.append(_described(name, schema))
        items = schema.get("items") or {}
        for inner, inner_schema in (items.get("properties") or {}).items():
            lines.append(_described(f"{name}[].{inner}", inner_schema))
    return lines


def plain_optionals(input_schema: dict) -> dict:
    """``input_schema`` with each optional argument typed as its value (``{"type": "number", ...}``) rather
    than ``anyOf`` that and null: "omit it" says what null would, and clients that turn command-line text
    into arguments by the schema's ``type`` (the MCP Inspector's CLI) can then send a number as a number."""
    required = set(input_schema.get("required", []))
    properties = {}
    for name, schema in input_schema.get("properties", {}).items():
        branches = schema.get("anyOf")
        if name not in required and isinstance(branches, list) and len(branches) == 2 \
                and {"type": "null"} in branches:
            value = next(b for b in branches if b != {"type": "null"})
            schema = {**{k: v for k, v in schema.items() if k != "anyOf" and not (k == "default" and v is None)},
                      **value}
        properties[name] = schema
    return {**input_schema, "properties": properties}


@dataclass(frozen=True)
class ToolSpec:
    name: str
    method: str
    path: str
    purpose: str                # what the tool does and its rules; never a field's meaning (the schemas hold those)
    summary: Summary
    read_only: bool
    admin: bool = False         # a /_mock tool, listed only with --mcp-admin

    @property
    def route(self) -> Operation:
        return _routes(self.method, self.path)

    @property
    def destructive(self) -> bool:
        """Every tool that changes state here can take away what was there: a quote's self-trade
        prevention cancels resting orders and its settings replace the session's, a hedge trades the
        position away, a session reset clears the stop, a clock advance or a jump fills and expires orders,
        a scenario with a seed resets the exchange."""
        return not self.read_only

    @property
    def description(self) -> str:
        fields = "; ".join(answer_fields(self.route.output_schema))
        return f"{self.purpose} Answer fields: {fields}. (REST: {self.method} {self.path})"

    def tool(self) -> types.Tool:
        route = operation(self.method, self.path)
        types = _types()
        return types.Tool(
            name=self.name,
            description=self.description,
            input_schema=plain_optionals(route.input_schema),
            output_schema=route.output_schema,
            annotations=types.ToolAnnotations(read_only_hint=self.read_only, destructive_hint=self.destructive,
                                              open_world_hint=False),
        )


SYMBOL = "symbol is a market like BTC-PERP (a bare base such as btc works too)."

TOOLS: tuple[ToolSpec, ...] = (
    # The seed's five.
    ToolSpec("mm_post_quotes", "POST", "/v1/mm/quote",
             "Post a two-sided (or one-sided) quote on a market: prices in USD (rounded to the tick toward the "
             "passive side), sizes in USD notional per side (at least $10 each). Quotes add orders, they do not "
             "replace them: cancel first to re-quote. A side that crosses the book trades at once unless ALO, and "
             "self-trade prevention cancels your own resting orders it would hit. The guardrails and auto_refresh "
             "given set the session on this symbol. " + SYMBOL, _quote, read_only=False),
    ToolSpec("mm_cancel", "POST", "/v1/mm/cancel",
             "Cancel all of your open orders on a market and stop its server-side refresh loop. " + SYMBOL,
             _cancel, read_only=False),
    ToolSpec("mm_inventory", "GET", "/v1/mm/inventory",
             "Your position on a market (base units) and its PnL, marked to the mark price. " + SYMBOL,
             _inventory, read_only=True),
    ToolSpec("mm_hedge", "POST", "/v1/mm/hedge",
             "Reduce your position on a market with a market order against the book for hedge_pct of it (1 = go "
             "flat); its fee and slippage land in mm_pnl's hedge_cost. Flat: error no_inventory. " + SYMBOL,
             _hedge, read_only=False),
    ToolSpec("mm_pnl", "GET", "/v1/mm/pnl",
             "Your PnL in USD for one symbol or all (omit symbol), over since/until (ms) or a window. net_pnl = "
             "spread_income + rebates + inventory_pnl - hedge_cost; fees is the part of hedge_cost that is taker "
             "fees, not a further cost.", _pnl, read_only=True),
    # Reading the markets.
    ToolSpec("market_list", "GET", "/v1/markets", "List the perpetual markets, a page at a time.",
             _markets, read_only=True),
    ToolSpec("market_info", "GET", "/v1/markets/{symbol}",
             "One market in detail: the list's fields plus its spread, volatility and 24 h statistics. " + SYMBOL,
             _market, read_only=True),
    ToolSpec("market_price", "GET", "/v1/markets/{symbol}/price",
             "A market's best bid and ask, the book's mid, and the mark price (the fair value PnL, equity and "
             "margin are marked to). " + SYMBOL, _price, read_only=True),
    ToolSpec("market_orderbook", "GET", "/v1/markets/{symbol}/orderbook",
             "The order book, best levels first; your own resting orders are in it. " + SYMBOL, _book,
             read_only=True),
    ToolSpec("market_trades", "GET", "/v1/markets/{symbol}/trades", "Recent trades, newest first. " + SYMBOL,
             _trades, read_only=True),
    ToolSpec("market_candles", "GET", "/v1/markets/{symbol}/candles",
             "OHLC candles built from trades, oldest first; read volatility from them. " + SYMBOL,
             _candles, read_only=True),
    # Your orders, fills, session and account.
    ToolSpec("mm_orders", "GET", "/v1/mm/orders",
             "Your open orders (optionally on one symbol); status=closed lists the orders that left the book "
             "instead, with how and why, paged by cursor.", _orders, read_only=True),
    ToolSpec("mm_fills", "GET", "/v1/mm/fills", "Your fills, oldest first, paged by cursor.", _fills,
             read_only=True),
    ToolSpec("mm_session", "GET", "/v1/mm/session",
             "Your quoting session on a market: its status and why, the guardrails in force and the refresh loop. "
             + SYMBOL, _session, read_only=True),
    ToolSpec("mm_session_reset", "POST", "/v1/mm/session/reset",
             "Clear a session stopped by its stop-loss so that quoting may start again (position and history "
             "stay; the stop is forgotten). " + SYMBOL, _session, read_only=False),
    ToolSpec("mm_account", "GET", "/v1/account",
             "Your account: cash, equity at the mark price, open orders and positions.", _account, read_only=True),
    # The mock's own controls (--mcp-admin): for an LLM test harness, never part of the real API.
    ToolSpec("mock_state", "GET", "/_mock/state", "pf-mock only: the mock's seed, clock, agents and scenario.",
             _state, read_only=True, admin=True),
    ToolSpec("mock_advance_clock", "POST", "/_mock/clock/advance",
             "pf-mock only (manual clock): move mock time forward by seconds, processing every event in order "
             "(orders fill, guardrails act; time never goes back).", _advanced, read_only=False, admin=True),
    ToolSpec("mock_load_scenario", "POST", "/_mock/scenario",
             "pf-mock only: load a shipped scenario by name (calm, flash_crash, spread_blowout, volatility_spike, "
             "...) or an inline one. A scenario with a seed resets the whole exchange first: every agent, order "
             "and fill is forgotten.", _scenario, read_only=False, admin=True),
    ToolSpec("mock_jump", "POST", "/_mock/markets/{symbol}/jump",
             "pf-mock only: move a market's fair value at once by move_bps; stale quotes get picked off.",
             _jumped, read_only=False, admin=True),
    ToolSpec("mock_reset", "POST", "/_mock/reset",
             "pf-mock only: forget every agent, order and fill and restart the clock and markets (optionally on "
             "a new seed).", _state, read_only=False, admin=True),
)

BY_NAME = {spec.name: spec for spec in TOOLS}


@lru_cache(maxsize=None)
def _routes(method: str, path: str) -> Operation:
    """The route behind a tool, read once (only its parameter names are used per call)."""
    return operation(method, path)


def tools(admin: bool = False) -> list[ToolSpec]:
    """The tools a server offers: the API's, and the mock's own with ``admin``."""
    return [spec for spec in TOOLS if admin or not spec.admin]


def _error(code: str, message: str, **detail) -> dict:
    return {"error": code, "message": message, **detail}


def _query_value(value: Any) -> str:
    """A query parameter as a URL would carry it. JSON has one kind of number, so 5.0 is sent as 5."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def build_request(spec: ToolSpec, arguments: dict) -> tuple[str, dict, Any] | dict:
    """``(path, query, body)`` of the route's request for these arguments, or an error body when the
    arguments cannot make a request at all (a path parameter missing or not a string, a query parameter
    that is not a single value). Everything else is the route's to check."""
    route = spec.route
    path = spec.path
    for name in route.path_params:
        value = arguments.get(name)
        if value is None or value == "":
            return _error("invalid_request", f"{name} is required.", field=name)
        if not isinstance(value, str):
            return _error("invalid_request", f"{name}: Input should be a valid string.", field=name)
        path = path.replace("{" + name + "}", quote(value, safe=""))
    query = {}
    for name in route.query_params:
        value = arguments.get(name)
        if value is None:
            continue
        if isinstance(value, (dict, list)):
            return _error("invalid_request", f"{name}: must be a single value, not a list or an object.", field=name)
        query[name] = _query_value(value)
    body = None
    if spec.method != "GET":
        body = {k: v for k, v in arguments.items() if k not in route.path_params}
    return path, query, body


def _non_finite(value: Any) -> str | None:
    """The dotted name of the first NaN or infinity in a request body, or None (walked without recursion,
    so no depth of nesting breaks the walk)."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, where = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return where or "body"
        if isinstance(item, (dict, list)):
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            stack.extend(reversed([(child, f"{where}.{key}" if where else str(key)) for key, child in pairs]))
    return None


def _text(text: str) -> types.TextContent:
    return _types().TextContent(type="text", text=text)


def failed(body: dict) -> types.CallToolResult:
    """A tool error: ``<code>: <message>``, then the whole error body as JSON. No ``structuredContent``:
    a client checks that against the tool's output schema (the answer's), even on an error, and the
    TypeScript SDK refuses the whole result when it does not match."""
    return _types().CallToolResult(content=[_text(f"{body['error']}: {body['message']}"),
                                            _text(json.dumps(body))], is_error=True)


def _status_error(status: int, text: str) -> dict:
    return _error("upstream_error", f"The API answered HTTP {status} without a JSON error body: {text[:200]!r}.",
                  status=status)


async def call(spec: ToolSpec, client: httpx.AsyncClient, arguments: dict | None) -> types.CallToolResult:
    """Carry out one tool call through ``client``: the route's answer, or its error, as a tool result."""
    arguments = arguments or {}
    built = build_request(spec, arguments)
    if isinstance(built, dict):
        return failed(built)
    path, query, body = built
    unsendable = _non_finite(body)
    if unsendable is not None:      # JSON has no NaN or infinity: the route could never be asked
        return failed(_error("invalid_request", f"{unsendable}: must be a finite number.", field=unsendable))
    try:
        response = await client.request(spec.method, path, params=query or None,
                                         json=body if spec.method != "GET" else None)
    except httpx.HTTPError as exc:
        return failed(_error("upstream_unreachable", f"Could not reach the API at {client.base_url}: "
                                                     f"{type(exc).__name__}.".replace("\n", " ")))
    try:
        answer = response.json()
    except ValueError:
        return failed(_status_error(response.status_code, response.text))
    if not response.is_success:
        if isinstance(answer, dict) and isinstance(answer.get("error"), str) and isinstance(answer.get("message"), str):
            return failed(answer)
        return failed(_status_error(response.status_code, response.text))
    if not isinstance(answer, dict):    # every answer of the API is an object; structured content must be one
        return failed(_error("upstream_error", "The API answered JSON that is not an object.",
                             status=response.status_code))
    try:
        summary = spec.summary(arguments, answer)
    except Exception:   # an answer of another shape (another server behind PF_BASE): still an answer
        summary = f"{spec.name}: OK."
    return _types().CallToolResult(content=[_text(summary), _text(json.dumps(answer))],
                                   structured_content=answer, is_error=False)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _type_of(schema: dict) -> str:
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    kind = schema.get("type") or " or ".join(b.get("type", "?") for b in schema.get("anyOf", [])) or "any"
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if kind in ("integer", "number") and (low is not None or high is not None):
        left = "(" if "exclusiveMinimum" in schema else "["
        right = ")" if "exclusiveMaximum" in schema else "]"
        kind += f" in {left}{'' if low is None else f'{low:g}'}, {'' if high is None else f'{high:g}'}{right}"
    return kind


def markdown() -> str:
    """The tools' reference page, ``docs/mcp-tools.md``, written from the tools themselves: each tool's
    purpose, its arguments (the route's inputs) and its answer's fields, with the meanings the schemas
    carry. A test checks that the page in ``docs/`` is this text."""
    lines = ["# MCP tools: reference", "",
             "Every tool pf-mock's MCP server offers, as `tools/list` describes it: the purpose, the arguments "
             "(the route's own inputs) and the answer's fields with their meanings (the same text as the "
             "tool's description and output schema). Written from the code by "
             "`python -m pf_mock.mcp.tools > docs/mcp-tools.md`; a test keeps this page equal to it. "
             "[MCP](mcp.md) says how to connect and what errors look like.", ""]
    for spec in TOOLS:
        tool = spec.tool()
        hints = ("read-only" if spec.read_only else "changes state, marked destructive") + \
            ("; `--mcp-admin` only" if spec.admin else "")
        lines += [f"## `{spec.name}`", "", f"`{spec.method} {spec.path}` ({hints})", "", spec.purpose, ""]
        arguments = tool.input_schema.get("properties", {})
        required = set(tool.input_schema.get("required", []))
        if arguments:
            lines += ["| argument | type | meaning |", "| --- | --- | --- |"]
            for name, schema in arguments.items():
                default = f" Default `{json.dumps(schema['default'])}`." if "default" in schema else ""
                need = " Required." if name in required else ""
                lines.append(f"| `{name}` | {_type_of(schema)} | {_cell(schema.get('description', ''))}"
                             f"{need}{default} |")
            lines.append("")
        lines += ["| answer field | meaning |", "| --- | --- |"]
        for entry in answer_fields(spec.route.output_schema):
            name, _, meaning = entry.partition(": ")
            lines.append(f"| `{name}` | {_cell(meaning)} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(), end="")
