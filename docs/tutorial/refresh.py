"""Re-run every command the tutorial shows and put its output, and its plots, back in the tutorial.

``docs/tutorial.md`` marks each output block with the command that printed it:

    <!-- run: pf-mock simulate --quiet --report docs/tutorial/seed -->
    ```
    ...
    ```
    <!-- end -->

This script runs each command from the checkout's root (``pf-mock`` and ``python`` from ``.venv/bin``),
replaces the block with what it printed, and so also rewrites the PNGs under ``docs/tutorial/`` that
``--report`` writes. Of a report folder only ``report.txt`` and the PNGs the tutorial shows are kept
(the HTML page, the JSON and the other plots can be made again at any time). Run: ``.venv/bin/python docs/tutorial/refresh.py``.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs" / "tutorial.md"
BLOCK = re.compile(r"(<!-- run: (?P<cmd>.+?) -->\n```text\n)(?P<out>.*?)(```\n<!-- end -->)", re.S)
KEEP = {".png", ".txt"}


def run(command: str) -> str:
    argv = shlex.split(command)
    if argv[0] in ("pf-mock", "python"):
        argv[0] = str(ROOT / ".venv" / "bin" / argv[0])
    print("$", command, file=sys.stderr, flush=True)
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=True)
    if "--report" in argv:
        folder = ROOT / argv[argv.index("--report") + 1]
        for path in folder.iterdir():
            if path.suffix not in KEEP:
                path.unlink()
    return done.stdout.replace(str(ROOT) + "/", "")


def main() -> None:
    text = TUTORIAL.read_text()
    text = BLOCK.sub(lambda m: m.group(1) + run(m.group("cmd")) + m.group(4), text)
    TUTORIAL.write_text(text)
    shown = {TUTORIAL.parent / link for link in re.findall(r"\]\((tutorial/[^)]+\.png)\)", text)}
    for png in (TUTORIAL.parent / "tutorial").glob("*/*.png"):
        if png not in shown:
            png.unlink()


if __name__ == "__main__":
    main()
