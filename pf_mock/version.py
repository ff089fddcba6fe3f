"""The package's version, in a module of its own: everything may import it (the package's
``__init__`` loads the test helpers lazily, so importing the version from there would tie every module
that shows it to them)."""

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("pf-mock")     # one source: the version in pyproject.toml
except PackageNotFoundError:              # imported from a checkout that was never installed
    __version__ = "0+unknown"
