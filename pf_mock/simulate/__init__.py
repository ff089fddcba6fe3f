"""``pf-mock simulate``: a maker against an in-process exchange in simulated time, and its report.

``runner`` runs one simulation, ``report`` renders it as text, ``plots`` as an HTML page (matplotlib,
an optional extra), ``sweep`` runs grids locally or on Dask, ``cli`` is the command line.
``transport`` (and ``pf_mock.api.direct``) carry the maker's requests to the app without a socket.
Like the HTTP app and the MCP server, this package is a front: it drives the core, which never
imports it.
"""

__all__ = ["SimConfig", "SimResult", "load_maker", "run_simulation"]


def __getattr__(name: str):
    """The runner's names, imported when first asked for: ``pf-mock --version`` or ``--help`` loads the
    command line (``cli``) through this package and must not pay for the whole app (a second of CPU)."""
    if name in __all__:
        from . import runner
        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
