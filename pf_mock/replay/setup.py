"""Recordings to an exchange: read the files, check them against the catalog, make the market sources
and the manual clock that starts where the recordings do."""

from __future__ import annotations

import os
from typing import Iterable

from ..catalog import Catalog, UnknownMarket, load_catalog
from .formats import RecordingError, read_recording
from .latency import DEFAULT_LATENCY_MS, ConstantLatency
from .queue import parse_queue_model
from .options import DEFAULT_QUEUE
from .source import ReplaySource, catalog_with, start_for


def load_sources(paths: Iterable[str], *, queue: str = DEFAULT_QUEUE, latency_ms: float = DEFAULT_LATENCY_MS,
                 partial_fills: bool = True, catalog: Catalog | None = None) -> dict[str, ReplaySource]:
    """One ``ReplaySource`` per recording, by the symbol it serves; raises ``RecordingError`` (one line)
    for a bad file, a base the catalog does not list, or two recordings of one symbol."""
    catalog = catalog or load_catalog()
    try:
        model = parse_queue_model(queue)
        latency = ConstantLatency(latency_ms)
    except ValueError as exc:
        raise RecordingError(str(exc)) from None
    sources: dict[str, ReplaySource] = {}
    for path in paths:
        recording = _read(path)
        try:
            spec = catalog.resolve(recording.market_symbol)
        except UnknownMarket:
            raise RecordingError(f"{path}: no market {recording.market_symbol} in the catalog for "
                                 f"{recording.venue} {recording.symbol}") from None
        if spec.symbol in sources:
            raise RecordingError(f"{path}: a second recording of {spec.symbol} (one file per instrument)")
        source = ReplaySource(recording, queue=model, latency=latency, partial_fills=partial_fills)
        source.symbol = spec.symbol
        sources[spec.symbol] = source
    return sources


_READ: dict = {}


def _read(path: str):
    """``read_recording``, kept for the process while the file is unchanged (a simulate run reads each
    recording twice: once to check it, once to run; a sweep once per run)."""
    try:
        st = os.stat(path)
        key = (os.path.abspath(path), st.st_size, st.st_mtime_ns)
    except OSError:
        return read_recording(path)         # says why, in one line
    found = _READ.get(key)
    if found is None:
        found = _READ[key] = read_recording(path)
        while len(_READ) > 8:
            del _READ[next(iter(_READ))]
    return found


def replay_catalog(sources: dict[str, ReplaySource], catalog: Catalog | None = None) -> Catalog:
    return catalog_with(catalog or load_catalog(), sources)


def replay_start(sources: dict[str, ReplaySource]) -> float:
    return start_for(sources.values())
