"""``pf-mock simulate``: a maker against an in-process exchange in simulated time, and its report.

``runner`` runs one simulation, ``report`` renders it as text, ``plots`` as an HTML page (matplotlib,
an optional extra), ``sweep`` runs grids locally or on Dask, ``cli`` is the command line.
``transport`` (and ``pf_mock.api.direct``) carry the maker's requests to the app without a socket.
Like the HTTP app and the MCP server, this package is a front: it drives the core, which never
imports it.
"""

from .runner import SimConfig, SimResult, load_maker, run_simulation

__all__ = ["SimConfig", "SimResult", "load_maker", "run_simulation"]
