"""The recording reader: each format read into the normalised stream, checked against oracles written
here from the raw messages, and every bad file refused with a one-line message (or handled as documented)."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path

import pytest

from pf_mock.replay.formats import RecordedLevel, RecordingError, RecordedBook, read_recording, tardis_pair
from pf_mock.replay.tardis import write_tardis

FEEDS = Path(__file__).parent / "data" / "feeds"
BINANCE = FEEDS / "binance-usdm-btcusdt-20240808-first20s.gz"
HYPER = FEEDS / "hyperliquid-btc-20250126.gz"


def raw_lines(path: Path) -> list[str]:
    with gzip.open(path, "rt") as f:
        return f.read().splitlines()


def write_lines(path: Path, lines: list[str], compress: bool = False) -> Path:
    text = "\n".join(lines) + "\n"
    if compress:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


@pytest.fixture(scope="module")
def binance():
    return read_recording(BINANCE)


def final_book(rec):
    last = None
    for _, book in rec.books():
        last = book
    return last


def oracle_binance_book(lines: list[str]) -> tuple[dict, dict]:
    """Binance's documented way to keep a local book, written independently: take the REST snapshot,
    apply every diff with u > lastUpdateId in receive order, sizes as given (0 deletes)."""
    diffs, snap = [], None
    for line in lines:
        msg = json.loads(line.split(" ", 1)[1])
        if "lastUpdateId" in msg:
            snap = msg
        elif msg["data"]["e"] == "depthUpdate":
            diffs.append(msg["data"])
    bids = {Decimal(p): Decimal(q) for p, q in snap["bids"]}
    asks = {Decimal(p): Decimal(q) for p, q in snap["asks"]}
    for d in diffs:
        if d["u"] <= snap["lastUpdateId"]:
            continue
        for book, rows in ((bids, d["b"]), (asks, d["a"])):
            for p, q in rows:
                if Decimal(q) == 0:
                    book.pop(Decimal(p), None)
                else:
                    book[Decimal(p)] = Decimal(q)
    return bids, asks


def as_decimal_book(rec, book):
    return ({rec.price(p): rec.size(s) for p, s in book.bids.items()},
            {rec.price(p): rec.size(s) for p, s in book.asks.items()})


def test_binance_capture_is_read_onto_its_grid(binance):
    assert (binance.venue, binance.symbol, binance.base, binance.market_symbol) == \
        ("binance-usdm", "BTCUSDT", "BTC", "BTC-PERP")
    assert (binance.tick, binance.lot) == (Decimal("0.1"), Decimal("0.001"))
    assert type(binance.events[0]) is RecordedBook
    assert all(type(e) is not RecordedBook for e in binance.events[1:])
    times = [e.ts for e in binance.events]
    assert times == sorted(times)
    assert 19.0 < binance.duration_s <= 20.0


def test_binance_book_matches_the_documented_local_book(binance):
    bids, asks = oracle_binance_book(raw_lines(BINANCE))
    assert as_decimal_book(binance, final_book(binance)) == (bids, asks)


def test_binance_snapshot_folds_the_diffs_that_arrived_before_it(binance):
    # the REST snapshot (line 55) is older than the two diffs received just before it
    assert "folded 2 earlier diffs into the snapshot" in binance.notes
    lines = raw_lines(BINANCE)
    snap_line = next(i for i, line in enumerate(lines) if "lastUpdateId" in line)
    assert binance.events[0].ts == int(lines[snap_line].split(" ")[0])


def test_binance_trades_keep_the_taker_side(binance):
    raw = []
    lines = raw_lines(BINANCE)
    snap_line = next(i for i, line in enumerate(lines) if "lastUpdateId" in line)
    for line in lines[snap_line:]:
        msg = json.loads(line.split(" ", 1)[1])
        if msg.get("data", {}).get("e") == "trade":
            d = msg["data"]
            raw.append((Decimal(d["p"]), Decimal(d["q"]), "sell" if d["m"] else "buy"))
    got = [(binance.price(t.price), binance.size(t.size), t.taker) for t in binance.trades()]
    assert got == raw and len(got) > 100
    assert {"buy", "sell"} == {t[2] for t in got}


def test_hyperliquid_book_is_the_last_l2book_and_backfill_is_dropped():
    rec = read_recording(HYPER)
    assert (rec.venue, rec.symbol, rec.market_symbol) == ("hyperliquid", "BTC", "BTC-PERP")
    assert (rec.tick, rec.lot) == (Decimal("1"), Decimal("0.00001"))
    msgs = [json.loads(line.split(" ", 1)[1]) for line in raw_lines(HYPER)]
    books = [m["data"] for m in msgs if m["channel"] == "l2Book"]
    last = books[-1]["levels"]
    want = ({Decimal(x["px"]): Decimal(x["sz"]) for x in last[0]},
            {Decimal(x["px"]): Decimal(x["sz"]) for x in last[1]})
    assert as_decimal_book(rec, final_book(rec)) == want
    start_ms = books[0]["time"]
    trades = [t for m in msgs if m["channel"] == "trades" for t in m["data"]]
    kept = [(Decimal(t["px"]), Decimal(t["sz"]), {"B": "buy", "A": "sell"}[t["side"]])
            for t in trades if t["time"] >= start_ms - 1000]
    assert 0 < len(kept) < len(trades)
    assert [(rec.price(t.price), rec.size(t.size), t.taker) for t in rec.trades()] == kept
    assert any("backfill" in note for note in rec.notes)


def test_plain_and_gzip_read_the_same(tmp_path):
    plain = write_lines(tmp_path / "hl.txt", raw_lines(HYPER))
    assert read_recording(plain).events == read_recording(HYPER).events


def test_tardis_csv_made_from_the_capture_reads_back_the_same_stream(binance, tmp_path):
    book_csv, trades_csv = write_tardis(binance, tmp_path, "2024-08-08_BTCUSDT", compress=True)
    assert "incremental_book_L2" in book_csv and "trades" in trades_csv
    assert tardis_pair(book_csv) == tardis_pair(trades_csv) == (book_csv, trades_csv)   # either names the pair
    back = read_recording(trades_csv)
    assert back.venue == "tardis:binance-futures" and back.symbol == "BTCUSDT"
    assert (back.tick, back.lot) == (binance.tick, binance.lot)

    def key(e):
        return (type(e).__name__, e.ts // 1000, e[2:] if type(e) is not RecordedLevel else e[2:5])
    assert [key(e) for e in back.events] == [key(e) for e in binance.events]


# ------------------------------------------------------------------------------------------ bad files


def refused(path, match: str, **kwargs) -> str:
    with pytest.raises(RecordingError, match=match) as info:
        read_recording(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


def test_missing_file_and_directory(tmp_path):
    refused(tmp_path / "nope.gz", "cannot be read")
    refused(tmp_path, "directory")


@pytest.mark.parametrize("compress", [False, True])
def test_empty_file(tmp_path, compress):
    path = tmp_path / "empty"
    path.write_bytes(gzip.compress(b"") if compress else b"\n\n")
    refused(path, "empty file")


def test_unknown_format(tmp_path):
    refused(write_lines(tmp_path / "x.csv", ["time,price,size", "1,2,3"]), "unknown format")
    refused(write_lines(tmp_path / "y.txt", ['123 {"hello": 1}']), "unknown format")


def test_corrupt_gzip(tmp_path):
    data = BINANCE.read_bytes()
    path = tmp_path / "cut.gz"
    path.write_bytes(data[: len(data) // 2])
    refused(path, "cannot be read")


def test_malformed_line_names_its_line(tmp_path):
    lines = raw_lines(HYPER)
    lines[5] = lines[5].split(" ")[0] + ' {"channel": "l2Book", "data": {"coin": "BTC"}}'
    refused(write_lines(tmp_path / "bad.txt", lines), r":6: malformed Hyperliquid message")


def test_times_going_backwards(tmp_path):
    lines = raw_lines(HYPER)
    ts, rest = lines[10].split(" ", 1)
    lines[10] = f"{int(lines[9].split(' ')[0]) - 1} {rest}"
    refused(write_lines(tmp_path / "back.txt", lines), r":11: local timestamps go backwards")


def test_gap_in_binance_diff_ids_is_refused_or_truncated(tmp_path):
    lines = raw_lines(BINANCE)
    snap_line = next(i for i, line in enumerate(lines) if "lastUpdateId" in line)
    diffs = [i for i, line in enumerate(lines) if "depthUpdate" in line and i > snap_line]
    dropped = diffs[20]
    cut = lines[:dropped] + lines[dropped + 1:]
    path = write_lines(tmp_path / "gap.txt", cut)
    refused(path, r"a gap in the diff ids")
    rec = read_recording(path, on_gap="truncate")
    assert any(note.startswith(f"truncated at line {diffs[21]}") for note in rec.notes)
    assert rec.end_ns < int(lines[diffs[21]].split(" ")[0])
    assert rec.end_ns >= int(lines[diffs[19]].split(" ")[0])


def test_silence_is_refused_unless_allowed(tmp_path):
    lines = raw_lines(HYPER)
    shifted = lines[:20] + [f"{int(line.split(' ')[0]) + 61_000_000_000} {line.split(' ', 1)[1]}"
                            for line in lines[20:]]
    path = write_lines(tmp_path / "quiet.txt", shifted)
    refused(path, r"a silence of 6\d\.\d s")
    assert read_recording(path, max_silence_s=None).duration_s > 61
    assert read_recording(path, max_silence_s=120).duration_s > 61


def test_more_than_one_instrument(tmp_path):
    lines = raw_lines(HYPER)
    lines[3] = lines[3].replace('"coin":"BTC"', '"coin":"ETH"')
    refused(write_lines(tmp_path / "two.txt", lines), "more than one instrument")


def test_no_snapshot(tmp_path):
    lines = [line for line in raw_lines(BINANCE) if "lastUpdateId" not in line]
    refused(write_lines(tmp_path / "nosnap.txt", lines), "no book snapshot")


def hl_book(ts: int, bids, asks) -> str:
    def side(levels):
        return [{"px": str(p), "sz": str(s), "n": 1} for p, s in levels]
    return f'{ts} ' + json.dumps({"channel": "l2Book", "data": {"coin": "BTC", "time": ts // 1_000_000,
                                                               "levels": [side(bids), side(asks)]}})


def test_crossed_snapshot_is_refused(tmp_path):
    t = 1_700_000_000_000_000_000
    lines = [hl_book(t, [(101, 1)], [(100, 1)])]
    refused(write_lines(tmp_path / "crossed.txt", lines), "the snapshot is crossed")
    lines = [hl_book(t, [(99, 1)], [(100, 1)]), hl_book(t + 10**9, [(101, 1)], [(100, 2)])]
    refused(write_lines(tmp_path / "crossed2.txt", lines), ":2: a crossed snapshot")


def binance_diff(ts: int, U: int, u: int, pu: int, bids, asks) -> str:
    data = {"e": "depthUpdate", "E": ts // 1_000_000, "T": ts // 1_000_000, "s": "BTCUSDT", "U": U, "u": u,
            "pu": pu, "b": [[str(p), str(q)] for p, q in bids], "a": [[str(p), str(q)] for p, q in asks]}
    return f"{ts} " + json.dumps({"stream": "btcusdt@depth@0ms", "data": data})


def binance_snapshot(ts: int, last: int, bids, asks) -> str:
    return f"{ts} " + json.dumps({"lastUpdateId": last, "E": ts // 1_000_000, "T": ts // 1_000_000,
                                  "bids": [[str(p), str(q)] for p, q in bids],
                                  "asks": [[str(p), str(q)] for p, q in asks]})


def test_stale_crossed_levels_are_removed_and_marked(tmp_path):
    t = 1_700_000_000_000_000_000
    lines = [
        binance_snapshot(t, 10, [("100.0", "1.000"), ("99.9", "2.000")],
                         [("100.1", "1.000"), ("100.2", "1.000"), ("100.5", "1.000")]),
        binance_diff(t + 1, 9, 12, 8, [("99.8", "1.000")], []),
        # the market moved up: a bid at 100.3 while asks 100.1 and 100.2 were never removed (stale)
        binance_diff(t + 2, 13, 14, 12, [("100.3", "0.500")], [("100.5", "3.000")]),
    ]
    rec = read_recording(write_lines(tmp_path / "stale.txt", lines))
    stale = [(e.side, e.price, e.size) for e in rec.events if type(e) is RecordedLevel and e.stale]
    assert stale == [("ask", 1001, 0), ("ask", 1002, 0)]
    book = final_book(rec)
    assert (book.best_bid(), book.best_ask()) == (1003, 1005) and not book.crossed()
    assert "removed 2 stale crossed levels" in rec.notes


def test_a_diff_that_crosses_itself_is_refused(tmp_path):
    t = 1_700_000_000_000_000_000
    lines = [
        binance_snapshot(t, 10, [("100.0", "1.000")], [("100.1", "1.000")]),
        binance_diff(t + 1, 9, 12, 8, [("100.3", "1.000")], [("100.2", "1.000")]),
    ]
    refused(write_lines(tmp_path / "self.txt", lines), ":2: the update itself crosses the book")


def test_first_diff_must_continue_the_snapshot(tmp_path):
    t = 1_700_000_000_000_000_000
    lines = [
        binance_snapshot(t, 10, [("100.0", "1.000")], [("100.1", "1.000")]),
        binance_diff(t + 1, 15, 20, 14, [("99.0", "1.000")], []),
    ]
    refused(write_lines(tmp_path / "late.txt", lines), "do not continue the snapshot")


def test_off_grid_override_is_refused():
    refused(HYPER, "off the tick", tick="10")
    assert read_recording(HYPER, tick="0.5").tick == Decimal("0.5")


def test_tardis_bad_rows(tmp_path):
    header = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount"
    path = write_lines(tmp_path / "x_incremental_book_L2_a.csv",
                       [header, "binance-futures,BTCUSDT,1,1,true,bid,100.0,1", "binance-futures,BTCUSDT,2,2,false"])
    refused(path, r":3: 5 columns")
    path = write_lines(tmp_path / "y_incremental_book_L2_a.csv",
                       [header, "binance-futures,BTCUSDT,1,1,true,bid,100.0,1",
                        "binance-futures,BTCUSDT,1,5,false,ask,101,1", "binance-futures,BTCUSDT,1,4,false,ask,101,2"])
    refused(path, r":4: local timestamps go backwards")


def test_the_readers_tops_of_the_book_are_the_replayed_books(binance):
    import dataclasses
    from pf_mock.replay.data import tops_of
    hl = read_recording(HYPER)
    for rec in (binance, hl):
        assert rec.tops is not None and len(rec.tops) >= 4
        assert tops_of(dataclasses.replace(rec, tops=None)) == rec.tops
