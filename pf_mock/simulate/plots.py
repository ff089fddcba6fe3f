"""The report's plots and its self-contained HTML page (PNG images inlined as base64).

matplotlib is an optional extra (``pip install 'pf-mock[report]'``): only ``--report`` needs it, and
the server, the core and the text report must not. It draws with the non-interactive Agg backend.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

from .report import SWEEP_FIGURES, duration_text, render, render_sweep
from .runner import SimResult

DPI = 100
SIZE = (9.0, 3.6)
PRICE_SIZE = (9.0, 4.6)
LEGEND_PT = 9               # every legend and annotation at least this size
HEDGE_KINDS = ("hedge", "auto_hedge")

# Each plot's title, used as it is by the plot and by its heading on the HTML page.
TITLES = {
    "price": "Mark price, our quotes and our fills",
    "inventory": "Inventory, the hedge threshold and the hedges",
    "pnl": "Cumulative PnL by component",
    "markouts": "Markout of our maker fills: how the mark moved after them",
}


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise SystemExit("--report needs matplotlib: pip install 'pf-mock[report]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _time_axis(span_s: float) -> tuple[float, str]:
    """Seconds to the plots' time unit: hours for long runs, minutes otherwise."""
    return (1 / 3600, "hours") if span_s > 3 * 3600 else (1 / 60, "minutes")


def subject(result: SimResult) -> str:
    """What a run was: the maker, the market, the seed (and the scenario)."""
    c = result.config
    return (f"{c.maker} on {result.report['symbol']}, seed {c.seed}"
            + (f", scenario {c.scenario}" if c.scenario else ""))


def heading(name: str, result: SimResult) -> str:
    """A plot's title in one line: its heading on the page (the plot draws it in two)."""
    return f"{TITLES[name]}: {subject(result)}"


def hedge_threshold(result: SimResult) -> float | None:
    """The |inventory| in USD past which the maker hedges: its own threshold (the seed's maker's, or the
    inventory maker's auto-hedge guardrail)."""
    maker = result.maker
    for name in ("hedge_at_usd", "hedge_threshold"):
        value = getattr(maker, name, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            return float(value)
    return None


def _usd_axis(ax) -> None:
    from matplotlib.ticker import FuncFormatter
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}"))


