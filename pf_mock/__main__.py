"""``python -m pf_mock``: the same program as ``pf-mock``."""

import sys

from .cli import main

sys.exit(main())
