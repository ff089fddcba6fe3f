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

DPI = 80
SIZE = (8.0, 3.2)


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


def figures(result: SimResult) -> dict[str, bytes]:
    """``{name: PNG bytes}``: price, inventory, pnl, markouts."""
    plt = _pyplot()
    samples = result.samples
    span = samples[-1].t if samples else 1.0
    scale, unit = _time_axis(span)
    xs = [s.t * scale for s in samples]
    out: dict[str, bytes] = {}

    fig, ax = plt.subplots(figsize=SIZE)
    ax.plot(xs, [s.mark for s in samples], color="black", lw=0.8, label="mark")
    ax.plot(xs, [s.bid for s in samples], color="tab:green", lw=0.6, alpha=0.8, label="our bid")
    ax.plot(xs, [s.ask for s in samples], color="tab:red", lw=0.6, alpha=0.8, label="our ask")
    buys = [f for f in result.fills if f["side"] == "buy"]
    sells = [f for f in result.fills if f["side"] == "sell"]
    ax.scatter([f["t"] * scale for f in buys], [f["price"] for f in buys], marker="^", s=14, color="tab:green",
               label="we bought", zorder=3)
    ax.scatter([f["t"] * scale for f in sells], [f["price"] for f in sells], marker="v", s=14, color="tab:red",
               label="we sold", zorder=3)
    ax.set_xlabel(unit)
    ax.set_ylabel("USD")
    ax.set_title("Mark price, our quotes and our fills")
    ax.legend(loc="best", fontsize=7, ncol=3)
    out["price"] = _png(plt, fig)

    fig, ax = plt.subplots(figsize=SIZE)
    ax.step(xs, [s.position_usd for s in samples], where="post", color="tab:blue", lw=0.8)
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel(unit)
    ax.set_ylabel("USD at the mark")
    ax.set_title("Inventory")
    out["inventory"] = _png(plt, fig)

    fig, ax = plt.subplots(figsize=SIZE)
    ax.plot(xs, [s.spread_income for s in samples], lw=0.8, label="spread income")
    ax.plot(xs, [s.rebates for s in samples], lw=0.8, label="rebates")
    ax.plot(xs, [s.inventory_pnl for s in samples], lw=0.8, label="inventory PnL")
    ax.plot(xs, [-s.hedge_cost for s in samples], lw=0.8, label="- hedge cost")
    ax.plot(xs, [s.net_pnl for s in samples], color="black", lw=1.2, label="net PnL")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel(unit)
    ax.set_ylabel("USD")
    ax.set_title("Cumulative PnL by component")
    ax.legend(loc="best", fontsize=7, ncol=3)
    out["pnl"] = _png(plt, fig)

    curve = [p for p in result.report["markout_curve"] if p["markout_bps"] is not None]
    fig, ax = plt.subplots(figsize=SIZE)
    if curve:
        ax.plot([p["horizon_s"] for p in curve], [p["markout_bps"] for p in curve], marker="o", color="tab:purple")
        edge = result.report["markouts"][0]["edge_bps"]
        if edge is not None:
            ax.axhline(-edge, color="tab:orange", lw=0.8, ls="--", label=f"minus the edge ({edge:+.2f} bps)")
            ax.legend(loc="best", fontsize=7)
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("seconds after the fill")
    ax.set_ylabel("bps (+ = our way)")
    ax.set_title("Markout of our maker fills: how the mark moved after them")
    out["markouts"] = _png(plt, fig)
    return out


def sweep_figure(summary: list[dict]) -> bytes:
    """The frontier: fill share against spread income and adverse selection, one point per value."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8.0, 4.0))
    fill = [100 * e["figures"]["fill share"]["mean"] for e in summary]
    for name, color in (("spread income", "tab:green"), ("adverse sel. 10s", "tab:red"),
                        ("realised spr. 10s", "tab:blue")):
        ys = [e["figures"][name]["mean"] for e in summary]
        errs = [e["figures"][name]["std"] for e in summary]
        ax.errorbar(fill, ys, yerr=errs, marker="o", color=color, capsize=3, lw=1, label=name)
    for e, x in zip(summary, fill):
        ax.annotate(f"{e['param']}={e['value']}", (x, e["figures"]["spread income"]["mean"]),
                    textcoords="offset points", xytext=(4, 6), fontsize=7)
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("fill share of posted notional (%)")
    ax.set_ylabel("USD per run")
    ax.set_title("Fill rate / spread income / adverse selection")
    ax.legend(loc="best", fontsize=7)
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
    "price": "The black line is the mark (fair value). Green and red are where our bid and ask rested after each "
             "round; triangles are our fills. Fills bunched just before the mark moves through them are adverse "
             "selection.",
    "inventory": "Our position in USD at the mark. Every fill moves it; a wide swing is inventory risk.",
    "pnl": "Spread income is what we earned against the mark at each fill; rebates are paid on every maker fill; "
           "inventory PnL is the position marked to market over time; hedge cost is taker fees and slippage. "
           "The black net line is their sum.",
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
    c = result.config
    title = (f"{c.maker} on {result.report['symbol']}: {duration_text(result.report['simulated_seconds'])}, "
             f"seed {c.seed}" + (f", scenario {c.scenario}" if c.scenario else ""))
    body = [f"<pre>{html.escape(text)}</pre>"]
    for name, heading in (("price", "Mid, quotes and fills"), ("inventory", "Inventory"),
                          ("pnl", "Cumulative PnL by component"), ("markouts", "Markout curve")):
        body.append(f"<h2>{heading}</h2>{_img(pngs[name], heading)}<p class='note'>{html.escape(EXPLAIN[name])}</p>")
    (folder / "index.html").write_text(PAGE.format(title=html.escape(title), body="\n".join(body)))
    return folder / "index.html"


def write_sweep_report(summary: list[dict], rows: list[tuple], header: str, folder: str | Path) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    png = sweep_figure(summary)
    (folder / "frontier.png").write_bytes(png)
    text = render_sweep(summary, header)
    (folder / "sweep.txt").write_text(text + "\n")
    (folder / "sweep.json").write_text(json.dumps({"summary": summary, "runs": [
        {"value": v, "seed": s, "report": r} for v, s, r in rows]}, indent=1, sort_keys=True) + "\n")
    body = (f"<pre>{html.escape(text)}</pre><h2>Frontier</h2>{_img(png, 'frontier')}"
            "<p class='note'>Each point is one swept value, averaged over the seeds (bars: one standard deviation). "
            "Wider quotes fill less; each fill earns more edge and suffers less adverse selection.</p>")
    (folder / "index.html").write_text(PAGE.format(title=html.escape(header.splitlines()[0]), body=body))
    return folder / "index.html"


__all__ = ["figures", "sweep_figure", "write_report", "write_sweep_report", "SWEEP_FIGURES"]
