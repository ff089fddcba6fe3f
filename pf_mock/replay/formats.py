"""Recorded market data files, read into one normalised, time-ordered event stream.

``read_recording(path) -> Recording`` reads any of:

* hftbacktest's raw Binance USD-M futures capture: one line per message, ``<local receive ns> <JSON>``,
  the JSON ``{"stream": ..., "data": {...}}`` for ``depthUpdate`` diffs and ``trade`` messages, plus one
  REST depth snapshot line (``{"lastUpdateId": ..., "bids": ..., "asks": ...}``);
* hftbacktest's raw Hyperliquid capture: ``<local receive ns> {"channel": "l2Book"|"trades", "data": ...}``;
* Tardis-style CSV: an ``incremental_book_L2`` file (``exchange,symbol,timestamp,local_timestamp,
  is_snapshot,side,price,amount``, times in microseconds) and, beside it, the ``trades`` file of the same
  name (``...,id,side,price,amount``; ``side`` is the taker's).

Any of them may be gzip-compressed (recognised by its first bytes, not its name).

The stream (``Recording.events``) is source-agnostic:

* exactly one :class:`RecordedBook` first: the whole book when the recording becomes usable;
* then :class:`RecordedLevel` events (the new total size at one price of one side; 0 removes the level) and
  :class:`RecordedTrade` events (price, size, the taker's side), in the order they were received.

Prices are integer ticks of ``Recording.tick``, sizes integer lots of ``Recording.lot``; times are integer
nanoseconds since the Unix epoch (``ts`` the local receive time, which orders the stream; ``exch_ts`` the
exchange's own stamp). Events sharing a ``ts`` form one update: apply all of them before reading the book.

What the reader does with an imperfect file (each handling is counted in ``Recording.notes``):

* Binance diffs that arrive before the REST snapshot are held; at the snapshot, those newer than its
  ``lastUpdateId`` are folded into it (Binance's own rule for building a local book), older ones dropped.
  Every later diff must continue the previous one (``pu`` equal to the previous ``u``), otherwise the
  stream has a gap.
* Messages before the first snapshot are dropped (the book is unknown then); so are trades stamped by the
  exchange more than ``BACKFILL_TOLERANCE_NS`` before the first snapshot (Hyperliquid sends recent history
  on subscribing).
* Stale crossed levels: when a diff leaves the book crossed, the crossing levels the diff did not touch are
  stale (left from before the stream was joined) and are removed, with a ``RecordedLevel`` of size 0 marked
  ``stale=True``. A book crossed by levels the diff itself set is a broken file.
* Later snapshots (Hyperliquid's ``l2Book`` sends one per message; Tardis after a reconnect) become the
  ``RecordedLevel`` events that turn the current book into the snapshot.
* Binance ``bookTicker`` and other streams are skipped (the diffs carry the same book); so are trades that
  are not ordinary market trades (``X`` other than ``MARKET``: liquidations, ADL).

What makes a file unusable raises :class:`RecordingError`, one line naming the file and, where there is one,
the line: unreadable or not found, empty, unknown format, more than one instrument, local times going
backwards, a crossed snapshot, a gap in the diff ids, a silence longer than ``max_silence_s``, a price off
the tick or a size off the lot. ``on_gap="truncate"`` ends the recording at the last event before a gap or a
silence instead (noted).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import math
import os
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterator, NamedTuple

from .l2book import ASK, BID, L2Book

UNIT_DIGITS = 9                      # prices and sizes are first read as integers of 1e-9
_UNIT = 10 ** UNIT_DIGITS
_POW = [10 ** k for k in range(UNIT_DIGITS + 1)]
BACKFILL_TOLERANCE_NS = 1_000_000_000
DEFAULT_MAX_SILENCE_S = 60.0
QUOTE_SUFFIXES = ("USDT", "USDC", "BUSD", "FDUSD", "USD")
BINANCE = "binance-usdm"
HYPERLIQUID = "hyperliquid"
TARDIS = "tardis"


class RecordingError(ValueError):
    """A recording that cannot be replayed; ``str()`` is one line naming the file and the reason."""


class RecordedBook(NamedTuple):
    ts: int
    exch_ts: int
    bids: tuple[tuple[int, int], ...]     # (price ticks, size lots), best first
    asks: tuple[tuple[int, int], ...]


class RecordedLevel(NamedTuple):
    ts: int
    exch_ts: int
    side: str           # "bid" or "ask"
    price: int          # ticks
    size: int           # lots: the level's new total size, 0 removes it
    stale: bool = False  # True when the reader removes a stale crossed level


class RecordedTrade(NamedTuple):
    ts: int
    exch_ts: int
    price: int          # ticks
    size: int           # lots
    taker: str          # "buy" (lifted the ask) or "sell" (hit the bid)


Event = RecordedBook | RecordedLevel | RecordedTrade


@dataclass(frozen=True)
class Recording:
    path: str
    venue: str                 # "binance-usdm", "hyperliquid", or "tardis:<exchange>"
    symbol: str                # as the venue spells it: BTCUSDT, BTC
    base: str                  # BTC
    tick: Decimal
    lot: Decimal
    events: list = field(repr=False)
    notes: tuple[str, ...] = ()
    # (ts, best bid, best ask) in ticks after each change of the top of the book, as the reader saw it
    # (None: unknown, e.g. a recording built by hand; ``tops_of`` then replays the book)
    tops: list | None = field(default=None, repr=False, compare=False)

    @property
    def market_symbol(self) -> str:
        """The name pf-mock serves it under: ``<BASE>-PERP``."""
        return f"{self.base}-PERP"

    @property
    def start_ns(self) -> int:
        return self.events[0].ts

    @property
    def end_ns(self) -> int:
        return self.events[-1].ts

    @property
    def duration_s(self) -> float:
        return (self.end_ns - self.start_ns) / 1e9

    @property
    def size_decimals(self) -> int:
        return max(0, -self.lot.normalize().as_tuple().exponent)

    @property
    def price_decimals(self) -> int:
        return max(0, -self.tick.normalize().as_tuple().exponent)

    def price(self, ticks: int) -> Decimal:
        return ticks * self.tick

    def size(self, lots: int) -> Decimal:
        return lots * self.lot

    def trades(self) -> Iterator[RecordedTrade]:
        return (e for e in self.events if type(e) is RecordedTrade)

    def books(self, every_ns: int = 0) -> Iterator[tuple[int, L2Book]]:
        """Replay the book: yields ``(ts, book)`` after each update (or at most once per ``every_ns``).
        The same ``L2Book`` object is yielded each time, changed in place."""
        book = L2Book()
        events = self.events
        n = len(events)
        last = None
        i = 0
        while i < n:
            ts = events[i].ts
            while i < n and events[i].ts == ts:
                e = events[i]
                if type(e) is RecordedLevel:
                    book.set(e.side, e.price, e.size)
                elif type(e) is RecordedBook:
                    book.load(e.bids, e.asks)
                i += 1
            if last is None or ts - last >= every_ns:
                last = ts
                yield ts, book


# ---------------------------------------------------------------------------------------------- parsing


def _units(text) -> int:
    """A decimal string (or number) as an integer of 1e-9 units, exactly."""
    s = text if isinstance(text, str) else repr(text)
    dot = s.find(".")
    if dot < 0 and "e" not in s and "E" not in s:
        return int(s) * _UNIT
    if "e" in s or "E" in s:
        d = Decimal(s) * _UNIT
        if d != d.to_integral_value():
            raise ValueError(f"more than {UNIT_DIGITS} decimals: {s}")
        return int(d)
    frac = s[dot + 1:]
    if len(frac) > UNIT_DIGITS:
        frac = frac.rstrip("0")
        if len(frac) > UNIT_DIGITS:
            raise ValueError(f"more than {UNIT_DIGITS} decimals: {s}")
    return int(s[:dot] + frac if dot else frac or "0") * _POW[UNIT_DIGITS - len(frac)]


def _open_text(path: str) -> io.TextIOBase:
    try:
        raw = open(path, "rb")
    except OSError as exc:
        raise RecordingError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    head = raw.read(2)
    raw.seek(0)
    if head == b"\x1f\x8b":
        raw.close()         # a GzipFile given a file object would not close it; opened by name, it does
        return gzip.open(path, "rt", encoding="utf-8", errors="strict")
    return io.TextIOWrapper(raw, encoding="utf-8", errors="strict")


class _Raw(NamedTuple):
    """A message as read, before normalisation; prices and sizes in 1e-9 units."""
    kind: str            # "snap", "diff", "trade"
    ts: int
    exch_ts: int
    line: int
    bids: list           # snap/diff: [(price_u, size_u)]; trade: [(price_u, size_u)]
    asks: list
    taker: str = ""
    first_id: int = 0    # Binance U / lastUpdateId
    last_id: int = 0     # Binance u
    prev_id: int = 0     # Binance pu


class _Parsed(NamedTuple):
    venue: str
    symbols: set
    messages: list
    skipped: dict        # what was skipped, by reason: count


def _lines(path: str) -> Iterator[tuple[int, str]]:
    with _open_text(path) as f:
        try:
            for number, line in enumerate(f, 1):
                yield number, line
        except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile) as exc:
            raise RecordingError(f"{path}: cannot be read ({exc})") from None


def _first_line(path: str) -> str | None:
    # closed here, not whenever the generator is collected: it holds the file open until then
    with contextlib.closing(_lines(path)) as lines:
        for _, line in lines:
            if line.strip():
                return line
    return None


def _detect(path: str, first: str) -> str:
    text = first.strip()
    if text.startswith("exchange,symbol,timestamp,local_timestamp"):
        return TARDIS
    head, _, rest = text.partition(" ")
    if head.isdigit() and rest.startswith("{"):
        try:
            msg = json.loads(rest)
        except ValueError:
            msg = None
        if isinstance(msg, dict):
            if "stream" in msg or "lastUpdateId" in msg:
                return BINANCE
            if "channel" in msg:
                return HYPERLIQUID
    raise RecordingError(f"{path}: unknown format (expected hftbacktest's raw Binance futures or Hyperliquid "
                         f"capture, or Tardis-style incremental_book_L2 CSV); first line starts {text[:60]!r}")


class _Units(dict):
    """A memo of ``_units``: recorded prices and sizes repeat, so most strings are read once."""

    def __missing__(self, text):
        value = self[text] = _units(text)
        return value


def _pairs(rows, path, number, units: _Units) -> list[tuple[int, int]]:
    try:
        return [(units[p], units[q]) for p, q in rows]
    except (ValueError, TypeError) as exc:
        raise RecordingError(f"{path}:{number}: bad price level ({exc})") from None


def _parse_binance(path: str) -> _Parsed:
    units = _Units()
    messages: list[_Raw] = []
    symbols: set[str] = set()
    skipped: dict[str, int] = {}
    for number, line in _lines(path):
        if not line.strip():
            continue
        head, _, body = line.partition(" ")
        if body.startswith('{"stream":"') and "@bookTicker" in body[:40]:
            # most lines of a capture; the diffs carry the same book, so they are skipped unparsed
            try:
                int(head)
            except ValueError:
                raise RecordingError(f"{path}:{number}: not '<ns> <json>'") from None
            skipped["bookTicker messages"] = skipped.get("bookTicker messages", 0) + 1
            continue
        try:
            ts = int(head)
            msg = json.loads(body)
        except ValueError:
            raise RecordingError(f"{path}:{number}: not '<ns> <json>'") from None
        if not isinstance(msg, dict):
            raise RecordingError(f"{path}:{number}: not a JSON object")
        try:
            if "lastUpdateId" in msg:
                messages.append(_Raw("snap", ts, int(msg.get("E", 0)) * 1_000_000, number,
                                     _pairs(msg["bids"], path, number, units), _pairs(msg["asks"], path, number, units),
                                     first_id=int(msg["lastUpdateId"])))
                continue
            data = msg.get("data")
            kind = data.get("e") if isinstance(data, dict) else None
            if kind == "depthUpdate":
                symbols.add(data["s"])
                messages.append(_Raw("diff", ts, int(data["E"]) * 1_000_000, number,
                                     _pairs(data["b"], path, number, units), _pairs(data["a"], path, number, units),
                                     first_id=int(data["U"]), last_id=int(data["u"]), prev_id=int(data["pu"])))
            elif kind == "trade":
                symbols.add(data["s"])
                if data.get("X", "MARKET") != "MARKET":
                    skipped["non-market trades"] = skipped.get("non-market trades", 0) + 1
                    continue
                taker = "sell" if data["m"] else "buy"
                messages.append(_Raw("trade", ts, int(data["T"]) * 1_000_000, number,
                                     [(units[data["p"]], units[data["q"]])], [], taker=taker))
            else:
                label = f"{kind or 'unknown'} messages"
                skipped[label] = skipped.get(label, 0) + 1
        except (KeyError, TypeError, ValueError) as exc:
            raise RecordingError(f"{path}:{number}: malformed Binance message ({exc!r})") from None
    return _Parsed(BINANCE, symbols, messages, skipped)


def _parse_hyperliquid(path: str) -> _Parsed:
    units = _Units()
    messages: list[_Raw] = []
    symbols: set[str] = set()
    skipped: dict[str, int] = {}
    for number, line in _lines(path):
        if not line.strip():
            continue
        head, _, body = line.partition(" ")
        try:
            ts = int(head)
            msg = json.loads(body)
        except ValueError:
            raise RecordingError(f"{path}:{number}: not '<ns> <json>'") from None
        try:
            channel = msg.get("channel")
            data = msg.get("data")
            if channel == "l2Book":
                symbols.add(data["coin"])
                bids, asks = data["levels"]
                messages.append(_Raw("snap", ts, int(data["time"]) * 1_000_000, number,
                                     _pairs([(x["px"], x["sz"]) for x in bids], path, number, units),
                                     _pairs([(x["px"], x["sz"]) for x in asks], path, number, units)))
            elif channel == "trades":
                for t in data:
                    symbols.add(t["coin"])
                    if t["side"] not in ("B", "A"):
                        raise ValueError(f"trade side {t['side']!r}")
                    messages.append(_Raw("trade", ts, int(t["time"]) * 1_000_000, number,
                                         [(units[t["px"]], units[t["sz"]])], [],
                                         taker="buy" if t["side"] == "B" else "sell"))
            else:
                label = f"{channel or 'unknown'} messages"
                skipped[label] = skipped.get(label, 0) + 1
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RecordingError(f"{path}:{number}: malformed Hyperliquid message ({exc!r})") from None
    return _Parsed(HYPERLIQUID, symbols, messages, skipped)


TARDIS_BOOK_HEADER = ["exchange", "symbol", "timestamp", "local_timestamp", "is_snapshot", "side", "price",
                      "amount"]
TARDIS_TRADES_HEADER = ["exchange", "symbol", "timestamp", "local_timestamp", "id", "side", "price", "amount"]


def tardis_pair(path: str) -> tuple[str, str | None]:
    """The ``(incremental_book_L2, trades)`` files of a Tardis-style recording named by either of them."""
    name = os.path.basename(path)
    folder = os.path.dirname(path)
    if "incremental_book_L2" in name:
        other = os.path.join(folder, name.replace("incremental_book_L2", "trades"))
        return path, other if os.path.exists(other) else None
    if "trades" in name:
        other = os.path.join(folder, name.replace("trades", "incremental_book_L2"))
        if os.path.exists(other):
            return other, path
    return path, None


def _csv_rows(path: str, header: list[str]) -> Iterator[tuple[int, list[str]]]:
    lines = _lines(path)
    for number, line in lines:
        if line.strip():
            got = line.strip().split(",")
            if got[:len(header)] != header:
                raise RecordingError(f"{path}:{number}: expected the header {','.join(header)}")
            break
    else:
        raise RecordingError(f"{path}: empty file")
    for number, line in lines:
        line = line.strip()
        if line:
            cells = line.split(",")
            if len(cells) < len(header):
                raise RecordingError(f"{path}:{number}: {len(cells)} columns, expected {len(header)}")
            yield number, cells


def _parse_tardis(path: str) -> _Parsed:
    units = _Units()
    book_path, trades_path = tardis_pair(path)
    symbols: set[str] = set()
    exchanges: set[str] = set()
    book: list[_Raw] = []
    current = None          # the message being grouped: rows sharing a local timestamp and kind
    for number, cells in _csv_rows(book_path, TARDIS_BOOK_HEADER):
        try:
            exchange, symbol, exch_us, local_us, is_snap, side, price, amount = cells[:8]
            exchanges.add(exchange)
            symbols.add(symbol)
            ts, exch_ts = int(local_us) * 1000, int(exch_us) * 1000
            kind = "snap" if is_snap.strip().lower() == "true" else "diff"
            level = (units[price], units[amount])
            if side not in ("bid", "ask"):
                raise ValueError(f"side {side!r}")
        except ValueError as exc:
            raise RecordingError(f"{book_path}:{number}: malformed row ({exc})") from None
        # a snapshot is every consecutive snapshot row, whatever their times; a diff message is the
        # consecutive diff rows of one local timestamp
        if current is None or current.kind != kind or (kind == "diff" and current.ts != ts):
            current = _Raw(kind, ts, exch_ts, number, [], [])
            book.append(current)
        (current.bids if side == "bid" else current.asks).append(level)
    trades: list[_Raw] = []
    if trades_path is not None:
        for number, cells in _csv_rows(trades_path, TARDIS_TRADES_HEADER):
            try:
                exchange, symbol, exch_us, local_us, _tid, side, price, amount = cells[:8]
                exchanges.add(exchange)
                symbols.add(symbol)
                if side not in ("buy", "sell"):
                    raise ValueError(f"taker side {side!r} (buy or sell expected)")
                trades.append(_Raw("trade", int(local_us) * 1000, int(exch_us) * 1000, number,
                                   [(units[price], units[amount])], [], taker=side))
            except ValueError as exc:
                raise RecordingError(f"{trades_path}:{number}: malformed row ({exc})") from None
    for label, stream, where in (("book", book, book_path), ("trades", trades, trades_path)):
        for a, b in zip(stream, stream[1:]):
            if b.ts < a.ts:
                raise RecordingError(f"{where}:{b.line}: local timestamps go backwards "
                                     f"({b.ts // 1000} after {a.ts // 1000})")
    # merge by local time; at equal times the book update comes first (stable: book before trades)
    merged: list[_Raw] = []
    i = j = 0
    while i < len(book) or j < len(trades):
        if j >= len(trades) or (i < len(book) and book[i].ts <= trades[j].ts):
            merged.append(book[i])
            i += 1
        else:
            merged.append(trades[j])
            j += 1
    venue = f"{TARDIS}:{','.join(sorted(exchanges))}"
    return _Parsed(venue, symbols, merged, {})


# ---------------------------------------------------------------------------------------------- normalising


def _base_of(symbol: str) -> str:
    s = symbol.upper()
    for suffix in ("-PERP", "_PERP", "PERP", "-SWAP"):
        if s.endswith(suffix):
            s = s[: -len(suffix)]
    s = s.rstrip("-_")
    for q in QUOTE_SUFFIXES:
        if s.endswith(q) and len(s) > len(q):
            return s[: -len(q)].rstrip("-_/")
    return s


def _grid(path: str, messages: list[_Raw], tick: Decimal | None, lot: Decimal | None) -> tuple[int, int]:
    """The tick and lot in 1e-9 units: given, or the coarsest grid every price and size lies on."""
    g_price = g_size = 0
    for m in messages:
        for p, q in m.bids:
            g_price = math.gcd(g_price, p)
            g_size = math.gcd(g_size, q)
        for p, q in m.asks:
            g_price = math.gcd(g_price, p)
            g_size = math.gcd(g_size, q)
    tick_u = _units(str(tick)) if tick is not None else g_price
    lot_u = _units(str(lot)) if lot is not None else g_size
    if tick_u <= 0 or lot_u <= 0:
        raise RecordingError(f"{path}: no prices or sizes to infer the tick and lot from")
    if g_price % tick_u:
        raise RecordingError(f"{path}: a price is off the tick {Decimal(tick_u) / _UNIT}")
    if g_size % lot_u:
        raise RecordingError(f"{path}: a size is off the lot {Decimal(lot_u) / _UNIT}")
    return tick_u, lot_u


def read_recording(path, *, tick: Decimal | str | None = None, lot: Decimal | str | None = None,
                   on_gap: str = "error", max_silence_s: float | None = DEFAULT_MAX_SILENCE_S) -> Recording:
    """Read a recording (see the module's docstring). ``tick``/``lot`` override the grid inferred from the
    data (the coarsest one every recorded price and size lies on); ``on_gap`` is ``"error"`` or
    ``"truncate"``; ``max_silence_s=None`` accepts any silence."""
    path = os.fspath(path)
    if on_gap not in ("error", "truncate"):
        raise ValueError("on_gap must be 'error' or 'truncate'")
    if os.path.isdir(path):
        raise RecordingError(f"{path}: is a directory, not a recording file")
    first = _first_line(path)
    if first is None:
        raise RecordingError(f"{path}: empty file")
    venue = _detect(path, first)
    parsed = {BINANCE: _parse_binance, HYPERLIQUID: _parse_hyperliquid, TARDIS: _parse_tardis}[venue](path)
    if not parsed.messages:
        raise RecordingError(f"{path}: no book or trade messages")
    if len(parsed.symbols) > 1:
        raise RecordingError(f"{path}: more than one instrument ({', '.join(sorted(parsed.symbols))}); "
                             f"one recording per instrument")
    if not parsed.symbols:
        raise RecordingError(f"{path}: no instrument named in the file")
    symbol = next(iter(parsed.symbols))
    if venue != TARDIS:
        for a, b in zip(parsed.messages, parsed.messages[1:]):
            if b.ts < a.ts:
                raise RecordingError(f"{path}:{b.line}: local timestamps go backwards ({b.ts} after {a.ts})")
    tick_u, lot_u = _grid(path, parsed.messages, Decimal(str(tick)) if tick is not None else None,
                          Decimal(str(lot)) if lot is not None else None)
    events, notes, tops = _normalise(path, parsed, tick_u, lot_u, on_gap, max_silence_s)
    for label, count in sorted(parsed.skipped.items()):
        notes.append(f"skipped {count} {label}")
    return Recording(path=path, venue=parsed.venue, symbol=symbol, base=_base_of(symbol),
                     tick=(Decimal(tick_u) / _UNIT).normalize(), lot=(Decimal(lot_u) / _UNIT).normalize(),
                     events=events, notes=tuple(notes), tops=tops)


class _Stop(Exception):
    pass


def _normalise(path: str, parsed: _Parsed, tick_u: int, lot_u: int, on_gap: str,
               max_silence_s: float | None) -> tuple[list, list[str]]:
    messages = parsed.messages
    binance = parsed.venue == BINANCE
    book = L2Book()
    events: list = []
    notes: list[str] = []
    counts = {"pre": 0, "stale": 0, "backfill": 0, "folded": 0, "dropped_old_diffs": 0}

    def ticks(levels):
        return [(p // tick_u, q // lot_u) for p, q in levels]

    # 1. find the first snapshot; Binance diffs before it are candidates to fold in
    start = next((k for k, m in enumerate(messages) if m.kind == "snap"), None)
    if start is None:
        raise RecordingError(f"{path}: no book snapshot to start from")
    snap = messages[start]
    book.load(ticks(snap.bids), ticks(snap.asks))
    last_id = None
    pending: list[_Raw] = []
    if binance:
        last_id = snap.first_id
        pending = [m for m in messages[:start] if m.kind == "diff" and m.last_id > snap.first_id]
    counts["pre"] = start - len(pending)
    # the diffs after the snapshot line that the snapshot already contains are dropped too
    k = start + 1
    if binance:
        while k < len(messages) and messages[k].kind == "diff" and messages[k].last_id <= snap.first_id:
            counts["dropped_old_diffs"] += 1
            k += 1
    expect_first = binance           # the first diff applied must contain lastUpdateId + 1
    folded_touched: set = set()
    for m in pending:
        last_id = _continue(path, m, last_id, expect_first, on_gap="error", notes=notes)
        expect_first = False
        for side, levels in ((BID, m.bids), (ASK, m.asks)):
            for p, q in ticks(levels):
                book.set(side, p, q)
                folded_touched.add((side, p))
        counts["folded"] += 1
    if book.crossed():
        if not pending:
            raise RecordingError(f"{path}:{snap.line}: the snapshot is crossed")
        _uncross(path, book, folded_touched, snap.line, snap.ts, snap.exch_ts, events, counts)
        events.clear()       # the snapshot event below carries the uncrossed book
    bids, asks = book.copy_state()
    events.append(RecordedBook(snap.ts, snap.exch_ts, tuple(reversed(bids)), asks))
    tops = [(snap.ts, book.best_bid(), book.best_ask())]
    first_exch = snap.exch_ts
    silence_ns = None if max_silence_s is None else int(max_silence_s * 1e9)
    last_ts = snap.ts

    try:
        for m in messages[k:]:
            if silence_ns is not None and m.ts - last_ts > silence_ns:
                _gap(path, m, on_gap, notes, f"a silence of {(m.ts - last_ts) / 1e9:.1f} s")
            if m.kind == "trade":
                if m.exch_ts < first_exch - BACKFILL_TOLERANCE_NS:
                    counts["backfill"] += 1
                    continue
                (p, q), = m.bids
                events.append(RecordedTrade(m.ts, m.exch_ts, p // tick_u, q // lot_u, m.taker))
                last_ts = m.ts
                continue
            if m.kind == "diff":
                if binance:
                    last_id = _continue(path, m, last_id, expect_first, on_gap, notes)
                    expect_first = False
                touched = set()
                for side, levels in ((BID, m.bids), (ASK, m.asks)):
                    for p, q in levels:
                        price, size = p // tick_u, q // lot_u
                        touched.add((side, price))
                        if book.set(side, price, size) != size:
                            events.append(RecordedLevel(m.ts, m.exch_ts, side, price, size))
                _uncross(path, book, touched, m.line, m.ts, m.exch_ts, events, counts)
            else:   # a later snapshot: the levels that turn the book into it
                target = {BID: dict(ticks(m.bids)), ASK: dict(ticks(m.asks))}
                for side in (BID, ASK):
                    want = target[side]
                    have = book.side(side)
                    for price in sorted(p for p in have if p not in want):
                        book.set(side, price, 0)
                        events.append(RecordedLevel(m.ts, m.exch_ts, side, price, 0))
                    for price, size in sorted(want.items()):
                        if size > 0 and have.get(price) != size:
                            book.set(side, price, size)
                            events.append(RecordedLevel(m.ts, m.exch_ts, side, price, size))
                if book.crossed():
                    raise RecordingError(f"{path}:{m.line}: a crossed snapshot")
            last_ts = m.ts
            top = book.best_bid(), book.best_ask()
            if top != tops[-1][1:]:
                tops.append((m.ts, top[0], top[1]))
    except _Stop:
        pass
    if counts["pre"]:
        notes.append(f"dropped {counts['pre']} messages before the first snapshot")
    if counts["folded"]:
        notes.append(f"folded {counts['folded']} earlier diffs into the snapshot")
    if counts["dropped_old_diffs"]:
        notes.append(f"dropped {counts['dropped_old_diffs']} diffs older than the snapshot")
    if counts["stale"]:
        notes.append(f"removed {counts['stale']} stale crossed levels")
    if counts["backfill"]:
        notes.append(f"dropped {counts['backfill']} trades from before the recording (backfill)")
    return events, notes, tops


def _gap(path: str, m: _Raw, on_gap: str, notes: list[str], what: str) -> None:
    if on_gap == "truncate":
        notes.append(f"truncated at line {m.line}: {what}")
        raise _Stop
    raise RecordingError(f"{path}:{m.line}: {what}; cut the file before it or read it with on_gap='truncate'")


def _continue(path: str, m: _Raw, last_id: int, first: bool, on_gap: str, notes: list[str]) -> int:
    """Binance's continuity rule: the first diff after a snapshot spans ``lastUpdateId + 1``
    (``U <= id + 1 <= u``); every later one starts where the previous ended (``pu == u`` before)."""
    if first:
        if not m.first_id <= last_id + 1 <= m.last_id:
            _gap(path, m, on_gap, notes, f"the diffs do not continue the snapshot (U {m.first_id}, u {m.last_id}, "
                                         f"snapshot id {last_id})")
    elif m.prev_id != last_id:
        _gap(path, m, on_gap, notes, f"a gap in the diff ids (pu {m.prev_id} after u {last_id})")
    return m.last_id


def _uncross(path, book: L2Book, touched, line, ts, exch_ts, events, counts) -> None:
    """Remove the stale levels a crossed book shows: those this update did not touch."""
    while book.crossed():
        bid, ask = book.best_bid(), book.best_ask()
        if touched is None or (ASK, ask) not in touched:
            book.set(ASK, ask, 0)
            events.append(RecordedLevel(ts, exch_ts, ASK, ask, 0, True))
        elif (BID, bid) not in touched:
            book.set(BID, bid, 0)
            events.append(RecordedLevel(ts, exch_ts, BID, bid, 0, True))
        else:
            raise RecordingError(f"{path}:{line}: the update itself crosses the book (bid {bid} >= ask {ask} "
                                 f"ticks)")
        counts["stale"] += 1
