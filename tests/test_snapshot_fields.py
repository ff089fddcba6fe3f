"""Every field of the snapshot document, one at a time, against its declaration — in the core, no HTTP.

A valid document with something in every part (test_snapshot_hostile's ``base``) is walked together
with its JSON Schema (``state_document.json_schema()``, the one ``POST /_mock/restore`` publishes).
Every schema position it reaches (list indexes folded, each branch of a union on its own) is edited
one way at a time — the wrong JSON type, null where none is allowed, a required field dropped, an
unknown field added, each bound just past (a number, a string's length and pattern, a list's length,
an enum), a tuple row one short — and ``state.restore`` must refuse it with ``InvalidState`` whose
``field`` is that field, leaving the exchange the same bytes. Each bound is also met exactly, and the
document's reading (``state.read``) must take it: every boundary pinned from both sides; and put into
the whole (consistent) synthetic documents, the build must take it or refuse it, never crash.

This replaces schemathesis' coverage phase for ``POST /_mock/restore`` (test_schema_conformance turns
it off for that operation only): those cases are whole documents drawn from the schema, wrong in many
places at once, and pass on any 4xx; here each case is wrong in exactly one place, and the refusal
must name it and change nothing."""

from __future__ import annotations

import copy
import functools
import json
import math
import re

from jsonschema import Draft202012Validator

from pf_mock import state
from pf_mock.errors import InvalidState
from pf_mock.exchange import Exchange, ExchangeConfig
from pf_mock.state_document import json_schema
from app_client import in_process
from test_snapshot_hostile import base_bytes
from test_snapshot_replay import busy_document

SCHEMA = json_schema()
DEFS = SCHEMA.get("$defs", {})
TYPE_OF = {str: "string", bool: "boolean", int: "integer", float: "number", list: "array", dict: "object",
           type(None): "null"}
WRONG = ["7", 7, 0.5, True, None, [], {}]          # one value of each JSON type (the string holds a number)
LONGEST_LIST_TRIED = 10_000                         # a maxItems past this is left to the core's own bound


