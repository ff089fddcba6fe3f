"""Who may call: the checks that keep a web page the user happens to visit away from the server.

A server on loopback is still reachable from the user's browser, so two browser tricks are refused
before anything else reads the request (``controls.py``):

- DNS rebinding: a page on ``attacker.example`` makes that name resolve to 127.0.0.1 and then reads the
  server as if it were its own site. The browser sends ``Host: attacker.example``, so a request whose
  ``Host`` is not a name this server answers to is ``400 bad_host``. The names it answers to: the loopback
  names (``localhost``, ``127.0.0.1``, ``::1``), the address the request arrived at (the bound address:
  a server on ``0.0.0.0`` reached at ``192.168.1.5`` answers to that), and every ``--allow-host NAME``.
  The port is not compared: the name alone is what a rebinding page cannot fake.
- Cross-site requests: any page may send a ``POST`` to ``http://127.0.0.1:8000`` (a form, or ``fetch``
  with ``text/plain``), and the browser sends it without asking. Browsers mark such a request with the
  page's ``Origin``; a state-changing request (``POST``, ``PUT``, ``PATCH``, ``DELETE``) whose ``Origin`` is
  not this server's own (``http://`` + its ``Host``) is ``403 forbidden_origin``. A request without
  ``Origin`` (curl, the typed client, MCP clients, scripts) is not a browser's cross-site request and
  goes in, as does the live page's own ``fetch`` (same origin).

The third rule, a JSON body sent as ``application/json`` (``415 unsupported_media_type``), is the
door's (``door.py``): it is what makes a cross-site form post impossible even without ``Origin``.
"""

from __future__ import annotations

from starlette.types import Scope

from .errors import error_response

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_PORTS = {"http": "80", "https": "443"}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def host_name(authority: str) -> str:
    """The name of ``host[:port]`` (``[v6]:port`` too), lower case, without a trailing dot."""
    authority = authority.strip().lower()
    if authority.startswith("["):
        name = authority[1:].partition("]")[0]
    elif authority.count(":") == 1:
        name = authority.partition(":")[0]
    else:
        name = authority            # a bare name, or a bare IPv6 address
    return name.rstrip(".")


def _authority(scheme: str, authority: str) -> str:
    """``host[:port]`` in lower case, without the scheme's default port."""
    authority = authority.strip().lower()
    default = DEFAULT_PORTS.get(scheme)
    if default and authority.endswith(":" + default) and not authority.endswith("]"):
        authority = authority[: -len(default) - 1]
    return authority


def names_answered(scope: Scope, allowed: frozenset[str]) -> set[str]:
    """Every host name this request may carry: loopback, the address it arrived at, ``--allow-host``."""
    names = set(LOOPBACK_NAMES) | allowed
    server = scope.get("server")
    if server and server[0]:
        names.add(str(server[0]).lower().rstrip("."))
    return names


def refusal(scope: Scope, allowed: frozenset[str]):
    """The answer to a request that may not come in (``bad_host`` or ``forbidden_origin``), else None."""
    host = _header(scope, b"host")
    if host is not None and host_name(host) not in names_answered(scope, allowed):
        shown = host if len(host) <= 100 and host.isprintable() else host[:100].encode("unicode_escape").decode()
        return error_response(400, "bad_host", f"This server does not answer to the host {shown!r}; start it "
                              f"with --allow-host NAME to add a name.", host=shown)
    if scope.get("method") not in STATE_CHANGING:
        return None
    origin = _header(scope, b"origin")
    if origin is None:
        return None
    scheme = scope.get("scheme", "http")
    own = f"{scheme}://{_authority(scheme, host)}" if host is not None else None
    given_scheme, sep, given = origin.strip().partition("://")
    theirs = f"{given_scheme.lower()}://{_authority(given_scheme.lower(), given)}" if sep else origin
    if own is None or theirs != own:
        shown = origin if len(origin) <= 100 and origin.isprintable() else origin[:100].encode("unicode_escape").decode()
        return error_response(403, "forbidden_origin", f"Requests that change state are taken only from this "
                              f"server's own pages, not from {shown!r}.", origin=shown)
    return None
