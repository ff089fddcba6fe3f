"""One meaning per field: a tool's description, its output schema and ``docs/mcp-tools.md`` all say what
the answer models in ``pf_mock.messages`` say, and what they say holds on a running exchange."""

from __future__ import annotations

import json
from pathlib import Path

import anyio

from mcp_helpers import app_for, mcp_client, rest_client
from pf_mock import messages as m
from pf_mock.mcp import tools

ROOT = Path(__file__).resolve().parent.parent

# Each tool's answer model, written out here by hand (not read from the code under test).
ANSWERS = {
    "mm_post_quotes": m.QuoteAnswer, "mm_cancel": m.Cancelled, "mm_inventory": m.Inventory, "mm_hedge": m.Hedged,
    "mm_pnl": m.Pnl, "market_list": m.MarketList, "market_info": m.MarketDetail, "market_price": m.Price,
    "market_orderbook": m.OrderBookView, "market_trades": m.Trades, "market_candles": m.Candles, "mm_orders": m.Orders,
    "mm_fills": m.Fills, "mm_session": m.SessionView, "mm_session_reset": m.SessionView, "mm_account": m.Account,
    "mock_state": m.MockState, "mock_advance_clock": m.Advanced, "mock_load_scenario": m.ScenarioApplied,
    "mock_jump": m.Jumped, "mock_reset": m.MockState,
}
# The models of the lists of objects an answer holds, whose fields the description lists too.
ITEMS = {("mm_fills", "fills"): m.FillView, ("market_list", "markets"): m.MarketItem,
         ("mm_account", "positions"): m.Position, ("market_orderbook", "bids"): m.LevelView,
         ("market_orderbook", "asks"): m.LevelView, ("market_trades", "trades"): m.Print,
         ("market_candles", "candles"): m.CandleView}


def listed() -> dict:
    async def scenario():
        async with mcp_client(app_for(mcp_admin=True)) as client:
            return {t.name: t for t in (await client.list_tools()).tools}

    return anyio.run(scenario)


def meaning(model, name: str) -> str:
    info = model.model_fields[name]
    text = info.description
    if text is None:        # an annotated type's own description (Ms)
        text = next(meta.description for meta in info.metadata if getattr(meta, "description", None))
    return text.rstrip(".")


def test_every_answer_field_is_described_once_and_the_description_says_it():
    served = listed()
    assert set(served) == set(ANSWERS)
    for name, tool in served.items():
        model = ANSWERS[name]
        properties = tool.output_schema["properties"]
        assert set(properties) == set(model.model_fields), name
        for field in model.model_fields:
            text = meaning(model, field)
            assert text, (name, field)
            assert properties[field]["description"].rstrip(".") == text, (name, field)
            assert f"{field}: {text}" in tool.description, (name, field)
    for (name, field), model in ITEMS.items():
        for inner in model.model_fields:
            assert f"{field}[].{inner}: {meaning(model, inner)}" in served[name].description, (name, inner)


def test_the_tools_reference_page_is_written_from_the_tools():
    page = (ROOT / "docs" / "mcp-tools.md").read_text()
    assert page == tools.markdown(), "regenerate it: python -m pf_mock.mcp.tools > docs/mcp-tools.md"
    for name in ANSWERS:
        assert f"## `{name}`" in page


def test_no_two_texts_disagree_on_what_was_contradicted():
    served = listed()
    everything = json.dumps({n: [t.description, t.output_schema, t.input_schema] for n, t in served.items()})
    assert "at the mid" not in everything and "at mid" not in everything      # positions are at the mark price
    for name in ("mm_inventory", "mm_account"):
        assert "mark price" in served[name].description, name
    assert "mark_price:" in served["market_price"].description
    pnl = served["mm_pnl"]
    assert "inside hedge_cost" in pnl.output_schema["properties"]["fees"]["description"]
    assert "positive = a cost" in pnl.output_schema["properties"]["hedge_cost"]["description"]
    cursor = served["mm_orders"].input_schema["properties"]["cursor"]
    assert cursor["type"] == "string" and 'the string "0"' in cursor["description"]
    assert "or 0 " not in json.dumps(served["mm_orders"].input_schema)


def test_every_tool_that_changes_state_is_marked_destructive():
    # What each can take away (an oracle written here, not read from the code).
    loses = {"mm_post_quotes": "self-trade prevention cancels resting orders; its settings replace the session's",
             "mm_cancel": "orders", "mm_hedge": "the position", "mm_session_reset": "the stop",
             "mock_advance_clock": "orders fill and expire", "mock_load_scenario": "a seed resets the exchange",
             "mock_jump": "stale quotes are picked off", "mock_reset": "everything"}
    for name, tool in listed().items():
        hints = tool.annotations
        assert hints.destructive_hint is (name in loses), name
        assert hints.read_only_hint is (name not in loses), name


def test_what_the_descriptions_say_holds():
    """net_delta_usd and equity are at the mark price (not the mid), fees are part of hedge_cost."""
    app = app_for()

    async def scenario():
        async with mcp_client(app) as client, rest_client(app) as rest:
            price = (await rest.get("/v1/markets/BTC-PERP/price")).json()
            await rest.post("/v1/mm/quote", json={"symbol": "BTC-PERP", "bid_price": price["best_ask"] * 1.001,
                                                  "bid_size": 3000, "time_in_force": "IOC"})
            await rest.post("/_mock/clock/advance", json={"seconds": 5})
            inventory = (await client.call_tool("mm_inventory", {"symbol": "BTC-PERP"})).structured_content
            account = (await client.call_tool("mm_account", {})).structured_content
            now = (await client.call_tool("market_price", {"symbol": "BTC-PERP"})).structured_content
            pnl = (await client.call_tool("mm_pnl", {"symbol": "BTC-PERP"})).structured_content
            return inventory, account, now, pnl

    inventory, account, now, pnl = anyio.run(scenario)
    position, mark, mid = inventory["position"], inventory["mark_price"], now["mid"]
    assert position > 0 and mark == now["mark_price"]
    assert abs(position * mark - position * mid) > 0.01          # the two readings differ here
    assert abs(inventory["net_delta_usd"] - position * mark) < 0.01
    assert abs(account["positions"][0]["net_delta_usd"] - position * mark) < 0.01
    assert abs(account["equity_usd"] - (account["balance_usd"] + position * mark)) < 0.01
    assert pnl["fees"] > 0 and pnl["hedge_cost"] >= pnl["fees"]
    assert abs(pnl["net_pnl"] - (pnl["spread_income"] + pnl["rebates"] + pnl["inventory_pnl"]
                                 - pnl["hedge_cost"])) < 1e-6


def test_the_shipped_operations_document_is_the_routes_own():
    """The tools read the routes' operations from ``pf_mock/mcp/operations.json``: it must be exactly what
    the routes give now (key order included: it is the order of each tool's fields)."""
    from pf_mock.mcp import operations

    assert operations.shipped_document() == operations.written_document(), (
        "pf_mock/mcp/operations.json is stale: python -m pf_mock.mcp.operations")


def test_the_tools_are_built_without_the_web_framework():
    """What ``pf-mock mcp`` builds its tools from loads neither FastAPI nor the routes (about 1 CPU-s of
    its start): checked in a fresh interpreter, where nothing else has loaded them."""
    import subprocess
    import sys

    script = ("import sys\n"
              "from pf_mock.mcp import tools\n"
              "assert len([spec.tool() for spec in tools.tools(True)]) > 10\n"
              "print(sorted({'fastapi', 'starlette', 'uvicorn', 'pf_mock.api'} & set(sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
