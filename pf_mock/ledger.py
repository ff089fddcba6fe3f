"""One agent's accounting on one market: position, cash and the PnL decomposition.

For a fill of ``q`` base units at price ``p`` with the mid at ``m`` and side sign ``s`` (+1 buy,
-1 sell), its *edge* is ``s (m - p) q``. The cash it moves is ``-s p q - fee``, which splits as
``edge - fee - s m q``: so the change of equity (cash + position x mid) over any window is exactly

    net_pnl = spread_income + rebates + inventory_pnl - hedge_cost

with ``spread_income`` the edges of maker fills, ``rebates`` the maker rebates, ``hedge_cost`` the
taker fees plus slippage (minus the edges of taker fills), and ``inventory_pnl`` the position marked
to the mid over time: ``pos_end m_end - pos_start m_start - sum(s m q)``. Every fill stores the running
totals after it, so any window is the difference of two snapshots.

Fills are kept for good, and compactly: in columns (``FillColumns``: typed arrays, about 165 bytes a
fill with its running totals, where a fill as Python objects took about 730), read back as
``FillRecord`` views when asked for.
"""

from __future__ import annotations

import bisect
import math
from array import array
from dataclasses import dataclass, fields

import numpy as np

from .clock import to_ms


def shown_ms(t: float) -> float:
    """The millisecond a client is shown for time ``t`` (seconds): windows compare on it, so that a
    client's own ``since`` and ``until`` (taken from timestamps it was shown) cut exactly there."""
    return t if math.isinf(t) else to_ms(t)


@dataclass(slots=True)
class Totals:
    """Running totals after a fill (or zero before the first)."""

    lots: int = 0               # signed position in lots
    cash: float = 0.0           # USD moved by this market's fills, fees included
    mid_cost: float = 0.0       # sum of s * m * q: the position's cost at the mid
    spread_income: float = 0.0
    rebates: float = 0.0
    fees: float = 0.0
    slippage: float = 0.0
    realized_inventory: float = 0.0   # average-cost realized part of inventory_pnl
    volume: float = 0.0
    maker_fills: int = 0
    taker_fills: int = 0


@dataclass(slots=True)
class FillRecord:
    fill_id: str
    order_id: str
    symbol: str
    is_buy: bool
    price: float
    size: float
    notional: float
    maker: bool
    fee: float          # positive = paid, negative = rebate received
    mid: float
    kind: str           # "quote", "hedge" or "auto_hedge"
    time: float
    edge: float
    after: Totals


KINDS = ("quote", "hedge", "auto_hedge")
_TOTALS = tuple(f.name for f in fields(Totals))
_INT_TOTALS = ("lots", "maker_fills", "taker_fills")


def _id_number(public: str) -> tuple[str, int]:
    """``ord_0123456789ab`` -> (``ord``, its 48-bit number), the way the columns keep an id."""
    prefix, _, digits = public.rpartition("_")
    return prefix, int(digits, 16)


class FillColumns:
    """An agent's fills on one market as columns, appended in order; indexing gives ``FillRecord``s
    (and slices, lists of them), so it reads like the list of records it replaces."""

    def __init__(self, symbol: str):
        self.symbol = symbol
        self._prefixes = ("fill", "ord")
        self.fill_ids, self.order_ids = array("q"), array("q")
        self.flags = array("b")           # bit 0: buy, bit 1: maker; kind index in bits 2-3
        self.price, self.size, self.notional = array("d"), array("d"), array("d")
        self.fee, self.mid, self.time, self.edge = array("d"), array("d"), array("d"), array("d")
        self.totals = {name: array("q") if name in _INT_TOTALS else array("d") for name in _TOTALS}

    def append(self, r: "FillRecord") -> None:
        (fill_prefix, fill_n), (order_prefix, order_n) = _id_number(r.fill_id), _id_number(r.order_id)
        if (fill_prefix, order_prefix) != self._prefixes:
            raise ValueError(f"unexpected ids {r.fill_id!r}, {r.order_id!r}")
        self.fill_ids.append(fill_n)
        self.order_ids.append(order_n)
        self.flags.append(int(r.is_buy) | int(r.maker) << 1 | KINDS.index(r.kind) << 2)
        for column, value in ((self.price, r.price), (self.size, r.size), (self.notional, r.notional),
                              (self.fee, r.fee), (self.mid, r.mid), (self.time, r.time), (self.edge, r.edge)):
            column.append(value)
        for name, column in self.totals.items():
            column.append(getattr(r.after, name))

    def totals_at(self, i: int) -> Totals:
        return Totals(**{name: column[i] for name, column in self.totals.items()})

    def __len__(self) -> int:
        return len(self.fill_ids)

    def _record(self, i: int) -> "FillRecord":
        flags = self.flags[i]
        return FillRecord(f"fill_{self.fill_ids[i]:012x}", f"ord_{self.order_ids[i]:012x}", self.symbol,
                          bool(flags & 1), self.price[i], self.size[i], self.notional[i], bool(flags & 2),
                          self.fee[i], self.mid[i], KINDS[flags >> 2], self.time[i], self.edge[i],
                          self.totals_at(i))

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._record(j) for j in range(*i.indices(len(self)))]
        n = len(self)
        if not -n <= i < n:
            raise IndexError("fill index out of range")
        return self._record(i % n)

    def __iter__(self):
        return (self._record(i) for i in range(len(self)))


