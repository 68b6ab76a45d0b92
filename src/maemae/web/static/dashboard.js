// The dashboard page: polls /api/view every 2 s and renders it; buttons post guarded actions.
// Every value is written with textContent, never as HTML, so nothing in the data can run as script.
"use strict";
const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const won = (v) => (v === null || v === undefined ? "-" : Number(v).toLocaleString("ko-KR"));
const word = (v) => T[v] || v;
// A label with its {name}s filled in; a function, so a "$&" in a path is not read as a replacement pattern.
const fill = (template, values) =>
  template.replace(/\{(\w+)\}/g, (all, name) => (name in values ? String(values[name]) : all));

// The engine's data as stored, in the page's language: a code (``side``, ``state``, ``order_type``, ``kind``) by
// its word; a stored note or alert text by the Korean words the server sends with the view (``korean``: one
// set of patterns, maemae.service.korean, for the page and the report). The English page has no such words,
// and a code or text with none shows as it is.
const KOREAN = document.documentElement.lang === "ko";
const VIEW = KOREAN ? "/api/view?lang=ko" : "/api/view";
const code = (group, v) => T[group + "." + v] || v;
let worded = {};  // the view's stored texts in Korean, replaced at every poll
// own keys only: a note is free text, and "constructor" must not find the object's inherited function
const note = (text) => (text && Object.hasOwn(worded, text) ? worded[text] : text);

// Who holds the trading state, in the page's language (the path, the name and the reason as they are); the
// server's English words for a kind this page has no label for.
function stateBy(s) {
  const source = s.state_source;
  const template = source && T["by_" + source.kind];
  if (!template) return s.trading_state_by;
  const text = fill(template, source);
  return source.reason ? `${text}: ${source.reason}` : text;
}

function cell(row, text, cls) {
  const td = row.insertCell();
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (cls) td.className = cls;
  return td;
}

function table(id, headers, rows, render) {
  const el = document.getElementById(id);
  el.replaceChildren();
  const head = el.createTHead().insertRow();
  for (const h of headers) {
    const th = document.createElement("th");
    th.textContent = T[h] || h;
    head.appendChild(th);
  }
  const body = el.createTBody();
  if (!rows.length) {
    cell(body.insertRow(), T.none, "muted").colSpan = headers.length;
    return;
  }
  for (const r of rows) render(body.insertRow(), r);
}

function renderStatus(v) {
  const s = v.status, p = v.process;
  const points = v.equity_today;
  const change = points.length ? points[points.length - 1].equity - points[0].equity : null;
  const items = [
    ["trading_state", word(s.trading_state) + (s.trading_state_by ? ` (${stateBy(s)})` : ""),
      "state-" + s.trading_state],
    ["day", s.day],
    ["cash", won(s.cash)],
    ["orderable_cash", won(s.orderable_cash)],
    ["pnl_today", won(s.realised_today)],
    ["equity_change", change === null ? "-" : (change >= 0 ? "+" : "") + won(change)],
    ["open_orders", s.open_orders],
    ["orders_today", s.orders_today],
    ["denied_today", s.denied_today],
    ["process", p.running ? `${T.running} (pid ${p.pid})` :
      T.not_running + (p.exit_code !== null ? ` (${T.exit_code} ${p.exit_code})` : "")],
    ["last_difference", s.last_difference || "-"],
    ["last_error", s.last_error || "-"],
  ];
  if (v.halt_file) {  // said next to the state, so the operator knows before pressing Resume
    items.splice(1, 0, ["halt_file", fill(T.halt_file_holds, { path: v.halt_file }), "state-halted"]);
  }
  const dl = document.getElementById("status");
  dl.replaceChildren();
  for (const [key, value, cls] of items) {
    const dt = document.createElement("dt");
    dt.textContent = T[key];
    const dd = document.createElement("dd");
    dd.textContent = value;
    dd.id = "status-" + key;
    if (cls) dd.className = cls;
    dl.append(dt, dd);
  }
}

function renderEquity(v) {
  const daily = v.equity_today.length < 2;
  const points = daily ? v.equity_days : v.equity_today;
  const svg = document.getElementById("equity");
  svg.replaceChildren();
  document.getElementById("equity-note").textContent = daily ? T.equity_days : v.day;
  if (points.length < 2) return;
  const values = points.map((p) => p.equity);
  const lo = Math.min(...values), hi = Math.max(...values), span = hi - lo || 1;
  const coords = values.map((e, i) =>
    `${(i / (values.length - 1)) * 600},${150 - ((e - lo) / span) * 140}`).join(" ");
  const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  line.setAttribute("points", coords);
  line.setAttribute("class", "curve");
  svg.appendChild(line);
  const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
  title.textContent = `${won(lo)} .. ${won(hi)}`;
  svg.appendChild(title);
}