def resolve(node: dict) -> dict:
    while "$ref" in node:
        node = {**DEFS[node["$ref"].split("/")[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
    return node


VALIDATORS: dict[int, Draft202012Validator] = {}


def valid(value, node: dict) -> bool:
    found = VALIDATORS.get(id(node))
    if found is None:
        found = VALIDATORS[id(node)] = Draft202012Validator({**node, "$defs": DEFS})
    return found.is_valid(value)


def branch_of(value, node: dict, branches: list) -> int:
    """The index of the union's branch ``value`` fits: by the discriminator, null, a constant field, or
    the one other branch of an optional field; else the first the value validates against."""
    if value is None:
        found = [i for i, b in enumerate(branches) if resolve(b).get("type") == "null"]
        if found:
            return found[0]
    tag = node.get("discriminator")
    if tag and isinstance(value, dict) and value.get(tag["propertyName"]) in tag.get("mapping", {}):
        ref = tag["mapping"][value[tag["propertyName"]]]
        return next(i for i, b in enumerate(branches) if b.get("$ref") == ref)
    others = [i for i, b in enumerate(branches) if resolve(b).get("type") != "null"]
    if isinstance(value, dict):             # entries told apart by a constant field (``source``)
        others = [i for i in others if all(value.get(k) == p["const"] for k, p in
                                           resolve(branches[i]).get("properties", {}).items() if "const" in p)]
    if len(others) == 1:                    # the documents walked are valid (the tests read them first)
        return others[0]
    for i, branch in enumerate(branches):
        if valid(value, branch):
            return i
    raise AssertionError(f"the document does not fit its schema: {str(value)[:80]}")


def json_type(value) -> str:
    return TYPE_OF[type(value)]


def types_allowed(node: dict) -> set[str] | None:
    """The JSON types a node takes (None: any)."""
    node = resolve(node)
    if "anyOf" in node or "oneOf" in node:
        found: set[str] = set()
        for branch in node.get("anyOf", node.get("oneOf")):
            more = types_allowed(branch)
            if more is None:
                return None
            found |= more
        return found
    if "const" in node:
        return {json_type(node["const"])}
    if "enum" in node:
        return {json_type(v) for v in node["enum"]}
    kind = node.get("type")
    if kind is None:
        return None
    kinds = {kind} if isinstance(kind, str) else set(kind)
    return kinds | ({"integer"} if "number" in kinds else set())


def same_json_type(value, allowed: set[str]) -> bool:
    kind = json_type(value)
    return kind in allowed or (kind == "integer" and "number" in allowed)


def positions(value, node: dict, path: tuple = (), key: tuple = ()):
    """(path, schema node, value, folded key) for every position of the document, its branches chosen."""
    node = resolve(node)
    branches = node.get("anyOf", node.get("oneOf"))
    if branches is not None:
        i = branch_of(value, node, branches)
        yield path, node, value, key
        yield from positions(value, branches[i], path, key + (f"|{i}",))
        return
        raise AssertionError(f"the base document does not fit its schema at {path}")
    yield path, node, value, key
    if isinstance(value, dict):
        for name, child in value.items():
            sub = node.get("properties", {}).get(name)
            if sub is None:
                sub = node.get("additionalProperties")
                sub = sub if isinstance(sub, dict) else {}
                yield from positions(child, sub, path + (name,), key + ("{}",))
            else:
                yield from positions(child, sub, path + (name,), key + (name,))
    elif isinstance(value, list):
        fixed = node.get("prefixItems", [])
        for i, child in enumerate(value):
            if i < len(fixed):
                yield from positions(child, fixed[i], path + (i,), key + (i,))
            else:
                yield from positions(child, node.get("items", {}), path + (i,), key + ("*",))


@functools.lru_cache(maxsize=1)
def on_their_way() -> bytes:
    """A synthetic exchange with an order-entry latency: a quote and a cancel on their way to the book,
    and a scenario's regime change in force, its restore pending."""
    with in_process(seed=5, latency_ms=250, scenario="spread_blowout") as mock:
        mock.advance(61)
        mid = mock.client.get("/v1/markets/BTC-PERP/price").json()["mid"]
        for body in ({"symbol": "BTC-PERP", "bid_price": mid * 0.999, "bid_size": 100},):
            assert mock.client.post("/v1/mm/quote", json=body).status_code == 200
        assert mock.client.post("/v1/mm/cancel", json={"symbol": "BTC-PERP"}).status_code == 200
        document = mock._control.post("/_mock/snapshot").content
    kinds = {e[2]["type"] for m in json.loads(document)["markets"] for e in m["schedule"]}
    assert {"quote", "cancel", "scenario_restore"} <= kinds, kinds
    return document


def documents() -> list[dict]:
    """The valid documents walked: a synthetic exchange with something in every part, a replayed market
    with orders and cancels on their way, and messages on their way to a synthetic book."""
    return [json.loads(base_bytes()), json.loads(busy_document()), json.loads(on_their_way())]


def trimmed(value, node: dict, seen: set, key: tuple = ()):
    """``value`` with only the elements of its lists that bring a schema position not ``seen`` before
    (and at least as many as the list needs): the same positions, a fraction of the bytes to read."""
    node = resolve(node)
    branches = node.get("anyOf", node.get("oneOf"))
    if branches is not None:
        i = branch_of(value, node, branches)
        return trimmed(value, branches[i], seen, key + (f"|{i}",))
    if isinstance(value, dict):
        props = node.get("properties", {})
        extra = node.get("additionalProperties")
        return {name: trimmed(child, props.get(name, extra if isinstance(extra, dict) else {}), seen,
                              key + ((name,) if name in props else ("{}",)))
                for name, child in value.items()}
    if isinstance(value, list):
        fixed = node.get("prefixItems", [])
        kept = []
        for i, child in enumerate(value):
            if i < len(fixed):
                kept.append(trimmed(child, fixed[i], seen, key + (i,)))
                continue
            brings = {k for *_, k in positions(child, node.get("items", {}), (), key + ("*",))}
            if brings - seen or len(kept) < node.get("minItems", 0):
                child = trimmed(child, node.get("items", {}), seen, key + ("*",))
                seen |= {k for *_, k in positions(child, node.get("items", {}), (), key + ("*",))}
                kept.append(child)
        return kept
    return value


@functools.lru_cache(maxsize=1)
def small_documents() -> list[dict]:
    seen: set = set()
    return [trimmed(document, SCHEMA, seen) for document in documents()]


def one_of_each(walked=None) -> list[tuple]:
    """(document's index, path, schema node, value): the first place of each schema position."""
    seen: dict[tuple, tuple] = {}
    for n, document in enumerate(walked or small_documents()):
        for path, node, value, key in positions(document, SCHEMA):
            if not (key and isinstance(key[-1], str) and key[-1].startswith("|")):     # a union's branch: below
                seen.setdefault(key, (n, path, node, value))
    return list(seen.values())


def just_past(bound, integer: bool, up: bool):
    if integer:
        return bound + 1 if up else bound - 1
    step = max(abs(bound) * 1e-9, 1e-9)
    return bound + step if up else bound - step


def non_matching(pattern: str) -> str | None:
    for candidate in ("", "\u2603", " x", "x" * 200, "0", "ab-CD", "BTC-PERP", "pf_test_abcdefgh"):
        if re.search(pattern, candidate) is None:
            return candidate
    return None


def cases(walked=None):
    """(document's index, path, new value or DROP, refused field or None: the reading must take it)."""
    for n, path, node, value in one_of_each(walked):
        allowed = types_allowed(node)
        here = ".".join(map(str, path))
        if path and allowed is not None:
            wrong = [w for w in WRONG if not same_json_type(w, allowed)]
            for w in wrong[:3] + ([None] if None in wrong[3:] else []):
                yield n, path, w, here
        kind = json_type(value)
        if kind in ("integer", "number") and not isinstance(value, bool):
            integer = "integer" in (allowed or ()) and "number" not in (allowed or ())
            for name, up, inclusive in (("minimum", False, True), ("maximum", True, True),
                                        ("exclusiveMinimum", False, False), ("exclusiveMaximum", True, False)):
                if name in node and math.isfinite(node[name]):
                    bound = node[name]
                    yield n, path, (just_past(bound, integer, up) if inclusive else bound), here
                    if inclusive:
                        yield n, path, bound, None
                    else:
                        yield n, path, just_past(bound, integer, not up), None
        if kind == "string":
            if "maxLength" in node:
                yield n, path, "a" * (node["maxLength"] + 1), here
            if node.get("minLength", 0) > 0:
                yield n, path, "a" * (node["minLength"] - 1), here
            if "pattern" in node:
                bad = non_matching(node["pattern"])
                if bad is not None:
                    yield n, path, bad, here
        if "enum" in node:
            yield n, path, "not-one-of-them" if kind == "string" else -12345, here
            for member in node["enum"]:
                yield n, path, member, None
        if "const" in node and path:
            yield n, path, ("other" if kind == "string" else -12345), here
        if kind == "array":
            if node.get("minItems", 0) > 0:
                yield n, path, value[:node["minItems"] - 1], here
            if value and node.get("maxItems", math.inf) <= LONGEST_LIST_TRIED and "prefixItems" not in node:
                yield n, path, value + [value[-1]] * (node["maxItems"] + 1 - len(value)), here
            if "prefixItems" in node and node.get("minItems", 0) == len(value):
                yield n, path, value[:-1], here
        if kind == "object":
            required = set(node.get("required", ()))
            for name in node.get("properties", {}):
                if name in value:
                    yield n, path + (name,), DROP, (".".join(map(str, path + (name,))) if name in required else None)
            if node.get("additionalProperties") is False:
                yield n, path + ("no_such_field",), 1, ".".join(map(str, path + ("no_such_field",)))


DROP = object()


def edited(document: dict, path: tuple, new) -> dict:
    """``document`` with ``new`` at ``path`` (or the field dropped), copying only the containers on the path."""
    document = copy.copy(document)
    *parents, last = path
    node = document
    for p in parents:
        node[p] = copy.copy(node[p])
        node = node[p]
    if new is DROP:
        del node[last]
    else:
        node[last] = new
    return document


def at(document, path: tuple):
    """What is at ``path`` (None where nothing is: an optional field left out)."""
    for p in path:
        try:
            document = document[p]
        except (KeyError, IndexError):
            return None
    return document


CASES = None


def all_cases() -> list[tuple]:
    global CASES
    if CASES is None:
        CASES = list(cases())
    return CASES


def named(refused: str, field: str, document: dict) -> bool:
    """Whether a refusal's ``field`` names ``field``: the same path, or one inside it, once the names of
    union members the validator adds (``refresh``, ``StateRegimeChange``, ``int``: no key of the document)
    are left out. The discriminator (``type``) of a tagged entry is named by its entry."""
    parts, node, out, entry = refused.split("."), document, [], None
    for i, part in enumerate(parts):
        key = int(part) if part.isdigit() and isinstance(node, list) else part
        if isinstance(node, dict) and key in node or isinstance(node, list) and isinstance(key, int) \
                and key < len(node):
            node = node[key]
            out.append(part)
        elif isinstance(node, dict) and i == len(parts) - 1:
            out.append(part)                    # a field that is missing, or unknown
        elif part in DEFS and entry is None:    # a member of an untagged union: the validator tried them all
            entry = ".".join(out)
        # else: a tagged union's member, or a scalar type's name
    shown = ".".join(out)
    if shown == field or shown.startswith(field + "."):
        return True
    if entry is not None and (field == entry or field.startswith(entry + ".")):
        return True                             # an entry of an untagged union that fits none of its kinds
    return field.endswith(".type") and shown == field.rsplit(".", 1)[0]


# Where the reader takes what the published schema refuses (path, value): the test fails when one
# is no longer so, to be taken off this list. ``Literal[0, 1]`` takes ``true`` as 1 (True == 1 in Python);
# harmless to the reader, which compares the side with 0 and 1, but not what the schema says.
KNOWN = {("markets.0.pending.0.2", "True")}       # the replayed market's pending rows: [.., .., side, ..]
CHECK_EVERY = 50         # cases between two looks at the whole exchange (a change made by one stays)


def test_every_field_of_the_document_is_checked_one_edit_at_a_time():
    small = small_documents()
    for document in small:
        state.read(document)                    # the trimmed documents are valid: one edit, one fault
    target = Exchange(ExchangeConfig(seed=9))
    state.restore(target, base_bytes())
    before = state.dumps(state.snapshot(target))
    assert before == base_bytes()           # the oracle of "unchanged": a document is the state, exactly
    found = all_cases()
    failures, since, known = [], [], set()
    for i, (n, path, new, field) in enumerate(found):
        doc = edited(small[n], path, new)
        shown = "DROP" if new is DROP else repr(new)[:40]
        where = ".".join(map(str, path))
        if field is None:
            try:
                state.read(doc)
            except InvalidState as exc:
                failures.append(f"{where} = {shown}: refused, must be taken ({exc})")
            continue
        try:
            state.restore(target, doc)
        except InvalidState as exc:
            if (where, shown) in KNOWN and state.read(doc):
                known.add((where, shown))
            elif not named(exc.field, field, doc):
                failures.append(f"{field} = {shown}: refused naming {exc.field} ({exc.rule})")
            elif not exc.rule:
                failures.append(f"{field} = {shown}: refused without a rule")
        else:
            failures.append(f"{field} = {shown}: taken")
            state.restore(target, base_bytes())
            continue
        since.append(f"{field} = {shown}")
        if len(since) == CHECK_EVERY or i == len(found) - 1:
            if state.dumps(state.snapshot(target)) != before:
                failures.append(f"the exchange changed during one of these refusals: {since}")
                state.restore(target, base_bytes())
            since = []
    assert not failures, f"{len(failures)} of {len(found)}:\n" + "\n".join(failures[:60])
    assert known == KNOWN, KNOWN - known


def test_every_bound_met_exactly_in_a_whole_document_is_taken_or_refused_never_a_crash():
    """The values the reading takes at the bounds, put into the whole synthetic documents (whose other
    parts are consistent), go on into the build: a refusal (a rule across fields) or a state, never
    another exception (a 500 over HTTP). The build touches nothing of the exchange's."""
    whole = documents()
    target = Exchange(ExchangeConfig(seed=9))
    crashed = []
    for n, path, new, field in cases(whole):
        if field is not None or n == 1:         # refusals: the test above; 1: a replayed market's own server
            continue
        if new is not DROP and type(at(whole[n], path)) is type(new) and at(whole[n], path) == new:
            continue                            # the value there already: the document itself
        try:
            state.build(target, edited(whole[n], path, new))
        except InvalidState:
            pass
        except Exception as exc:                # noqa: BLE001  (any other is the bug this looks for)
            crashed.append(f"{'.'.join(map(str, path))} = {new!r:.40}: {type(exc).__name__}: {exc}")
    assert not crashed, "\n".join(crashed)


def test_the_walk_reaches_every_part_of_the_declaration():
    """The walk is only as good as the documents it walks: every definition of the schema is reached,
    and the cases touch every top-level field."""
    reached = set()
    for document in small_documents():
        for _, node, _, _ in positions(document, SCHEMA):
            reached.add(node.get("title"))
    missing = {name for name, d in DEFS.items() if d.get("title", name) not in reached}
    assert not missing, missing
    everywhere = {k for document in documents() for *_, k in positions(document, SCHEMA)}
    kept = {k for document in small_documents() for *_, k in positions(document, SCHEMA)}
    assert kept == everywhere, everywhere - kept           # trimming the lists loses no position
    touched = {path[0] for _, path, _, _ in all_cases() if path}
    assert touched >= set(SCHEMA["properties"]), set(SCHEMA["properties"]) - touched
