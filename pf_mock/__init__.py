"""pf-mock: a local, deterministic fake of the Purple Flea market-making API.

``from pf_mock import MockExchange, run_server`` for tests (see ``pf_mock.testing``). They load on
first use, so that ``import pf_mock`` (and the pytest plugin) stays light.
"""

from .version import __version__  # noqa: F401  (pf_mock.__version__)

__all__ = ["MockExchange", "run_server"]


def __getattr__(name: str):
    if name in __all__:
        from . import testing
        return getattr(testing, name)
    raise AttributeError(f"module 'pf_mock' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*__all__, "__version__"])
