"""The reference in docs/ keeps up with the code: every route the app serves and every error code the
code can answer with is documented there, and the docs stand alone (no link leaves the repository's
own files, every relative link resolves).

Error codes are read from the code itself, not from a list kept beside it: every ``(status, code)``
pair written together in pf_mock's source - the arguments of one call (``ApiError(409, "agent_exists",
...)``, ``error_response(429, "rate_limited", ...)``), one tuple, or one dict entry (``{404:
"not_found"}``) - wherever the catalogue of errors lives. A catalogue that declares its errors any of
those ways is read as it stands."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

from pf_mock.server import ServeOptions, build_app

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CODE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$|^[a-z]{4,}$")
SKIPPED_METHODS = {"HEAD", "OPTIONS"}


def docs_text() -> str:
    return "\n".join(page.read_text(encoding="utf-8") for page in sorted(DOCS.glob("*.md")))


@cache
def served_routes() -> frozenset[tuple[str, str]]:
    """(METHOD, path) of every route of a server with every option that adds routes turned on. Worked
    out once per run (four tests ask; the app is built the same way each time), frozen so no test can
    change what the next one reads."""
    app = build_app(ServeOptions(clock="manual", admin=True, rate_limit=10))
    found = {(method.upper(), path) for path, operations in app.openapi()["paths"].items()
             for method in operations if method.upper() not in SKIPPED_METHODS}

    def walk(routes) -> None:
        for route in routes:
            if getattr(route, "path", None) and getattr(route, "methods", None):
                found.update((m, route.path) for m in route.methods if m not in SKIPPED_METHODS)
            nested = getattr(route, "original_router", None) or getattr(route, "app", None)
            if getattr(nested, "routes", None):
                walk(nested.routes)

    walk(app.routes)
    return frozenset(found)


def _status(node: ast.AST) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int and 400 <= node.value <= 599:
        return node.value
    return None


def _code(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.match(node.value):
        return node.value
    return None


def catalogued_codes() -> set[tuple[int, str]]:
    """(status, code) of every error object that ``pf_mock.errors`` declares at module level: objects
    with ``status`` and ``code``, enums of them, or a mapping between codes and statuses."""
    import enum

    from pf_mock import errors

    def pair(status, code) -> tuple[int, str] | None:
        status = getattr(status, "value", status)
        code = getattr(code, "value", code)
        if type(status) is int and 400 <= status <= 599 and isinstance(code, str) and CODE.match(code):
            return status, code
        return None

    found = set()
    for value in vars(errors).values():
        members = list(value) if isinstance(value, type) and issubclass(value, enum.Enum) else [value]
        if isinstance(value, dict):
            members = [*value.items(), *value.values()]
        for member in members:
            candidates = [(getattr(member, "status", None), getattr(member, "code", None))]
            for both in (member, getattr(member, "value", None)):
                if isinstance(both, tuple) and len(both) == 2:
                    candidates += [both, both[::-1]]
            found.update(p for p in (pair(*c) for c in candidates) if p)
    return found


@cache
def error_codes() -> frozenset[tuple[int, str]]:
    """Every (status, code) written together in pf_mock's source, and every one ``pf_mock.errors``
    catalogues. Read once per run (the source does not change under the tests), frozen."""
    pairs: set[tuple[int, str]] = catalogued_codes()
    for path in (ROOT / "pf_mock").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            groups: list[list[ast.AST]] = []
            if isinstance(node, ast.Call):
                # Positional arguments, and a code passed by name; never detail such as field="...".
                groups.append([*node.args, *(k.value for k in node.keywords if k.arg in ("status", "code", "error"))])
            elif isinstance(node, ast.Tuple):
                groups.append(list(node.elts))
            elif isinstance(node, ast.Dict):
                groups.extend([k, v] for k, v in zip(node.keys, node.values) if k is not None)
            for group in groups:
                statuses = {s for s in map(_status, group) if s is not None}
                codes = {c for c in map(_code, group) if c is not None}
                if len(statuses) == 1 and codes:
                    status = statuses.pop()
                    pairs.update((status, code) for code in codes)
    return frozenset(pairs)


def test_the_error_scan_finds_the_known_codes() -> None:
    """Guards the scan itself: if a refactor declares errors in a way it cannot read, this fails
    rather than the docs test passing on nothing."""
    found = error_codes()
    for pair in [(400, "invalid_request"), (404, "market_not_found"), (401, "unauthorized"), (401, "invalid_key"),
                 (409, "session_stopped"), (402, "insufficient_balance"), (429, "rate_limited")]:
        assert pair in found
    assert len(found) >= 20


def test_every_served_route_is_documented() -> None:
    text = docs_text()
    routes = served_routes()
    assert ("GET", "/v1/markets/{symbol}/price") in routes and ("GET", "/health") in routes
    # Named whole: "GET /v1/mm/session/reset" does not document "GET /v1/mm/session".
    missing = sorted(f"{method} {path}" for method, path in routes
                     if not re.search(re.escape(f"{method} {path}") + r"(?![\w/{}.-])", text))
    assert not missing, f"routes the app serves that docs/ never names: {missing}"


def test_every_error_code_is_documented_with_its_status() -> None:
    lines = docs_text().splitlines()
    missing = sorted(f"{status} {code}" for status, code in error_codes()
                     if not any(f"`{code}`" in line and re.search(rf"\b{status}\b", line) for line in lines))
    assert not missing, f"error codes the code can answer with that docs/ does not list with their status: {missing}"


def test_the_docs_stand_alone() -> None:
    for page in [*DOCS.glob("*.md"), ROOT / "README.md"]:
        text = page.read_text(encoding="utf-8")
        assert "../shared" not in text and "CONTRACT.md" not in text, page.name
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"^[a-z]+://", target):
                continue
            file, _, _anchor = target.partition("#")
            if file:
                assert (page.parent / file).resolve().is_relative_to(ROOT), (page.name, target)
                assert (page.parent / file).exists(), (page.name, target)


@pytest.mark.parametrize("page", [*sorted(f"docs/{p.name}" for p in DOCS.glob("*.md")), "README.md"])
def test_each_anchor_link_resolves(page: str) -> None:
    """Links to a heading (#...) name a heading that exists, as GitHub spells its anchors."""
    def anchors(path: Path) -> set[str]:
        heads = re.findall(r"^#+ (.+)$", path.read_text(encoding="utf-8"), flags=re.M)
        return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in heads}

    source = ROOT / page
    for target in re.findall(r"\]\(([^)\s]*#[^)\s]+)\)", source.read_text(encoding="utf-8")):
        file, _, anchor = target.partition("#")
        assert anchor in anchors(source.parent / file if file else source), (page, target)


