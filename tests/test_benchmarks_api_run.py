"""``benchmarks/api.py --quick`` and ``benchmarks/structure.py`` still run and print every figure.

Only the presence of the figure lines is checked, never their values: timings belong to the machine.
``api.py`` runs in this process (``bench_scripts.run_script``: its servers are processes of their own
either way); ``structure.py`` traces a quote through the app, so it runs in a fresh interpreter, where
nothing of pf-mock is imported or warmed before it looks.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench_scripts import run_script

# The scripts run in this process take the documented order-entry latency, as they do run on their own
# (tests/conftest.py pins 0 for every test but those marked ``latency``).
pytestmark = pytest.mark.latency

ROOT = Path(__file__).resolve().parent.parent


def run(script: str, *args: str) -> str:
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_api_benchmark_quick_run(capsys):
    path, modules = list(sys.path), set(sys.modules)
    assert run_script("api.py", "--quick") == 0
    out = capsys.readouterr().out
    # api.py puts benchmarks/ on sys.path and imports load.py from there: neither outlives the run
    assert sys.path == path and "load" not in sys.modules and "load" not in modules
    for line in ("with 10 resting:", "with 10,000 resting:", "ratio 10,000 / 10:",
                 "ratio pf-mock / bare FastAPI, GET /price:", "ratio pf-mock / bare FastAPI, cancel+quote pairs:"):
        assert line in out, f"missing {line!r} in:\n{out}"


def test_structure_report_runs():
    out = run("structure.py")
    assert "import cycles: 0" in out
    assert "modules outside pf_mock.api importing the web framework: 0" in out
    assert "quote walk (route -> fill in the ledger):" in out
