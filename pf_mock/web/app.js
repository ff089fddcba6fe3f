// The live page: one market's book, prices, your quotes and fills, your PnL, and (with /_mock) the
// leaderboard and the mock's controls. Everything arrives on GET /feed (server-sent events, read with
// fetch so that the API key travels in a header, as on REST); REST is used only for the first picture
// (the market list, recent trades) and for the controls. No library, nothing from outside the server.
"use strict";

const $ = (sel) => document.querySelector(sel);
const $$ = (sel) => document.querySelectorAll(sel);
const WINDOW_MS = 10 * 60 * 1000;   // the charts show this much mock time; older points are dropped
const MAX_POINTS = 50000;           // and, whatever happens, no series holds more than this
const state = { symbol: null, market: null, abort: null, admin: false, clockMode: null, now: null, agentId: null,
                generation: 0, keyRefused: null, adminRefused: false,
                fresh() { return { trades: [], mids: [], marks: [], quotes: [], fills: [], pnl: [], events: [], book: null }; } };
let data = state.fresh();

// ---- small helpers ---------------------------------------------------------------------------------
const num = (x, d = 2) => (x === null || x === undefined) ? "—" : Number(x).toLocaleString("en-US",
  { minimumFractionDigits: d, maximumFractionDigits: d });
const money = (x, d = 2) => (x === null || x === undefined) ? "—" : (x < 0 ? "−$" : "$") + num(Math.abs(x), d);
const sign = (x) => x > 0 ? "pos" : x < 0 ? "neg" : "";
const time = (ms) => new Date(ms).toISOString().slice(11, 19);
// Prices show the decimals of the market's tick, and at least two, as every USD figure here does.
const priceDecimals = () => {
  const tick = state.market ? state.market.tick_size : 0.01;
  return Math.min(8, Math.max(2, Math.ceil(-Math.log10(tick) - 1e-9)));
};
const px = (x) => num(x, priceDecimals());
const sizeDecimals = () => state.market ? state.market.sz_decimals : 5;
const size = (x) => num(x, sizeDecimals());
const base = () => state.market ? state.market.base : "";
function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
function svgEl(tag, attrs, text) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
function setStatus(text, error = false) { $("#status").textContent = text; $("#status").className = error ? "error" : "muted"; }
function showError(text) { $("#error").textContent = text; $("#error").hidden = false; }
function clearError() { $("#error").textContent = ""; $("#error").hidden = true; }
function keyHeaders() {
  const key = $("#key").value.trim();
  return key && key !== state.keyRefused ? { "Authorization": "Bearer " + key } : {};
}
function adminHeaders() {
  const token = $("#admin-token").value.trim();
  return token ? { "X-Admin-Token": token } : {};
}
class ApiFailure extends Error {
  constructor(status, body, fallback) { super(body.message || fallback); this.status = status; this.code = body.error; }
}
async function api(method, path, body, headers = {}) {
  const res = await fetch(path, { method, headers: { "Content-Type": "application/json", ...headers },
                                  body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiFailure(res.status, json, `${method} ${path}: ${res.status}`);
  return json;
}

// ---- the feed ---------------------------------------------------------------------------------------
async function readFeed(url, headers, signal, onEvent) {
  const res = await fetch(url, { headers, signal });
  if (!res.ok) throw new ApiFailure(res.status, await res.json().catch(() => ({})), `feed answered ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message", payload = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) payload += line.slice(5);
      }
      if (payload) onEvent(event, JSON.parse(payload));
    }
  }
}

// Watch the market the box names. An unknown market is said so, and the market already on screen
// stays (its name in every heading); nothing is torn down before the new one is known to exist.
async function watch() {
  const generation = ++state.generation;
  const wanted = $("#market").value.trim();
  if (!wanted) return;
  let market, recent;
  try {
    market = await api("GET", `/v1/markets/${encodeURIComponent(wanted)}`);
    recent = await api("GET", `/v1/markets/${encodeURIComponent(market.symbol)}/trades?limit=500`);
  } catch (e) {
    if (generation !== state.generation) return;
    $("#market").setAttribute("aria-invalid", "true");
    showError(`${wanted}: ${e.message}` + (state.symbol ? ` Still showing ${state.symbol}.` : ""));
    return;
  }
  if (generation !== state.generation) return;
  if (state.abort) state.abort.abort();
  const controller = state.abort = new AbortController();
  $("#market").removeAttribute("aria-invalid");
  clearError();
  state.symbol = market.symbol;
  state.market = market;
  state.now = market.timestamp;
  state.agentId = null;
  $("#market").value = market.symbol;
  if (decodeURIComponent(location.hash.slice(1)) !== market.symbol) history.replaceState(null, "", "#" + market.symbol);
  document.title = `${market.symbol} — pf-mock`;
  for (const node of $$("#title-symbol, .symbol")) node.textContent = "· " + market.symbol;
  for (const node of $$(".base-unit")) node.textContent = `(${market.base})`;
  data = state.fresh();
  for (const t of recent.trades.reverse()) data.trades.push(t);
  $("#agent-panel").hidden = $("#fills-panel").hidden = true;
  $("#fills tbody").replaceChildren();
  $("#ladder tbody").replaceChildren();
  $("#spread").textContent = "";
  await checkAdmin();
  while (!controller.signal.aborted) {
    const params = new URLSearchParams({ symbol: state.symbol, depth: ladderDepth() });
    const useAdmin = state.admin && !state.adminRefused;
    if (useAdmin) params.set("leaderboard", "true");
    const headers = { ...keyHeaders(), ...(useAdmin ? adminHeaders() : {}) };
    try {
      setStatus("live");
      await readFeed(`/feed?${params}`, headers, controller.signal, onEvent);
      setStatus("feed ended; reconnecting…");
    } catch (e) {
      if (controller.signal.aborted) return;
      if (e.status === 401 && e.code === "invalid_key" && headers.Authorization) {
        // A refused key will not get better by retrying: say so, and go on with the market alone. The key
        // refused is the one this asked with: by the time the answer comes, Watch may have been pressed
        // with another in the field, and that one must still be tried.
        state.keyRefused = headers.Authorization.slice("Bearer ".length);
        $("#key").setAttribute("aria-invalid", "true");
        showError(`API key refused: ${e.message} Showing ${state.symbol} without your own orders; fix the key and press Watch.`);
        continue;
      }
      if (e.status === 401 && useAdmin) {
        state.adminRefused = true;
        showError(`Admin token refused: ${e.message}`);
        continue;
      }
      setStatus(e.message, true);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function onEvent(event, d) {
  switch (event) {
    case "hello":                   // (again after a reconnect: the histories below are sent anew)
      data.marks = [];
      data.pnl = [];
      state.agentId = d.agent_id;
      $("#agent-panel").hidden = $("#fills-panel").hidden = !d.agent_id;
      $("#agent-id").textContent = d.agent_id || "";
      if (d.agent_id) { $("#key").removeAttribute("aria-invalid"); loadRecentFills(); }
      break;
    case "reset": {
      const keep = data.book;
      data = state.fresh();
      data.book = keep;
      $("#fills tbody").replaceChildren();
      break;
    }
    case "clock":
      state.clockMode = d.mode;
      state.now = d.now;
      $("#clock").textContent = `${d.mode} clock ${d.mode === "realtime" ? "×" + d.speed : ""} · ` +
        new Date(d.now).toISOString().replace("T", " ").slice(0, 19) + " UTC";
      $("#advance-controls").hidden = d.mode !== "manual";
      break;
    case "price": {
      const bookMid = d.best_bid !== null && d.best_ask !== null ? (d.best_bid + d.best_ask) / 2 : null;
      data.mids.push({ t: d.timestamp, mid: bookMid });
      state.now = Math.max(state.now || 0, d.timestamp);
      $("#spread").textContent = d.spread_bps === null ? "" : `spread ${num(d.spread_bps, 2)} bps`;
      break;
    }
    case "trades":
      for (const t of d.trades) data.trades.push(t);
      if (d.gap) refetchTrades();
      break;
    case "marks": for (const m of d.marks) data.marks.push({ t: m.timestamp, mark: m.mark_price }); break;
    case "book": data.book = d; drawLadder(); break;
    case "orders": {
      const bids = d.orders.filter((o) => o.side === "buy").map((o) => o.price);
      const asks = d.orders.filter((o) => o.side === "sell").map((o) => o.price);
      data.quotes.push({ t: state.now, bid: bids.length ? Math.max(...bids) : null, ask: asks.length ? Math.min(...asks) : null });
      break;
    }
    case "fills": for (const f of d.fills) addFill(f); break;
    case "inventory": drawInventory(d); break;
    case "pnl_points": for (const p of d.pnl_points) data.pnl.push(p); break;
    case "pnl":
      data.pnl.push(d);
      drawPnl(d);
      break;
    case "session": drawSession(d); break;
    case "leaderboard": drawLeaderboard(d); break;
  }
  scheduleDraw();
}

// The feed sends the fills made while it is open; the ones before come once over REST.
async function loadRecentFills() {
  const symbol = state.symbol;
  try {
    const found = await api("GET", `/v1/mm/fills?symbol=${encodeURIComponent(symbol)}&limit=100`, undefined, keyHeaders());
    if (symbol !== state.symbol) return;
    for (const f of found.fills) addFill(f);
    scheduleDraw();
  } catch (e) { setStatus(e.message, true); }
}
function addFill(f) {
  if (data.fills.some((known) => known.fill_id === f.fill_id)) return;
  data.fills.push(f);
  data.fills.sort((a, b) => a.timestamp - b.timestamp);
  addFillRow(f);
}

// More prints came than the feed holds for a slow reader: the newest are read again over REST.
async function refetchTrades() {
  const symbol = state.symbol;
  try {
    const recent = (await api("GET", `/v1/markets/${encodeURIComponent(symbol)}/trades?limit=500`)).trades.reverse();
    if (symbol !== state.symbol || !recent.length) return;
    const from = recent[0].timestamp;
    data.trades = [...data.trades.filter((t) => t.timestamp < from), ...recent];
    scheduleDraw();
  } catch (e) { setStatus(e.message, true); }
}

let drawQueued = false;
function scheduleDraw() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => { drawQueued = false; prune(); drawPriceChart(); drawPnlChart(); });
}

// Keep a window's points by time, not by count: whatever the activity, the last WINDOW_MS stay (and
// the one point before it, where a line or a step enters the window from the left).
function prune() {
  if (state.now === null) return;
  const cutoff = state.now - WINDOW_MS;
  const keep = (list, at, stepIn) => {
    let first = 0;
    while (first < list.length && at(list[first]) < cutoff) first++;
    if (stepIn && first > 0) first--;
    first = Math.max(first, list.length - MAX_POINTS);
    return first > 0 ? list.slice(first) : list;
  };
  data.trades = keep(data.trades, (t) => t.timestamp, false);
  data.fills = keep(data.fills, (f) => f.timestamp, false);
  data.mids = keep(data.mids, (p) => p.t, true);
  data.marks = keep(data.marks, (p) => p.t, true);
  data.quotes = keep(data.quotes, (q) => q.t, true);
  data.pnl.sort((a, b) => a.timestamp - b.timestamp);
  data.pnl = keep(data.pnl, (p) => p.timestamp, true);
}

// ---- the ladder ---------------------------------------------------------------------------------------
// Twenty levels a side; ten on a narrow screen, where the ladder sits above the charts.
const ladderDepth = () => matchMedia("(max-width: 820px)").matches ? 10 : 20;
function drawLadder() {
  const body = $("#ladder tbody"), book = data.book;
  body.replaceChildren();
  const row = (level, side) => {
    const tr = el("tr", { class: side + (level.mine > 0 ? " mine" : ""), "data-side": side,
                          "data-price": level.price, "data-size": level.size, "data-mine": level.mine });
    tr.append(el("td", {}, side === "bid" ? size(level.size) : ""), el("td", { class: "price" }, px(level.price)),
              el("td", {}, side === "ask" ? size(level.size) : ""));
    tr.title = `${size(level.size)} ${base()} = ${money(level.notional_usd)}` +
      (level.mine > 0 ? ` — ${size(level.mine)} ${base()} of it yours` : "");
    return tr;
  };
  for (const level of [...book.asks].reverse()) body.append(row(level, "ask"));
  const spread = el("tr", { class: "spread-row" });
  spread.append(el("td", { colspan: 3 }));
  body.append(spread);
  for (const level of book.bids) body.append(row(level, "bid"));
}

// ---- charts -----------------------------------------------------------------------------------------
// Both charts share one time axis: the same span, and the same margins, so an instant is the same
// column of pixels in each. Each draw sizes the SVG's viewBox to the box the page gives it, in CSS
// pixels, so text and dots keep their shape at any width (and the browser renders it at the screen's
// own pixel density).
const MARGIN = { left: 74, right: 12, top: 20, bottom: 34 };
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600].map((s) => s * 1000);

function timeDomain() {
  const x1 = state.now ?? Math.max(0, ...data.mids.map((p) => p.t));
  const floor = x1 - WINDOW_MS;
  const starts = [data.trades, data.fills].flatMap((l) => l.length ? [l[0].timestamp] : [])
    .concat([data.mids, data.marks].flatMap((l) => l.length ? [l[0].t] : []))
    .concat(data.pnl.length ? [data.pnl[0].timestamp] : []);
  let x0 = Math.max(floor, Math.min(x1, ...starts));
  if (x1 - x0 < 10_000) x0 = x1 - 10_000;
  return [x0, x1];
}
function niceStep(span, count) {
  const raw = span / Math.max(1, count), mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= raw) return m * mag;
  return 10 * mag;
}
function frame(svg, domain, ys) {
  const w = Math.round(svg.clientWidth), h = Math.round(svg.clientHeight);
  if (w < 50 || h < 50) return null;            // hidden: nothing to draw into
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y1 === y0) { const e = Math.abs(y0) * 1e-4 || 1; y0 -= e; y1 += e; }
  const my = (y1 - y0) * 0.06; y0 -= my; y1 += my;
  const [x0, x1] = domain, L = MARGIN.left, R = w - MARGIN.right, T = MARGIN.top, B = h - MARGIN.bottom;
  return { x: (t) => L + (t - x0) / (x1 - x0) * (R - L), y: (v) => T + (y1 - v) / (y1 - y0) * (B - T),
           x0, x1, y0, y1, w, h, L, R, T, B };
}
// Grid lines and labels on both axes, each axis titled with its unit; everything drawn later is
// clipped to the plot area.
function axes(svg, s, yTitle, fmt) {
  const step = niceStep(s.y1 - s.y0, Math.max(3, Math.floor((s.B - s.T) / 40)));
  const decimals = Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
  for (let v = Math.ceil(s.y0 / step) * step; v <= s.y1; v += step) {
    svg.append(svgEl("line", { x1: s.L, x2: s.R, y1: s.y(v), y2: s.y(v), stroke: "#eee" }));
    svg.append(svgEl("text", { x: s.L - 4, y: s.y(v) + 4, "text-anchor": "end", class: "y-label" }, fmt(v, decimals)));
  }
  const tStep = TIME_STEPS.find((t) => (s.x1 - s.x0) / t <= Math.max(2, (s.R - s.L) / 90)) || 7200_000;
  for (let t = Math.ceil(s.x0 / tStep) * tStep; t <= s.x1; t += tStep) {
    svg.append(svgEl("line", { x1: s.x(t), x2: s.x(t), y1: s.T, y2: s.B, stroke: "#f2f2f2" }));
    if (s.x(t) <= s.w - 28) svg.append(svgEl("text", { x: s.x(t), y: s.B + 14, "text-anchor": "middle", class: "x-label" }, time(t)));
  }
  svg.append(svgEl("line", { x1: s.L, x2: s.R, y1: s.B, y2: s.B, stroke: "#bbb" }));
  svg.append(svgEl("line", { x1: s.L, x2: s.L, y1: s.T, y2: s.B, stroke: "#bbb" }));
  svg.append(svgEl("text", { x: 4, y: 13, class: "axis-title y-title" }, yTitle));
  svg.append(svgEl("text", { x: s.R, y: s.h - 4, "text-anchor": "end", class: "axis-title x-title" }, "time (UTC, mock clock)"));
  const clip = svgEl("clipPath", { id: svg.id + "-plot" });
  clip.append(svgEl("rect", { x: s.L, y: s.T - 8, width: s.R - s.L, height: s.B - s.T + 16 }));
  svg.append(clip);
  const plot = svgEl("g", { "clip-path": `url(#${svg.id}-plot)` });
  svg.append(plot);
  return plot;
}
// A polyline through [x, y] points, broken where y is null. ``step``: each value holds until the next
// point (a quote rests until it is replaced or gone), and the last one up to ``until``.
function line(g, points, color, width = 1.5, step = false, until = null) {
  let d = "", prev = null;
  for (const [x, y] of points) {
    if (y === null || Number.isNaN(y)) {
      if (step && prev !== null) d += `H${x}`;
      prev = null;
      continue;
    }
    d += prev === null ? `M${x},${y}` : (step ? `H${x}V${y}` : `L${x},${y}`);
    prev = [x, y];
  }
  if (step && prev !== null && until !== null) d += `H${until}`;
  if (d) g.append(svgEl("path", { d, fill: "none", stroke: color, "stroke-width": width }));
}

function drawPriceChart() {
  const svg = $("#price-chart");
  svg.replaceChildren();
  const domain = timeDomain(), inside = (t) => t >= domain[0] && t <= domain[1];
  const ys = [...data.mids.filter((p) => inside(p.t)).map((p) => p.mid), ...data.marks.filter((p) => inside(p.t)).map((p) => p.mark),
              ...data.trades.filter((t) => inside(t.timestamp)).map((t) => t.price),
              ...data.fills.filter((f) => inside(f.timestamp)).map((f) => f.price),
              ...data.quotes.filter((q) => inside(q.t)).flatMap((q) => [q.bid, q.ask])].filter((v) => v !== null && v !== undefined);
  if (!ys.length) return;
  const s = frame(svg, domain, ys);
  if (!s) return;
  const g = axes(svg, s, "price (USD)", (v, d) => num(v, Math.max(d, priceDecimals() > 2 ? 2 : 0)));
  svg.dataset.x0 = s.x0; svg.dataset.x1 = s.x1;
  for (const e of data.events) {
    if (!inside(e.timestamp)) continue;
    g.append(svgEl("line", { class: "event", x1: s.x(e.timestamp), x2: s.x(e.timestamp), y1: s.T, y2: s.B,
                             stroke: "#ef6c00", "stroke-dasharray": "4 3" }));
  }
  line(g, data.marks.map((p) => [s.x(p.t), s.y(p.mark)]), "var(--mark)", 1);
  // The book's mid is sampled once per look at the market: it holds until the next sample (a step), so
  // a crash between two looks shows as the drop it was, not as a slope.
  line(g, data.mids.map((p) => [s.x(p.t), p.mid === null ? null : s.y(p.mid)]), "var(--mid)", 1.5, true, s.R);
  line(g, data.quotes.map((q) => [s.x(q.t), q.bid === null ? null : s.y(q.bid)]), "var(--quote)", 1.5, true, s.R);
  line(g, data.quotes.map((q) => [s.x(q.t), q.ask === null ? null : s.y(q.ask)]), "var(--quote)", 1.5, true, s.R);
  for (const t of data.trades) {
    if (!inside(t.timestamp)) continue;
    g.append(svgEl("circle", { class: "trade", "data-t": t.timestamp, "data-price": t.price, cx: s.x(t.timestamp),
                               cy: s.y(t.price), r: 2, fill: t.side === "buy" ? "var(--bid)" : "var(--ask)", opacity: 0.5 }));
  }
  for (const f of data.fills) {
    if (!inside(f.timestamp)) continue;
    const x = s.x(f.timestamp), y = s.y(f.price), up = f.side === "buy";
    const tri = svgEl("path", { class: "fill", "data-fill-id": f.fill_id, stroke: "#000", "stroke-width": 0.6,
      fill: up ? "var(--bid)" : "var(--ask)", d: up ? `M${x},${y - 6}l5,9h-10z` : `M${x},${y + 6}l5,-9h-10z` });
    tri.append(svgEl("title", {}, `${f.side} ${size(f.size)} ${base()} at $${px(f.price)} (${f.kind}, ${f.liquidity})`));
    g.append(tri);
  }
}

const PNL_SERIES = [["spread_income", "#2e7d32", 1], ["rebates", "#00838f", 1], ["inventory_pnl", "#ef6c00", 1],
                    ["hedge_cost", "#6d4c41", -1], ["net_pnl", "#000", 1]];
function drawPnlChart() {
  const svg = $("#pnl-chart");
  svg.replaceChildren();
  const pts = data.pnl.filter((p) => p.timestamp !== undefined);
  if (!pts.length) return;
  const domain = timeDomain();
  const shown = pts.filter((p) => p.timestamp >= domain[0] && p.timestamp <= domain[1]);
  const ys = (shown.length ? shown : pts.slice(-1)).flatMap((p) => PNL_SERIES.map(([k, , m]) => m * p[k])).concat([0]);
  const s = frame(svg, domain, ys);
  if (!s) return;
  const g = axes(svg, s, "PnL (USD)", (v, d) => money(v, Math.min(d, 2)));
  svg.dataset.x0 = s.x0; svg.dataset.x1 = s.x1;
  g.append(svgEl("line", { x1: s.L, x2: s.R, y1: s.y(0), y2: s.y(0), stroke: "#bbb" }));
  // Each value holds until the next instant it changed, and the last one up to now.
  for (const [k, color, m] of PNL_SERIES) {
    line(g, pts.map((p) => [s.x(p.timestamp), s.y(m * p[k])]), color, k === "net_pnl" ? 2 : 1.2, true, s.R);
  }
}

// ---- the agent's panels ------------------------------------------------------------------------------
function kv(table, rows) {
  table.replaceChildren();
  for (const [label, value, cls, id] of rows) {
    const tr = el("tr");
    tr.append(el("td", {}, label), el("td", { class: cls || "", ...(id ? { id } : {}) }, value));
    table.append(tr);
  }
}
function drawInventory(d) {
  kv($("#inventory"), [["position", `${num(d.position, sizeDecimals())} ${base()}`, sign(d.position), "inv-position"],
    ["net delta", money(d.net_delta_usd), sign(d.net_delta_usd)], ["avg entry", d.avg_entry_price === null ? "—" : "$" + px(d.avg_entry_price)],
    ["mark", "$" + px(d.mark_price)], ["unrealized", money(d.unrealized_pnl), sign(d.unrealized_pnl)],
    ["realized", money(d.realized_pnl), sign(d.realized_pnl)]]);
}
function drawPnl(d) {
  kv($("#pnl"), [["spread income", money(d.spread_income), sign(d.spread_income), "pnl-spread"],
    ["rebates", money(d.rebates), sign(d.rebates), "pnl-rebates"],
    ["inventory", money(d.inventory_pnl), sign(d.inventory_pnl), "pnl-inventory"],
    ["hedge cost", money(d.hedge_cost), sign(-d.hedge_cost), "pnl-hedge"],
    ["net", money(d.net_pnl), sign(d.net_pnl), "pnl-net"],
    ["fills (maker / taker)", `${d.fills} (${d.maker_fills} / ${d.taker_fills})`, "", "pnl-fills"],
    ["volume", money(d.volume_usd)]]);
}
function drawSession(d) {
  const box = $("#session");
  box.replaceChildren(el("div", {}, "session "), el("ul", { tabindex: "0", "aria-label": "guardrail events" }));
  box.firstChild.append(el("span", { class: "status " + d.status, id: "session-status" }, d.status));
  if (d.reason) box.firstChild.append(el("span", { class: "muted" }, ` (${d.reason})`));
  const set = Object.entries(d.guardrails || {}).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`);
  box.firstChild.append(el("div", { class: "muted" }, set.length ? "guardrails: " + set.join(", ") : "no guardrails set"));
  data.events = d.events || [];
  for (const e of data.events.slice().reverse()) {
    box.lastChild.append(el("li", { class: "event" }, `${time(e.timestamp)} ${e.guardrail}${e.detail ? " — " + e.detail : ""}`));
  }
}
// The newest eight fills, newest first.
function addFillRow(f) {
  const body = $("#fills tbody");
  const tr = el("tr", { "data-fill-id": f.fill_id, "data-t": f.timestamp });
  for (const v of [time(f.timestamp), f.side, px(f.price), size(f.size), f.liquidity, f.kind]) tr.append(el("td", {}, v));
  const later = [...body.children].find((row) => Number(row.dataset.t) < f.timestamp);
  body.insertBefore(tr, later || null);
  while (body.children.length > 8) body.lastChild.remove();
}

// ---- admin: leaderboard and controls ------------------------------------------------------------------
async function checkAdmin() {
  const admin = document.body.dataset.admin;     // "open", "token" or "off": the server says which
  state.admin = false;
  if (admin === "off" || (admin === "token" && !$("#admin-token").value.trim())) {
    $("#admin-panel").hidden = true;
    return;
  }
  try {
    const st = await api("GET", "/_mock/state", undefined, adminHeaders());
    state.admin = true;
    if (!$("#scenario").options.length) {
      const found = await api("GET", "/_mock/scenarios", undefined, adminHeaders());
      for (const s of found.scenarios) $("#scenario").append(el("option", { value: s.name }, s.name));
    }
    $("#advance-controls").hidden = st.clock.mode !== "manual";
  } catch (e) {
    state.admin = false;     // /_mock is off here, or needs the admin token
    if (admin === "token") showError(`Admin token refused: ${e.message}`);
  }
  $("#admin-panel").hidden = !state.admin;
}
function drawLeaderboard(d) {
  const body = $("#leaderboard tbody");
  body.replaceChildren();
  for (const a of d.agents) {
    const tr = el("tr", { "data-agent": a.agent_id, class: a.agent_id === state.agentId ? "me" : "" });
    for (const [v, cls] of [[String(a.rank)], [a.agent_id], [money(a.net_pnl), sign(a.net_pnl)], [money(a.volume_usd)],
        [String(a.fills)], [a.fill_rate === null ? "—" : num(100 * a.fill_rate, 1) + "%"],
        [money(a.time_weighted_abs_inventory_usd)], [money(a.worst_drawdown_usd)], [String(a.guardrail_trips)]]) {
      tr.append(el("td", cls ? { class: cls } : {}, v));
    }
    body.append(tr);
  }
}
async function control(method, path, body) {
  try { await api(method, path, body, adminHeaders()); setStatus("live"); }
  catch (e) { setStatus(e.message, true); }
}

// ---- start --------------------------------------------------------------------------------------------
function watchFromHash() {
  const hash = decodeURIComponent(location.hash.slice(1)).trim();
  if (hash && hash !== state.symbol) {
    $("#market").value = hash;
    watch();
  }
}
async function start() {
  $("#admin-token-label").hidden = document.body.dataset.admin !== "token";
  $("#key").value = sessionStorage.getItem("pf-key") || "";
  $("#admin-token").value = sessionStorage.getItem("pf-admin") || "";
  const hash = decodeURIComponent(location.hash.slice(1)).trim();
  if (hash) $("#market").value = hash;
  $("#connect").addEventListener("click", () => {
    sessionStorage.setItem("pf-key", $("#key").value.trim());
    sessionStorage.setItem("pf-admin", $("#admin-token").value.trim());
    state.keyRefused = null;
    state.adminRefused = false;
    $("#key").removeAttribute("aria-invalid");
    clearError();
    watch();
  });
  $("#market").addEventListener("change", watch);
  window.addEventListener("hashchange", watchFromHash);
  window.addEventListener("resize", scheduleDraw);
  $("#advance").addEventListener("click", () => control("POST", "/_mock/clock/advance", { seconds: Number($("#advance-seconds").value) }));
  $("#jump").addEventListener("click", () => control("POST", `/_mock/markets/${encodeURIComponent(state.symbol)}/jump`, { move_bps: Number($("#jump-bps").value) }));
  $("#load-scenario").addEventListener("click", () => control("POST", "/_mock/scenario", { name: $("#scenario").value }));
  for (const node of $$(".window-minutes")) node.textContent = String(WINDOW_MS / 60000);
  // The first watch starts before the market list is asked for: started after it, it could overtake a
  // Watch pressed while the list was on its way, and clear what that watch had said (a refused key).
  watch();
  try {
    const list = await api("GET", "/v1/markets?limit=500");
    for (const m of list.markets) $("#markets").append(el("option", { value: m.symbol }, m.base));
  } catch (e) { setStatus(e.message, true); }
}
start();