def build_figures(result: SimResult) -> dict:
    """``{name: matplotlib Figure}``: price, inventory, pnl, markouts (closed by the caller)."""
    plt = _pyplot()
    samples = result.samples
    span = samples[-1].t if samples else 1.0
    scale, unit = _time_axis(span)
    xs = [s.t * scale for s in samples]
    who = subject(result)
    hedges = [f for f in result.fills if f["kind"] in HEDGE_KINDS]
    quotes = [f for f in result.fills if f["kind"] not in HEDGE_KINDS]
    out = {}

    # Price: the quotes drawn over the fills (which are small and see-through), so that hundreds of
    # fills do not hide where the quotes were.
    fig, ax = plt.subplots(figsize=PRICE_SIZE)
    buys = [f for f in quotes if f["side"] == "buy"]
    sells = [f for f in quotes if f["side"] == "sell"]
    ax.scatter([f["t"] * scale for f in buys], [f["price"] for f in buys], marker="^", s=9, alpha=0.4,
               linewidths=0, color="tab:green", label="we bought", zorder=2)
    ax.scatter([f["t"] * scale for f in sells], [f["price"] for f in sells], marker="v", s=9, alpha=0.4,
               linewidths=0, color="tab:red", label="we sold", zorder=2)
    if hedges:
        ax.scatter([f["t"] * scale for f in hedges], [f["price"] for f in hedges], marker="X", s=36,
                   color="tab:orange", edgecolors="black", linewidths=0.4, label="hedge", zorder=6)
    ax.step(xs, [s.bid for s in samples], where="post", color="darkgreen", lw=1.1, label="our bid", zorder=4)
    ax.step(xs, [s.ask for s in samples], where="post", color="darkred", lw=1.1, label="our ask", zorder=4)
    ax.plot(xs, [s.mark for s in samples], color="black", lw=1.0, label="mark", zorder=5)
    ax.set_xlabel(unit)
    ax.set_ylabel("USD")
    _usd_axis(ax)
    ax.set_title(f"{TITLES['price']}\n{who}")
    ax.legend(loc="best", fontsize=LEGEND_PT, ncol=3, framealpha=0.85, markerscale=2)
    out["price"] = fig

    fig, ax = plt.subplots(figsize=SIZE)
    ax.step(xs, [s.position_usd for s in samples], where="post", color="tab:blue", lw=0.9, label="inventory")
    ax.axhline(0, color="grey", lw=0.5)
    threshold = hedge_threshold(result)
    if threshold is not None:
        ax.axhline(threshold, color="tab:orange", lw=0.9, ls="--", label=f"hedge threshold +/-${threshold:,.0f}")
        ax.axhline(-threshold, color="tab:orange", lw=0.9, ls="--")
    for i, t in enumerate(sorted({f["t"] for f in hedges})):
        ax.axvline(t * scale, color="tab:orange", lw=0.7, alpha=0.6, ls=":", label="hedge" if i == 0 else None)
    ax.set_xlabel(unit)
    ax.set_ylabel("USD at the mark")
    _usd_axis(ax)
    ax.set_title(f"{TITLES['inventory']}\n{who}")
    ax.legend(loc="best", fontsize=LEGEND_PT, ncol=3, framealpha=0.85)
    out["inventory"] = fig

    fig, ax = plt.subplots(figsize=SIZE)
    ax.plot(xs, [s.spread_income for s in samples], lw=0.9, label="spread income")
    ax.plot(xs, [s.rebates for s in samples], lw=0.9, label="rebates")
    ax.plot(xs, [s.inventory_pnl for s in samples], lw=0.9, label="inventory PnL")
    ax.plot(xs, [s.hedge_cost for s in samples], lw=0.9, ls="--", label="hedge cost (+ = a cost, subtracted)")
    ax.plot(xs, [s.net_pnl for s in samples], color="black", lw=1.3, label="net PnL")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel(unit)
    ax.set_ylabel("USD")
    _usd_axis(ax)
    ax.set_title(f"{TITLES['pnl']}\n{who}")
    ax.legend(loc="best", fontsize=LEGEND_PT, ncol=3, framealpha=0.85)
    out["pnl"] = fig

    curve = [p for p in result.report["markout_curve"] if p["markout_bps"] is not None]
    fig, ax = plt.subplots(figsize=SIZE)
    if curve:
        ax.plot([p["horizon_s"] for p in curve], [p["markout_bps"] for p in curve], marker="o", color="tab:purple",
                label="markout")
        edge = result.report["markouts"][0]["edge_bps"]
        if edge is not None:
            # Drawn at minus the edge, and labelled with that same number: a markout down to it takes the
            # whole edge.
            ax.axhline(-edge, color="tab:orange", lw=0.9, ls="--",
                       label=f"minus the edge at fill: {-edge:+.2f} bps")
        ax.legend(loc="best", fontsize=LEGEND_PT)
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("seconds after the fill")
    ax.set_ylabel("bps (+ = our way)")
    ax.set_title(f"{TITLES['markouts']}\n{who}")
    out["markouts"] = fig
    return out


def figures(result: SimResult) -> dict[str, bytes]:
    """``{name: PNG bytes}``: price, inventory, pnl, markouts."""
    plt = _pyplot()
    return {name: _png(plt, fig) for name, fig in build_figures(result).items()}


SWEEP_TITLE = "Fill rate / spread income / adverse selection"


