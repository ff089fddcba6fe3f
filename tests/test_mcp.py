"""MCP over streamable HTTP at ``/mcp``, with the SDK's own client: the tools and their schemas, every
tool called, every error path, answers equal to the REST API's, and determinism.

All in process: the SDK client's requests go into the app over ``httpx2.ASGITransport`` on the test's
event loop (``test_mcp_transports.py`` does the same over real sockets and stdio)."""

from __future__ import annotations

import sys

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contract_asserts import assert_error_shape
from mcp_helpers import KEY, answer, app_for, error_body, mcp_client, one_line, rest_client

SEED_TOOLS = {"mm_post_quotes", "mm_cancel", "mm_inventory", "mm_hedge", "mm_pnl"}
READ_TOOLS = {"market_list", "market_info", "market_price", "market_orderbook", "market_trades", "market_candles",
              "mm_orders", "mm_fills", "mm_session", "mm_account"}
ADMIN_TOOLS = {"mock_state", "mock_advance_clock", "mock_load_scenario", "mock_jump", "mock_reset"}

# Each tool and the REST request it stands for, written out here by hand (not read from the code under
# test): name -> (method, path template, where the arguments go: "path", "query" or "body").
ROUTES = {
    "mm_post_quotes": ("POST", "/v1/mm/quote"),
    "mm_cancel": ("POST", "/v1/mm/cancel"),
    "mm_inventory": ("GET", "/v1/mm/inventory"),
    "mm_hedge": ("POST", "/v1/mm/hedge"),
    "mm_pnl": ("GET", "/v1/mm/pnl"),
    "market_list": ("GET", "/v1/markets"),
    "market_info": ("GET", "/v1/markets/{symbol}"),
    "market_price": ("GET", "/v1/markets/{symbol}/price"),
    "market_orderbook": ("GET", "/v1/markets/{symbol}/orderbook"),
    "market_trades": ("GET", "/v1/markets/{symbol}/trades"),
    "market_candles": ("GET", "/v1/markets/{symbol}/candles"),
    "mm_orders": ("GET", "/v1/mm/orders"),
    "mm_fills": ("GET", "/v1/mm/fills"),
    "mm_session": ("GET", "/v1/mm/session"),
    "mm_session_reset": ("POST", "/v1/mm/session/reset"),
    "mm_account": ("GET", "/v1/account"),
    "mock_state": ("GET", "/_mock/state"),
    "mock_advance_clock": ("POST", "/_mock/clock/advance"),
    "mock_load_scenario": ("POST", "/_mock/scenario"),
    "mock_jump": ("POST", "/_mock/markets/{symbol}/jump"),
    "mock_reset": ("POST", "/_mock/reset"),
}


async def rest_call(rest, tool: str, args: dict) -> tuple[bool, dict]:
    """What the REST API answers to the request ``tool`` stands for: (is an error, JSON body)."""
    method, path = ROUTES[tool]
    args = dict(args)
    if "{symbol}" in path:
        path = path.replace("{symbol}", args.pop("symbol"))
    if method == "GET":
        response = await rest.get(path, params={k: str(v) for k, v in args.items()})
    else:
        response = await rest.post(path, json=args)
    return response.status_code >= 400, response.json()


def run(fn, *args):
    return anyio.run(fn, *args)


# --- the tools and their schemas ---------------------------------------------------------------------

