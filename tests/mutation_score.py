"""The mutation score of the last `make mutate`, per module and in all, from `mutmut results`.

Killed (a test failed) and timeout (a mutant that never ends; a test would hang on it) count as caught;
survived and "no tests" (no selected test reaches the mutated function) count against the score;
mutants not run (a narrowed run) are counted apart, so a partial run says what it covered.
"""

from __future__ import annotations

import collections
import subprocess
import sys
from pathlib import Path

CAUGHT = {"killed", "timeout", "caught by type check"}


def main() -> int:
    mutmut = Path(sys.executable).with_name("mutmut")
    out = subprocess.run([str(mutmut), "results", "--all", "true"], capture_output=True, text=True, check=True).stdout
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    survivors = []
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if not sep:
            continue
        module = name.split(".x")[0]      # pf_mock.book.xǁOrderǁ__repr____mutmut_1 -> pf_mock.book
        counts[module][status] += 1
        if status in ("survived", "no tests"):
            survivors.append((status, name))
    total = collections.Counter()
    for module, c in sorted(counts.items()):
        total.update(c)
        print(f"{module:24} {describe(c)}")
    print(f"{'all':24} {describe(total)}")
    for status, name in survivors:
        print(f"  {status:9} {name}   (mutmut show {name})")
    return 0


def describe(c: collections.Counter) -> str:
    caught = sum(c[s] for s in CAUGHT)
    run = sum(n for s, n in c.items() if s != "not checked")
    if not run:
        return f"not run ({dict(c)})"
    low, high = wilson(caught, run)
    return f"{100 * caught / run:.1f}% caught (95% CI {100 * low:.0f}-{100 * high:.0f}%): {caught} of {run} run ({dict(c)})"


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of k successes in n draws: what a sample's score says of the whole run."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


if __name__ == "__main__":
    sys.exit(main())