function render(v) {
  worded = v.korean || {};
  renderStatus(v);
  renderEquity(v);
  const positionHeaders = ["code", "name", "owned", "account", "external", "cost", "last_price", "market_value",
    "unrealised", "realised", "priced"];
  table("positions", positionHeaders, v.positions, (row, p) => {
    row.dataset.code = p.code;
    // a position no run valued today has no price: "-", not a zero
    for (const value of [p.code, p.name, won(p.owned_quantity), won(p.account_quantity), won(p.external_quantity),
      won(p.cost_basis), won(p.price), won(p.market_value), won(p.unrealised_pnl), won(p.realised_pnl),
      p.marked_at === null ? "-" : p.marked_at.slice(11, 19)]) cell(row, value);
  });
  const orderHeaders = ["time", "code", "name", "side", "quantity", "filled", "price", "state", "note"];
  table("orders", orderHeaders, v.orders, (row, o) => {
    row.dataset.state = o.state;
    row.className = "order state-" + o.state;
    for (const value of [o.created_at.slice(11, 19), o.code, o.name, code("side", o.side), won(o.quantity),
      won(o.filled_quantity), o.limit_price === null ? code("order_type", o.order_type) : won(o.limit_price),
      code("state", o.state), note(o.last_note)]) cell(row, value);
  });
  if (v.denied_left_out) {
    const note = cell(document.getElementById("orders").tBodies[0].insertRow(),
      T.denied_left_out.replace("{n}", won(v.denied_left_out)), "muted");
    note.colSpan = orderHeaders.length;
    note.id = "denied-left-out";
  }
  table("feed", ["time", "kind", "subject", "note"], v.feed, (row, f) => {
    row.className = "feed kind-" + f.kind;
    for (const value of [f.at.slice(11, 19), code("kind", f.kind),
      f.kind === "operator" ? T["feed.trading_" + f.title] || f.title : note(f.title), note(f.text)]) cell(row, value);
  });
  document.getElementById("log").textContent = v.log.join("\n") + (v.process.output.length ?
    "\n--- maemae run ---\n" + v.process.output.join("\n") : "");
  const keys = Object.keys(v.parameters);
  table("parameters", ["key", "value"], keys, (row, key) => {
    cell(row, key);
    cell(row, JSON.stringify(v.parameters[key]));
  });
  const list = document.getElementById("param-keys");
  if (list.childElementCount !== keys.length) {
    list.replaceChildren(...keys.map((k) => Object.assign(document.createElement("option"), { value: k })));
  }
  const reports = document.getElementById("reports");
  reports.replaceChildren(...(v.reports.length ? v.reports.slice(0, 10).map((day) => {
    const item = document.createElement("li");
    const link = Object.assign(document.createElement("a"), { href: "/report/" + day, target: "_blank" });
    link.textContent = day;
    item.appendChild(link);
    return item;
  }) : [Object.assign(document.createElement("li"), { textContent: T.none, className: "muted" })]));
  document.getElementById("updated").textContent = `${T.updated} ${new Date().toLocaleTimeString()}`;
}

function say(text, error) {
  const el = document.getElementById("message");
  el.textContent = text;
  el.className = error ? "error" : "ok";
}

async function refresh() {
  try {
    const response = await fetch(VIEW, { credentials: "same-origin" });
    if (response.status === 401) { location.reload(); return; }
    render(await response.json());
  } catch (error) {
    say(String(error), true);
  }
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF },
    body: JSON.stringify(body || {}),
  });
  const text = await response.text();
  let data = {};
  try { data = JSON.parse(text); } catch (_) { data = { error: text }; }
  if (!response.ok) throw Object.assign(new Error(data.error || response.statusText), { data });
  return data;
}

// A refusal in the page's language when the server says what stands in the way (the halt flag file),
// else the server's own line.
function explain(error) {
  const path = error.data && error.data.halt_file;
  return path ? fill(T.state_refused_file, { path }) : error.message;
}

async function act(button) {
  const action = button.dataset.action;
  if (action === "logout") {
    await post("/logout");
    location.reload();
    return;
  }
  if (!confirm(T[button.dataset.confirm])) return;
  try {
    if (action === "state") await post("/api/state", { state: button.dataset.state });
    else await post("/api/" + action);
    say(`${button.textContent}: ${T.done}`, false);
  } catch (error) {
    say(`${button.textContent}: ${explain(error)}`, true);
  }
  refresh();
}

document.querySelectorAll("button[data-action]").forEach((b) => b.addEventListener("click", () => act(b)));
document.getElementById("param-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const key = document.getElementById("param-key").value.trim();
  const value = document.getElementById("param-value").value.trim();
  if (!confirm(`${T.confirm_param}\n${key} = ${value}`)) return;
  try {
    const result = await post("/api/params", { key, value });
    say(`${key}: ${JSON.stringify(result.old)} -> ${JSON.stringify(result.new)}`, false);
  } catch (error) {
    say(error.message, true);
  }
  refresh();
});
refresh();
setInterval(refresh, 2000);
