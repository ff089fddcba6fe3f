"""The simulate report's plots and page say what they draw: each title names the maker, the market and the
seed, and the page's headings are the plots' titles; the markout legend's number is where its line is;
legends are readable; hedges and the hedge threshold are drawn; the quotes stay visible above hundreds of
fills; hedge cost has one sign (the API's: positive = a cost) in the text, the plot and the JSON."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("matplotlib")

from pf_mock.simulate import plots  # noqa: E402
from pf_mock.simulate.cli import seeds_text  # noqa: E402
from pf_mock.simulate.report import render  # noqa: E402
from pf_mock.simulate.runner import SimConfig, run_simulation  # noqa: E402


@pytest.fixture(scope="module")
def result():
    # 20 minutes of the seed's maker quoting 0.5 bps either side (spread_bps=1: on the calibrated market a
    # quote that tight fills most rounds) in a trending market: fills by the hundred, and hedges.
    return run_simulation(SimConfig(maker="clients.simple_mm", scenario="trending_up", seed=3, duration_s=1200,
                                    params={"spread_bps": 1}))


@pytest.fixture(scope="module")
def figs(result):
    made = plots.build_figures(result)
    yield made
    import matplotlib.pyplot as plt
    for fig in made.values():
        plt.close(fig)


def legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


def test_every_title_names_maker_symbol_and_seed_and_the_page_headings_are_the_titles(result, figs, tmp_path):
    for name, fig in figs.items():
        title = fig.axes[0].get_title()
        assert "clients.simple_mm" in title and "BTC-PERP" in title and "seed 3" in title, (name, title)
        assert "scenario trending_up" in title
        assert plots.heading(name, result) == title.replace("\n", ": ")
    page = plots.write_report(result, tmp_path).read_text()
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert headings == [plots.heading(n, result) for n in ("price", "inventory", "pnl", "markouts")]
    assert "<h1>clients.simple_mm on BTC-PERP, seed 3, scenario trending_up" in page


def test_the_markout_legend_gives_the_height_of_its_line(result, figs):
    ax = figs["markouts"].axes[0]
    edge = result.report["markouts"][0]["edge_bps"]
    assert edge is not None and edge != 0     # negative here: on the calibrated market the fills are picked off
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == 1
    height = dashed[0].get_ydata()[0]
    assert height == pytest.approx(-edge)
    label = next(t for t in legend_texts(ax) if "edge" in t)
    assert float(re.search(r"([+-]\d+\.\d+) bps", label).group(1)) == pytest.approx(height, abs=0.005)


def test_legends_and_annotations_are_at_least_9_pt(figs):
    for name, fig in figs.items():
        legend = fig.axes[0].get_legend()
        assert legend is not None, name
        assert min(t.get_fontsize() for t in legend.get_texts()) >= 9, name


def test_hedges_and_the_hedge_threshold_are_drawn(result, figs):
    hedges = [f for f in result.fills if f["kind"] in ("hedge", "auto_hedge")]
    assert hedges, "the run should hedge"
    price = figs["price"].axes[0]
    marked = next(c for c in price.collections if c.get_label() == "hedge")
    assert len(marked.get_offsets()) == len(hedges)
    inventory = figs["inventory"].axes[0]
    threshold = result.maker.hedge_threshold
    assert threshold == 300
    flat = sorted(round(line.get_ydata()[0], 6) for line in inventory.get_lines()
                  if line.get_linestyle() == "--")
    assert flat == [-threshold, threshold]
    upright = [line for line in inventory.get_lines() if line.get_linestyle() == ":"]
    assert len(upright) == len({f["t"] for f in hedges})
    assert any(t.startswith("hedge threshold") for t in legend_texts(inventory))


def test_the_quotes_are_drawn_above_the_fills(result, figs):
    price = figs["price"].axes[0]
    fills = [c for c in price.collections if c.get_label() in ("we bought", "we sold")]
    assert sum(len(c.get_offsets()) for c in fills) > 200           # hundreds of fills over a narrow range
    quotes = [line for line in price.get_lines() if line.get_label() in ("our bid", "our ask")]
    assert len(quotes) == 2
    assert min(q.get_zorder() for q in quotes) > max(c.get_zorder() for c in fills)
    for c in fills:
        assert c.get_alpha() <= 0.5 and max(c.get_sizes()) <= 10
    low, high = price.get_ylim()
    assert high - low < 1500            # the range the crowding was seen at ($700), not a crash's


def test_hedge_cost_has_the_apis_sign_everywhere(result, figs):
    cost = result.report["pnl"]["hedge_cost"]
    assert cost > 0
    text = render(result.report)
    row = next(line for line in text.splitlines() if "hedge cost" in line)
    assert row.split()[-1] == f"{cost:,.2f}"            # positive, as the API answers it
    assert row.lstrip().startswith("- hedge cost")      # and subtracted
    line = next(line for line in figs["pnl"].axes[0].get_lines() if line.get_label().startswith("hedge cost"))
    assert line.get_ydata()[-1] == pytest.approx(result.samples[-1].hedge_cost) and line.get_ydata()[-1] > 0


@pytest.mark.parametrize("seeds, text", [([0, 1, 2, 3], "0-3"), ([0, 3, 7], "0,3,7"), ([0, 1, 2, 9], "0-2,9"),
                                         ([4, 5], "4,5")])
def test_a_sweeps_seeds_are_named_in_its_title(seeds, text):
    assert seeds_text(seeds) == text
