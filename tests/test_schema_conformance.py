"""Schemathesis over the whole API: every operation of the served OpenAPI schema, with positive and
negative examples and every check it has (no 5xx; status codes, headers and answers conform to the
schema; invalid input is rejected; valid input is accepted; auth is not ignored; ...).

Valid input is accepted (2xx, or a documented 401/404/409/429) with the exceptions listed in
``BUSINESS_RULES``: operations whose schema-valid requests can still break a rule no JSON schema can
state (a quote crossed or under the minimum once rounded to the grid, margin, one of two query
parameters, a scenario document's own schema, a fault's own rules). Each is documented on the route.
A modest number of examples per operation keeps the run to a minute or two on two cores."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS
from schemathesis.config import SchemathesisConfig

from pf_mock.api import create_app
from pf_mock.exchange import Exchange, ExchangeConfig

KEY = "pf_test_schemathesis_key"
ACCEPTED = ["2xx", "401", "404", "409", "429"]
BUSINESS_RULES = {     # path -> statuses a schema-valid request may also get, and why
    "/v1/mm/quote": ["400", "402"],          # crossed_quote, order_too_small, a side's pair; insufficient_balance
    "/v1/mm/hedge": ["400"],                 # order_too_small: hedge_pct of the position rounds to no lot
    "/v1/mm/pnl": ["400"],                   # window and since together; since after until
    "/_mock/scenario": ["400"],              # invalid_scenario: the document's own schema
    "/_mock/faults": ["400"],                # a method name, an error code, a path pattern that must compile
    "/_mock/restore": ["400"],               # invalid_snapshot: the snapshot document's own rules
}
# POST /_mock/restore without the coverage phase: the snapshot document's schema alone gave it ~4,000
# coverage cases (most of this file's time, and of its collection in every worker). Its examples and
# generated cases still run here with every check; the coverage phase's job — each field wrong in each
# way the schema rules out, each bound met and just passed — is test_snapshot_fields.py's, in the core,
# one fault per otherwise valid document, the refusal naming that field and changing nothing.
NO_COVERAGE = {"/_mock/restore"}
# The agent's key goes in through schemathesis's own auth, not over the generated request: a negative case
# whose invalid part is the Authorization header then reaches the server as generated (and gets its 401),
# where a key written over it afterwards would turn it into a valid request the check calls accepted.
CONFIG = SchemathesisConfig.from_dict({"auth": {"openapi": {"Bearer": {"bearer": KEY}}}, "operations": [
    {"include-path": path, "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED + extra}},
     **({"phases": {"coverage": {"enabled": False}}} if path in NO_COVERAGE else {})}
    for path, extra in BUSINESS_RULES.items()]})

APP = create_app(Exchange(ExchangeConfig(seed=7)))
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)


@SCHEMA.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_schema(case):
    APP.state.faults.clear()        # a rule an earlier example added must not answer for this one
    case.call_and_validate(checks=list(CHECKS.get_all()))
