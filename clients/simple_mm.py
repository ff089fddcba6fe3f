"""The seed page's ``SimpleMarketMaker``, as a client of pf-mock.

It sends the same requests as the example on the Purple Flea market-making page, in the same order and
with the same bodies and headers, and reads the same fields. One iteration:

1. ``GET  /v1/markets/{symbol}/price``   -> mid = (best_bid + best_ask) / 2
2. ``POST /v1/mm/cancel {symbol}``
3. ``POST /v1/mm/quote``                 bid/ask at mid -/+ half the spread (rounded to cents), GTC;
                                          reads bid_id and ask_id
4. ``GET  /v1/mm/inventory?symbol=``     reads net_delta_usd; past 3x the order size:
   ``POST /v1/mm/hedge {symbol, hedge_pct: 1.0}`` and reads fill_price
5. on iterations 0, 60, 120 ...: ``GET /v1/mm/pnl?symbol=`` and prints spread_income, rebates,
   inventory_pnl and net_pnl
6. sleep ``interval_seconds``; any exception is printed and followed by a pause (30 s on the page)

and, after the last iteration, one more ``POST /v1/mm/cancel``.

``spread_bps`` is the quote's full width, bid to ask, in bps of the mid (each side sits half of it from
the mid), as on the page. Where it differs from the page's code (``docs/clients.md`` lists every
difference): it uses httpx rather than requests; it takes the base URL and key from ``PF_BASE`` and
``PF_API_KEY``; it keeps a record of every exchange it made (``RunSummary``) so a test can check each
answer; an error answer is raised as the server's ``<error>: <message>`` (the page's code would fail
later on a missing field, ``KeyError: 'bid_id'``); a mistake no pause mends (a bad key, an unknown market,
a clock that cannot be advanced, no server after a few tries) stops the run in one line (``Stop``; exit
code 2 from the command line) instead of pausing and retrying for the whole run.

    PF_BASE=http://127.0.0.1:8000 python -m clients.simple_mm --symbol BTC-PERP --iterations 12
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx

DEFAULT_BASE = "http://127.0.0.1:8000"
DEFAULT_KEY = "pf_test_simple_mm_reference"
PNL_EVERY = 60              # the page logs PnL every 60 iterations (5 minutes at 5 s)
ERROR_PAUSE_SECONDS = 30.0  # the page pauses 30 s after an error
CONNECT_PAUSES = (0.5, 1.0, 2.0)    # no answer: tried again after these pauses, then the run stops

# Errors that pausing does not mend, and what to do about each.
KEY_HINT = "set PF_API_KEY to your key (pf_test_ followed by 8 to 120 letters, digits or _)"
FATAL = {
    "unauthorized": KEY_HINT,
    "invalid_key": KEY_HINT,
    "market_not_found": "use a symbol that GET /v1/markets lists, e.g. BTC-PERP",
    "clock_not_manual": "start the server with --clock manual, or run without --advance-clock",
    "not_found": "the server has no such route (is /_mock off? then run without --advance-clock)",
    "order_too_small": "raise the order size (--order-size; at least $10 a side)",
    "invalid_request": "check the options",
}
ADMIN_HINT = "set PF_ADMIN_TOKEN to the server's --admin-token"


class ApiError(Exception):
    """An error answer: the server's code and message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message = status, code, message


class Stop(Exception):
    """A mistake no pause mends: the run stops, and this one line says what to do."""

    exit_code = 2


@dataclass
class Exchanged:
    """One request and its answer."""

    method: str
    path: str
    body: dict | None
    status: int
    answer: Any         # the decoded JSON, or the raw text if it was not JSON


@dataclass
class RunSummary:
    iterations: int = 0
    calls: list[Exchanged] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    hedges: int = 0
    pnl_reports: list[dict] = field(default_factory=list)

    def of(self, method: str, path: str) -> list[Exchanged]:
        return [c for c in self.calls if c.method == method and c.path == path]


