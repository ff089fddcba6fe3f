"""The benchmark still runs: ``benchmarks/engine.py --quick`` exits cleanly and prints every figure.

Only the presence of the figure lines is checked, never their values: timings belong to the machine.
Scripts run in this process (``bench_scripts.run_script``): what they measure is either in it or a server
the script starts and stops itself (the feed load's ``pf-mock serve``). The book's replay is counted under
valgrind as a process, so that script is also run once as one.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from bench_scripts import run_script

# The scripts run in this process take the documented order-entry latency, as they do run on their own
# (tests/conftest.py pins 0 for every test but those marked ``latency``).
pytestmark = pytest.mark.latency

ENGINE = Path(__file__).resolve().parent.parent / "benchmarks" / "engine.py"

FIGURE_LINES = [
    "pf_mock.book.OrderBook, best of 1:",
    "baseline (heapq + deque), best of 1:",
    "ratio pf_mock / baseline:",
    "total filled:",
    "event-by-event (watchers=1):",
    "idle fast-forward, then read (baseline):",
    "275 idle markets,",
    "ratio event-by-event / fast-forward:",
]


def test_engine_benchmark_quick_run(capsys):
    assert run_script("engine.py", "--quick") == 0
    out = capsys.readouterr().out
    for line in FIGURE_LINES:
        assert line in out, f"missing {line!r} in:\n{out}"
    assert "orders/s" in out and "sim-s/wall-s" in out
    assert "events processed" in out


def test_feed_load_benchmark_short_run(capsys):
    # a tenth of a wall second per phase (four phases, the warm-up included, each the agent quoting flat out
    # against the server): still several cycles in each, and the pages get events
    assert run_script("feed_load.py", "--seconds", "0.1", "--pages", "3") == 0
    out = capsys.readouterr().out
    for line in ("alone:", "with 3 feed subscribers:", "alone again:", "ratio watched / alone (mean cycle time):"):
        assert line in out, f"missing {line!r} in:\n{out}"
    received = int(out.split("the subscribers received ")[1].split()[0])
    assert received > 0         # the subscribers really were fed while the agent quoted


def test_crowded_market_benchmark_quick_run(capsys):
    assert run_script("crowded_market.py", "--quick", "--agents", "1,10") == 0
    out = capsys.readouterr().out
    assert "baseline, watched with nobody in it:" in out, out
    rows = [line.split() for line in out.splitlines() if line.split()[:1] in (["1"], ["10"])]
    assert [(r[0], r[1]) for r in rows] == [("1", "plain"), ("10", "plain"), ("1", "guarded"), ("10", "guarded")]
    assert all(r[-1].endswith("x") and int(r[3].replace(",", "")) > 0 for r in rows)    # a ratio, and fills
    assert out.count("of one core") == 2


def test_peers_benchmark_short_run(capsys):
    """Without the peers installed it still measures pf-mock's book and names each peer it skipped."""
    path, disabled = list(sys.path), logging.root.manager.disable
    assert run_script("peers.py", "--ops", "2000", "--repeats", "1") == 0
    out = capsys.readouterr().out
    # ... and leaves this process as it found it for the tests after it: peers.py puts the repository on
    # sys.path and silences every logger
    assert sys.path == path and logging.root.manager.disable == disabled
    assert "pf_mock.book.OrderBook" in out
    for peer in ("cython-orderbook", "akhil4n-orderbook", "lightmatchingengine", "pyorderbook", "fastlob"):
        assert peer in out, f"{peer} neither measured nor named as skipped:\n{out}"


def test_book_instructions_script_replays_each_engine():
    # The way valgrind runs it, once: a process of its own; then each engine's replay in this process.
    script = ENGINE.parent / "book_instructions.py"
    proc = subprocess.run([sys.executable, str(script), "book", "--ops", "1000"], capture_output=True,
                          text=True, timeout=120, cwd=ENGINE.parent.parent)
    assert proc.returncode == 0, proc.stderr
    for engine in ("book", "baseline", "none"):
        assert run_script("book_instructions.py", engine, "--ops", "1000") == 0
