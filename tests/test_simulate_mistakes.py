"""``pf-mock simulate`` refuses a mistake before it runs: one line on stderr naming what to do, exit code 2
(and nothing on stdout). Each case is pinned from the other side too: the nearest right value runs."""

from __future__ import annotations

import pytest

from pf_mock.cli import main

RUN = ["simulate", "--duration", "10", "--quiet"]


def exit_code(*args: str) -> int:
    try:
        return main([*RUN, *args])
    except SystemExit as exc:           # argparse's own refusals exit from inside the parser
        return exc.code


def refused(capsys, *args: str) -> str:
    assert exit_code(*args) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("pf-mock: error: ")
    return err


@pytest.mark.parametrize("args, says", [
    (["--symbol", "NOPE-PERP"], "--symbol NOPE-PERP: no such market; use one that GET /v1/markets lists"),
    (["--param", "nosuch=3"], "--param nosuch=3: clients.simple_mm has no parameter 'nosuch'; it takes "
                              "error_pause_seconds, order_size, spread_bps"),
    (["--param", "spread_bps=abc"], "--param spread_bps=abc: spread_bps takes a number (default 5)"),
    (["--param", "symbol=ETH-PERP"], "--symbol picks the market"),
    (["--maker", "clients.inventory_mm", "--param", "nosuch=1"], "clients.inventory_mm has no parameter 'nosuch'"),
    (["--maker", "clients.inventory_mm", "--param", "gamma=high"], "gamma takes a number (default 0.2)"),
    (["--seed", "-3"], "'-3' is not a seed: give a whole number from 0 to 9,007,199,254,740,991"),
    (["--seed", "2.5"], "'2.5' is not a seed"),
    (["--seed", str(2**53)], "is not a seed"),
    (["--latency-ms", "-1"], "'-1' is not a latency: give a number of ms from 0 to 60,000"),
    (["--latency-ms", "nan"], "'nan' is not a latency"),
    (["--latency-ms", "60000.5"], "is not a latency"),
    (["--sweep", "spread_bps=5,wide"], "--sweep spread_bps=5,wide: spread_bps takes a number"),
    (["--sweep", "spread_bps=5,10", "--seeds=-3-2"], "is not a seed list"),
])
def test_a_mistake_is_one_line_and_exit_2(capsys, args, says):
    assert says in refused(capsys, *args)


@pytest.mark.parametrize("args", [
    ["--symbol", "btc"], ["--param", "spread_bps=7.5"], ["--seed", "0"], ["--seed", str(2**53 - 1)],
    ["--maker", "clients.inventory_mm", "--param", "gamma=0.3"],
])
def test_the_nearest_right_value_runs(capsys, args):
    assert exit_code(*args) == 0
    assert "pf-mock: error" not in capsys.readouterr().err


def test_a_maker_that_stops_itself_is_one_line_too(capsys):
    err = refused(capsys, "--param", "order_size=5")
    assert "the maker stopped: order_too_small: " in err and "raise the order size" in err