class SimpleMarketMaker:
    """Symmetric quotes around the mid, re-posted every interval, hedged past 3x the order size."""

    def __init__(self, symbol: str, spread_bps: float = 5, order_size: float = 100, *,
                 base_url: str | None = None, api_key: str | None = None,
                 error_pause_seconds: float = ERROR_PAUSE_SECONDS,
                 http: httpx.Client | None = None, say: Callable[[str], None] = print,
                 sleep: Callable[[float], None] = time.sleep, connect_pauses: tuple[float, ...] | None = None,
                 wait: Callable[[float], None] = time.sleep):
        self.symbol = symbol
        self.spread_bps = spread_bps
        self.order_size = order_size                # USD per side
        self.hedge_threshold = order_size * 3
        self.error_pause_seconds = error_pause_seconds
        self.say = say
        self.sleep = sleep      # a test passes one that advances a manual clock, so its runs repeat exactly
        self.connect_pauses = CONNECT_PAUSES if connect_pauses is None else connect_pauses
        self.wait = wait        # the pauses before trying an unanswered request again (wall time)
        base_url = base_url or os.environ.get("PF_BASE", DEFAULT_BASE)
        api_key = api_key or os.environ.get("PF_API_KEY", DEFAULT_KEY)
        headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
        self._owns_http = http is None
        self.http = http or httpx.Client(base_url=base_url.rstrip("/"), timeout=10.0)
        self.headers = headers
        self.summary = RunSummary()

    # ---- transport ----------------------------------------------------------------------------
    def _request(self, method: str, path: str, **kwargs) -> httpx.Response:
        """The request, tried again after each of ``connect_pauses`` while nothing answers; then ``Stop``."""
        for pause in (*self.connect_pauses, None):
            try:
                return self.http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                if pause is None:
                    raise Stop(f"no pf-mock answers at {self.http.base_url} ({type(exc).__name__}): start one "
                               "with `pf-mock serve` (or `make serve`), or set PF_BASE") from None
                self.wait(pause)
        raise AssertionError("unreachable")

    def _send(self, method: str, path: str, *, body: dict | None = None, params: dict | None = None,
              headers: dict | None = None, record: bool = True) -> Any:
        """One request; returns the decoded answer, as the page's ``requests...json()`` does. An error
        answer is raised: ``Stop`` when no pause mends it, else ``ApiError`` (the server's code and
        message), which the loop reports and pauses after, as the page does with any exception."""
        response = self._request(method, path, json=body, params=params, headers={**self.headers, **(headers or {})})
        try:
            answer = response.json()
        except ValueError:
            answer = response.text
        if record:
            shown = path if not params else f"{path}?{httpx.QueryParams(params)}"
            self.summary.calls.append(Exchanged(method, shown, body, response.status_code, answer))
        if response.is_success:
            return answer
        if isinstance(answer, dict) and isinstance(answer.get("error"), str):
            code, message = answer["error"], str(answer.get("message", ""))
            hint = ADMIN_HINT if code == "unauthorized" and path.startswith("/_mock") else FATAL.get(code)
            if hint:
                raise Stop(f"{code}: {message} ({method} {path}) - {hint}")
            raise ApiError(response.status_code, code, message)
        raise ApiError(response.status_code, "http_error", f"HTTP {response.status_code} from {method} {path}: "
                                                           f"{str(answer)[:200]!r}")

    def advance_clock(self, seconds: float) -> None:
        """A sleep in simulated time: moves a manual clock on (``--advance-clock``)."""
        token = os.environ.get("PF_ADMIN_TOKEN")
        self._send("POST", "/_mock/clock/advance", body={"seconds": seconds}, record=False,
                   headers={"X-Admin-Token": token} if token else None)

    # ---- the page's steps ---------------------------------------------------------------------
    def mid_price(self) -> float:
        top = self._send("GET", f"/v1/markets/{self.symbol}/price")
        return (top["best_bid"] + top["best_ask"]) / 2

    def cancel_all(self) -> None:
        self._send("POST", "/v1/mm/cancel", body={"symbol": self.symbol})

    def post_quotes(self, mid: float) -> dict:
        half = mid * (self.spread_bps / 10_000) / 2
        bid, ask = round(mid - half, 2), round(mid + half, 2)
        answer = self._send("POST", "/v1/mm/quote", body={
            "symbol": self.symbol,
            "bid_price": bid,
            "bid_size": self.order_size,
            "ask_price": ask,
            "ask_size": self.order_size,
            "time_in_force": "GTC",
        })
        self.say(f"  Quotes: BID ${bid:,.2f} / ASK ${ask:,.2f} | Spread: {self.spread_bps}bps | "
                 f"IDs: {answer['bid_id'][:8]}…/{answer['ask_id'][:8]}…")
        return answer

    def hedge_if_needed(self) -> None:
        inventory = self._send("GET", "/v1/mm/inventory", params={"symbol": self.symbol})
        exposure = abs(inventory["net_delta_usd"])
        if exposure > self.hedge_threshold:
            done = self._send("POST", "/v1/mm/hedge", body={"symbol": self.symbol, "hedge_pct": 1.0})
            self.summary.hedges += 1
            self.say(f"  HEDGED: ${exposure:,.0f} delta at ${done['fill_price']:,.2f}")

    def report_pnl(self) -> dict:
        pnl = self._send("GET", "/v1/mm/pnl", params={"symbol": self.symbol})
        self.summary.pnl_reports.append(pnl)
        self.say(f"  PnL: Spread=${pnl['spread_income']:+.2f} Rebates=${pnl['rebates']:+.2f} "
                 f"Inventory=${pnl['inventory_pnl']:+.2f} Net=${pnl['net_pnl']:+.2f}")
        return pnl

    # ---- the loop -----------------------------------------------------------------------------
    def run(self, interval_seconds: float = 5, max_iterations: int = 720,
            on_iteration: Callable[[int, list[Exchanged]], None] | None = None) -> RunSummary:
        """Quote for up to ``max_iterations`` rounds; ``on_iteration(i, calls)`` sees each round's
        requests and answers. Returns the record of the whole run."""
        self.say(f"Starting market maker: {self.symbol} | {self.spread_bps}bps spread | ${self.order_size}/side")
        summary = self.summary
        for i in range(max_iterations):
            first_call = len(summary.calls)
            try:
                mid = self.mid_price()
                self.cancel_all()
                self.post_quotes(mid)
                self.hedge_if_needed()
                if i % PNL_EVERY == 0:
                    self.report_pnl()
                self.sleep(interval_seconds)
            except Stop:
                summary.iterations += 1
                self._cancel_quietly()
                raise
            except Exception as exc:  # the page's catch-all: report, pause, carry on
                summary.errors.append(f"iteration {i}: {exc}")
                self.say(f"  Error: {exc} — pausing {self.error_pause_seconds:g}s")
                self.sleep(self.error_pause_seconds)
            summary.iterations += 1
            if on_iteration is not None:
                on_iteration(i, summary.calls[first_call:])
        self.cancel_all()
        self.say("Market maker stopped. All orders cancelled.")
        return summary

    def _cancel_quietly(self) -> None:
        """On the way out after a ``Stop``: cancel if the server lets us (it may be the very thing that
        is wrong), without trying again."""
        pauses, self.connect_pauses = self.connect_pauses, ()
        try:
            self.cancel_all()
        except Exception:
            pass
        finally:
            self.connect_pauses = pauses

    def close(self) -> None:
        if self._owns_http:
            self.http.close()


