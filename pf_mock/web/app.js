// The live page: one market's book, prices, your quotes and fills, your PnL, and (with /_mock) the
// leaderboard and the mock's controls. Everything arrives on GET /feed (server-sent events, read with
// fetch so that the API key travels in a header, as on REST); REST is used only for the first picture
// (the market list, recent trades) and for the controls. No library, nothing from outside the server.
"use strict";

const $ = (sel) => document.querySelector(sel);
const KEEP = 2000;                  // points kept per chart series: old ones scroll off
const state = { symbol: null, abort: null, admin: false, clockMode: null, agentId: null, fresh() {
  return { trades: [], mids: [], marks: [], quotes: [], fills: [], pnl: [], events: [], orders: [], book: null };
} };
let data = state.fresh();

// ---- small helpers ---------------------------------------------------------------------------------
const num = (x, d = 2) => (x === null || x === undefined) ? "—" : Number(x).toLocaleString("en-US",
  { minimumFractionDigits: d, maximumFractionDigits: d });
const money = (x) => (x === null || x === undefined) ? "—" : (x < 0 ? "−$" : "$") + num(Math.abs(x), 2);
const sign = (x) => x > 0 ? "pos" : x < 0 ? "neg" : "";
const time = (ms) => new Date(ms).toISOString().slice(11, 19);
const push = (list, item) => { list.push(item); if (list.length > KEEP) list.splice(0, list.length - KEEP); };
function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
function svgEl(tag, attrs) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}
function setStatus(text, error = false) { $("#status").textContent = text; $("#status").className = error ? "error" : "muted"; }
function keyHeaders() {
  const h = {}, key = $("#key").value.trim();
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}
function adminHeaders() {
  const token = $("#admin-token").value.trim();
  return token ? { "X-Admin-Token": token } : {};
}
async function api(method, path, body, headers = {}) {
  const res = await fetch(path, { method, headers: { "Content-Type": "application/json", ...headers },
                                  body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json.message || `${method} ${path}: ${res.status}`);
  return json;
}

// ---- the feed ---------------------------------------------------------------------------------------
async function readFeed(url, headers, signal, onEvent) {
  const res = await fetch(url, { headers, signal });
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw new Error(body.message || `feed answered ${res.status}`);
  }
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

async function watch() {
  if (state.abort) state.abort.abort();
  const controller = state.abort = new AbortController();
  const symbol = $("#market").value.trim();
  data = state.fresh();
  state.agentId = null;
  $("#agent-panel").hidden = $("#fills-panel").hidden = true;
  $("#fills tbody").replaceChildren();
  await checkAdmin();
  try {
    const market = await api("GET", `/v1/markets/${encodeURIComponent(symbol)}`);
    state.symbol = market.symbol;
    $("#market").value = market.symbol;
    const recent = await api("GET", `/v1/markets/${encodeURIComponent(market.symbol)}/trades?limit=200`);
    for (const t of recent.trades.reverse()) push(data.trades, t);
  } catch (e) { setStatus(e.message, true); return; }
  const params = new URLSearchParams({ symbol: state.symbol, depth: 20 });
  if (state.admin) params.set("leaderboard", "true");
  while (!controller.signal.aborted) {
    try {
      setStatus("live");
      await readFeed(`/feed?${params}`, { ...keyHeaders(), ...(state.admin ? adminHeaders() : {}) },
                     controller.signal, onEvent);
      setStatus("feed ended; reconnecting…");
    } catch (e) {
      if (controller.signal.aborted) return;
      setStatus(e.message, true);
      if (/key/i.test(e.message)) return;        // a refused key will not get better by retrying
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
      $("#clock").textContent = `${d.mode} clock ${d.mode === "realtime" ? "×" + d.speed : ""} · ` +
        new Date(d.now).toISOString().replace("T", " ").slice(0, 19) + " UTC";
      $("#advance-controls").hidden = d.mode !== "manual";
      break;
    case "price": {
      const bookMid = d.best_bid !== null && d.best_ask !== null ? (d.best_bid + d.best_ask) / 2 : null;
      push(data.mids, { t: d.timestamp, mid: bookMid });
      $("#spread").textContent = d.spread_bps === null ? "" : `spread ${num(d.spread_bps, 2)} bps`;
      break;
    }
    case "trades": for (const t of d.trades) push(data.trades, t); break;
    case "marks": for (const m of d.marks) push(data.marks, { t: m.timestamp, mark: m.mark_price }); break;
    case "book": data.book = d; drawLadder(); break;
    case "orders": {
      data.orders = d.orders;
      const bids = d.orders.filter((o) => o.side === "buy").map((o) => o.price);
      const asks = d.orders.filter((o) => o.side === "sell").map((o) => o.price);
      push(data.quotes, { t: data.mids.length ? data.mids[data.mids.length - 1].t : Date.now(),
                          bid: bids.length ? Math.max(...bids) : null, ask: asks.length ? Math.min(...asks) : null });
      break;
    }
    case "fills": for (const f of d.fills) { push(data.fills, f); addFillRow(f); } break;
    case "inventory": drawInventory(d); break;
    case "pnl_points": for (const p of d.pnl_points) push(data.pnl, p); break;
    case "pnl":
      push(data.pnl, d);
      drawPnl(d);
      break;
    case "session": drawSession(d); break;
    case "leaderboard": drawLeaderboard(d); break;
  }
  scheduleDraw();
}

let drawQueued = false;
function scheduleDraw() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => { drawQueued = false; drawPriceChart(); drawPnlChart(); });
}

