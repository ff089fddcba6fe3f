"""The in-process transport (``pf_mock/api/direct.py``) refuses a bad request with the very answer HTTP
gives: the same status, code, message and field, for each place a value can be wrong or missing (a body
field, the body itself, a query parameter) and for the core's own refusals. The oracle is the same app
over HTTP in process, on a second exchange of the same seed."""

from __future__ import annotations

import json

import pytest

from pf_mock.api import AppOptions, create_app, in_process_client
from pf_mock.api.direct import DirectTransport
from pf_mock.client.core import Call

from conftest import KEY, make_exchange

AUTH = {"Authorization": f"Bearer {KEY}"}

CASES = [
    ("POST", "/v1/mm/quote", None, {"symbol": "BTC-PERP", "bid_price": "x"}),    # a field of the wrong type
    ("POST", "/v1/mm/quote", None, {"bid_price": 1}),                             # a required field missing
    ("POST", "/v1/mm/quote", None, {}),
    ("POST", "/v1/mm/quote", None, [1]),                                          # a body that is no object
    ("POST", "/v1/mm/quote", None, None),                                         # no body at all
    ("GET", "/v1/mm/fills", {"limit": "abc"}, None),                              # a query value of the wrong type
    ("GET", "/v1/mm/fills", {"limit": 0}, None),                                  # ... below its bound
    ("GET", "/v1/mm/fills", {"limit": 1001}, None),                               # ... above it
    ("GET", "/v1/mm/inventory", {}, None),                                        # a required query parameter missing
    ("GET", "/v1/mm/orders", {"status": "weird"}, None),
    ("GET", "/v1/markets/BTC-PERP/candles", {"interval": "2m"}, None),
    ("POST", "/_mock/clock/advance", None, {"seconds": -1}),
    ("POST", "/v1/mm/hedge", None, {"symbol": "BTC-PERP", "hedge_pct": 500}),
    ("GET", "/v1/markets/NOPE-PERP", None, None),                                 # the core's refusal
]


@pytest.fixture(scope="module")
def both():
    over_http = in_process_client(create_app(make_exchange(), AppOptions()))
    direct = DirectTransport(create_app(make_exchange(), AppOptions()))
    return over_http, direct


@pytest.mark.parametrize("method, path, params, body", CASES)
def test_a_refusal_in_process_is_the_one_over_http(both, method, path, params, body) -> None:
    over_http, direct = both
    sent = {"json": body} if body is not None else {}
    expected = over_http.request(method, path, params=params, headers=AUTH, **sent)
    raw = direct.send(Call(method, path, params=params, json=body), AUTH)
    got = json.loads(raw.body) if isinstance(raw.body, bytes) else raw.body
    assert (raw.status, got) == (expected.status_code, expected.json())