Maker = SimpleMarketMaker     # what `pf-mock simulate --maker clients.simple_mm` runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clients.simple_mm",
                                     description="The seed page's SimpleMarketMaker against pf-mock "
                                                 "(base URL from PF_BASE, key from PF_API_KEY).")
    parser.add_argument("--symbol", default="BTC-PERP")
    parser.add_argument("--spread-bps", type=float, default=5,
                        help="the quote's full width, bid to ask, in bps of the mid (default 5: each side 2.5 bps "
                             "away)")
    parser.add_argument("--order-size", type=float, default=100, help="USD per side")
    parser.add_argument("--interval", type=float, default=5, help="seconds between iterations")
    parser.add_argument("--iterations", type=int, default=720)
    parser.add_argument("--error-pause", type=float, default=ERROR_PAUSE_SECONDS)
    parser.add_argument("--advance-clock", action="store_true",
                        help="simulated time: each sleep advances a --clock manual server via /_mock/clock/advance "
                             "(with PF_ADMIN_TOKEN if the server has an admin token)")
    args = parser.parse_args(argv)
    maker = SimpleMarketMaker(args.symbol, args.spread_bps, args.order_size, error_pause_seconds=args.error_pause)
    if args.advance_clock:
        maker.sleep = maker.advance_clock
    try:
        summary = maker.run(interval_seconds=args.interval, max_iterations=args.iterations)
    except Stop as stop:
        print(f"simple_mm: {stop}", file=sys.stderr, flush=True)
        return stop.exit_code
    except KeyboardInterrupt:
        maker._cancel_quietly()
        return 130
    finally:
        maker.close()
    return 1 if summary.errors else 0


if __name__ == "__main__":
    sys.exit(main())