def sweep_figure(summary: list[dict], who: str = "") -> bytes:
    """The frontier: fill share against spread income and adverse selection, one point per value; ``who``
    (the maker, market and seeds) under the title."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9.0, 4.6))
    fill = [100 * e["figures"]["fill share"]["mean"] for e in summary]
    for name, color in (("spread income", "tab:green"), ("adverse sel. 10s", "tab:red"),
                        ("realised spr. 10s", "tab:blue")):
        ys = [e["figures"][name]["mean"] for e in summary]
        errs = [e["figures"][name]["std"] for e in summary]
        ax.errorbar(fill, ys, yerr=errs, marker="o", color=color, capsize=3, lw=1, label=name)
    for e, x in zip(summary, fill):
        ax.annotate(f"{e['param']}={e['value']}", (x, e["figures"]["spread income"]["mean"]),
                    textcoords="offset points", xytext=(4, 6), fontsize=LEGEND_PT)
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("fill share of posted notional (%)")
    ax.set_ylabel("USD per run")
    ax.set_title(f"{SWEEP_TITLE}\n{who}" if who else SWEEP_TITLE)
    ax.legend(loc="best", fontsize=LEGEND_PT)
    return _png(plt, fig)


def _png(plt, fig) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=DPI)
    plt.close(fig)
    return buffer.getvalue()


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}}
pre{{background:#f6f6f6;padding:1rem;overflow-x:auto;font-size:.85rem}}img{{max-width:100%}}
h2{{margin-top:2rem}}p.note{{color:#555;font-size:.9rem}}</style></head>
<body><h1>{title}</h1>{body}</body></html>
"""

EXPLAIN = {
    "price": "The black line is the mark (fair value). The green and red steps are where our bid and ask rested "
             "after each round; the faint triangles are our fills, the orange crosses our hedges. Fills bunched "
             "just before the mark moves through them are adverse selection.",
    "inventory": "Our position in USD at the mark. Every fill moves it; a wide swing is inventory risk. The dashed "
                 "lines are the maker's hedge threshold, the dotted ones its hedges (back towards zero).",
    "pnl": "Spread income is what we earned against the mark at each fill; rebates are paid on every maker fill; "
           "inventory PnL is the position marked to market over time; hedge cost is taker fees and slippage, "
           "drawn as the API answers it (+ = a cost). Net PnL = spread income + rebates + inventory PnL - hedge "
           "cost.",
    "markouts": "Where the mark went h seconds after our maker fills, in bps, + in our favour. A curve that falls "
                "below zero is adverse selection: takers who traded with us knew where the price was going. "
                "Edge plus markout is the realised spread.",
}


def write_report(result: SimResult, folder: str | Path) -> Path:
    """``folder/index.html`` (self-contained), ``report.json``, ``report.txt`` and the PNGs."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pngs = figures(result)
    for name, png in pngs.items():
        (folder / f"{name}.png").write_bytes(png)
    text = render(result.report)
    (folder / "report.txt").write_text(text + "\n")
    (folder / "report.json").write_text(json.dumps(result.report, indent=1, sort_keys=True) + "\n")
    title = f"{subject(result)}: {duration_text(result.report['simulated_seconds'])} simulated"
    body = [f"<pre>{html.escape(text)}</pre>"]
    for name in ("price", "inventory", "pnl", "markouts"):
        head = heading(name, result)
        body.append(f"<h2>{html.escape(head)}</h2>{_img(pngs[name], head)}"
                    f"<p class='note'>{html.escape(EXPLAIN[name])}</p>")
    (folder / "index.html").write_text(PAGE.format(title=html.escape(title), body="\n".join(body)))
    return folder / "index.html"


def write_sweep_report(summary: list[dict], rows: list[tuple], header: str, folder: str | Path) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    png = sweep_figure(summary, header.splitlines()[0].removeprefix("pf-mock simulate --sweep: "))
    (folder / "frontier.png").write_bytes(png)
    text = render_sweep(summary, header)
    (folder / "sweep.txt").write_text(text + "\n")
    (folder / "sweep.json").write_text(json.dumps({"summary": summary, "runs": [
        {"value": v, "seed": s, "report": r} for v, s, r in rows]}, indent=1, sort_keys=True) + "\n")
    body = (f"<pre>{html.escape(text)}</pre><h2>{html.escape(SWEEP_TITLE)}</h2>{_img(png, SWEEP_TITLE)}"
            "<p class='note'>Each point is one swept value, averaged over the seeds (bars: one standard deviation). "
            "Wider quotes fill less; each fill earns more edge and suffers less adverse selection.</p>")
    (folder / "index.html").write_text(PAGE.format(title=html.escape(header.splitlines()[0]), body=body))
    return folder / "index.html"


__all__ = ["build_figures", "figures", "heading", "subject", "sweep_figure", "write_report", "write_sweep_report",
           "SWEEP_FIGURES"]