# ---- every route in every table, and every error field a doc promises -----------------------------------

ROUTE_IN_CELL = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s?{]*(?:\{[a-z_]+\}[^`\s?{]*)*)[^`]*`")
USER_DOCS = [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]


def _shape(path: str) -> str:
    """A path with every parameter's name dropped: ``/_mock/faults/{id}`` and ``/_mock/faults/{fault_id}``
    are one route."""
    return re.sub(r"\{[^}]*\}", "{}", path.rstrip("/") or "/")


@cache
def served_elsewhere(method: str, path: str) -> bool:
    """Whether the app answers ``METHOD path`` though no route lists it (``/mcp`` is served by a
    middleware, ``/docs-assets/`` by a mounted app): asked for real, of a fresh app, it is neither ``404
    not_found`` nor ``405``. Each (method, path) is asked once per run: the tables name some of them
    several times."""
    from app_client import AppClient

    with AppClient(build_app(ServeOptions(clock="manual", admin=True, rate_limit=10))) as client:
        answer = client.request(method, re.sub(r"\{[^}]*\}", "x", path), json={})
    return answer.status_code != 405 and not (answer.status_code == 404 and "not_found" == answer.json().get("error"))


def table_routes(page: Path) -> list[tuple[str, str, int]]:
    """(METHOD, path, line number) of every ``METHOD /path`` written in backticks in a table row."""
    found = []
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("|"):
            found.extend((method, path, number) for method, path in ROUTE_IN_CELL.findall(line))
    return found


def route_table(page: Path, heading: str) -> set[tuple[str, str]]:
    """The routes in the first column of the table under ``heading``."""
    text = page.read_text(encoding="utf-8")
    section = text.split(heading, 1)[1]
    rows = []
    for line in section.splitlines()[1:]:
        if line.startswith("#"):
            break
        if line.startswith("|"):
            rows.append(line.split("|")[1])
    return {(method, _shape(path)) for row in rows for method, path in ROUTE_IN_CELL.findall(row)}


def test_every_route_a_doc_table_names_is_served() -> None:
    served = {(method, _shape(path)) for method, path in served_routes()}
    assert served_elsewhere("POST", "/mcp") and not served_elsewhere("POST", "/mcp/nothing")
    wrong = [f"{page.name}:{number}: {method} {path}" for page in USER_DOCS
             for method, path, number in table_routes(page)
             if (method, _shape(path)) not in served and not served_elsewhere(method, path)]
    assert not wrong, f"routes a table names that the app does not serve: {wrong}"


@pytest.mark.parametrize("page, heading", [("docs/README.md", "## Every route"), ("README.md", "## The API")])
def test_the_route_tables_list_every_route(page: str, heading: str) -> None:
    listed = route_table(ROOT / page, heading)
    missing = sorted(f"{method} {path}" for method, path in {(m, _shape(p)) for m, p in served_routes()}
                     if (method, path) not in listed)
    assert not missing, f"{page} ({heading}) leaves out: {missing}"


def promised_error_fields() -> dict[str, set[str]]:
    """Per error code, the detail fields (and headers) the docs promise: the errors table's detail
    column in docs/README.md, and every "`413 payload_too_large` with `limit`" written anywhere."""
    promised: dict[str, set[str]] = {}
    text = (DOCS / "README.md").read_text(encoding="utf-8")
    table = text.split("## Errors", 1)[1].split("\n#", 1)[0]
    for line in table.splitlines():
        cells = [c.strip() for c in line.split("|")[1:-1]]
        if len(cells) == 4 and re.fullmatch(r"`[a-z_]+`", cells[0]):
            promised.setdefault(cells[0].strip("`"), set()).update(re.findall(r"`([A-Za-z_-]+)`", cells[3]))
    # In prose: "`409 snapshot_diverged` with `command`", "`404 market_not_found` (with `symbol`)",
    # "`400 order_too_small` (`field`, `min_notional_usd`)" - the names in backticks after the code, up to
    # the end of the clause; not a field's value ("field `cursor`").
    for page in USER_DOCS:
        text = page.read_text(encoding="utf-8").replace("\n", " ")
        for code, clause in re.findall(r"`\d{3} ([a-z_]+)`(,? with [^.;)]*|,? \([^)]*)", text):
            names = re.findall(r"(?<!field )`([A-Za-z][A-Za-z_-]*)`", clause)
            promised.setdefault(code, set()).update(n for n in names if n not in ("true", "false", "null"))
    return promised


def provoke(code: str):
    """A real answer with the error ``code``, from a fresh in-process server (None: no way is known here)."""
    from app_client import AppClient

    app = build_app(ServeOptions(clock="manual", admin=True, rate_limit=3 if code == "rate_limited" else None,
                                 starting_balance=20 if code == "insufficient_balance" else 10_000))
    key = {"Authorization": "Bearer pf_test_docs_promises_1"}
    with AppClient(app) as client:
        def quote(**fields):
            mid = client.get("/v1/markets/BTC-PERP/price").json()["mid"]
            body = {"symbol": "BTC-PERP", "bid_price": mid * 0.999, "bid_size": 100, "ask_price": mid * 1.001,
                    "ask_size": 100, **fields}
            return client.post("/v1/mm/quote", json=body, headers=key)

        if code == "invalid_request":
            return client.post("/_mock/clock/advance", json={"seconds": 10**9})
        if code == "crossed_quote":
            return quote(bid_price=100, ask_price=90)
        if code == "order_too_small":
            return quote(bid_size=1)
        if code == "insufficient_balance":
            return quote(bid_size=50_000, ask_size=50_000)
        if code == "invalid_scenario":
            return client.post("/_mock/scenario", json={"scenario": {"name": "x", "markets": "nope"}})
        if code == "invalid_snapshot":
            return client.post("/_mock/restore", json={"format": "something else"})
        if code == "market_not_found":
            return client.get("/v1/markets/NOPE-PERP")
        if code == "scenario_not_found":
            return client.post("/_mock/scenario", json={"name": "no_such_scenario"})
        if code == "fault_not_found":
            return client.delete("/_mock/faults/flt_99")
        if code == "session_stopped":
            quote(session_stop_loss_usd=0.01)
            client.post("/_mock/markets/BTC-PERP/jump", json={"move_bps": -300})
            return quote()
        if code == "snapshot_diverged":
            quote()
            document = client.post("/_mock/snapshot").json()
            [i] = [i for i, c in enumerate(document["commands"]) if c[2] == "/v1/mm/quote"]
            document["commands"][i][4] = document["commands"][i][4].replace('"bid_size":100', '"bid_size":101')
            return client.post("/_mock/restore", json=document)
        if code == "payload_too_large":
            return client.post("/v1/mm/quote", content=b" " * (2 << 20),
                               headers={**key, "Content-Type": "application/json"})
        if code == "price_out_of_band":
            mid = client.get("/v1/markets/BTC-PERP/price").json()["mid"]
            return quote(bid_price=mid * 0.5)
        if code == "bad_host":
            return client.get("/v1/markets/BTC-PERP/price", headers={"Host": "elsewhere.example"})
        if code == "forbidden_origin":
            return client.post("/v1/mm/cancel", json={"symbol": "BTC-PERP"},
                               headers={**key, "Origin": "https://elsewhere.example"})
        if code == "rate_limited":
            for _ in range(10):
                answer = client.get("/v1/account", headers=key)
                if answer.status_code == 429:
                    return answer
        if code == "market_halted":
            return _halted_answer()
        if code == "server_stopping":
            app.state.stopping = True       # as SIGTERM sets it: the advance ends at its first slice
            return client.post("/_mock/clock/advance", json={"seconds": 3600})   # past one slice
    return None


def _halted_answer():
    """A quote on a replayed market after its recording ended: a recording made here, one second long."""
    from decimal import Decimal

    from app_client import AppClient

    from pf_mock.replay.formats import RecordedBook, RecordedLevel, Recording
    from pf_mock.replay.source import ReplaySource

    t0 = 1_700_000_000_000_000_000          # ns
    recording = Recording(path="made here", venue="test", symbol="BTCUSDT", base="BTC", tick=Decimal("0.1"),
                          lot=Decimal("0.001"), events=[RecordedBook(t0, 0, ((10000, 5000),), ((10001, 5000),)),
                                                        RecordedLevel(t0 + 10**9, 0, "ask", 10010, 1)])
    app = build_app(ServeOptions(clock="manual", admin=True, replay={"BTC-PERP": ReplaySource(recording)}))
    with AppClient(app) as client:
        client.post("/_mock/clock/advance", json={"seconds": 5})
        return client.post("/v1/mm/quote", json={"symbol": "BTC-PERP", "bid_price": 999.0, "bid_size": 100},
                           headers={"Authorization": "Bearer pf_test_docs_promises_1"})


def test_every_error_field_a_doc_promises_is_in_the_answer() -> None:
    promised = promised_error_fields()
    assert promised["crossed_quote"] == {"bid_price", "ask_price"}      # the table was read
    assert len(promised) >= 20
    for code, fields in sorted(promised.items()):
        if not fields:
            continue
        answer = provoke(code)
        assert answer is not None, f"{code} promises {sorted(fields)}: the test needs a way to provoke it"
        body = answer.json()
        assert body["error"] == code, (code, body)
        for field in fields:
            if "-" in field or field[0].isupper():                        # a header, such as Retry-After
                assert field in answer.headers, (code, field, dict(answer.headers))
            else:
                assert field in body, f"docs promise `{field}` with {code}; the answer is {body}"
