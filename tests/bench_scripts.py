"""Run a script of benchmarks/ in this process, as ``python benchmarks/NAME ARGS`` would run it.

A smoke test of a benchmark checks what the script prints, not how Python starts it: a fresh interpreter
importing pf-mock costs about a second of CPU, the whole of some quick runs. So the script is loaded as a
module of its own (a fresh one on each call) and its ``main()`` called with ``sys.argv`` set; what it
prints is read with pytest's ``capsys``. What it changes in this process is put back: ``sys.argv``,
``sys.path`` (the scripts put the repository and benchmarks/ on it), the script's own module and the
benchmarks' modules it imported beside it (``load``, ``engine``), and ``logging.disable`` (peers.py
silences the peers' loggers).
A test running one is marked ``latency``, so that an exchange the script builds takes the documented
order-entry latency, as it does when the script runs on its own (tests/conftest.py pins 0 elsewhere).
Scripts whose subject is a process of their own (a server, a replay to count under valgrind) are still
started as one by the tests that need it.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def run_script(name: str, *args: str) -> int:
    """``main()`` of ``benchmarks/<name>`` with ``args`` as its command line; its exit code (0 when it
    returns None)."""
    path = BENCHMARKS / name
    saved_argv, saved_path, saved_modules = sys.argv, list(sys.path), set(sys.modules)
    saved_disable = logging.root.manager.disable
    sys.argv = [str(path), *args]
    try:
        spec = importlib.util.spec_from_file_location(f"_benchmark_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module        # as for any module: its dataclasses look themselves up there
        spec.loader.exec_module(module)
        try:
            code = module.main()
        except SystemExit as stop:
            code = stop.code
        return 0 if code is None else code
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
        for added in set(sys.modules) - saved_modules:
            where = getattr(sys.modules[added], "__file__", None)
            if where and Path(where).resolve().parent == BENCHMARKS:
                del sys.modules[added]
        logging.disable(saved_disable)
