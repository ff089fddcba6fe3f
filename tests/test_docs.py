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
from pathlib import Path

import pytest

from pf_mock.server import ServeOptions, build_app

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CODE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$|^[a-z]{4,}$")
SKIPPED_METHODS = {"HEAD", "OPTIONS"}


def docs_text() -> str:
    return "\n".join(page.read_text(encoding="utf-8") for page in sorted(DOCS.glob("*.md")))


def served_routes() -> set[tuple[str, str]]:
    """(METHOD, path) of every route of a server with every option that adds routes turned on."""
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
    return found


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


def error_codes() -> set[tuple[int, str]]:
    """Every (status, code) written together in pf_mock's source, and every one ``pf_mock.errors``
    catalogues."""
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
    return pairs


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


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.md")))
def test_each_anchor_link_resolves(page: str) -> None:
    """Links to a heading (#...) name a heading that exists, as GitHub spells its anchors."""
    def anchors(path: Path) -> set[str]:
        heads = re.findall(r"^#+ (.+)$", path.read_text(encoding="utf-8"), flags=re.M)
        return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in heads}

    source = DOCS / page
    for target in re.findall(r"\]\(([^)\s]*#[^)\s]+)\)", source.read_text(encoding="utf-8")):
        file, _, anchor = target.partition("#")
        assert anchor in anchors(DOCS / file if file else source), (page, target)
