"""pf-mock: a local, deterministic fake of the Purple Flea market-making API.

``from pf_mock import MockExchange, run_server`` for tests (see ``pf_mock.testing``). They load on
first use, so that ``import pf_mock`` (and the pytest plugin) stays light.
"""

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("pf-mock")     # one source: the version in pyproject.toml
except PackageNotFoundError:              # imported from a checkout that was never installed
    __version__ = "0+unknown"

__all__ = ["MockExchange", "run_server"]


def __getattr__(name: str):
    if name in __all__:
        from . import testing
        return getattr(testing, name)
    raise AttributeError(f"module 'pf_mock' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*__all__, "__version__"])