// ---- the ladder -------------------------------------------------------------------------------------
function drawLadder() {
  const body = $("#ladder tbody"), book = data.book;
  body.replaceChildren();
  const row = (level, side) => {
    const tr = el("tr", { class: side + (level.mine > 0 ? " mine" : ""), "data-side": side,
                          "data-price": level.price, "data-size": level.size, "data-mine": level.mine });
    tr.append(el("td", {}, side === "bid" ? num(level.size, 5) : ""), el("td", { class: "price" }, String(level.price)),
              el("td", {}, side === "ask" ? num(level.size, 5) : ""));
    tr.title = `$${num(level.notional_usd)}` + (level.mine > 0 ? ` — ${level.mine} of it yours` : "");
    return tr;
  };
  for (const level of [...book.asks].reverse()) body.append(row(level, "ask"));
  const spread = el("tr", { class: "spread-row" });
  spread.append(el("td", { colspan: 3 }));
  body.append(spread);
  for (const level of book.bids) body.append(row(level, "bid"));
}

// ---- charts -----------------------------------------------------------------------------------------
function scales(svg, xs, ys, pad = 40) {
  const w = 800, h = Number(svg.getAttribute("viewBox").split(" ")[3]);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)], [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (x1 === x0) { x0 -= 1000; x1 += 1000; }
  if (y1 === y0) { const e = Math.abs(y0) * 1e-4 || 1; y0 -= e; y1 += e; }
  const my = (y1 - y0) * 0.08; y0 -= my; y1 += my;
  return { x: (t) => pad + (t - x0) / (x1 - x0) * (w - pad - 8), y: (v) => 8 + (y1 - v) / (y1 - y0) * (h - 24),
           x0, x1, y0, y1, w, h, pad };
}
function axes(svg, s, fmt) {
  for (const v of [s.y0 + (s.y1 - s.y0) * 0.1, (s.y0 + s.y1) / 2, s.y1 - (s.y1 - s.y0) * 0.1]) {
    svg.append(svgEl("line", { x1: s.pad, x2: s.w, y1: s.y(v), y2: s.y(v), stroke: "#eee" }));
    const label = svgEl("text", { x: 2, y: s.y(v) + 3 }); label.textContent = fmt(v); svg.append(label);
  }
  for (const t of [s.x0, s.x1]) {
    const label = svgEl("text", { x: Math.min(s.x(t), s.w - 50), y: s.h - 3 }); label.textContent = time(t); svg.append(label);
  }
}
// A polyline through [x, y] points, broken where y is null. ``step``: each value holds until the next
// point (a quote rests until it is replaced or gone), and the last one up to ``until``.
function line(svg, points, color, width = 1.5, step = false, until = null) {
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
  if (d) svg.append(svgEl("path", { d, fill: "none", stroke: color, "stroke-width": width }));
}

function drawPriceChart() {
  const svg = $("#price-chart");
  svg.replaceChildren();
  const xs = [...data.mids.map((p) => p.t), ...data.marks.map((p) => p.t), ...data.trades.map((t) => t.timestamp), ...data.fills.map((f) => f.timestamp)];
  const ys = [...data.mids.map((p) => p.mid), ...data.marks.map((p) => p.mark), ...data.trades.map((t) => t.price),
              ...data.fills.map((f) => f.price), ...data.quotes.flatMap((q) => [q.bid, q.ask])].filter((v) => v !== null);
  if (!xs.length || !ys.length) return;
  const s = scales(svg, xs, ys);
  axes(svg, s, (v) => num(v, v < 10 ? 5 : 2));
  for (const e of data.events) {
    svg.append(svgEl("line", { class: "event", x1: s.x(e.timestamp), x2: s.x(e.timestamp), y1: 0, y2: s.h - 14,
                               stroke: "#ef6c00", "stroke-dasharray": "4 3" }));
  }
  line(svg, data.marks.map((p) => [s.x(p.t), s.y(p.mark)]), "var(--mark)", 1);
  line(svg, data.mids.map((p) => [s.x(p.t), p.mid === null ? null : s.y(p.mid)]), "var(--mid)", 1.5);
  const right = s.x(s.x1);
  line(svg, data.quotes.map((q) => [s.x(q.t), q.bid === null ? null : s.y(q.bid)]), "var(--quote)", 1.5, true, right);
  line(svg, data.quotes.map((q) => [s.x(q.t), q.ask === null ? null : s.y(q.ask)]), "var(--quote)", 1.5, true, right);
  for (const t of data.trades) {
    svg.append(svgEl("circle", { class: "trade", cx: s.x(t.timestamp), cy: s.y(t.price), r: 1.6,
                                 fill: t.side === "buy" ? "var(--bid)" : "var(--ask)", opacity: 0.5 }));
  }
  for (const f of data.fills) {
    const x = s.x(f.timestamp), y = s.y(f.price), up = f.side === "buy";
    const tri = svgEl("path", { class: "fill", "data-fill-id": f.fill_id, stroke: "#000", "stroke-width": 0.6,
      fill: up ? "var(--bid)" : "var(--ask)", d: up ? `M${x},${y - 6}l5,9h-10z` : `M${x},${y + 6}l5,-9h-10z` });
    const title = svgEl("title", {}); title.textContent = `${f.side} ${f.size} @ ${f.price} (${f.kind}, ${f.liquidity})`;
    tri.append(title);
    svg.append(tri);
  }
}

