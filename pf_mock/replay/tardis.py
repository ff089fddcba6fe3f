"""Write a recording as Tardis-style CSV: an ``incremental_book_L2`` file and its ``trades`` file.

The converter the tests use to show that a recording replays the same from either format. Times are
written in whole microseconds (Tardis's unit), so a recording read back from the CSV has its times
truncated to the microsecond; everything else is the same event stream.
"""

from __future__ import annotations

import gzip
import os

from .formats import TARDIS_BOOK_HEADER, TARDIS_TRADES_HEADER, RecordedLevel, Recording, RecordedBook, RecordedTrade


def _fmt(value) -> str:
    text = format(value.normalize(), "f")
    return text


def write_tardis(recording: Recording, folder, stem: str | None = None, *, compress: bool = False,
                 exchange: str | None = None) -> tuple[str, str]:
    """Write ``<exchange>_incremental_book_L2_<stem>.csv[.gz]`` and ``<exchange>_trades_<stem>.csv[.gz]``
    into ``folder``; returns their paths (read either with ``read_recording``)."""
    exchange = exchange or (recording.venue.split(":", 1)[1] if recording.venue.startswith("tardis:")
                            else {"binance-usdm": "binance-futures"}.get(recording.venue, recording.venue))
    stem = stem or recording.symbol
    suffix = ".csv.gz" if compress else ".csv"
    book_path = os.path.join(os.fspath(folder), f"{exchange}_incremental_book_L2_{stem}{suffix}")
    trades_path = os.path.join(os.fspath(folder), f"{exchange}_trades_{stem}{suffix}")
    opener = (lambda p: gzip.open(p, "wt", encoding="utf-8", newline="")) if compress else \
        (lambda p: open(p, "w", encoding="utf-8", newline=""))
    tick, lot, symbol = recording.tick, recording.lot, recording.symbol
    with opener(book_path) as book, opener(trades_path) as trades:
        book.write(",".join(TARDIS_BOOK_HEADER) + "\n")
        trades.write(",".join(TARDIS_TRADES_HEADER) + "\n")
        trade_id = 0
        for e in recording.events:
            kind = type(e)
            if kind is RecordedLevel:
                book.write(f"{exchange},{symbol},{e.exch_ts // 1000},{e.ts // 1000},false,{e.side},"
                           f"{_fmt(e.price * tick)},{_fmt(e.size * lot)}\n")
            elif kind is RecordedTrade:
                trade_id += 1
                trades.write(f"{exchange},{symbol},{e.exch_ts // 1000},{e.ts // 1000},{trade_id},{e.taker},"
                             f"{_fmt(e.price * tick)},{_fmt(e.size * lot)}\n")
            elif kind is RecordedBook:
                for side, levels in (("bid", e.bids), ("ask", e.asks)):
                    for price, size in levels:
                        book.write(f"{exchange},{symbol},{e.exch_ts // 1000},{e.ts // 1000},true,{side},"
                                   f"{_fmt(price * tick)},{_fmt(size * lot)}\n")
    return book_path, trades_path
