"""A simulation's report as text (the terminal, the tutorial) and the sweep's table.

The figures come from ``runner.SimResult.report``; nothing here computes a figure of its own except the
sweep's means and standard deviations across seeds.
"""

from __future__ import annotations

import statistics
from typing import Any

PNL_ROWS = (("spread income", "spread_income", 1), ("rebates", "rebates", 1), ("inventory PnL", "inventory_pnl", 1),
            ("hedge cost", "hedge_cost", -1))


def _money(x: float) -> str:
    return f"{x:+,.2f}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _bps(x: float | None) -> str:
    return "-" if x is None else f"{x:+.3f}"


def duration_text(seconds: float) -> str:
    seconds = int(round(seconds))
    d, rest = divmod(seconds, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    text = f"{h}h{m:02d}m" + (f"{s:02d}s" if s else "")
    return f"{d}d{text}" if d else text


def pnl_rows(report: dict) -> list[tuple[str, float]]:
    """The PnL decomposition as signed rows that add up to the net row (hedge cost enters negative)."""
    pnl = report["pnl"]
    return [(label, sign * pnl[key] + 0.0) for label, key, sign in PNL_ROWS]     # + 0.0: no "-0.00"


def params_text(params: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(params.items())) or "defaults"


def render(report: dict) -> str:
    c = report["config"]
    lines = [
        f"pf-mock simulate: {c['maker']} on {report['symbol']}, scenario {c['scenario'] or '(none)'}, seed {c['seed']}, "
        f"{duration_text(report['simulated_seconds'])} simulated, a round every {c['interval_s']:g} s",
        f"maker parameters: {params_text(c['params'])}",
        "",
        "PnL (USD)",
    ]
    # Each component as the API answers it (hedge_cost positive = a cost), with the sign it enters the net.
    for (label, key, sign), operator in zip(PNL_ROWS, ("  ", "+ ", "+ ", "- ")):
        value = report["pnl"][key] + 0.0           # + 0.0: no "-0.00"
        shown = _money(value) if sign > 0 else f"{value:,.2f}"
        lines.append(f"  {operator}{label:<16}{shown:>12}")
    lines.append(f"  {'':<18}{'-' * 12}")
    lines.append(f"  = {'net PnL':<16}{_money(report['pnl']['net_pnl']):>12}")
    sides = report["sides"]
    lines += [
        "",
        f"Quotes {'bid':>15} {'ask':>14}",
        f"  posted USD {sides['bid']['posted_usd']:>14,.0f} {sides['ask']['posted_usd']:>14,.0f}",
        f"  filled USD {sides['bid']['filled_usd']:>14,.0f} {sides['ask']['filled_usd']:>14,.0f}",
        f"  fill share {_pct(sides['bid']['fill_share']):>14} {_pct(sides['ask']['fill_share']):>14}",
        f"  fills      {sides['bid']['fills']:>14} {sides['ask']['fills']:>14}",
        # The seed page's "40-80% fills for tight spreads", placed where the recorded books put it.
        "  (Purple Flea's page says tight quotes fill 40-80%: on recorded BTC books, 0.5-1 bps from the mid)",
        "",
        f"Volume ${report['volume_usd']:,.0f} in {report['fills']} fills ({report['maker_fills']} maker, "
        f"{report['taker_fills']} taker)",
        f"Inventory |USD at the mark|: max {report['inventory']['max_abs_usd']:,.2f}, "
        f"time-weighted {report['inventory']['time_weighted_abs_usd']:,.2f}",
        f"Worst drawdown of net PnL: {report['worst_drawdown_usd']:,.2f} USD",
        "",
        "Markouts of maker fills (size-weighted; + = the mark moved the maker's way, - = adverse selection)",
        f"  {'horizon':>7} {'fills':>6} {'edge bps':>9} {'markout bps':>12} {'realised spread bps':>20} {'realised USD':>13}",
    ]
    for m in report["markouts"]:
        lines.append(f"  {m['horizon_s']:>6}s {m['fills']:>6} {_bps(m['edge_bps']):>9} {_bps(m['markout_bps']):>12} "
                     f"{_bps(m['realised_spread_bps']):>20} {_money(m['realised_spread_usd']):>13}")
    trips = {k: v for k, v in report["guardrails"]["trips"].items() if v}
    lines.append("")
    if trips:
        lines.append("Guardrails: " + ", ".join(f"{k} x{v}" for k, v in trips.items()))
        shown = report["guardrails"]["events"][-8:]
        earlier = sum(trips.values()) - len(shown)
        if earlier > 0:
            lines.append(f"  ... {earlier} earlier, then:")
        for e in shown:
            lines.append(f"  t+{duration_text(e['t'])}: {e['guardrail']}" + (f" ({e['detail']})" if e["detail"] else ""))
    else:
        lines.append("Guardrails: none tripped")
    session = report["session_at_end"]
    if session is not None and session["status"] == "stopped":
        lines.append(f"Session stopped ({session['reason']})")
    lines.append(f"Open orders left at the end: {report['open_orders_at_end']}")
    return "\n".join(lines)


# ---- sweeps -------------------------------------------------------------------------------------
SWEEP_FIGURES = (
    ("fill share", lambda r: r["fill_share"] or 0.0, "pct"),
    ("bid fill", lambda r: r["sides"]["bid"]["fill_share"] or 0.0, "pct"),
    ("ask fill", lambda r: r["sides"]["ask"]["fill_share"] or 0.0, "pct"),
    ("spread income", lambda r: r["pnl"]["spread_income"], "usd"),
    ("adverse sel. 10s", lambda r: -_markout(r, 10)["markout_usd"], "usd"),
    ("realised spr. 10s", lambda r: _markout(r, 10)["realised_spread_usd"], "usd"),
    ("rebates", lambda r: r["pnl"]["rebates"], "usd"),
    ("net PnL", lambda r: r["pnl"]["net_pnl"], "usd"),
    ("tw |inventory|", lambda r: r["inventory"]["time_weighted_abs_usd"], "size"),
    ("worst drawdown", lambda r: r["worst_drawdown_usd"], "size"),
)


def _markout(report: dict, horizon: int) -> dict:
    return next(m for m in report["markouts"] if m["horizon_s"] == horizon)


def summarize_sweep(param: str, rows: list[tuple[Any, int, dict]]) -> list[dict]:
    """One entry per swept value: each figure's mean and standard deviation across the seeds."""
    values = list(dict.fromkeys(v for v, _, _ in rows))
    out = []
    for value in values:
        reports = [r for v, _, r in rows if v == value]
        entry: dict[str, Any] = {"param": param, "value": value, "seeds": len(reports), "figures": {}}
        for name, get, unit in SWEEP_FIGURES:
            xs = [get(r) for r in reports]
            entry["figures"][name] = {"mean": statistics.fmean(xs), "std": statistics.stdev(xs) if len(xs) > 1 else 0.0,
                                      "unit": unit}
        out.append(entry)
    return out


def render_sweep(summary: list[dict], header: str) -> str:
    names = [name for name, _, _ in SWEEP_FIGURES]
    first = summary[0]["param"] if summary else "value"
    widths = {name: 13 if unit == "pct" else 20 for name, _, unit in SWEEP_FIGURES}
    lines = [header, "", f"{first:>10} " + " ".join(f"{n:>{widths[n]}}" for n in names)]
    for entry in summary:
        cells = []
        for n in names:
            f = entry["figures"][n]
            if f["unit"] == "pct":
                cells.append(f"{100 * f['mean']:.1f}% ± {100 * f['std']:.1f}")
            elif f["unit"] == "size":
                cells.append(f"{f['mean']:,.2f} ± {f['std']:,.2f}")
            else:
                cells.append(f"{f['mean']:+,.2f} ± {f['std']:,.2f}")
        lines.append(f"{entry['value']!s:>10} " + " ".join(f"{c:>{widths[n]}}" for c, n in zip(cells, names)))
    lines.append("")
    lines.append("mean ± standard deviation across seeds; fill share = filled / posted notional (both sides, then "
                 "each side); adverse selection = minus the 10 s markout of maker fills, realised spread = spread "
                 "income minus it")
    return "\n".join(lines)