const PNL_SERIES = [["spread_income", "#2e7d32", 1], ["rebates", "#00838f", 1], ["inventory_pnl", "#ef6c00", 1],
                    ["hedge_cost", "#6d4c41", -1], ["net_pnl", "#000", 1]];
function drawPnlChart() {
  const svg = $("#pnl-chart");
  svg.replaceChildren();
  if (!data.pnl.length) return;
  const pts = data.pnl.filter((p) => p.timestamp !== undefined).sort((a, b) => a.timestamp - b.timestamp);
  const ys = pts.flatMap((p) => PNL_SERIES.map(([k, , m]) => m * p[k])).concat([0]);
  const s = scales(svg, pts.map((p) => p.timestamp), ys, 50);
  axes(svg, s, (v) => money(v));
  svg.append(svgEl("line", { x1: s.pad, x2: s.w, y1: s.y(0), y2: s.y(0), stroke: "#bbb" }));
  for (const [k, color, m] of PNL_SERIES) line(svg, pts.map((p) => [s.x(p.timestamp), s.y(m * p[k])]), color, k === "net_pnl" ? 2 : 1.2);
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
  kv($("#inventory"), [["position", num(d.position, 6), sign(d.position), "inv-position"],
    ["net delta", money(d.net_delta_usd), sign(d.net_delta_usd)], ["avg entry", num(d.avg_entry_price)],
    ["mark", num(d.mark_price)], ["unrealized", money(d.unrealized_pnl), sign(d.unrealized_pnl)],
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
  box.replaceChildren(el("div", {}, "session "), el("ul"));
  box.firstChild.append(el("span", { class: "status " + d.status, id: "session-status" }, d.status));
  if (d.reason) box.firstChild.append(el("span", { class: "muted" }, ` (${d.reason})`));
  const set = Object.entries(d.guardrails || {}).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`);
  box.firstChild.append(el("div", { class: "muted" }, set.length ? "guardrails: " + set.join(", ") : "no guardrails set"));
  data.events = d.events || [];
  for (const e of data.events.slice().reverse()) {
    box.lastChild.append(el("li", { class: "event" }, `${time(e.timestamp)} ${e.guardrail}${e.detail ? " — " + e.detail : ""}`));
  }
}
function addFillRow(f) {
  const body = $("#fills tbody");
  const tr = el("tr", { "data-fill-id": f.fill_id });
  for (const v of [time(f.timestamp), f.side, String(f.price), String(f.size), f.liquidity, f.kind]) tr.append(el("td", {}, v));
  body.prepend(tr);
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
async function start() {
  $("#admin-token").parentElement.hidden = document.body.dataset.admin !== "token";
  $("#key").value = sessionStorage.getItem("pf-key") || "";
  $("#admin-token").value = sessionStorage.getItem("pf-admin") || "";
  const hash = decodeURIComponent(location.hash.slice(1));
  if (hash) $("#market").value = hash;
  $("#connect").addEventListener("click", () => {
    sessionStorage.setItem("pf-key", $("#key").value.trim());
    sessionStorage.setItem("pf-admin", $("#admin-token").value.trim());
    watch();
  });
  $("#market").addEventListener("change", watch);
  $("#advance").addEventListener("click", () => control("POST", "/_mock/clock/advance", { seconds: Number($("#advance-seconds").value) }));
  $("#jump").addEventListener("click", () => control("POST", `/_mock/markets/${encodeURIComponent(state.symbol)}/jump`, { move_bps: Number($("#jump-bps").value) }));
  $("#load-scenario").addEventListener("click", () => control("POST", "/_mock/scenario", { name: $("#scenario").value }));
  try {
    const list = await api("GET", "/v1/markets?limit=500");
    for (const m of list.markets) $("#markets").append(el("option", { value: m.symbol }, m.base));
  } catch (e) { setStatus(e.message, true); }
  watch();
}
start();
