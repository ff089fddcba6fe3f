"""The shape of the code, measured: rerun with ``python benchmarks/structure.py [path/to/pf_mock]``.

(a) The import graph of ``pf_mock/``, read from the source with ``ast``: every ``import`` and
    ``from ... import`` of a pf_mock module, wherever it stands (module level, inside a function, or
    under ``if TYPE_CHECKING:``: a type-only import is still a dependency a reader must follow). Prints
    the modules, the edges, and the cycles (strongly connected groups of two or more modules, and any
    module importing itself).
(b) The walk of one quote from the route to a fill in the ledger: a GTC bid that crosses the book, sent
    through the HTTP app in process, traced with ``sys.setprofile``. Prints how many pf_mock modules the
    calls touch, and the "moves back up": calls from a module into one that imports it (directly or
    not), i.e. a callback against the import direction.

Give another tree's package directory to measure it (e.g. a ``git worktree`` of an older commit).
``tests/test_import_graph.py`` enforces (a); (b) is a figure to read, not a rule.
"""

from __future__ import annotations

import ast
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "pf_mock"


def module_name(path: Path, package_dir: Path) -> str:
    parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, package_dir: Path, modules: set[str]) -> set[str]:
    """The modules ``path`` imports, as dotted names: ``from . import views`` is an import of the module
    ``pf_mock.views`` (not of the package, which Python has always loaded before any of its modules);
    ``from .ids import public_id`` one of ``pf_mock.ids``."""
    name = module_name(path, package_dir)
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[:len(base) - node.level + (1 if is_package else 0)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            for alias in node.names:
                found.add(f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in modules else stem)
    return found


def import_graph(package_dir: Path) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """``(graph, outside)``: pf_mock module -> pf_mock modules it imports, and -> outside top-level
    packages it imports (fastapi, starlette, ...)."""
    files = {module_name(p, package_dir): p for p in sorted(package_dir.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    outside: dict[str, set[str]] = {}
    for name, path in files.items():
        found = imports_of(path, package_dir, set(files))
        graph[name] = {m for m in found if m in files and m != name}
        outside[name] = {m.split(".")[0] for m in found if m and m.split(".")[0] != PACKAGE}
    return graph, outside


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of two or more modules (Tarjan), each sorted; sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(groups)


def reaches(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Module -> every module it imports, directly or not."""
    closure: dict[str, set[str]] = {}
    for start in graph:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        closure[start] = seen
    return closure


def quote_walk(graph: dict[str, set[str]], root: Path) -> tuple[list[str], int, dict[str, int]]:
    """The pf_mock modules one crossing quote's calls touch (in first-touch order), and its calls back up."""
    sys.path.insert(0, str(root))
    from pf_mock.api import create_app
    from pf_mock.exchange import Exchange, ExchangeConfig
    try:
        from pf_mock.api import in_process_client
    except ImportError:         # a tree from before the api package offered one
        from fastapi.testclient import TestClient

        def in_process_client(app, headers):
            return TestClient(app, headers=headers)

    app = create_app(Exchange(ExchangeConfig(latency_ms=0.0)))     # the walk to the fill: no order-entry latency
    client = in_process_client(app, headers={"Authorization": "Bearer pf_test_structure_walk"})
    ask = client.get("/v1/markets/BTC-PERP/price").json()["best_ask"]
    body = {"symbol": "BTC-PERP", "bid_price": ask * 1.0005, "bid_size": 500.0}
    closure = reaches(graph)
    touched: list[str] = []
    up = 0
    up_pairs: dict[str, int] = {}

    def profile(frame, event, arg):
        nonlocal up
        if event != "call":
            return
        callee = frame.f_globals.get("__name__", "")
        caller = frame.f_back.f_globals.get("__name__", "") if frame.f_back else ""
        if not callee.startswith(PACKAGE):
            return
        if callee not in touched:
            touched.append(callee)
        if caller.startswith(PACKAGE) and caller != callee and caller in closure.get(callee, ()):
            up += 1
            pair = f"{caller} -> {callee}.{frame.f_code.co_name}"
            up_pairs[pair] = up_pairs.get(pair, 0) + 1

    threading.setprofile(profile)       # the test client runs the app in a thread of its own
    sys.setprofile(profile)
    try:
        answer = client.post("/v1/mm/quote", json=body)
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    fills = client.get("/v1/mm/fills").json()["fills"]
    assert answer.status_code == 200 and fills, (answer.text, fills)
    return touched, up, up_pairs


def main() -> None:
    package_dir = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT / PACKAGE
    graph, outside = import_graph(package_dir)
    found = cycles(graph)
    print(f"modules: {len(graph)}, import edges: {sum(len(v) for v in graph.values())}")
    print(f"import cycles: {len(found)}")
    for group in found:
        print("  cycle:", " <-> ".join(group))
    web = sorted(m for m, deps in outside.items() if deps & {"fastapi", "starlette", "fastapi_offline"}
                 and not m.startswith(f"{PACKAGE}.api"))
    print(f"modules outside {PACKAGE}.api importing the web framework: {len(web)} {web}")
    touched, up, up_pairs = quote_walk(graph, package_dir.parent)
    print(f"quote walk (route -> fill in the ledger): {len(touched)} pf_mock modules, {up} calls back up")
    print("  modules:", ", ".join(touched))
    for pair, n in sorted(up_pairs.items()):
        print(f"  back up x{n}: {pair}")


if __name__ == "__main__":
    main()
