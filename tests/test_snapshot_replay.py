"""Snapshots of a server that replays a recording: the replayed market is in the document (its recording,
its place in it, the recorded book, what agents took, their orders with queue places, orders and cancels on
their way, the refresh loops, the tape) and a restore into a fresh server started on the same recording
answers every later request with the same bytes. A restore into a server that does not replay that
recording, with those models, is refused; so is every hostile value in the replayed market's entry, with
nothing changed and never a 500. All on the shipped 20-second cut of the Binance capture."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from contract_asserts import assert_error
from document_edits import edit_at
from pf_mock.replay.setup import load_sources
# the mock's own build, its two clients served in this thread (tests/app_client.py): the same answers
# at about a third of a TestClient's CPU a request
from app_client import in_process

FEEDS = Path(__file__).resolve().parent / "data" / "feeds"
BINANCE = str(FEEDS / "binance-usdm-btcusdt-20240808-first20s.gz")
HYPERLIQUID = str(FEEDS / "hyperliquid-btc-20250126.gz")
OTHER = {"Authorization": "Bearer pf_test_second_agent_01"}
TICK = 0.1                  # the recording's tick (USD)
READS = ["/v1/mm/orders", "/v1/mm/fills?limit=1000", "/v1/mm/pnl", "/v1/markets/BTC-PERP/orderbook?depth=20",
         "/v1/markets/BTC-PERP/trades?limit=500", "/_mock/state"]


def replaying(path: str = BINANCE, **models):
    return in_process(replay=load_sources([path], **models))


def snap(mock) -> bytes:
    r = mock._control.post("/_mock/snapshot")
    assert r.status_code == 200, r.text
    return r.content


def restore(mock, document) -> object:
    if isinstance(document, dict):
        return mock._control.post("/_mock/restore", json=document)
    return mock._control.post("/_mock/restore", content=document, headers={"content-type": "application/json"})


def reads(mock) -> list[bytes]:
    return [mock.client.get(p).content for p in READS] + [mock.client.get("/v1/mm/orders", headers=OTHER).content,
                                                          mock.client.get("/v1/mm/orders?status=closed",
                                                                          headers=OTHER).content]


def quote(mock, ticks: int, lots: int = 5, tif: str = "GTC", refresh: bool = False, other: bool = False):
    """Bid ``ticks`` below the recorded mid and ask as far above; negative ``ticks``: a bid alone, that far
    above the mid (through the recorded asks)."""
    mid = mock.client.get("/v1/markets/BTC-PERP/price").json()["mid"]
    usd = lots * 0.001 * mid
    body = {"symbol": "BTC-PERP", "bid_price": round(mid - ticks * TICK, 1), "bid_size": usd,
            "time_in_force": tif, "auto_refresh": refresh, "refresh_interval_seconds": 1}
    if ticks >= 0:
        body.update(ask_price=round(mid + ticks * TICK, 1), ask_size=usd)
    return mock.client.post("/v1/mm/quote", headers=OTHER if other else {}, json=body)


def advance(mock, seconds: float):
    return mock._control.post("/_mock/clock/advance", json={"seconds": seconds})


# ---- the continuation, example-based --------------------------------------------------------------
def cancel(mock, other: bool = False):
    return mock.client.post("/v1/mm/cancel", headers=OTHER if other else {}, json={"symbol": "BTC-PERP"})


HISTORY = [lambda m: quote(m, 3, refresh=True), lambda m: quote(m, 1, other=True), lambda m: advance(m, 1.5),
           lambda m: quote(m, 2, other=True), lambda m: advance(m, 0.03),
           lambda m: quote(m, -40, lots=2, tif="IOC", other=True),      # a bid through the recorded asks
           lambda m: advance(m, 0.021),                                  # it arrives (20 ms) and walks the book
           lambda m: cancel(m, other=True),                              # cancels on their way
           lambda m: quote(m, 1, other=True),                            # orders on their way
           lambda m: advance(m, 0.005)]


@functools.lru_cache(maxsize=1)
def busy_document() -> bytes:
    """A snapshot with something in every part of the replayed entry: resting orders with queue places,
    orders and cancels on their way, what a marketable order took, a refresh loop, trades."""
    with replaying() as mock:
        for send in HISTORY:
            assert send(mock).status_code == 200
        document = snap(mock)
    m = json.loads(document)["markets"][0]
    assert m["source"] == "replay" and m["resting"] and m["open"] and m["cancelling"] and m["schedule"]
    assert any(p[2] == 0 for p in m["pending"]) and any(p[2] == 1 for p in m["pending"])
    assert m["taken"] and m["trades"] and m["candles"], "the marketable order took from the recorded book"
    return document


def base() -> dict:
    return json.loads(busy_document())


def script(mock) -> list[tuple[int, bytes]]:
    """What follows the snapshot: quotes, cancels, advances (by an instant and by seconds), reads."""
    out = []
    steps = [lambda: advance(mock, 0.01), lambda: advance(mock, 0.02), lambda: quote(mock, 0, refresh=True),
             lambda: advance(mock, 0.7), lambda: cancel(mock, other=True),
             lambda: advance(mock, 2.3), lambda: quote(mock, -3, lots=1, other=True), lambda: advance(mock, 4),
             lambda: mock.client.post("/v1/mm/hedge", json={"symbol": "BTC-PERP"}), lambda: advance(mock, 6),
             lambda: advance(mock, 10)]          # past the recording's end: halted
    for step in steps:
        r = step()
        out.append((r.status_code, r.content))
        out.extend((200, body) for body in reads(mock))
    return out


def test_a_restored_replay_answers_the_same_bytes_as_the_original():
    with replaying() as original, replaying() as fresh:
        for send in HISTORY:
            send(original)
        document = snap(original)
        assert document == busy_document()                        # same requests, same bytes
        assert quote(fresh, 5).status_code == 200                 # the target had business of its own
        advance(fresh, 3)
        r = restore(fresh, document)
        assert r.status_code == 200, r.text
        assert snap(fresh) == document
        after_original, after_fresh = script(original), script(fresh)
        assert after_fresh == after_original
        assert b"fill_" in b"".join(body for _, body in after_original)     # the answers say something
        assert snap(fresh) == snap(original)
        assert b'"halted"' in original.client.get("/v1/markets").content        # it ran to the recording's end
        assert restore(fresh, document).status_code == 200        # and again, into a server with a history
        assert script(fresh) == after_original


# ---- the stateful property ------------------------------------------------------------------------
class ReplayContinuation(RuleBasedStateMachine):
    """Operations go to a server replaying the cut; from the snapshot on, also to a fresh server started on
    the same recording and restored from it; every answer and the reads after it must be the same bytes."""

    def __init__(self):
        super().__init__()
        self.stack = contextlib.ExitStack()
        self.copy = None
        self.steps = 0

    @initialize(snapshot_at=st.integers(0, 6), via_text=st.booleans())
    def start(self, snapshot_at, via_text):
        self.original = self.stack.enter_context(replaying())
        self.snapshot_at, self.via_text = snapshot_at, via_text

    def teardown(self):
        try:
            if self.copy is not None:
                assert snap(self.copy) == snap(self.original)
        finally:
            self.stack.close()

    def both(self, send) -> None:
        self.steps += 1
        if self.copy is None and self.steps > self.snapshot_at:
            document = snap(self.original)
            self.copy = self.stack.enter_context(replaying())
            r = restore(self.copy, document if self.via_text else json.loads(document))
            assert r.status_code == 200, r.text
        a = send(self.original)
        if self.copy is not None:
            b = send(self.copy)
            assert (b.status_code, b.content) == (a.status_code, a.content)

    @rule(ticks=st.integers(-30, 12), lots=st.integers(1, 20), tif=st.sampled_from(["GTC", "ALO", "IOC"]),
          refresh=st.booleans(), other=st.booleans())
    def quote(self, ticks, lots, tif, refresh, other):
        self.both(lambda m: quote(m, ticks, lots, tif, refresh, other))

    @rule(other=st.booleans())
    def cancel(self, other):
        self.both(lambda m: cancel(m, other))

    @rule()
    def hedge(self):
        self.both(lambda m: m.client.post("/v1/mm/hedge", json={"symbol": "BTC-PERP"}))

    @rule(seconds=st.sampled_from([0.005, 0.02, 0.3, 1, 2.5, 8]))
    def advance(self, seconds):
        self.both(lambda m: advance(m, seconds))

    @invariant()
    def same_reads(self):
        if self.copy is not None:
            assert reads(self.copy) == reads(self.original)


ReplayContinuation.TestCase.settings = settings(
    max_examples=max(3, settings.default.max_examples // 25), stateful_step_count=10, deadline=None)
TestReplayContinuation = ReplayContinuation.TestCase


# ---- which server a replayed snapshot restores into ----------------------------------------------------
@pytest.mark.parametrize("make, field", [
    (lambda: in_process(), "markets.0.source"),                                     # no --replay at all
    (lambda: replaying(HYPERLIQUID), "markets.0.recording.digest"),                 # another BTC recording
    (lambda: replaying(latency_ms=5), "markets.0.recording.latency_us"),            # the same, other models
    (lambda: replaying(queue="power:3"), "markets.0.recording.queue"),
    (lambda: replaying(partial_fills=False), "markets.0.recording.partial_fills"),
], ids=["synthetic", "other-recording", "other-latency", "other-queue", "whole-fills"])
def test_a_replayed_snapshot_restores_only_into_a_server_replaying_the_same_recording(make, field):
    with make() as target:
        quote(target, 4)
        before = snap(target)
        body = assert_error(restore(target, busy_document()), 400, "invalid_snapshot")
        assert body["field"] == field, body
        assert body["rule"] in body["message"] and ("--replay" in body["rule"] or "recording" in body["rule"])
        assert snap(target) == before


def test_a_synthetic_snapshot_of_a_replayed_symbol_is_refused_by_a_replay_server():
    with in_process() as synthetic:
        quote(synthetic, 4)
        document = snap(synthetic)
    with replaying() as target:
        before = snap(target)
        body = assert_error(restore(target, document), 400, "invalid_snapshot")
        assert body["field"] == "markets.0.source" and "replays a recording" in body["rule"]
        assert snap(target) == before


def test_the_recording_path_is_for_people_a_moved_file_restores():
    document = base()
    document["markets"][0]["recording"]["path"] = "/somewhere/else/btcusdt.gz"
    with replaying() as target:
        assert restore(target, document).status_code == 200
        assert json.loads(snap(target))["markets"][0]["recording"]["path"] == BINANCE


def test_the_digest_names_the_replayed_events_not_the_file():
    from pf_mock.replay.formats import read_recording
    from pf_mock.replay.data import ReplayData
    rec = read_recording(BINANCE)
    digest = ReplayData.build(rec).digest
    assert base()["markets"][0]["recording"]["digest"] == digest
    cut = dataclasses.replace(rec, events=rec.events[:-1], tops=None)      # the recording less its last event
    assert ReplayData.build(cut).digest != digest


# ---- hostile values in the replayed market's entry ----------------------------------------------------
@pytest.fixture(scope="module")
def target():
    with replaying() as mock:
        quote(mock, 2, refresh=True)
        advance(mock, 0.5)
        yield mock


def refused(mock, document, field: str) -> dict:
    before = snap(mock)
    body = assert_error(restore(mock, document), 400, "invalid_snapshot")
    assert body["field"] == field or body["field"].startswith(field + "."), body
    assert body["rule"] and body["rule"] in body["message"], body
    assert snap(mock) == before
    return body


def at(path: str, value):
    def apply(d: dict) -> None:
        *parents, last = [int(p) if p.lstrip("-").isdigit() else p for p in path.split(".")]
        node = d["markets"][0]
        for p in parents:
            node = node[p]
        node[last] = value
    return apply


def with_entry(change):
    def apply(d: dict) -> None:
        change(d["markets"][0])
    return apply


def first_resting(m):
    return m["resting"][0]


HOSTILE = {
    "source-banana": (at("source", "banana"), "markets.0.source"),
    "replay-in-version-2": (lambda d: d.update(version=2), "markets.0.source"),
    "digest-not-hex": (at("recording.digest", "zz" * 32), "markets.0.recording.digest"),
    "digest-other": (at("recording.digest", "0" * 64), "markets.0.recording.digest"),
    "venue-other": (at("recording.venue", "hyperliquid"), "markets.0.recording.venue"),
    "symbol-other": (at("recording.symbol", "ETHUSDT"), "markets.0.recording.symbol"),
    "latency-negative": (at("recording.latency_us", -1), "markets.0.recording.latency_us"),
    "latency-huge": (at("recording.latency_us", 10 ** 12), "markets.0.recording.latency_us"),
    "path-1mib": (at("recording.path", "x" * (1 << 20)), "markets.0.recording.path"),
    "recording-extra": (at("recording.note", "x"), "markets.0.recording.note"),
    "recording-missing": (with_entry(lambda m: m["recording"].pop("digest")), "markets.0.recording.digest"),
    "entry-extra": (at("note", "x" * (1 << 20)), "markets.0.note"),
    "started-other": (with_entry(lambda m: m.update(started_us=m["started_us"] + 1)), "markets.0.started_us"),
    "now-after-clock": (with_entry(lambda m: m.update(now_us=m["now_us"] + 10 ** 6)), "markets.0.now_us"),
    "now-1e308": (at("now_us", 1e308), "markets.0.now_us"),
    "group-past-end": (at("group", 10 ** 9), "markets.0.group"),
    "group-negative": (at("group", -1), "markets.0.group"),
    "next-i-off": (with_entry(lambda m: m.update(next_i=m["next_i"] + 1)), "markets.0.next_i"),
    "group-behind": (with_entry(lambda m: m.update(group=0, next_i=0)), "markets.0.group"),
    "house-crossed": (with_entry(lambda m: m["house"][0].append([m["house"][1][0][0] + 1000, 5])), "markets.0.house"),
    "house-twice": (with_entry(lambda m: m["house"][1].append(list(m["house"][1][0]))), "markets.0.house.1"),
    "house-zero-lots": (with_entry(lambda m: m["house"][0][0].__setitem__(1, 0)), "markets.0.house.0.0.1"),
    "house-float-price": (with_entry(lambda m: m["house"][0][0].__setitem__(0, 0.5)), "markets.0.house.0.0.0"),
    "taken-more-than-level": (with_entry(lambda m: m["taken"].append([False, m["house"][1][0][0],
                                                                     m["house"][1][0][1] + 1])), "markets.0.taken"),
    "taken-no-level": (at("taken", [[True, 1, 1]]), "markets.0.taken.0"),
    "order-id-twice": (with_entry(lambda m: m["resting"].append(copy.deepcopy(m["resting"][0]))),
                       "markets.0.resting"),
    "order-id-past-counter": (with_entry(lambda m: first_resting(m).__setitem__(0, m["counters"][0] + 1)),
                              "markets.0.resting.0.0"),
    "order-left-more-than-lots": (with_entry(lambda m: first_resting(m).__setitem__(4, first_resting(m)[5] + 1)),
                                  "markets.0.resting.0.4"),
    "order-owner-unknown": (with_entry(lambda m: first_resting(m).__setitem__(1, "nobody")), "markets.0.book"),
    "order-owner-null": (with_entry(lambda m: first_resting(m).__setitem__(1, None)), "markets.0.resting.0.1"),
    "order-owner-latin": (with_entry(lambda m: first_resting(m).__setitem__(1, "ag€nt")), "markets.0.resting.0.1"),
    "order-created-later": (with_entry(lambda m: first_resting(m)[6].__setitem__(1, 4e9)), "markets.0.resting.0.6.1"),
    "queue-ahead-1e308": (with_entry(lambda m: first_resting(m)[7].__setitem__(0, 1e308)), "markets.0.resting.0.7.0"),
    "queue-traded-negative": (with_entry(lambda m: first_resting(m)[7].__setitem__(1, -1)), "markets.0.resting.0.7.1"),
    "open-not-on-its-way": (with_entry(lambda m: m.update(pending=[p for p in m["pending"] if p[2] == 1])),
                            "markets.0.open.0"),
    "open-without-details": (with_entry(lambda m: m["open"][0].__setitem__(6, None)), "markets.0.open.0.6"),
    "pending-unknown-order": (with_entry(lambda m: m["pending"][0].__setitem__(3, 999_999)), "markets.0.pending.0"),
    "pending-twice": (with_entry(lambda m: m["pending"].append(list(m["pending"][0]))), "markets.0.pending"),
    "pending-before-now": (with_entry(lambda m: m["pending"][0].__setitem__(0, m["now_us"] - 1)), "markets.0.pending.0"),
    "pending-kind-2": (with_entry(lambda m: m["pending"][0].__setitem__(2, 2)), "markets.0.pending.0.2"),
    "pending-seq-past-counter": (with_entry(lambda m: m["pending"][0].__setitem__(1, m["counters"][2] + 1)),
                                 "markets.0.pending.0"),
    "pending-new-of-resting": (with_entry(lambda m: m["pending"].append(
        [m["now_us"] + 1, 0, 0, m["resting"][0][0], None])), "markets.0.pending"),
    "cancel-reason-banana": (with_entry(lambda m: next(p for p in m["pending"] if p[2] == 1).__setitem__(4, "banana")),
                             "markets.0.pending"),
    "cancelling-mismatch": (with_entry(lambda m: m["cancelling"][0].__setitem__(1, m["cancelling"][0][0] + 1)),
                            "markets.0.cancelling.0"),
    "cancelling-unknown": (at("cancelling", [[999_999, 999_999]]), "markets.0.cancelling.0"),
    "listed-twice": (with_entry(lambda m: m["listed"].append(m["listed"][0])), "markets.0.listed"),
    "listed-missing": (with_entry(lambda m: m["listed"].pop()), "markets.0.listed"),
    "listed-cancelling": (with_entry(lambda m: m["listed"].append(m["cancelling"][0][0])), "markets.0.listed"),
    "schedule-unknown-agent": (with_entry(lambda m: m["schedule"][0][2].__setitem__("agent_id", "nobody")),
                               "markets.0.schedule.0.2.agent_id"),
    "schedule-before-now": (with_entry(lambda m: m["schedule"][0].__setitem__(0, m["now_us"] - 1)),
                            "markets.0.schedule.0"),
    "schedule-seq-past-counter": (with_entry(lambda m: m["schedule"][0].__setitem__(1, m["schedule_seq"] + 1)),
                                  "markets.0.schedule.0"),
    "trade-after-now": (with_entry(lambda m: m["trades"][-1].__setitem__(3, m["now_us"] + 1)), "markets.0.trades"),
    "trades-printed-short": (at("trades_printed", 0), "markets.0.trades_printed"),
    "candle-low-above-high": (with_entry(lambda m: m["candles"][0].__setitem__(3, m["candles"][0][2] + 10)),
                              "markets.0.candles.0"),
    "counters-short": (at("counters", [1, 2, 3]), "markets.0.counters"),
    "counters-negative": (with_entry(lambda m: m["counters"].__setitem__(1, -5)), "markets.0.counters.1"),
    "active-string": (at("active", "yes"), "markets.0.active"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_replayed_entry_is_refused_naming_the_field(target, name):
    change, field = HOSTILE[name]
    document = base()
    change(document)
    refused(target, document, field)


def test_the_base_document_restores_to_the_same_bytes(target):
    assert restore(target, busy_document()).status_code == 200
    assert snap(target) == busy_document()


def leaves(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from leaves(v, path + (k,))
    elif isinstance(node, list) and node:
        for i, v in enumerate(node):
            yield from leaves(v, path + (i,))
    else:
        yield path


@functools.lru_cache(maxsize=1)
def entry_paths() -> list[tuple]:
    return list(leaves(base()["markets"][0]))


HOSTILE_VALUES = st.one_of(
    st.sampled_from([None, True, False, 0, -1, 1, 2 ** 53 + 1, -(2 ** 63), 1e308, -1e308, 0.5, "", "x",
                     "ü€\U0001f600", [], {}, [None], {"a": 1}, "BTC-PERP", "replay"]),
    st.integers(-10 ** 6, 10 ** 6), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8))


@settings(max_examples=max(8, settings.default.max_examples // 3), deadline=None)
@given(index=st.integers(0, 10 ** 9), how=st.sampled_from(["replace", "nudge", "drop"]), value=HOSTILE_VALUES)
def test_any_one_replayed_field_changed_gives_a_working_server_or_a_400_with_nothing_changed(target, index, how,
                                                                                             value):
    document = base()
    path = entry_paths()[index % len(entry_paths())]
    edit_at(document["markets"][0], path, how, value)
    before = snap(target)
    r = restore(target, document)
    assert r.status_code in (200, 400), (path, r.text)
    if r.status_code == 400:
        assert r.json()["error"] == "invalid_snapshot"
        assert snap(target) == before, path
        return
    for send in (lambda: advance(target, 0.01), lambda: advance(target, 3), lambda: target.client.get("/v1/mm/pnl"),
                 lambda: target.client.get("/v1/mm/orders"), lambda: target.client.get("/v1/mm/fills"),
                 lambda: target.client.get("/v1/markets/BTC-PERP/orderbook"), lambda: quote(target, -5),
                 lambda: target.client.post("/v1/mm/cancel", json={"symbol": "BTC-PERP"}),
                 lambda: advance(target, 30)):
        answer = send()
        assert answer.status_code < 500, (path, answer.text)
    again = snap(target)
    assert restore(target, again).status_code == 200, path
