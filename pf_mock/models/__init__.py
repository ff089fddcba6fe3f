"""The market model's named parts, each a small object in a module of its own, handed to the market.

- ``book_shape.BookShape``: where the house quotes (a touch a whole number of ticks wide, a ladder
  behind it), how much it shows at each level, and how fast eaten liquidity comes back.
- ``sizes.TakerSizes``: how large each taker order is (a log-normal body with a Pareto tail, no cap).
- ``arrivals.TakerArrivals``: when takers come (a Hawkes stream within each minute, busier when volatile).
- ``impact.ImpactLaw``: how far an agent's taking order moves the fair value (square root, part transient).
- ``informed.InformedFlow``: which takers know where the fair value goes (large ones more often).
- ``signs.TakerSigns``: which side an uninformed taker takes (children of metaorders: long memory).
- ``queue.QueueTurnover``: how the house's depth at an agent's level turns over (cancels ahead of it or behind).

One part is not handed to the market: ``book_shape.BookScaling`` sets each market's spread and depth from
its trading activity (volatility × daily volume) once, when the catalog builds the market's regime.

``MarketModels`` bundles them; ``Market`` takes one at construction (the default bundle when none is
given). Their parameters live in the ``Regime`` (``model.Regime``), so a regime change or a scenario
file changes them like any other regime field.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .arrivals import TakerArrivals
from .book_shape import BookShape
from .impact import ImpactLaw
from .informed import InformedFlow
from .queue import QueueTurnover
from .signs import TakerSigns
from .sizes import TakerSizes


@dataclass(frozen=True)
class MarketModels:
    book_shape: BookShape = field(default_factory=BookShape)
    arrivals: TakerArrivals = field(default_factory=TakerArrivals)
    sizes: TakerSizes = field(default_factory=TakerSizes)
    signs: TakerSigns = field(default_factory=TakerSigns)
    impact: ImpactLaw = field(default_factory=ImpactLaw)
    informed: InformedFlow = field(default_factory=InformedFlow)
    queue: QueueTurnover = field(default_factory=QueueTurnover)


DEFAULT_MODELS = MarketModels()

__all__ = ["BookShape", "ImpactLaw", "InformedFlow", "TakerArrivals", "MarketModels", "QueueTurnover", "TakerSigns",
           "TakerSizes", "DEFAULT_MODELS"]
