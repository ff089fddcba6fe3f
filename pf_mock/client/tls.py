"""One TLS context for the HTTP clients pf-mock makes in a process.

httpx builds a new ``ssl.SSLContext`` for every client that is not handed one, and building one reads
the whole CA bundle: about 30 ms of CPU per client, far more than a request to a local mock costs. A
test run makes hundreds of clients (each ``run_server``, each ``Client``), so pf-mock's clients share
one context instead, built the way httpx builds its default (certifi's bundle, or ``SSL_CERT_FILE`` /
``SSL_CERT_DIR`` as they are when the first client is made): the same verification, paid once.
"""

from __future__ import annotations

import ssl
from functools import cache

import httpx


@cache
def default_tls() -> ssl.SSLContext:
    """httpx's default TLS context, made on first use and shared from then on (a context is safe to
    share between clients and threads: each connection takes its own TLS session from it)."""
    return httpx.create_ssl_context()
