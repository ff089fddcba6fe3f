"""The market model's named parts, each a small object in a module of its own, handed to the market.

- ``book_shape.BookShape``: where the house quotes (a touch a whole number of ticks wide, a ladder
  behind it), how much it shows at each level, and how fast eaten liquidity comes back.
- ``sizes.TakerSizes``: how large each taker order is (a log-normal body with a Pareto tail, no cap).

``MarketModels`` bundles them; ``Market`` takes one at construction (the default bundle when none is
given). Their parameters live in the ``Regime`` (``model.Regime``), so a regime change or a scenario
file changes them like any other regime field.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .book_shape import BookShape
from .sizes import TakerSizes


@dataclass(frozen=True)
class MarketModels:
    book_shape: BookShape = field(default_factory=BookShape)
    sizes: TakerSizes = field(default_factory=TakerSizes)


DEFAULT_MODELS = MarketModels()

__all__ = ["BookShape", "MarketModels", "TakerSizes", "DEFAULT_MODELS"]
