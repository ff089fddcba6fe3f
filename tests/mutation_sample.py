"""Run a uniformly random sample of the mutants `make mutate` would run, for when the whole run does not fit.

    python tests/mutation_sample.py SIZE [SEED] [--max-children N]

Generates every mutant of the modules [tool.mutmut] names (as `mutmut run` does first), draws SIZE of them
with random.Random(SEED) (so the same seed and sources draw the same sample), runs exactly those with
`mutmut run`, then prints the score as tests/mutation_score.py does; the sample's score estimates the whole
run's within the interval printed there. Run it from the project root with the venv's python.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
from pathlib import Path


def all_mutant_names() -> list[str]:
    # mutmut's own first step, without the test runs that follow it in `mutmut run`.
    from mutmut.__main__ import create_mutants
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.mutation.trampoline import set_mutant_under_test
    from mutmut.utils.file_utils import (copy_also_copy_files, copy_src_dir, setup_source_paths,
                                         walk_mutatable_files)

    set_mutant_under_test("mutant_generation")
    Path("mutants").mkdir(exist_ok=True)
    copy_src_dir()
    copy_also_copy_files()
    setup_source_paths()
    create_mutants(1)
    names = []
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        names.extend(data.exit_code_by_key)
    return sorted(names)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size", type=int)
    parser.add_argument("seed", type=int, nargs="?", default=14)
    parser.add_argument("--max-children", type=int, default=2)
    args = parser.parse_args()
    names = all_mutant_names()
    sample = sorted(random.Random(args.seed).sample(names, min(args.size, len(names))))
    print(f"sample: {len(sample)} of {len(names)} mutants, seed {args.seed}", flush=True)
    mutmut = Path(sys.executable).with_name("mutmut")
    subprocess.run([str(mutmut), "run", "--max-children", str(args.max_children), *sample], check=True)
    return subprocess.run([sys.executable, "tests/mutation_score.py"]).returncode


if __name__ == "__main__":
    sys.exit(main())
