"""Public ids: a prefix and 12 hex digits, unique by construction.

The number behind an id is (per-market sequence, market index); a fixed bijection of 48-bit integers
scrambles it so that ids look distinct from their first characters on (the seed's client prints only
the first eight), while two different numbers can never share an id.
"""

_MASK = (1 << 48) - 1
_MULTIPLIER = 0x9E3779B97F4B & _MASK | 1      # odd, so multiplication mod 2**48 is a bijection
_SALT = 0x5DEECE66D


def public_id(prefix: str, market_index: int, seq: int) -> str:
    if not 0 <= market_index < 512 or not 0 <= seq < (1 << 39):
        raise ValueError("id out of range")
    n = (seq << 9) | market_index
    return f"{prefix}_{((n * _MULTIPLIER) & _MASK) ^ _SALT:012x}"


def order_id(market_index: int, seq: int) -> str:
    """The public id of order number ``seq`` of the market at ``market_index``."""
    return public_id("ord", market_index, seq)


def fill_id(market_index: int, seq: int) -> str:
    """The public id of fill number ``seq`` of the market at ``market_index``."""
    return public_id("fill", market_index, seq)
