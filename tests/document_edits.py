"""One edit of a JSON document at a path, as the snapshot mutation tests make it: drop the field, nudge a
number by a little, or put another value there."""

from __future__ import annotations


def edit_at(root, path, how: str, value) -> None:
    """Change ``root`` in place at ``path`` (a list of keys and indexes): ``how`` is "drop", "nudge" (a
    number moved by one unit, or by a thousandth, whatever its size) or anything else (``value`` put there)."""
    *parents, last = path
    node = root
    for p in parents:
        node = node[p]
    if how == "drop":
        if isinstance(node, dict):
            del node[last]
        else:
            node.pop(last)
    elif how == "nudge" and isinstance(node[last], (int, float)) and not isinstance(node[last], bool):
        node[last] = node[last] + (1 if isinstance(node[last], int) else node[last] * 1e-3 + 1e-6)
    else:
        node[last] = value
