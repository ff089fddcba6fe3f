"""The benchmark still runs: ``benchmarks/engine.py --quick`` exits cleanly and prints every figure.

Only the presence of the figure lines is checked, never their values: timings belong to the machine.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


def test_engine_benchmark_quick_run():
    proc = subprocess.run([sys.executable, str(ENGINE), "--quick"], capture_output=True, text=True,
                          timeout=120, cwd=ENGINE.parent.parent)
    assert proc.returncode == 0, proc.stderr
    for line in FIGURE_LINES:
        assert line in proc.stdout, f"missing {line!r} in:\n{proc.stdout}"
    assert "orders/s" in proc.stdout and "sim-s/wall-s" in proc.stdout
    assert "events processed" in proc.stdout


def test_feed_load_benchmark_short_run():
    script = ENGINE.parent / "feed_load.py"
    proc = subprocess.run([sys.executable, str(script), "--seconds", "1", "--pages", "3"], capture_output=True,
                          text=True, timeout=120, cwd=ENGINE.parent.parent)
    assert proc.returncode == 0, proc.stderr
    for line in ("alone:", "with 3 feed subscribers:", "alone again:", "ratio watched / alone (mean cycle time):"):
        assert line in proc.stdout, f"missing {line!r} in:\n{proc.stdout}"
    received = int(proc.stdout.split("the subscribers received ")[1].split()[0])
    assert received > 0         # the subscribers really were fed while the agent quoted


def test_crowded_market_benchmark_quick_run():
    script = ENGINE.parent / "crowded_market.py"
    proc = subprocess.run([sys.executable, str(script), "--quick", "--agents", "1,10"], capture_output=True,
                          text=True, timeout=120, cwd=ENGINE.parent.parent)
    assert proc.returncode == 0, proc.stderr
    assert "baseline, watched with nobody in it:" in proc.stdout, proc.stdout
    rows = [line.split() for line in proc.stdout.splitlines() if line.split()[:1] in (["1"], ["10"])]
    assert [(r[0], r[1]) for r in rows] == [("1", "plain"), ("10", "plain"), ("1", "guarded"), ("10", "guarded")]
    assert all(r[-1].endswith("x") and int(r[3].replace(",", "")) > 0 for r in rows)    # a ratio, and fills
    assert proc.stdout.count("of one core") == 2


def test_peers_benchmark_short_run():
    """Without the peers installed it still measures pf-mock's book and names each peer it skipped."""
    script = ENGINE.parent / "peers.py"
    proc = subprocess.run([sys.executable, str(script), "--ops", "2000", "--repeats", "1"], capture_output=True,
                          text=True, timeout=120, cwd=ENGINE.parent.parent)
    assert proc.returncode == 0, proc.stderr
    assert "pf_mock.book.OrderBook" in proc.stdout
    for peer in ("cython-orderbook", "akhil4n-orderbook", "lightmatchingengine", "pyorderbook", "fastlob"):
        assert peer in proc.stdout, f"{peer} neither measured nor named as skipped:\n{proc.stdout}"


def test_book_instructions_script_replays_each_engine():
    script = ENGINE.parent / "book_instructions.py"
    for engine in ("book", "baseline", "none"):
        proc = subprocess.run([sys.executable, str(script), engine, "--ops", "1000"], capture_output=True,
                              text=True, timeout=120, cwd=ENGINE.parent.parent)
        assert proc.returncode == 0, proc.stderr