_KIND_CODE = {kind: i for i, kind in enumerate(KINDS)}


def _walk_average_costs(at_mids: "AverageCost", at_prices: "AverageCost", signed: list[int], mids: list[float],
                        prices: list[float]) -> list[float]:
    """``AverageCost.add`` for both views over a ledger's fills, written out in one loop (the same
    operations in the same order for each view: the same bits); the running realized part at the mids
    after each fill. (A fill that adds to the position realizes 0.0, and ``x + 0.0`` is ``x`` for every
    running sum that can arise, which never is -0.0: so it is not added.)"""
    out = []
    append = out.append
    acc = 0.0
    m_unit, m_held, m_avg, m_total = at_mids.unit, at_mids.lots, at_mids.avg, at_mids.realized
    p_unit, p_held, p_avg, p_total = at_prices.unit, at_prices.lots, at_prices.avg, at_prices.realized
    for signed_lots, mid, price in zip(signed, mids, prices):
        size = abs(signed_lots)
        up = signed_lots > 0
        total = m_held + signed_lots
        if m_held == 0 or (m_held > 0) == up:
            m_avg = (abs(m_held) * m_avg + size * mid) / abs(total)
        else:
            realized = min(size, abs(m_held)) * m_unit * (mid - m_avg) * (1.0 if m_held > 0 else -1.0)
            m_total += realized
            acc = acc + realized
            if total == 0:
                m_avg = 0.0
            elif (total > 0) != (m_held > 0):
                m_avg = mid
        m_held = total
        append(acc)
        total = p_held + signed_lots
        if p_held == 0 or (p_held > 0) == up:
            p_avg = (abs(p_held) * p_avg + size * price) / abs(total)
        else:
            p_total += min(size, abs(p_held)) * p_unit * (price - p_avg) * (1.0 if p_held > 0 else -1.0)
            if total == 0:
                p_avg = 0.0
            elif (total > 0) != (p_held > 0):
                p_avg = price
        p_held = total
    at_mids.lots, at_mids.avg, at_mids.realized = m_held, m_avg, m_total
    at_prices.lots, at_prices.avg, at_prices.realized = p_held, p_avg, p_total
    return out