def served_inputs(app, tool: str) -> tuple[set[str], set[str]]:
    """The property names and required names of the route behind ``tool``, from the app's served OpenAPI
    document: its parameters plus its body model's fields."""
    method, path = ROUTES[tool]
    document = app.openapi()
    spec = document["paths"][path][method.lower()]
    names = {p["name"] for p in spec.get("parameters", [])}
    required = {p["name"] for p in spec.get("parameters", []) if p.get("required")}
    body = spec.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if body is not None:
        if "anyOf" in body:
            body = next(s for s in body["anyOf"] if "$ref" in s)
        model = document["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
        names |= set(model["properties"])
        required |= set(model.get("required", []))
    return names, required


def test_the_tools_are_listed_with_their_routes_inputs():
    app = app_for(mcp_admin=True)

    async def scenario():
        async with mcp_client(app) as client:
            return (await client.list_tools()).tools

    listed = {tool.name: tool for tool in run(scenario)}
    assert set(listed) == SEED_TOOLS | READ_TOOLS | ADMIN_TOOLS | {"mm_session_reset"}
    for name, tool in listed.items():
        names, required = served_inputs(app, name)
        schema = tool.input_schema
        assert schema["type"] == "object", name
        assert set(schema["properties"]) == names, name
        assert set(schema.get("required", [])) == required, name
        method, path = ROUTES[name]
        assert f"{method} {path}" in tool.description and len(tool.description) > 60, name
        assert tool.annotations.read_only_hint == (method == "GET"), name
        undescribed = [field for field, spec in schema["properties"].items() if not spec.get("description")]
        assert undescribed == [], name          # every argument says what it is, with its unit
        assert tool.output_schema and tool.output_schema.get("properties"), name     # the route's answer model

    quote = listed["mm_post_quotes"].input_schema
    assert quote["required"] == ["symbol"]
    assert quote["properties"]["bid_size"]["type"] == "number"        # optional: omitted, never null
    assert quote["properties"]["bid_size"]["exclusiveMinimum"] == 0
    assert listed["mm_orders"].input_schema["properties"]["cursor"]["type"] == "string"
    assert "USD notional per side" in listed["mm_post_quotes"].description
    assert "base units" in listed["mm_inventory"].description
    candles = listed["market_candles"].input_schema["properties"]
    assert candles["interval"]["enum"] == ["1m", "5m", "1h"]
    assert (candles["limit"]["minimum"], candles["limit"]["maximum"]) == (1, 1000)
    depth = listed["market_orderbook"].input_schema["properties"]["depth"]
    assert (depth["minimum"], depth["maximum"], depth["default"]) == (1, 50, 20)
    assert listed["mm_hedge"].input_schema["properties"]["hedge_pct"]["default"] == 1.0


@pytest.mark.parametrize("options, expected", [
    ({}, set()),
    ({"mcp_admin": True}, ADMIN_TOOLS),
    ({"mcp_admin": True, "admin": False}, set()),      # no /_mock routes, so no tools for them
])
def test_mock_tools_only_with_mcp_admin(options, expected):
    async def scenario():
        async with mcp_client(app_for(**options)) as client:
            return {tool.name for tool in (await client.list_tools()).tools}

    assert run(scenario) & ADMIN_TOOLS == expected


def test_a_mock_tool_is_not_callable_without_mcp_admin():
    from mcp import MCPError

    async def scenario():
        async with mcp_client(app_for()) as client:
            with pytest.raises(MCPError, match="Unknown tool"):
                await client.call_tool("mock_advance_clock", {"seconds": 60})
            with pytest.raises(MCPError, match="Unknown tool"):
                await client.call_tool("no_such_tool", {})

    run(scenario)


# --- every tool, equal to REST -----------------------------------------------------------------------

async def script(call, price: dict) -> None:
    """A session touching every tool; ``call(tool, args)`` carries each out (over MCP or REST)."""
    bid, ask = price["best_bid"], price["best_ask"]
    await call("market_list", {"limit": 3, "offset": 1})
    await call("market_info", {"symbol": "BTC-PERP"})
    await call("market_price", {"symbol": "btc"})
    await call("market_orderbook", {"symbol": "BTC-PERP", "depth": 5})
    await call("mm_post_quotes", {"symbol": "BTC-PERP", "bid_price": bid, "bid_size": 300, "ask_price": ask + 50,
                                  "ask_size": 200, "max_inventory_usd": 5000})
    await call("mm_orders", {"symbol": "BTC-PERP"})
    await call("mock_advance_clock", {"seconds": 180})
    await call("market_trades", {"symbol": "BTC-PERP", "limit": 5})
    await call("market_candles", {"symbol": "BTC-PERP", "interval": "1m", "limit": 3})
    await call("mm_fills", {"symbol": "BTC-PERP"})
    await call("mm_inventory", {"symbol": "BTC-PERP"})
    await call("mm_session", {"symbol": "BTC-PERP"})
    await call("mm_account", {})
    await call("mm_hedge", {"symbol": "BTC-PERP", "hedge_pct": 0.5})
    await call("mm_pnl", {"window": "1h"})
    await call("mm_pnl", {"symbol": "BTC-PERP"})
    await call("mm_cancel", {"symbol": "BTC-PERP"})
    await call("mm_orders", {"status": "closed", "limit": 10})
    await call("mm_session_reset", {"symbol": "BTC-PERP"})
    await call("mock_jump", {"symbol": "ETH-PERP", "move_bps": -25})
    await call("mock_load_scenario", {"name": "calm"})
    await call("mock_state", {})
    await call("mock_reset", {"seed": 3})
    await call("market_price", {"symbol": "ETH-PERP"})


async def mcp_run(seed: int = 0, mode: str = "auto", app=None, key: str = KEY) -> list[tuple[str, bool, dict, str]]:
    """The script over MCP on a fresh mock (or ``app``): (tool, is error, structured content, summary) per call."""
    app = app or app_for(seed=seed, mcp_admin=True)
    results = []
    async with mcp_client(app, key=key, mode=mode) as client:
        async def call(tool, args):
            result = await client.call_tool(tool, args)
            results.append((tool, result.is_error, answer(result), one_line(result)))

        price = (await client.call_tool("market_price", {"symbol": "BTC-PERP"})).structured_content
        await script(call, price)
    return results


async def rest_run(seed: int = 0) -> list[tuple[str, bool, dict]]:
    app = app_for(seed=seed, mcp_admin=True)
    results = []
    async with rest_client(app) as rest:
        async def call(tool, args):
            results.append((tool, *await rest_call(rest, tool, args)))

        price = (await rest.get("/v1/markets/BTC-PERP/price")).json()
        await script(call, price)
    return results


@pytest.fixture(scope="module")
def seed_0_run() -> list[tuple[str, bool, dict, str]]:
    """The script over MCP (newest protocol) on a fresh mock with seed 0: the same calls on the same seed
    always give the same results (``test_same_seed_same_calls_same_results`` runs it again to show it),
    so the tests that read it share one run."""
    return run(mcp_run, 0, "auto")


def test_every_tool_answers_what_its_route_answers(seed_0_run):
    over_mcp = seed_0_run
    over_rest = run(rest_run, 0)
    assert {tool for tool, *_ in over_mcp} == set(ROUTES)
    assert [(tool, err, body) for tool, err, body, _ in over_mcp] == over_rest
    fills = next(body for tool, _, body, _ in over_mcp if tool == "mm_fills")["fills"]
    assert fills, "the quote at the touch should have traded in three minutes"
    hedge = next((err, body) for tool, err, body, _ in over_mcp if tool == "mm_hedge")
    assert hedge[0] is False and hedge[1]["size"] > 0
    assert not any(err for _, err, _, _ in over_mcp)


def test_the_summary_is_one_line_about_the_answer(seed_0_run):
    results = {tool: summary for tool, _, _, summary in seed_0_run}
    assert results["market_price"].startswith("ETH-PERP: bid ")
    assert results["mm_post_quotes"].startswith("BTC-PERP: bid $")
    assert results["mm_cancel"].startswith("Cancelled ")
    assert results["mm_pnl"].startswith("Net PnL ")


def test_the_legacy_protocol_gives_the_same_answers(seed_0_run):
    """Clients on the initialize-handshake protocol versions take the SDK's other code path."""
    legacy = run(mcp_run, 0, "legacy")
    assert [r[:3] for r in legacy] == [r[:3] for r in seed_0_run]


def test_same_seed_same_calls_same_results(seed_0_run):
    """A second run of the script on a fresh mock with the same seed gives the same results, all four
    parts of each; another seed does not."""
    again = run(mcp_run, 0, "auto")
    assert again == seed_0_run
    assert [r[2] for r in run(mcp_run, 6)] != [r[2] for r in seed_0_run]    # the comparison can see a difference


# --- errors -----------------------------------------------------------------------------------------

ERRORS = [
    ("market_price", {"symbol": "NOPE-PERP"}, "market_not_found", None),
    ("market_orderbook", {"symbol": "BTC-PERP", "depth": 51}, "invalid_request", "depth"),
    ("market_candles", {"symbol": "BTC-PERP", "interval": "2m"}, "invalid_request", "interval"),
    ("mm_post_quotes", {"symbol": "NOPE", "bid_price": 1, "bid_size": 100}, "market_not_found", None),
    ("mm_post_quotes", {"symbol": "BTC-PERP", "bid_price": 71_000, "bid_size": 100, "ask_price": 70_000,
                        "ask_size": 100}, "crossed_quote", None),
    ("mm_post_quotes", {"symbol": "BTC-PERP", "bid_price": 70_000, "bid_size": 600_000}, "insufficient_balance", None),
    ("mm_post_quotes", {"symbol": "BTC-PERP", "bid_price": 70_000, "bid_size": 5}, "order_too_small", "bid_size"),
    ("mm_post_quotes", {"symbol": "BTC-PERP", "bid_price": "70000", "bid_size": 100}, "invalid_request", "bid_price"),
    ("mm_post_quotes", {"bid_price": 70_000, "bid_size": 100}, "invalid_request", "symbol"),
    ("mm_post_quotes", {"symbol": "BTC-PERP", "bid_price": 70_000, "bid_size": 100, "time_in_force": "FOK"},
     "invalid_request", "time_in_force"),
    ("mm_cancel", {}, "invalid_request", "symbol"),
    ("mm_cancel", {"symbol": ["BTC-PERP"]}, "invalid_request", "symbol"),
    ("mm_hedge", {"symbol": "BTC-PERP"}, "no_inventory", None),
    ("mm_hedge", {"symbol": "BTC-PERP", "hedge_pct": 1.5}, "invalid_request", "hedge_pct"),
    ("mm_inventory", {"symbol": "NOPE"}, "market_not_found", None),
    ("mm_pnl", {"window": "1h", "since": 0}, "invalid_request", "window"),
    ("mm_pnl", {"window": "2h"}, "invalid_request", "window"),
    ("mm_fills", {"limit": 0}, "invalid_request", "limit"),
    ("mm_session", {}, "invalid_request", "symbol"),
]


@pytest.mark.parametrize("tool, args, code, field", ERRORS, ids=[f"{e[0]}-{e[2]}-{i}" for i, e in enumerate(ERRORS)])
def test_each_contract_error_is_a_tool_error_with_the_same_body(tool, args, code, field):
    app = app_for()

    async def scenario():
        async with mcp_client(app) as client, rest_client(app) as rest:
            before = (await rest.get("/v1/account")).json()
            result = await client.call_tool(tool, args)
            after = (await rest.get("/v1/account")).json()
            return result, before, after, await rest_call(rest, tool, args)

    result, before, after, (rest_failed, rest_body) = run(scenario)
    assert result.is_error
    body = error_body(result)
    assert_error_shape(body)
    assert body["error"] == code
    assert body.get("field") == field
    assert one_line(result) == f"{code}: {body['message']}"
    assert after == before                     # a refused call changes nothing
    if tool == "mm_cancel" and isinstance(args.get("symbol"), list):
        return      # a list in a JSON body is the route's to refuse, and it does, in its own words
    assert rest_failed and rest_body == body    # the same answer as the route's


def test_a_path_parameter_must_be_a_string():
    async def scenario():
        async with mcp_client(app_for()) as client:
            return [await client.call_tool("market_price", args) for args in ({}, {"symbol": 7}, {"symbol": ""})]

    for result in run(scenario):
        assert error_body(result)["error"] == "invalid_request"
        assert error_body(result)["field"] == "symbol"


@pytest.mark.parametrize("options, key, code", [
    ({}, None, "unauthorized"),
    ({}, "not_a_key", "invalid_key"),
    ({"strict_auth": True}, "pf_test_never_issued_1", "invalid_key"),
])
def test_the_key_is_the_bearer_header_of_the_mcp_request(options, key, code):
    app = app_for(**options)

    async def scenario():
        async with mcp_client(app, key=key) as client, rest_client(app, key=key) as rest:
            denied = await client.call_tool("mm_inventory", {"symbol": "BTC-PERP"})
            quote = await client.call_tool("mm_post_quotes", {"symbol": "BTC-PERP", "bid_price": 70_000,
                                                              "bid_size": 100})
            market = await client.call_tool("market_price", {"symbol": "BTC-PERP"})   # market data needs no key
            return denied, quote, market, await rest_call(rest, "mm_inventory", {"symbol": "BTC-PERP"})

    denied, quote, market, (rest_failed, rest_body) = run(scenario)
    assert error_body(denied)["error"] == code
    assert error_body(quote)["error"] == code
    assert rest_failed and rest_body == error_body(denied)
    assert not market.is_error


def test_a_good_key_acts_as_its_agent():
    app = app_for()

    async def scenario():
        async with mcp_client(app, key=KEY) as client:
            await client.call_tool("mm_post_quotes", {"symbol": "BTC-PERP", "bid_price": 68_000, "bid_size": 100})
        async with mcp_client(app, key="pf_test_someone_else_1") as other:
            theirs = await other.call_tool("mm_orders", {})
        async with rest_client(app, key=KEY) as rest:
            mine = (await rest.get("/v1/mm/orders")).json()
        return theirs, mine

    theirs, mine = run(scenario)
    assert theirs.structured_content == {"orders": []}
    assert len(mine["orders"]) == 1 and mine["orders"][0]["price"] == 68_000


def test_the_rate_limit_counts_tool_calls_and_rest_calls_alike():
    app = app_for(rate_limit=3)

    async def scenario():
        async with mcp_client(app) as client, rest_client(app) as rest:
            for _ in range(3):
                await client.list_tools()          # talking MCP is not a request to the API
            calls = [await client.call_tool("market_price", {"symbol": "BTC-PERP"}) for _ in range(2)]
            rest_ok = await rest.get("/v1/markets/BTC-PERP/price")
            refused = await client.call_tool("mm_inventory", {"symbol": "BTC-PERP"})
            rest_refused = await rest.get("/v1/markets/BTC-PERP/price")
            await rest.post("/_mock/clock/advance", json={"seconds": 20})    # refills one request a 20 s
            again = await client.call_tool("market_price", {"symbol": "BTC-PERP"})
            return calls, rest_ok, refused, rest_refused, again

    calls, rest_ok, refused, rest_refused, again = run(scenario)
    assert not any(c.is_error for c in calls) and rest_ok.status_code == 200
    assert refused.is_error
    body = error_body(refused)
    assert body["error"] == "rate_limited" and body["retry_after_seconds"] == 20
    assert rest_refused.status_code == 429 and rest_refused.json() == body
    assert not again.is_error


def test_fault_rules_and_the_journal_see_tool_calls_as_requests():
    app = app_for()

    async def scenario():
        async with mcp_client(app) as client, rest_client(app, key=None) as control:
            await control.post("/_mock/faults", json={"path": "/v1/mm/quote", "status": 503, "count": 1})
            args = {"symbol": "BTC-PERP", "bid_price": 68_000, "bid_size": 100}
            faulted = await client.call_tool("mm_post_quotes", args)
            posted = await client.call_tool("mm_post_quotes", args)
            journal = (await control.get("/_mock/requests")).json()["requests"]
            return faulted, posted, journal

    faulted, posted, journal = run(scenario)
    assert error_body(faulted)["error"] == "service_unavailable"
    assert not posted.is_error
    quotes = [(r["method"], r["path"], r["status"]) for r in journal if r["path"] == "/v1/mm/quote"]
    assert quotes == [("POST", "/v1/mm/quote", 503), ("POST", "/v1/mm/quote", 200)]
    assert not any(r["path"].startswith("/mcp") for r in journal)      # the MCP request itself is not an API call


def test_mock_tools_need_the_admin_token_when_the_mock_has_one():
    app = app_for(mcp_admin=True, admin_token="s3cret")

    async def scenario():
        async with mcp_client(app) as client:
            denied = await client.call_tool("mock_advance_clock", {"seconds": 1})
        async with mcp_client(app, headers={"X-Admin-Token": "s3cret"}) as client:
            allowed = await client.call_tool("mock_advance_clock", {"seconds": 1})
        return denied, allowed

    denied, allowed = run(scenario)
    assert error_body(denied)["error"] == "unauthorized"
    assert not allowed.is_error and allowed.structured_content["clock"]["now"] % 1000 == 0


def test_without_the_mcp_extra_mcp_is_a_501_in_the_contracts_shape(monkeypatch):
    monkeypatch.setitem(sys.modules, "mcp.server.streamable_http_manager", None)     # as if not installed
    app = app_for()

    async def scenario():
        async with rest_client(app) as rest:
            return await rest.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}), \
                await rest.get("/v1/markets/BTC-PERP/price")

    answer, price = run(scenario)
    assert answer.status_code == 501
    assert_error_shape(answer.json())
    assert answer.json()["error"] == "mcp_unavailable"
    assert price.status_code == 200


