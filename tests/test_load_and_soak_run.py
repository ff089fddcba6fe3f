"""The load and soak benchmarks still run: each short run exits cleanly and prints its figures.

Only the presence of the figure lines is checked (and, for the load, that no request failed and every
agent's accounting held), never a timing or a memory figure: those belong to the machine. Every script
runs in this process (``bench_scripts.run_script``, marked ``latency`` so that an exchange a script builds
takes the documented order-entry latency, as on its own): a fresh interpreter importing pf-mock costs about
a second of CPU, and what these scripts measure either lives in this process (soak.py's exchange, the
restores' first server) or is a ``pf-mock serve`` process the script starts and stops itself (load.py,
soak_advance.py, soak_restore_days.py's second server). soak.py's memory figures are then this process's,
which nothing checks."""

from __future__ import annotations

import re

import pytest

from bench_scripts import run_script

pytestmark = pytest.mark.latency


def test_load_quick_run(capsys):
    # The quick run's ten agents, for one wall second of load rather than five: what is checked (every
    # request answered, every agent's accounting) holds over any length; the figures are not checked.
    assert run_script("load.py", "--quick", "--seconds", "1") == 0
    out = capsys.readouterr().out
    for line in ("requests/s", "latency: p50", "errors: 0 5xx, 0 transport", "server memory (RSS)",
                 "accounting: 10 of 10 agents hold every invariant"):
        assert line in out, out
    # and the invariants were held over something: a simulated minute of 5 bps quotes fills some of them
    assert int(re.search(r"invariant over (\d+) fills", out).group(1)) > 0, out


def test_soak_run(capsys):
    # 0.12 simulated hours reported every 0.06 (the quick run: 0.5 every 0.25): the same loop, reports and
    # second-half figures, a quarter of the events
    assert run_script("soak.py", "--days", "0.005", "--report-hours", "0.06") == 0
    out = capsys.readouterr().out
    assert "sim h" in out and "second half" in out and "bound this run supports" in out, out
    assert len([line for line in out.splitlines() if line.strip().startswith(("0.06 ", "0.12 "))]) == 2, out


def test_catch_up_soak_run(capsys):
    # 18 simulated seconds to catch up (three of the agent's 5 s refreshes), idled through at --speed 60
    # (0.3 wall seconds). At --speed 600 a loaded machine's catch-up chased a clock running nearly as fast
    # as the server simulates.
    assert run_script("soak_advance.py", "--catch-up", "--hours", "0.005", "--speed", "60") == 0
    out = capsys.readouterr().out
    assert "catch-up: answered 200 after" in out and "while advancing:" in out and "worst" in out, out


def test_advance_soak_run(capsys):
    # three simulated minutes: the same advance and poller as the quick run's hour
    assert run_script("soak_advance.py", "--hours", "0.05") == 0
    out = capsys.readouterr().out
    assert "advance: answered 200 after" in out and "while advancing:" in out and "worst" in out, out


def test_restore_cost_short_run(capsys):
    # three simulated minutes of the seed client's loop (the quick run: ten): 144 requests, a few fills in
    # the snapshot, the same restore and comparison
    assert run_script("soak_restore.py", "--hours", "0.05") == 0
    out = capsys.readouterr().out
    assert "requests sent:" in out and "ratio restore / original:" in out, out
    assert "answers after the restore equal the original's: yes" in out, out


def test_restore_of_days_short_run(capsys):
    assert run_script("soak_restore_days.py", "--days", "0.003", "--repeat", "1") == 0
    out = capsys.readouterr().out
    assert "ratio best restore / run:" in out and "slowest /health" in out and "(with no restore" in out, out
    assert "answers after the restore equal the original's: yes; and ten simulated minutes later: yes" in out, out
