"""The served OpenAPI schema and the core agree, because they are the same declarations
(``pf_mock.messages``): the core's request types are the HTTP bodies, the core's answers are the
response models, the error catalogue gives the documented statuses, and /docs works offline."""

from __future__ import annotations

import inspect
import re
import typing

import pytest
from conftest import openapi_document
from pydantic import TypeAdapter

from pf_mock import messages
from pf_mock.api import create_app, in_process_client
from pf_mock.book import TIME_IN_FORCE
from pf_mock.errors import CATALOGUE, ApiError
from pf_mock.exchange import Exchange, ExchangeConfig
from pf_mock.messages import MAX_QUOTE_NUMBER, MIN_REFRESH_INTERVAL_S, QuoteRequest
from pf_mock.guardrails import NAMES as GUARDRAILS

KEY = "pf_test_schema_agreement"
APP = create_app(Exchange(ExchangeConfig(seed=3)))
# The document this app builds (the same bytes: no exchange setting enters it), built once per process
# (tests/conftest.py) rather than again here in every worker that collects the suite. FastAPI's public
# attribute: the app serves and returns it as its own.
APP.openapi_schema = openapi_document()
SCHEMA = APP.openapi()
OPERATIONS = [(path, method, op) for path, item in SCHEMA["paths"].items() for method, op in item.items()]


