"""A guardrail is one declaration (``pf_mock.guardrails``): its name, its parameter and its check. A toy
guardrail declared in a registry of this test's own becomes a request field with its range and
description; the real registry is what every front shows (the quote request, the app's OpenAPI schema,
the MCP tool's input schema, the typed client, the session, analytics)."""

from __future__ import annotations

import math

import pytest
from pydantic import TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

from pf_mock import guardrails as gr
from pf_mock import messages as m
from pf_mock.analytics import Analytics
from pf_mock.client.core import Call, Endpoints
from pf_mock.mcp import tools
from pf_mock.sessions import Session

TOY = gr.Guardrail("max_toy_usd", "USD", "Guardrail: a toy, declared by this test only.", 7.0,
                   "a toy reading", lambda reading, limit: reading > limit)
TOYS = (TOY, gr.STOP_LOSS)


@dataclass(config=m.BODY)
@m.guarded(TOYS)
class ToyRequest:
    symbol: m.Symbol


def test_a_toy_guardrail_is_a_request_field_with_its_range_and_description():
    schema = TypeAdapter(ToyRequest).json_schema()
    assert list(schema["properties"]) == ["symbol", "max_toy_usd", "session_stop_loss_usd"]
    toy = schema["properties"]["max_toy_usd"]
    assert toy["description"] == TOY.description and toy["examples"] == [7.0]
    number = next(s for s in toy["anyOf"] if s.get("type") == "number")
    assert (number["exclusiveMinimum"], number["maximum"]) == (0, m.MAX_QUOTE_NUMBER)
    assert schema["required"] == ["symbol"]


def test_a_toy_guardrail_is_read_back_by_name():
    req = ToyRequest(symbol="BTC-PERP", max_toy_usd=3.0)
    assert req.guardrails() == {"max_toy_usd": 3.0, "session_stop_loss_usd": None}
    assert ToyRequest(symbol="BTC-PERP").guardrails() == {"max_toy_usd": None, "session_stop_loss_usd": None}
    # the real request knows nothing of the toy
    assert "max_toy_usd" not in m.QuoteRequest(symbol="BTC-PERP").guardrails()


@pytest.mark.parametrize("value", [0, -1.0, m.MAX_QUOTE_NUMBER * 2, "5", True, math.inf, math.nan, [1]])
def test_a_toy_guardrail_refuses_what_is_no_positive_number(value):
    with pytest.raises(ValidationError):
        ToyRequest(symbol="BTC-PERP", max_toy_usd=value)


@pytest.mark.parametrize("value", [1e-9, 1, m.MAX_QUOTE_NUMBER])
def test_a_toy_guardrail_takes_a_positive_number_up_to_the_maximum(value):
    assert ToyRequest(symbol="BTC-PERP", max_toy_usd=value).max_toy_usd == value


def test_a_guardrail_name_is_a_lower_case_identifier():
    for bad in ("Max_toy", "max-toy", "max toy", ""):
        with pytest.raises(ValueError):
            gr.Guardrail(bad, "USD", "d", 1.0, "r", lambda a, b: False)


# ---- the real registry, as every front shows it --------------------------------------------------
def test_the_quote_request_has_one_field_per_guardrail_last():
    fields = list(TypeAdapter(m.QuoteRequest).json_schema()["properties"])
    assert tuple(fields[-len(gr.GUARDRAILS):]) == gr.NAMES
    assert set(m.QuoteRequest(symbol="BTC-PERP").guardrails()) == set(gr.NAMES)


def test_the_mcp_quote_tool_takes_every_guardrail_with_its_description():
    spec = next(t for t in tools.TOOLS if t.name == "mm_post_quotes")
    props = spec.tool().input_schema["properties"]
    for g in gr.GUARDRAILS:
        assert props[g.name]["description"] == g.description


class Recorder(Endpoints):
    def _call(self, call: Call):
        return call


def test_the_typed_client_sends_every_guardrail_and_refuses_other_names():
    call = Recorder().quote("BTC-PERP", bid_price=1.0, bid_size=20.0, **{n: float(i + 1) for i, n in enumerate(gr.NAMES)})
    assert {n: call.json[n] for n in gr.NAMES} == {n: float(i + 1) for i, n in enumerate(gr.NAMES)}
    with pytest.raises(TypeError, match="max_toy_usd"):
        Recorder().quote("BTC-PERP", bid_price=1.0, bid_size=20.0, max_toy_usd=5.0)


def test_sessions_and_analytics_count_every_guardrail():
    assert tuple(Session("BTC-PERP").guardrails) == gr.NAMES
    assert tuple(Analytics().for_agent("nobody").guardrail_trips) == gr.NAMES


# ---- each declared check, pinned from both sides ------------------------------------------------
def test_the_declared_checks():
    assert not gr.MAX_SPREAD.breached(50.0, 50.0) and gr.MAX_SPREAD.breached(50.000001, 50.0)
    assert not gr.AUTO_HEDGE.breached(-2000.0, 2000.0) and gr.AUTO_HEDGE.breached(-2000.01, 2000.0)
    assert gr.AUTO_HEDGE.breached(2000.01, 2000.0)
    assert gr.STOP_LOSS.breached(-500.0, 500.0) and not gr.STOP_LOSS.breached(-499.99, 500.0)
    assert not gr.MAX_INVENTORY.breached(-5000.0, 5000.0) and gr.MAX_INVENTORY.breached(5000.01, 5000.0)
    # whole lots within the limit at the mark: 1000 USD at 100 USD with 10 lots a unit is 100 lots
    assert gr.inventory_lots(1000.0, 10, 100.0) == 100
    assert gr.inventory_lots(1000.0, 10, 100.0000001) == 99
    assert gr.inventory_lots(0.3, 10, 0.1) == 30         # 0.3 * 10 / 0.1 is 29.999999999999996 in floats


def test_check_names():
    gr.check_names(gr.NAMES)
    with pytest.raises(TypeError):
        gr.check_names(["max_inventory"])
    gr.check_names(["max_toy_usd"], TOYS)