# --- hostile arguments -----------------------------------------------------------------------------

API_TOOLS = sorted(ROUTES.keys() - ADMIN_TOOLS)
FIELDS = {"symbol", "bid_price", "bid_size", "ask_price", "ask_size", "time_in_force", "auto_refresh",
          "refresh_interval_seconds", "max_inventory_usd", "max_spread_bps", "auto_hedge_threshold_usd",
          "session_stop_loss_usd", "hedge_pct", "since", "until", "window", "limit", "offset", "depth",
          "interval", "cursor", "status"}
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                    | st.text(max_size=12) | st.sampled_from(["BTC-PERP", "btc", "1m", "1h", "GTC", "ALO"]),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=6)


@pytest.fixture(scope="module")
def shared_app():
    """One mock for all the examples (building one costs more than a call); each example compares the
    state just before and just after its own call."""
    app = app_for()

    async def order():
        async with rest_client(app) as rest:
            await rest.post("/v1/mm/quote", json={"symbol": "BTC-PERP", "bid_price": 68_000, "bid_size": 100})

    run(order)
    return app


@settings(max_examples=max(10, settings.default.max_examples // 3))     # a third of the profile's: each is a round trip
@given(tool=st.sampled_from(API_TOOLS), args=st.dictionaries(st.sampled_from(sorted(FIELDS)) | st.text(max_size=8),
                                                          JSON, max_size=6))
def test_any_arguments_give_an_answer_or_a_contract_error_and_a_refusal_changes_nothing(shared_app, tool, args):
    async def scenario():
        async with mcp_client(shared_app) as client, rest_client(shared_app) as rest:
            before = (await rest.get("/v1/account")).json(), (await rest.get("/v1/mm/orders")).json()
            result = await client.call_tool(tool, args)
            after = (await rest.get("/v1/account")).json(), (await rest.get("/v1/mm/orders")).json()
            return result, before, after

    result, before, after = run(scenario)
    one_line(result)
    if result.is_error:
        assert_error_shape(error_body(result))
        assert error_body(result)["error"] not in ("internal_error", "upstream_error")
        assert after == before
    else:
        assert isinstance(result.structured_content, dict)


@pytest.mark.parametrize("tool", API_TOOLS)
def test_an_object_in_any_field_is_refused_naming_the_field(tool):
    app = app_for()

    async def scenario():
        async with mcp_client(app) as client:
            schema = next(t for t in (await client.list_tools()).tools if t.name == tool).input_schema
            return {name: await client.call_tool(tool, {"symbol": "BTC-PERP", name: {"x": 1}})
                    for name in schema["properties"]}

    for name, result in run(scenario).items():
        assert result.is_error, name
        assert error_body(result)["error"] == "invalid_request", (name, error_body(result))
        assert error_body(result)["field"] == name


@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT"])
def test_mcp_takes_only_posts(method):
    """Stateless: no stream of server messages to GET, no session to DELETE; answered at once, 405."""
    app = app_for()

    async def scenario():
        async with rest_client(app) as rest:
            return await rest.request(method, "/mcp", headers={"Accept": "text/event-stream"})

    answer = run(scenario)
    assert answer.status_code == 405 and answer.headers["allow"] == "POST"
    assert_error_shape(answer.json())
    assert answer.json()["error"] == "method_not_allowed"
