"""No name means two things: a public class or type alias is declared in one module of ``pf_mock`` only
(an answer model that shows a core object is ``...View``), and the contract (``messages.py``) stands on
leaf modules alone, not on the market model."""

from __future__ import annotations

import ast
import collections
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("structure", ROOT / "benchmarks" / "structure.py")
structure = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(structure)

# The client's typed exceptions are named after the error codes the core raises: one concept, the error,
# caught on one side and raised on the other.
SAME_CONCEPT = {"InvalidScenario", "ScenarioNotFound"}


def declared_names(source: str) -> set[str]:
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            names.add(node.name)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name[:1].isupper() and not name.isupper() and not name.startswith("_"):
                names.add(name)         # a type alias such as ``Side = Literal["buy", "sell"]``
    return names


def doubles(sources: dict[str, str]) -> dict[str, list[str]]:
    where = collections.defaultdict(list)
    for module, source in sources.items():
        for name in declared_names(source):
            where[name].append(module)
    return {name: sorted(ms) for name, ms in where.items() if len(ms) > 1 and name not in SAME_CONCEPT}


def test_each_public_name_is_declared_once():
    sources = {str(p.relative_to(ROOT)): p.read_text() for p in (ROOT / "pf_mock").rglob("*.py")}
    assert doubles(sources) == {}


def test_the_finder_finds_a_name_declared_twice():
    # the oracle for the test above: a class and a type alias of the same name in two modules
    sources = {"a.py": "class Side:\n    pass\nclass _Private:\n    pass\n", "b.py": "Side = tuple[int, int]\nLOUD = 1\n",
               "c.py": "class _Private:\n    pass\nLOUD = 2\n"}
    assert doubles(sources) == {"Side": ["a.py", "b.py"]}


def test_the_contract_imports_no_model():
    graph, _ = structure.import_graph(ROOT / "pf_mock")
    reached, todo = set(), ["pf_mock.messages"]
    while todo:
        for dep in graph.get(todo.pop(), ()):
            if dep.startswith("pf_mock") and dep not in reached:
                reached.add(dep)
                todo.append(dep)
    assert "pf_mock.model" not in reached
    assert reached <= {"pf_mock.bounds", "pf_mock.errors", "pf_mock.guardrails", "pf_mock.ranges"}, reached