_HEX = np.full(256, 255, dtype=np.uint8)           # an ASCII byte's hex digit value (255: not a digit)
_HEX[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = np.arange(16, dtype=np.uint8)
_HEX_PLACES = 16 ** np.arange(11, -1, -1, dtype=np.int64)


def id_numbers(ids, prefix: str) -> np.ndarray:
    """The numbers of public ids written ``prefix`` + ``_`` + 12 lowercase hex digits (``fill_0123456789ab``),
    as int64s, all at once (what ``int(id[-12:], 16)`` gives each). Raises ``ValueError`` for any other id."""
    head = (prefix + "_").encode()
    width = len(head) + 12
    raw = "".join(ids).encode("ascii", "replace")
    if len(raw) != width * len(ids):
        raise ValueError(f"unexpected ids: each is {prefix}_ and 12 hex digits")
    table = np.frombuffer(raw, dtype=np.uint8).reshape(len(ids), width)
    digits = _HEX[table[:, len(head):]]
    if (table[:, :len(head)] != np.frombuffer(head, dtype=np.uint8)).any() or (digits > 15).any():
        raise ValueError(f"unexpected ids: each is {prefix}_ and 12 hex digits")
    return digits.astype(np.int64) @ _HEX_PLACES


_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_HEX_SHIFTS = np.arange(44, -1, -4, dtype=np.int64)


def id_texts(numbers, prefix: str) -> list[str]:
    """``id_numbers`` undone: each number (below 16**12) as ``prefix`` + ``_`` + 12 lowercase hex digits."""
    head = np.frombuffer((prefix + "_").encode(), dtype=np.uint8)
    width = len(head) + 12
    values = np.asarray(numbers, dtype=np.int64)
    table = np.empty((len(values), width), dtype=np.uint8)
    table[:, :len(head)] = head
    table[:, len(head):] = _DIGITS[(values[:, None] >> _HEX_SHIFTS) & 15]
    text = table.tobytes().decode("ascii")
    return [text[i:i + width] for i in range(0, len(text), width)]


def fill_columns(rows) -> dict:
    """A snapshot's fill rows (``state_document.FillRow``) as columns: numpy arrays, and ``symbol`` a tuple."""
    symbols, fill_ids, order_ids, buys, prices, lots, notionals, makers, fees, mids, kinds, times = zip(*rows)
    f64 = np.float64
    return {"symbol": symbols, "fill_n": id_numbers(fill_ids, "fill"), "order_n": id_numbers(order_ids, "ord"),
            "is_buy": np.array(buys, dtype=bool), "price": np.array(prices, dtype=f64),
            "lots": np.array(lots, dtype=np.int64), "notional": np.array(notionals, dtype=f64),
            "maker": np.array(makers, dtype=bool), "fee": np.array(fees, dtype=f64), "mid": np.array(mids, dtype=f64),
            "kind": np.array([_KIND_CODE[k] for k in kinds], dtype=np.int8), "time": np.array(times, dtype=f64)}


class AverageCost:
    """Average-cost basis of a signed position (kept in whole lots, so flat is exactly flat)."""

    __slots__ = ("unit", "lots", "avg", "realized")

    def __init__(self, unit: float) -> None:
        self.unit = unit        # base units per lot
        self.lots = 0
        self.avg = 0.0
        self.realized = 0.0

    def add(self, signed_lots: int, price: float) -> float:
        """Apply a trade; returns the PnL it realized against the basis."""
        held = self.lots
        total = held + signed_lots
        if held == 0 or (held > 0) == (signed_lots > 0):
            self.avg = (abs(held) * self.avg + abs(signed_lots) * price) / abs(total)
            self.lots = total
            return 0.0
        closing = min(abs(signed_lots), abs(held))
        realized = closing * self.unit * (price - self.avg) * (1.0 if held > 0 else -1.0)
        self.realized += realized
        if total == 0:
            self.avg = 0.0
        elif (total > 0) != (held > 0):
            self.avg = price            # flipped: the rest opens at this price
        self.lots = total
        return realized


class FillOrder:
    """An agent's fills across its markets in time order (those at one instant in the order they came):
    (ledger, row) per fill, two small integers, so that they can be paged through as one sequence
    (``GET /v1/mm/fills``)."""

    def __init__(self) -> None:
        self.ledgers: list["SymbolLedger"] = []
        self._index: dict[str, int] = {}
        self._ledger_at = array("H")
        self._row_at = array("I")

    def note(self, ledger: "SymbolLedger", row: int) -> None:
        i = self._index.get(ledger.symbol)
        if i is None:
            i = self._index[ledger.symbol] = len(self.ledgers)
            self.ledgers.append(ledger)
        # In time order: a market brought up to date later than another may report earlier fills
        # (each market is advanced in turn); they go before the later ones, after those at their instant.
        t = ledger.fills.time[row]
        n = len(self._row_at)
        at = n if n == 0 or self.time(n - 1) <= t else bisect.bisect_right(range(n), t, key=self.time)
        self._ledger_at.insert(at, i)
        self._row_at.insert(at, row)

    def __len__(self) -> int:
        return len(self._row_at)

    def time(self, i: int) -> float:
        return self.ledgers[self._ledger_at[i]].fills.time[self._row_at[i]]

    def records(self, start: int, stop: int) -> list["FillRecord"]:
        return [self.ledgers[self._ledger_at[i]].fills[self._row_at[i]] for i in range(start, stop)]


class SymbolLedger:
    def __init__(self, symbol: str, lot_scale: int, order: FillOrder | None = None):
        self.symbol = symbol
        self.lot_scale = lot_scale
        self.fills = FillColumns(symbol)
        self._times = array("q")           # each fill's shown millisecond, for windows
        self.order = order              # the agent's order of fills across markets, told of each one
        self.totals = Totals()
        self.at_fill_prices = AverageCost(1.0 / lot_scale)  # the trader's view: entries at fill prices
        self._at_mids = AverageCost(1.0 / lot_scale)        # the decomposition's view: entries at the mid

    @property
    def lots(self) -> int:
        return self.totals.lots

    @property
    def position(self) -> float:
        return self.totals.lots / self.lot_scale

    def apply(self, *, fill_id: str, order_id: str, is_buy: bool, price: float, lots: int, notional: float,
              maker: bool, fee: float, mid: float, kind: str, time: float) -> FillRecord:
        s = 1.0 if is_buy else -1.0
        signed_lots = lots if is_buy else -lots
        q = lots / self.lot_scale
        edge = s * (mid - price) * q
        prev = self.totals
        t = Totals(
            lots=prev.lots + signed_lots,
            cash=prev.cash - s * notional - fee,
            mid_cost=prev.mid_cost + s * mid * q,
            spread_income=prev.spread_income + (edge if maker else 0.0),
            rebates=prev.rebates + (-fee if maker else 0.0),
            fees=prev.fees + (0.0 if maker else fee),
            slippage=prev.slippage + (0.0 if maker else -edge),
            realized_inventory=prev.realized_inventory + self._at_mids.add(signed_lots, mid),
            volume=prev.volume + notional,
            maker_fills=prev.maker_fills + (1 if maker else 0),
            taker_fills=prev.taker_fills + (0 if maker else 1),
        )
        self.at_fill_prices.add(signed_lots, price)
        record = FillRecord(fill_id, order_id, self.symbol, is_buy, price, q, notional, maker, fee, mid, kind,
                            time, edge, t)
        self.totals = t
        self.fills.append(record)
        self._times.append(to_ms(time))
        if self.order is not None:
            self.order.note(self, len(self.fills) - 1)
        return record

    def load(self, rows: list) -> None:
        """Take a snapshot's fills for this (empty) ledger, oldest first: the same columns, running totals
        and average costs ``apply`` would have made from them one by one, to the bit (the running sums
        are sequential additions in the same order, vectorised; the average costs are walked), at a
        fraction of the cost. Each row is ``state_document.FillRow``. The agent's ``FillOrder`` is not
        told (the caller lays it out whole)."""
        if rows:
            self.load_columns(fill_columns(rows))
        elif len(self.fills):
            raise ValueError("load takes an empty ledger")

    def load_columns(self, cols: dict) -> None:
        """``load`` from the rows' columns (``fill_columns``, or a selection of its rows: ``symbol`` is
        not read)."""
        if len(self.fills):
            raise ValueError("load takes an empty ledger")
        is_buy, maker, price, notional, fee, mid, lot = (cols[k] for k in ("is_buy", "maker", "price", "notional",
                                                                          "fee", "mid", "lots"))
        n = len(is_buy)
        if not n:
            return
        s = np.where(is_buy, 1.0, -1.0)
        signed = np.where(is_buy, lot, -lot)
        q = lot / self.lot_scale
        edge = s * (mid - price) * q

        def running(x: np.ndarray) -> np.ndarray:          # prev + x, from 0.0, in order
            return np.add.accumulate(np.concatenate(([0.0], x)))[1:]

        pairs = np.empty(2 * n + 1)                          # prev - s * notional - fee: two steps a fill
        pairs[0] = 0.0
        pairs[1::2] = -(s * notional)
        pairs[2::2] = -fee
        zero = np.zeros(n)
        totals = {
            "lots": np.cumsum(signed), "cash": np.add.accumulate(pairs)[2::2], "mid_cost": running(s * mid * q),
            "spread_income": running(np.where(maker, edge, zero)), "rebates": running(np.where(maker, -fee, zero)),
            "fees": running(np.where(maker, zero, fee)), "slippage": running(np.where(maker, zero, -edge)),
            "volume": running(notional), "maker_fills": np.cumsum(maker, dtype=np.int64),
            "taker_fills": np.cumsum(~maker, dtype=np.int64),
        }
        realized = _walk_average_costs(self._at_mids, self.at_fill_prices, signed.tolist(), mid.tolist(),
                                       price.tolist())
        totals["realized_inventory"] = np.array(realized)
        c = self.fills
        c.fill_ids.frombytes(cols["fill_n"].astype(np.int64).tobytes())
        c.order_ids.frombytes(cols["order_n"].astype(np.int64).tobytes())
        c.flags.frombytes((is_buy.astype(np.int8) | maker.astype(np.int8) << 1
                           | cols["kind"].astype(np.int8) << 2).tobytes())
        times_s = cols["time"]
        for column, values in ((c.price, price), (c.size, q), (c.notional, notional), (c.fee, fee), (c.mid, mid),
                               (c.time, times_s), (c.edge, edge)):
            column.frombytes(np.ascontiguousarray(values, dtype=np.float64).tobytes())
        for name, column in c.totals.items():
            column.frombytes(totals[name].astype(np.int64 if name in _INT_TOTALS else np.float64).tobytes())
        # to_ms, vectorised: whole microseconds (round half to even, as ``round``), floored to milliseconds
        self._times.frombytes((np.rint(times_s * 1_000_000).astype(np.int64) // 1_000).tobytes())
        self.totals = c.totals_at(n - 1)

    def rows(self) -> list[tuple]:
        """This ledger's fills as a snapshot's rows (``state_document.FillRow``), oldest first: what
        ``load`` takes back."""
        c = self.fills
        n = len(c)
        if not n:
            return []
        flags = np.frombuffer(c.flags, dtype=np.int8)
        lots = np.rint(np.frombuffer(c.size, dtype=np.float64) * self.lot_scale).astype(np.int64)
        return list(zip([self.symbol] * n, id_texts(c.fill_ids, "fill"), id_texts(c.order_ids, "ord"),
                        (flags & 1).astype(bool).tolist(), c.price.tolist(), lots.tolist(), c.notional.tolist(),
                        (flags & 2).astype(bool).tolist(), c.fee.tolist(), c.mid.tolist(),
                        [KINDS[k] for k in (flags >> 2).tolist()], c.time.tolist()))

    def totals_at(self, t: float) -> Totals:
        """The running totals including every fill shown at or before the millisecond of ``t``."""
        i = bisect.bisect_right(self._times, shown_ms(t))
        return self.fills.totals_at(i - 1) if i else Totals()


@dataclass
class PnlWindow:
    spread_income: float = 0.0
    rebates: float = 0.0
    inventory_pnl: float = 0.0
    realized_inventory_pnl: float = 0.0
    unrealized_inventory_pnl: float = 0.0
    fees: float = 0.0
    hedge_cost: float = 0.0
    net_pnl: float = 0.0
    volume_usd: float = 0.0
    fills: int = 0
    maker_fills: int = 0
    taker_fills: int = 0
    equity_change: float = 0.0      # cash + position x mid, end minus start: equals net_pnl

    @classmethod
    def of(cls, ledger: SymbolLedger, since: float, until: float, mid_since: float, mid_until: float) -> "PnlWindow":
        """The decomposition over fills in ``(since, until]`` (compared on shown milliseconds), marking
        the position at the given mark prices."""
        a, b = ledger.totals_at(since), ledger.totals_at(until)
        unit = 1.0 / ledger.lot_scale
        pos_a, pos_b = a.lots * unit, b.lots * unit
        inventory = pos_b * mid_until - pos_a * mid_since - (b.mid_cost - a.mid_cost)
        realized = b.realized_inventory - a.realized_inventory
        fees = b.fees - a.fees
        hedge_cost = fees + (b.slippage - a.slippage)
        spread = b.spread_income - a.spread_income
        rebates = b.rebates - a.rebates
        return cls(
            spread_income=spread,
            rebates=rebates,
            inventory_pnl=inventory,
            realized_inventory_pnl=realized,
            unrealized_inventory_pnl=inventory - realized,
            fees=fees,
            hedge_cost=hedge_cost,
            net_pnl=spread + rebates + inventory - hedge_cost,
            volume_usd=b.volume - a.volume,
            fills=(b.maker_fills + b.taker_fills) - (a.maker_fills + a.taker_fills),
            maker_fills=b.maker_fills - a.maker_fills,
            taker_fills=b.taker_fills - a.taker_fills,
            equity_change=(b.cash + pos_b * mid_until) - (a.cash + pos_a * mid_since),
        )

    def __add__(self, other: "PnlWindow") -> "PnlWindow":
        return PnlWindow(**{k: getattr(self, k) + getattr(other, k) for k in self.__dataclass_fields__})
