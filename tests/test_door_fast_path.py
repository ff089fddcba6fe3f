"""The door's shortcut: a body it passes without parsing (``plainly_fine``) is one the full checks pass
too. Checked against the full checks themselves (``json_problem`` on the parsed body), for bodies built
to sit at each limit: nesting depth, integer size, escapes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pf_mock.json_checks import MAX_INT_DIGITS, MAX_JSON_DEPTH, TooLong, json_problem, parse_json, plainly_fine

LEAF = st.one_of(st.integers(-(2**70), 2**70), st.integers(-(10**400), 10**400), st.floats(allow_nan=False),
                 st.text(max_size=4), st.booleans(), st.none())


def nested(depth: int, leaf) -> object:
    for _ in range(depth):
        leaf = [leaf]
    return leaf


@given(depth=st.integers(0, MAX_JSON_DEPTH + 2), leaf=LEAF, ascii_only=st.booleans())
def test_what_the_shortcut_passes_the_full_checks_pass(depth: int, leaf, ascii_only: bool) -> None:
    body = json.dumps({"k": nested(depth, leaf)}, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    if plainly_fine(body):
        assert json_problem(parse_json(body)) is None


def test_the_shortcut_steps_aside_at_each_limit() -> None:
    assert plainly_fine(json.dumps(nested(MAX_JSON_DEPTH, 1)).encode())
    assert not plainly_fine(json.dumps(nested(MAX_JSON_DEPTH + 1, 1)).encode())
    longest = b'{"n": ' + b"9" * MAX_INT_DIGITS + b"}"
    assert plainly_fine(longest) and json_problem(parse_json(longest)) is None    # read, left to the fields
    too_long = b'{"n": ' + b"9" * (MAX_INT_DIGITS + 1) + b"}"
    assert not plainly_fine(too_long)                                             # the full check decides
    with pytest.raises(TooLong):
        parse_json(too_long)
    assert not plainly_fine(b'{"s": "\\ud800"}')
    assert json_problem(parse_json(b'{"s": "\\ud800"}')) is not None
    assert not plainly_fine('{"s": "é"}'.encode())
