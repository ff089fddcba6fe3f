"""The load and soak benchmarks still run: each ``--quick`` run exits cleanly and prints its figures.

Only the presence of the figure lines is checked (and, for the load, that no request failed and every
agent's accounting held), never a timing or a memory figure: those belong to the machine. The two restore
soaks run in this process (``bench_scripts.run_script``, marked ``latency`` so that their exchanges take
the documented order-entry latency, as on their own); the others measure a server of their own, or this
process's memory (soak.py), so each runs as a process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bench_scripts import run_script

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def run(name: str) -> str:
    return run_with(name, "--quick")


def run_with(name: str, *args: str) -> str:
    """Run a benchmark script; past the timeout, end it and the pf-mock servers it started together (in a
    session of their own): the script's own clean-up never runs once it is killed, and a realtime server
    left behind would go on taking CPU from every test after this one."""
    proc = subprocess.Popen([sys.executable, str(BENCHMARKS / name), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=BENCHMARKS.parent, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"{name} {' '.join(args)} ran past 300 s\n{out}{err}") from None
    assert proc.returncode == 0, out + err
    return out


def test_load_quick_run():
    # The quick run's ten agents, for one wall second of load rather than five: what is checked (every
    # request answered, every agent's accounting) holds over any length; the figures are not checked.
    out = run_with("load.py", "--quick", "--seconds", "1")
    for line in ("requests/s", "latency: p50", "errors: 0 5xx, 0 transport", "server memory (RSS)",
                 "accounting: 10 of 10 agents hold every invariant"):
        assert line in out, out


def test_soak_quick_run():
    out = run("soak.py")
    assert "sim h" in out and "second half" in out and "bound this run supports" in out, out
    assert len([line for line in out.splitlines() if line.strip().startswith(("0.25 ", "0.5 "))]) == 2, out


def test_catch_up_soak_quick_run():
    # 180 simulated seconds to catch up, idled through at the default --speed 600 (0.3 wall seconds)
    out = run_with("soak_advance.py", "--catch-up", "--hours", "0.05", "--speed", "600")
    assert "catch-up: answered 200 after" in out and "while advancing:" in out and "worst" in out, out


def test_advance_soak_quick_run():
    # a quarter of the quick run's simulated hour: the same advance and poller, a quarter of the events
    out = run_with("soak_advance.py", "--hours", "0.25")
    assert "advance: answered 200 after" in out and "while advancing:" in out and "worst" in out, out


@pytest.mark.latency
def test_restore_cost_quick_run(capsys):
    assert run_script("soak_restore.py", "--quick") == 0
    out = capsys.readouterr().out
    assert "requests sent:" in out and "ratio restore / original:" in out, out
    assert "answers after the restore equal the original's: yes" in out, out


@pytest.mark.latency
def test_restore_of_days_short_run(capsys):
    assert run_script("soak_restore_days.py", "--days", "0.003", "--repeat", "1") == 0
    out = capsys.readouterr().out
    assert "ratio best restore / run:" in out and "slowest /health" in out and "(with no restore" in out, out
    assert "answers after the restore equal the original's: yes; and ten simulated minutes later: yes" in out, out
