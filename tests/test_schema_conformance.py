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

from conftest import openapi_document
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
def config(restore_mode: str = "all") -> SchemathesisConfig:
    return SchemathesisConfig.from_dict({"auth": {"openapi": {"Bearer": {"bearer": KEY}}}, "operations": [
        {"include-path": path, "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED + extra}},
         **({"phases": {"coverage": {"enabled": False}, "fuzzing": {"generation": {"mode": restore_mode}}}}
            if path in NO_COVERAGE else {})}
        for path, extra in BUSINESS_RULES.items()]})


APP = create_app(Exchange(ExchangeConfig(seed=7)))
# The document the app serves at /openapi.json is a function of its routes alone, the same for every
# exchange: the copy conftest built once for this process (the collection of other modules reads it too)
# saves building it again here (0.3 s of CPU in every xdist worker).
APP.openapi_schema = openapi_document()
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP, config=config())


def check(case) -> None:
    APP.state.faults.clear()        # a rule an earlier example added must not answer for this one
    case.call_and_validate(checks=list(CHECKS.get_all()))


@SCHEMA.exclude(path="/_mock/restore").parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_schema(case):
    check(case)


# POST /_mock/restore on its own, a few schema-valid documents and a few schema-invalid ones (each kind
# its own test, so that both always run): drawing one schema-valid snapshot document costs hypothesis a
# second or more of CPU (the schema nests 30 objects), and the 12 cases it had here (7 valid, 5 invalid)
# were three quarters of this file's time. Every one of them was refused at the body's JSON or at the
# first field the document's own rules check (400 invalid_snapshot, "ran_to_us: Input should be a valid
# integer"), as 3 of each kind are. The profiles with more examples (``thorough``, ``ci-long``) get 12 each.
# The second schema reuses the app's OpenAPI document (FastAPI keeps it); only restore is left in it (an
# include filter would be OR-ed with the one the per-operation configuration adds, and keep everything).
RESTORE_EXAMPLES = 12 if settings.default.max_examples >= 100 else 3
RESTORE = {mode: schemathesis.openapi.from_asgi("/openapi.json", APP, config=config(mode)).exclude(
           func=lambda context: context.operation.path != "/_mock/restore") for mode in ("positive", "negative")}


@RESTORE["positive"].parametrize()
@settings(max_examples=RESTORE_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_a_schema_valid_snapshot_is_restored_or_refused_in_the_contracts_shape(case):
    check(case)


@RESTORE["negative"].parametrize()
@settings(max_examples=RESTORE_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_a_schema_invalid_snapshot_is_refused_in_the_contracts_shape(case):
    check(case)
