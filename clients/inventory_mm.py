"""An inventory-aware market maker: Avellaneda-Stoikov quotes with the Gueant-Lehalle-Fernandez-Tapia
closed form, on the typed client.

Each round it reads the price and its new fills, re-estimates what the formula needs, cancels its
quotes and posts new ones with the server's guardrails attached:

- **volatility** ``sigma`` (bps per square-root second): from 1-minute candles, the weighted median of
  their absolute log returns (robust to a single jump), refreshed every minute;
- **fill intensity** ``A`` (fills per second per side at the touch): from the fills it observes, an
  exponentially weighted rate per side, scaled to the touch by ``exp(k * distance)`` (the model of fill
  intensity ``lambda(delta) = A exp(-k delta)``);
- **inventory** ``q``: its position in units of ``order_size``.

With risk aversion ``gamma`` (per bps), the GLFT approximation gives, in bps of the mid,

    base  = (1 / gamma) ln(1 + gamma / k)
    omega = sqrt( sigma^2 gamma / (2 k A) (1 + gamma / k)^(1 + k / gamma) )
    bid distance = base + omega / 2 + q omega      ask distance = base + omega / 2 - q omega

so the *reservation price* sits ``q omega`` below the mid when long (above when short): the side that
would add to the position moves away and the side that reduces it moves in. ``omega`` grows with
volatility and risk aversion and shrinks when fills come often (a position is easy to work off).

Parameters, and what each does to fills and risk:

- ``order_size`` (USD per side, 100): more fills in USD, proportionally larger inventory swings.
- ``gamma`` (risk aversion per bps, 0.2): higher skews harder and quotes wider: fewer fills, smaller and
  shorter-lived inventory, less adverse selection per fill.
- ``k`` (fill decay per bps, 0.4): how fast fills fall off with distance. Higher means a wider quote loses
  fills quickly, so the maker quotes tighter: more fills, more adverse selection.
- ``min_spread_bps`` (2.0) / ``max_spread_bps_quote`` (40): the quoted spread, its full width bid to ask
  in bps of the mid (each side half of it from the mid before the skew), is kept in this range.
  A floor below the market's own spread makes the maker the touch (many fills, most adverse selection).
- ``max_inventory_usd`` (2 x order size): the server never lets fills carry |position| past it; at the
  limit only the reducing side is posted. Lower caps risk and fills.
- ``hedge_at_usd`` (3 x order size, the seed maker's threshold): the server's auto-hedge: past it, the position is closed with a
  market order (taker fee and slippage in ``hedge_cost``). Lower cuts tail risk, costs fees.
- ``pause_above_bps`` (default: 2.5 x the market's spread when the maker starts, at least 25): the
  server pauses quoting while the market's own spread is wider (a disorderly market: flash crashes,
  blowouts). Lower pauses more often; below the market's usual spread it never quotes.
- ``stop_loss_usd`` (50): the server stops the session once its net PnL falls to minus this; the maker
  then exits.
- ``vol_halflife_min`` (10) and ``intensity_halflife_s`` (300): how fast the estimates forget.

Errors back off (1 s doubling to 30 s) and the loop goes on; a stopped session ends the run. A mistake no
backoff mends (a bad key, an unknown market, a clock that cannot be advanced, no server after the client's
retries) stops the run with the server's ``<error>: <message>`` and what to do, in one line (``Stop``; exit
code 2 from the command line). SIGINT and SIGTERM end it cleanly: every order is cancelled before it exits,
and one line says so. Every 60 rounds (the first included) it prints its PnL as ``clients.simple_mm``
does.

    PF_BASE=http://127.0.0.1:8000 PF_API_KEY=pf_test_mykey123 python -m clients.inventory_mm --iterations 60
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

from clients.simple_mm import FATAL   # errors that backing off does not mend, and what to do about each
from pf_mock.client import Client, PfError
from pf_mock.client.errors import ConnectionFailed, SessionStopped

CANDLE_EVERY_S = 60.0
MAX_BACKOFF_S = 30.0
PNL_EVERY = 60              # rounds between PnL lines, as clients.simple_mm


class Stop(Exception):
    """A mistake no backoff mends: the run stops, and this one line says what to do."""

    exit_code = 2


def fatal(exc: PfError, base_url: str) -> Stop | None:
    """The ``Stop`` for an error that retrying cannot mend, or None."""
    if isinstance(exc, ConnectionFailed):
        return Stop(f"no pf-mock answers at {base_url} ({exc.message}): start one with `pf-mock serve` (or "
                    "`make serve`), or set PF_BASE")
    hint = FATAL.get(exc.code)
    return Stop(f"{exc.code}: {exc.message} - {hint}") if hint else None


class StopRequested(BaseException):
    """SIGINT or SIGTERM: leave the loop (past any ``except Exception``) and cancel everything."""


@dataclass
class Estimates:
    sigma_bps: float                       # per square-root second
    intensity: dict[str, float]            # fills per second at the touch, per side ("buy", "sell")
    position_usd: float = 0.0


@dataclass
class RunSummary:
    iterations: int = 0
    quotes: int = 0
    fills: int = 0
    errors: list[str] = field(default_factory=list)
    stopped_by: str | None = None
    pnl_reports: list = field(default_factory=list)


class InventoryMarketMaker:
    def __init__(self, symbol: str = "BTC-PERP", *, order_size: float = 100.0, gamma: float = 0.2, k: float = 0.4,
                 min_spread_bps: float = 2.0, max_spread_bps_quote: float = 40.0,
                 max_inventory_usd: float | None = None, hedge_at_usd: float | None = None,
                 pause_above_bps: float | None = None, stop_loss_usd: float = 50.0, vol_halflife_min: float = 10.0,
                 intensity_halflife_s: float = 300.0, prior_sigma_bps: float = 1.0, prior_intensity: float = 0.02,
                 client: Client | None = None, sleep: Callable[[float], None] = time.sleep,
                 say: Callable[[str], None] = print):
        if not (order_size > 0 and gamma > 0 and k > 0):
            raise ValueError("order_size, gamma and k must be positive")
        self.symbol = symbol
        self.order_size = order_size
        self.gamma = gamma
        self.k = k
        self.min_spread_bps = min_spread_bps
        self.max_spread_bps_quote = max_spread_bps_quote
        self.max_inventory_usd = max_inventory_usd if max_inventory_usd is not None else 2 * order_size
        self.hedge_at_usd = hedge_at_usd if hedge_at_usd is not None else 3 * order_size
        self.pause_above_bps = pause_above_bps
        self.stop_loss_usd = stop_loss_usd
        self.vol_halflife_min = vol_halflife_min
        self.intensity_halflife_s = intensity_halflife_s
        self.client = client or Client()
        self.sleep = sleep
        self.say = say
        self.est = Estimates(prior_sigma_bps, {"buy": prior_intensity, "sell": prior_intensity})
        self.summary = RunSummary()
        self._position = 0.0                # base units
        self._last_fill_ms: int | None = None
        self._seen_at_last: set[str] = set()
        self._last_quote: dict[str, float] = {}     # distance (bps) each side was last posted at
        self._last_candles_t: float | None = None
        self._last_t: float | None = None

    # ---- the formula ------------------------------------------------------------------------
    def quote_distances(self, q: float) -> tuple[float, float]:
        """Bid and ask distances from the mid, in bps, for an inventory of ``q`` order sizes."""
        g, k = self.gamma, self.k
        a = max(min(self.est.intensity.values()), 1e-6)
        base = math.log1p(g / k) / g
        omega = math.sqrt(self.est.sigma_bps ** 2 * g / (2 * k * a) * (1 + g / k) ** (1 + k / g))
        half = base + omega / 2
        lo, hi = self.min_spread_bps / 2, self.max_spread_bps_quote / 2
        half = min(max(half, lo), hi)
        skew = min(max(q * omega, -hi), hi)
        return max(half + skew, 0.0), max(half - skew, 0.0)

    # ---- estimates --------------------------------------------------------------------------
    def update_volatility(self) -> None:
        """sigma from the last hour of 1-minute closes, robustly: the median absolute log return
        (times 1.4826, the normal's ratio to the standard deviation), so one jump does not blow the
        spread open for an hour; the weighting by ``vol_halflife_min`` favours recent minutes."""
        candles = self.client.candles(self.symbol, "1m", limit=60).candles
        closes = [c.close for c in candles if c.close > 0]
        if len(closes) < 3:
            return
        returns = [abs(math.log(b / a)) * 1e4 for a, b in zip(closes, closes[1:])]
        decay = 0.5 ** (1 / self.vol_halflife_min)
        weighted = sorted((r, decay ** (len(returns) - 1 - i)) for i, r in enumerate(returns))
        half, running = sum(w for _, w in weighted) / 2, 0.0
        for r, w in weighted:
            running += w
            if running >= half:
                break
        per_minute = 1.4826 * r
        self.est.sigma_bps = max(per_minute / math.sqrt(60.0), 0.05)

    def update_fills(self, now_s: float) -> None:
        new = []
        while True:
            page = self.client.fills(self.symbol, since=self._last_fill_ms, limit=1000).fills
            fresh = [f for f in page if f.fill_id not in self._seen_at_last]
            new.extend(fresh)
            if not page or len(page) < 1000 or not fresh:
                break
            self._advance_cursor(page)
        if new:
            self._advance_cursor(new)
        counts = {"buy": 0, "sell": 0}
        for f in new:
            self._position += f.size if f.side == "buy" else -f.size
            if f.kind == "quote" and f.liquidity == "maker":
                counts[f.side] += 1
        self.summary.fills += len(new)
        if self._last_t is not None and now_s > self._last_t:
            dt = now_s - self._last_t
            decay = 0.5 ** (dt / self.intensity_halflife_s)
            for side in ("buy", "sell"):
                distance = self._last_quote.get("bid" if side == "buy" else "ask")
                if distance is None:
                    continue
                at_touch = counts[side] / dt * math.exp(self.k * distance)
                self.est.intensity[side] = decay * self.est.intensity[side] + (1 - decay) * at_touch
        self._last_t = now_s

    def _advance_cursor(self, fills) -> None:
        last = fills[-1].timestamp
        if last != self._last_fill_ms:
            self._seen_at_last = set()
        self._last_fill_ms = last
        self._seen_at_last |= {f.fill_id for f in fills if f.timestamp == last}

    # ---- one round ----------------------------------------------------------------------------
    def step(self) -> None:
        top = self.client.price(self.symbol)
        now_s = top.timestamp / 1000
        if self._last_candles_t is None or now_s - self._last_candles_t >= CANDLE_EVERY_S:
            self.update_volatility()
            self._last_candles_t = now_s
        self.update_fills(now_s)
        if top.best_bid is None or top.best_ask is None:
            self.client.cancel(self.symbol)
            return
        mid = (top.best_bid + top.best_ask) / 2
        self.est.position_usd = self._position * mid
        q = self.est.position_usd / self.order_size
        bid_bps, ask_bps = self.quote_distances(q)
        self.client.cancel(self.symbol)
        answer = self.client.quote(
            self.symbol, bid_price=mid * (1 - bid_bps / 1e4), bid_size=self.order_size,
            ask_price=mid * (1 + ask_bps / 1e4), ask_size=self.order_size, time_in_force="ALO",
            max_inventory_usd=self.max_inventory_usd, auto_hedge_threshold_usd=self.hedge_at_usd,
            max_spread_bps=self.pause_above_bps, session_stop_loss_usd=self.stop_loss_usd)
        self._last_quote = {"bid": bid_bps, "ask": ask_bps}
        self.summary.quotes += 1
        if self.summary.iterations % 60 == 0:
            self.say(f"  q={q:+.2f} sigma={self.est.sigma_bps:.2f}bps/rt(s) A={min(self.est.intensity.values()):.4f}/s "
                     f"bid -{bid_bps:.2f}bps ask +{ask_bps:.2f}bps "
                     f"{'(' + ', '.join(f'{k}: {v}' for k, v in answer.skipped.items()) + ')' if answer.skipped else ''}")

    def run(self, interval_seconds: float = 5.0, max_iterations: int | None = None) -> RunSummary:
        """Quote every ``interval_seconds`` for ``max_iterations`` rounds (None: until stopped); cancel
        everything on the way out, however it ends."""
        self.say(f"Inventory-aware maker on {self.symbol}: ${self.order_size:g}/side, gamma {self.gamma:g}, k {self.k:g}")
        backoff = 1.0
        stopping = False
        try:
            try:
                if self.pause_above_bps is None:
                    spread = self.client.price(self.symbol).spread_bps
                    self.pause_above_bps = max(25.0, 2.5 * spread) if spread is not None else 25.0
                inventory = self.client.inventory(self.symbol)
            except PfError as exc:
                stop = fatal(exc, self._base_url())
                if stop is None:
                    raise
                raise stop from None
            self._position = inventory.position
            self._last_fill_ms = inventory.timestamp
            i = 0
            while max_iterations is None or i < max_iterations:
                try:
                    self.step()
                    if i % PNL_EVERY == 0:
                        self.report_pnl()
                    backoff = 1.0
                    self.sleep(interval_seconds)
                except SessionStopped as exc:
                    self.summary.stopped_by = exc.detail.get("reason") or "session_stopped"
                    break       # the line saying the maker stopped names the reason
                except PfError as exc:
                    stop = fatal(exc, self._base_url())
                    if stop is not None:
                        raise stop from None
                    self.summary.errors.append(f"round {i}: {exc}")
                    self.say(f"  Error: {exc} - backing off {backoff:g}s")
                    self.sleep(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_S)
                i += 1
                self.summary.iterations = i
        except StopRequested as signalled:     # SIGINT or SIGTERM: leave, cancelling everything
            self.summary.stopped_by = signalled.args[0] if signalled.args else "signal"
        except Stop:
            stopping = True
            raise
        finally:
            self._cancel_everything(quiet=stopping)
        return self.summary

    def report_pnl(self) -> None:
        """The PnL line clients.simple_mm prints, every ``PNL_EVERY`` rounds."""
        pnl = self.client.pnl(self.symbol)
        self.summary.pnl_reports.append(pnl)
        self.say(f"  PnL: Spread=${pnl.spread_income:+.2f} Rebates=${pnl.rebates:+.2f} "
                 f"Inventory=${pnl.inventory_pnl:+.2f} Net=${pnl.net_pnl:+.2f}")

    def _base_url(self) -> str:
        return str(getattr(self.client, "base_url", "the server"))

    def _cancel_everything(self, quiet: bool = False) -> None:
        """Cancel every order, saying so in one line (with why the run stopped); ``quiet`` after a
        ``Stop``, whose own line says what went wrong (the cancel may fail for the same reason)."""
        why = f" ({self.summary.stopped_by})" if self.summary.stopped_by else ""
        for attempt in range(1 if quiet else 3):
            try:
                self.client.cancel(self.symbol)
                if not quiet:
                    self.say(f"Inventory-aware maker stopped{why}. All orders cancelled.")
                return
            except PfError as exc:
                if not quiet:
                    self.say(f"  Cancel failed ({exc}); trying again")
        if not quiet:
            self.say(f"Inventory-aware maker stopped{why}. Could not cancel; orders may remain.")


Maker = InventoryMarketMaker     # what `pf-mock simulate --maker clients.inventory_mm` runs


def _raise_stop(signum, frame) -> None:
    raise StopRequested(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clients.inventory_mm",
                                     description="An inventory-aware (Avellaneda-Stoikov / GLFT) market maker "
                                                 "(base URL from PF_BASE, key from PF_API_KEY).")
    parser.add_argument("--symbol", default="BTC-PERP")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between rounds")
    parser.add_argument("--iterations", type=int, default=None, help="rounds to run (default: until stopped)")
    parser.add_argument("--order-size", type=float, default=100.0, help="USD per side")
    parser.add_argument("--gamma", type=float, default=0.2, help="risk aversion per bps")
    parser.add_argument("--k", type=float, default=0.4, help="fill-intensity decay per bps")
    parser.add_argument("--min-spread-bps", type=float, default=2.0)
    parser.add_argument("--max-inventory-usd", type=float, default=None)
    parser.add_argument("--hedge-at-usd", type=float, default=None)
    parser.add_argument("--pause-above-bps", type=float, default=None,
                        help="pause while the market's spread is wider (default: 2.5x its spread at the start, >= 25)")
    parser.add_argument("--stop-loss-usd", type=float, default=50.0)
    parser.add_argument("--advance-clock", action="store_true",
                        help="simulated time: each sleep advances a --clock manual server via /_mock/clock/advance")
    args = parser.parse_args(argv)
    client = Client()
    sleep = (lambda s: client.mock.advance(s)) if args.advance_clock else time.sleep
    maker = InventoryMarketMaker(args.symbol, order_size=args.order_size, gamma=args.gamma, k=args.k,
                                 min_spread_bps=args.min_spread_bps, max_inventory_usd=args.max_inventory_usd,
                                 hedge_at_usd=args.hedge_at_usd, pause_above_bps=args.pause_above_bps,
                                 stop_loss_usd=args.stop_loss_usd, client=client, sleep=sleep)
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    try:
        summary = maker.run(interval_seconds=args.interval, max_iterations=args.iterations)
    except Stop as stop:
        print(f"inventory_mm: {stop}", file=sys.stderr, flush=True)
        return stop.exit_code
    finally:
        client.close()
    if summary.stopped_by in ("SIGINT", "SIGTERM"):
        return 0
    return 1 if summary.errors else 0


if __name__ == "__main__":
    sys.exit(main())
