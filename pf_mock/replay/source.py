"""A recording as a market source.

``ReplaySource(recording)`` is what the exchange is handed for the recorded symbol: called like the
synthetic ``Market`` constructor (``source(spec, seed, start)``) it makes a fresh
``ReplayMarket``; ``spec_for(catalog_spec)`` is the catalog entry it serves under (the recording's lot as
the size decimals, its first mid as the initial mid). The events are converted once (``data.ReplayData``)
and shared by every market made from the source (a reset makes a new one).
"""

from __future__ import annotations

import dataclasses

from ..catalog import Catalog, MarketSpec
from .data import ReplayData
from .formats import Recording
from .latency import ConstantLatency
from .market import ReplayMarket
from .queue import QueueModel, RiskAverseQueue


class ReplaySource:
    """The recorded market for one symbol: a factory of ``ReplayMarket`` with its models."""

    def __init__(self, recording: Recording, queue: QueueModel | None = None,
                 latency: ConstantLatency | None = None, partial_fills: bool = True) -> None:
        self.recording = recording
        self.data = _data_of(recording)
        self.queue = queue or RiskAverseQueue()
        self.latency = latency or ConstantLatency()
        self.partial_fills = partial_fills
        self.symbol = recording.market_symbol

    @property
    def start_s(self) -> float:
        return self.data.start_us / 1e6

    @property
    def end_s(self) -> float:
        return self.data.end_us / 1e6

    def spec_for(self, spec: MarketSpec) -> MarketSpec:
        """The catalog entry served for the recording: the synthetic one's name, index and leverage, the
        recording's size decimals and first mid."""
        return dataclasses.replace(spec, sz_decimals=self.data.grid.sz_decimals,
                                   initial_mid=self.data.mid_at(self.data.start_us) / self.data.grid.price_scale,
                                   source=f"recording {self.recording.venue} {self.recording.symbol}")

    def __call__(self, spec: MarketSpec, seed: int, start):
        return ReplayMarket(spec, self, start)

    def identity(self) -> dict:
        """What a snapshot names the recording and its models by (a restore requires them equal, except the
        path, which is there for people: the same recording may have moved)."""
        return {"digest": self.data.digest, "path": self.recording.path, "venue": self.recording.venue,
                "symbol": self.recording.symbol, "queue": self.queue.name, "latency_us": self.latency.us,
                "partial_fills": self.partial_fills}

    def from_state(self, spec: MarketSpec, start_us: int, state: dict, make_action, where: str):
        """The replayed market a snapshot's ``replay`` entry describes (``ReplayMarket.from_state``)."""
        return ReplayMarket.from_state(spec, self, start_us, state, make_action, where)


_DATA: dict[int, tuple[Recording, ReplayData]] = {}


def _data_of(recording: Recording) -> ReplayData:
    """The recording laid out once per process (the sources of one recording share it)."""
    found = _DATA.get(id(recording))
    if found is None or found[0] is not recording:
        found = _DATA[id(recording)] = (recording, ReplayData.build(recording))
        while len(_DATA) > 8:
            del _DATA[next(iter(_DATA))]
    return found[1]


def catalog_with(catalog: Catalog, sources: dict[str, ReplaySource]) -> Catalog:
    """The catalog with each replayed symbol's entry replaced by its recording's (``spec_for``)."""
    specs = []
    for spec in catalog.specs:
        source = sources.get(spec.symbol)
        specs.append(source.spec_for(spec) if source is not None else spec)
    return Catalog(specs)


def start_for(sources) -> float:
    """The clock's start for a set of recordings: the latest first event (every recorded market is then
    at a recorded state)."""
    return max(source.start_s for source in sources)
