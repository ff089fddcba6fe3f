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
from hypothesis import HealthCheck, assume, settings
from jsonschema import Draft202012Validator
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
# its own test, so that both always run), every check on each. The snapshot document's schema nests 30
# objects, most of them in arrays and maps of up to 512 or 100,000 entries, and hypothesis draws about five
# entries a level: a whole document drawn from it was 1,000 to 12,000 choices, a second or more of CPU, and
# half the draws went past hypothesis's budget for one example (an overrun: drawn, then thrown away without
# a request). So the two tests here draw from a copy of the served document in which every array and map of
# the snapshot's schema holds at most CAP entries: a subset of the served schema, so a document valid there
# is valid as served, and no draw overruns (3 valid documents: 0.7 CPU-s instead of 3.1, with 3 overruns
# among 6 draws; 3 invalid ones: 1.0 instead of 7.5, 3 overruns among 9). A negative document whose only
# fault is an entry past the copy's CAP is valid as served: it is not one this test may call invalid, and
# it is left out (hypothesis's assume, so it does not count as one of the examples). The profiles with
# more examples (``thorough``, ``ci-long``) run 12 of each, on the served schema itself.
# The documents drawn either way are refused at the body's JSON or at the first field the document's own
# rules check (400 invalid_snapshot); what the snapshot's rules are, field by field, is test_snapshot_fields.py's.
# Only restore is left in these schemas (an include filter would be OR-ed with the one the per-operation
# configuration adds, and keep everything).
THOROUGH = settings.default.max_examples >= 100
RESTORE_EXAMPLES = 12 if THOROUGH else 3
CAP = 3


def _component_names(node) -> set[str]:
    """The names of the components ``node`` refers to, directly."""
    if isinstance(node, dict):
        return set().union(*map(_component_names, node.values()),
                           {node["$ref"].rsplit("/", 1)[-1]} if isinstance(node.get("$ref"), str) else set())
    if isinstance(node, list):
        return set().union(*map(_component_names, node))
    return set()


def _reachable(components: dict, names: set[str]) -> set[str]:
    seen: set[str] = set()
    while names:
        name = names.pop()
        if name not in seen:
            seen.add(name)
            names |= _component_names(components[name])
    return seen


def _capped(node) -> None:
    """Each array (but a tuple's fixed items) and each map (an object of unnamed keys) of ``node`` holds at
    most CAP entries, or its minimum if that is more; nothing else changes."""
    if isinstance(node, dict):
        if node.get("type") == "array" and "prefixItems" not in node:
            node["maxItems"] = max(node.get("minItems", 0), min(node.get("maxItems", CAP), CAP))
        if (node.get("type") == "object" and "properties" not in node
                and ("patternProperties" in node or node.get("additionalProperties", False) is not False)):
            node["maxProperties"] = max(node.get("minProperties", 0), min(node.get("maxProperties", CAP), CAP))
        for child in node.values():
            _capped(child)
    elif isinstance(node, list):
        for child in node:
            _capped(child)


def restore_document() -> dict:
    """The served document with the snapshot's arrays and maps capped at CAP entries (served as is under
    the profiles with more examples). Only the snapshot's own components change: none of them is in an answer
    of /_mock/restore, whose answers are checked against the schema as served."""
    document = openapi_document()
    if THOROUGH:
        return document
    components = document["components"]["schemas"]
    snapshot = _reachable(components, {"Snapshot"})
    answers = _component_names(document["paths"]["/_mock/restore"]["post"]["responses"])
    assert not snapshot & _reachable(components, answers), "an answer of restore shares the snapshot's schemas"
    for name in snapshot:
        _capped(components[name])
    return document


def _snapshot_validator(document: dict) -> Draft202012Validator:
    return Draft202012Validator({"$ref": "#/components/schemas/Snapshot", "components": document["components"]})


SERVED_SNAPSHOT, DRAWN_SNAPSHOT = _snapshot_validator(openapi_document()), _snapshot_validator(restore_document())


def _restore_schema(mode: str):
    schema = schemathesis.openapi.from_dict(restore_document(), config=config(mode))
    schema.app = APP
    return schema.exclude(func=lambda context: context.operation.path != "/_mock/restore")


RESTORE = {mode: _restore_schema(mode) for mode in ("positive", "negative")}


@RESTORE["positive"].parametrize()
@settings(max_examples=RESTORE_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_a_schema_valid_snapshot_is_restored_or_refused_in_the_contracts_shape(case):
    check(case)


@RESTORE["negative"].parametrize()
@settings(max_examples=RESTORE_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_a_schema_invalid_snapshot_is_refused_in_the_contracts_shape(case):
    body = case.body
    if isinstance(body, (dict, list)):
        assume(DRAWN_SNAPSHOT.is_valid(body) or not SERVED_SNAPSHOT.is_valid(body))
    check(case)