def resolve(schema: dict) -> dict:
    ref = schema.get("$ref")
    return SCHEMA["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def body_schema(path: str) -> dict:
    content = SCHEMA["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return resolve(content)


def nullable(prop: dict) -> dict:
    """The non-null branch of an ``anyOf: [X, null]`` property."""
    return next((b for b in prop.get("anyOf", [prop]) if b.get("type") != "null"), prop)


def test_the_core_takes_the_http_body_itself():
    # One declaration: Exchange.quote's parameter type is the class the route validates the body with.
    hints = typing.get_type_hints(Exchange.quote)
    assert hints["req"] is QuoteRequest
    route = next(r for r in _routes(APP.routes) if r.path == "/v1/mm/quote")
    assert route.body_field.field_info.annotation is QuoteRequest
    served = body_schema("/v1/mm/quote")
    own = TypeAdapter(QuoteRequest).json_schema()
    assert served["properties"].keys() == own["properties"].keys()
    assert served["required"] == own["required"] == ["symbol"]


def _routes(routes):
    for route in routes:
        inner = getattr(route, "original_router", None)      # an included router (FastAPI >= 0.16x)
        if inner is not None:
            yield from _routes(inner.routes)
        elif hasattr(route, "body_field"):
            yield route


def test_the_quote_body_states_the_ranges_the_core_enforces():
    props = body_schema("/v1/mm/quote")["properties"]
    assert set(nullable(props["time_in_force"])["enum"]) == set(TIME_IN_FORCE)
    for name in ("bid_price", "bid_size", "ask_price", "ask_size", *GUARDRAILS):
        branch = nullable(props[name])
        assert (branch["exclusiveMinimum"], branch["maximum"]) == (0, MAX_QUOTE_NUMBER), name
        assert props[name].get("description") or branch.get("description"), name
    assert nullable(props["refresh_interval_seconds"])["minimum"] == MIN_REFRESH_INTERVAL_S
    assert set(GUARDRAILS) <= props.keys()


def test_the_documented_ranges_are_the_enforced_ones():
    client = in_process_client(APP, headers={"Authorization": f"Bearer {KEY}"})
    mid = client.get("/v1/markets/BTC-PERP/price").json()["mid"]
    base = {"symbol": "BTC-PERP", "bid_price": round(mid * 0.99), "bid_size": 100.0}
    for field, bad, good in (("refresh_interval_seconds", 0.49, 0.5), ("bid_size", MAX_QUOTE_NUMBER * 1.001, 100.0),
                             ("max_spread_bps", 0.0, 1e-9), ("time_in_force", "FOK", "ALO")):
        refused = client.post("/v1/mm/quote", json={**base, field: bad})
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_request", refused.text
        assert refused.json()["field"] == field
        accepted = client.post("/v1/mm/quote", json={**base, field: good})
        assert accepted.status_code == 200, accepted.text
    params = SCHEMA["paths"]["/v1/markets/{symbol}/orderbook"]["get"]["parameters"]
    depth = next(p for p in params if p["name"] == "depth")["schema"]
    assert (depth["minimum"], depth["maximum"]) == (1, 50)
    for depth_given, status in ((0, 400), (1, 200), (50, 200), (51, 400)):
        assert client.get("/v1/markets/btc/orderbook", params={"depth": depth_given}).status_code == status


def test_the_answer_of_a_route_is_the_core_read_method_s_message():
    ex = Exchange(ExchangeConfig(seed=5))
    client = in_process_client(create_app(ex))
    for path, call in (("/v1/markets/ETH-PERP", lambda: ex.market_detail("ETH-PERP")),
                       ("/v1/markets/ETH-PERP/price", lambda: ex.price("ETH-PERP")),
                       ("/v1/markets/ETH-PERP/orderbook?depth=7", lambda: ex.orderbook("ETH-PERP", 7)),
                       ("/v1/markets/ETH-PERP/candles?interval=5m", lambda: ex.candles("ETH-PERP", "5m")),
                       ("/v1/markets/ETH-PERP/trades?limit=3", lambda: ex.trades("ETH-PERP", 3))):
        assert client.get(path).json() == call().model_dump(mode="json"), path


def test_every_route_has_a_response_model_a_tag_and_its_error_statuses():
    assert OPERATIONS
    for path, method, op in OPERATIONS:
        where = f"{method.upper()} {path}"
        assert op.get("tags"), where
        ok = [s for s in op["responses"] if s.startswith("2")]
        assert len(ok) == 1, where
        content = op["responses"][ok[0]]["content"]["application/json"]["schema"]
        assert "$ref" in content, f"{where} answers an untyped object"
        assert "422" not in op["responses"], where
        errors = {s: r for s, r in op["responses"].items() if not s.startswith("2")}
        takes_input = bool(op.get("parameters") or op.get("requestBody"))
        assert ("400" in errors) == takes_input, where
        for status, response in errors.items():
            assert response["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody"), where
            codes = re.findall(r"`([a-z_]+)`:", response["description"])
            assert codes and all(CATALOGUE[c].status == int(status) for c in codes), (where, status)


def test_authenticated_routes_declare_both_key_schemes():
    schemes = SCHEMA["components"]["securitySchemes"]
    assert schemes["Bearer"]["scheme"] == "bearer"
    assert (schemes["X-API-Key"]["in"], schemes["X-API-Key"]["name"]) == ("header", "X-API-Key")
    for path, method, op in OPERATIONS:
        keyed = path.startswith("/v1/mm") or path in ("/v1/account", "/v1/faucet/claim")
        declared = {name for requirement in op.get("security", []) for name in requirement}
        assert declared == ({"Bearer", "X-API-Key"} if keyed else set()), f"{method} {path}"
        assert ("401" in op["responses"]) == (keyed or path.startswith("/_mock")), f"{method} {path}"


def test_every_error_the_code_raises_is_in_the_catalogue():
    with pytest.raises(ValueError):
        ApiError(400, "no_such_code", "x")
    with pytest.raises(ValueError):
        ApiError(404, "invalid_request", "x")      # a known code with the wrong status
    source = "".join(inspect.getsource(m) for m in _core_and_api_modules())
    raised = set(re.findall(r'ApiError\(\s*\d{3},\s*"([a-z_]+)"', source))
    raised |= set(re.findall(r'error_response\(\s*\d{3},\s*"([a-z_]+)"', source))
    assert raised and raised <= CATALOGUE.keys()


def _core_and_api_modules():
    import pkgutil

    import pf_mock
    for info in pkgutil.walk_packages(pf_mock.__path__, "pf_mock."):
        if info.name not in ("pf_mock.__main__",):
            yield __import__(info.name, fromlist=["_"])


def test_docs_and_redoc_load_nothing_from_another_host():
    client = in_process_client(APP)
    for page in ("/docs", "/redoc"):
        html = client.get(page)
        assert html.status_code == 200
        assert not re.search(r"(src|href)=['\"]?(https?:)?//", html.text), page
        for asset in re.findall(r"(?:src|href)=['\"]?(/docs-assets/[^'\" >]+)", html.text):
            assert client.get(asset).status_code == 200, asset
    assert "swagger-ui-bundle.js" in client.get("/docs").text and "redoc.standalone.js" in client.get("/redoc").text
