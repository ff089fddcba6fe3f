"""A typed client for the Purple Flea market-making API and pf-mock's ``/_mock`` toolkit.

    from pf_mock.client import Client
    with Client() as pf:                         # PF_BASE, PF_API_KEY from the environment
        top = pf.price("BTC-PERP")               # a pf_mock.messages.Price
        pf.quote("BTC-PERP", bid_price=top.best_bid, bid_size=100)
        pf.mock.advance(60)                      # pf-mock only: a manual clock moves a minute

``AsyncClient`` is the same with ``await``. Errors are ``pf_mock.client.errors`` classes, one per code.
"""

from .aio import AsyncClient
from .core import Call, RetryPolicy
from .errors import BY_CODE, ConnectionFailed, PfError, RateLimited
from .sync import Client

__all__ = ["AsyncClient", "BY_CODE", "Call", "Client", "ConnectionFailed", "PfError", "RateLimited", "RetryPolicy"]
