// beakerlike PreviewPanel frontend (anywidget ES module).
// Kernel data is only ever put into the page with textContent, never parsed as HTML.

const PAGED_KINDS = new Set(["table", "array"]);

function h(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined && text !== null) el.textContent = String(text);
  return el;
}

// Code objects (modules, functions, classes) are hidden unless the user asks for them.
const CODE_TYPES = new Set(["module", "function", "builtin_function_or_method", "method", "type", "MetaHasTraits"]);

function isCode(item) {
  return CODE_TYPES.has(item.type) || (item.kind === "object" && item.module === "builtins" && item.type === "type");
}

function sizeOf(item) {
  const n = typeof item.length === "number" ? item.length : null;
  if (item.kind === "text" && n !== null) return `${n} chars`;
  if (item.kind === "container" && n !== null) return `${n} items`;
  if (Array.isArray(item.shape) && item.shape.length) return item.shape.join(" × ");
  return n !== null ? String(n) : "";
}

function statusText(item) {
  if (item.status === "over_budget") return item.error || "over the preview budget";
  if (item.status === "error") return item.error || "preview failed";
  return "";
}

function canOpen(item) {
  return item.status === "ok" && (item.pageable || (Array.isArray(item.rows) && item.rows.length > 0));
}

// Float noise (27.900000000000002) is trimmed to 12 significant digits, like a table viewer would.
function cellText(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "number" && !Number.isInteger(value)) return String(parseFloat(value.toPrecision(12)));
  return String(value);
}

// Wrapped in a scroller: wide arrays and frames scroll sideways instead of being cut.
function dataTable(columns, rows, index, indexLabel) {
  const scroller = h("div", "bl-scroll");
  const table = h("table", "bl-data");
  scroller.appendChild(table);
  const head = table.createTHead().insertRow();
  if (index) head.appendChild(h("th", "bl-index", indexLabel || ""));
  for (const col of columns || []) head.appendChild(h("th", "", col));
  const body = table.createTBody();
  (rows || []).forEach((row, i) => {
    const tr = body.insertRow();
    if (index) tr.appendChild(h("th", "bl-index", cellText(index[i])));
    for (const cell of row) tr.appendChild(h("td", "", cellText(cell)));
  });
  return scroller;
}

// Strings open as text (their newlines kept), fetched by lines or in large chunks, never 10 characters.
const TEXT_LINES = 200;
const TEXT_CHARS = 100000;

function textBlock(page) {
  const rows = (page && page.rows) || [];
  const index = (page && page.index) || [];
  let text = "";
  rows.forEach((r, i) => {
    const piece = String(r[0] ?? "");
    // Lines are joined by newlines; pieces of one long line (same line number) and chunks are not.
    const newline = page.unit === "lines" && i > 0 && index[i] !== index[i - 1];
    text += (newline ? "\n" : "") + piece;
  });
  return h("pre", "bl-text", text);
}

function render({ model, el }) {
  const viewId = Math.random().toString(36).slice(2);
  const expanded = new Set();
  const offsets = new Map(); // name -> page offset
  const pages = new Map(); // name -> {page} | {error} | {loading}
  const pending = new Map(); // request_id -> name
  let nextRequest = 1;
  let filter = "";
  // The kernel sends the whole state once ("state"), then what each cell changed ("delta").
  let items = new Map(); // a Map: a variable may be called __proto__
  let seq = -1;
  let ready = false;
  let changed = new Set();
  // The kernel behind this panel restarted (or its comm closed): nothing here is live any more.
  let stale = false;

  const root = h("div", "bl-panel");
  const header = h("div", "bl-header");
  const title = h("span", "bl-title");
  const count = h("span", "bl-count");
  const status = h("span", "bl-status");
  const search = h("input", "bl-filter");
  search.type = "search";
  search.placeholder = "Filter";
  search.setAttribute("aria-label", "Filter variables by name");
  const showCode = h("input", "bl-show-code");
  showCode.type = "checkbox";
  const codeLabel = h("label", "bl-toggle");
  const codeCount = h("span");
  codeLabel.append(showCode, codeCount);
  codeLabel.title = "Show modules, functions and classes";
  header.append(title, count, status, search, codeLabel);
  const error = h("div", "bl-error");
  const table = h("table", "bl-vars");
  const headRow = table.createTHead().insertRow();
  for (const label of ["Name", "Type", "Size", "Summary"]) headRow.appendChild(h("th", "", label));
  const body = table.createTBody();
  const empty = h("div", "bl-empty", "No variables yet. Run a cell that assigns one.");
  // Height-bounded: the panel scrolls inside instead of growing with the namespace.
  const scroll = h("div", "bl-body");
  scroll.append(table, empty);
  root.append(header, error, scroll);
  el.appendChild(root);

  function pageLimit(name) {
    const item = items.get(name) || {};
    if (item.kind !== "text") return model.get("page_size") || 10;
    const state = pages.get(name);
    return state && state.page && state.page.unit === "characters" ? TEXT_CHARS : TEXT_LINES;
  }

  function requestPage(name) {
    if (stale) return;
    const requestId = nextRequest++;
    pending.set(requestId, name);
    pages.set(name, { ...(pages.get(name) || {}), loading: true });
    model.send({
      type: "page",
      request_id: requestId,
      path: [name],
      offset: offsets.get(name) || 0,
      limit: pageLimit(name),
      text: (items.get(name) || {}).kind === "text",
    });
  }

  function pager(name, item) {
    const box = h("div", "bl-pager");
    const state = pages.get(name) || {};
    const controls = h("div", "bl-pager-controls");
    const prev = h("button", "bl-button bl-pager-prev", "‹ Previous");
    const next = h("button", "bl-button bl-pager-next", "Next ›");
    const info = h("span", "bl-pager-info");
    const offset = offsets.get(name) || 0;
    const limit = pageLimit(name);
    const page = state.page;
    const isText = item.kind === "text";
    const total = page && typeof page.total === "number" ? page.total : null;
    prev.disabled = state.loading || offset <= 0;
    next.disabled = state.loading || !page || (total !== null ? offset + limit >= total : page.rows.length < limit);
    if (state.error) info.textContent = state.error;
    else if (!page || state.loading) info.textContent = "Loading rows…";
    else {
      const unit = isText ? { lines: "Lines", chunks: "Pieces" }[page.unit] || "Characters" : "Rows";
      const count = isText && page.unit === "characters" ? page.rows.reduce((n, r) => n + String(r[0] ?? "").length, 0) : page.rows.length;
      const last = offset + count;
      const fmt = (n) => n.toLocaleString("en-US");
      info.textContent = `${unit} ${count ? fmt(offset + 1) : 0}–${fmt(last)}${total !== null ? ` of ${fmt(total)}` : ""}`;
      if (isText) next.disabled = state.loading || (total !== null && last >= total);
    }
    prev.addEventListener("click", (e) => {
      e.stopPropagation();
      offsets.set(name, Math.max(0, offset - limit));
      requestPage(name);
      draw();
    });
    next.addEventListener("click", (e) => {
      e.stopPropagation();
      const step = isText && page && page.unit === "characters" ? page.rows.reduce((n, r) => n + String(r[0] ?? "").length, 0) : isText && page ? page.rows.length : limit;
      offsets.set(name, offset + step);
      requestPage(name);
      draw();
    });
    controls.append(prev, info, next);
    const indexLabel = item.type === "dict" ? "key" : "";
    if (page && isText) box.appendChild(textBlock(page));
    else if (page) box.appendChild(dataTable(page.columns, page.rows, page.index, indexLabel));
    else if (Array.isArray(item.rows)) box.appendChild(dataTable(item.columns, item.rows));
    box.appendChild(controls);
    return box;
  }

  function detail(name, item) {
    const td = h("td", "bl-detail-cell");
    td.colSpan = 4;
    if (item.pageable) td.appendChild(pager(name, item));
    else {
      td.appendChild(dataTable(item.columns, item.rows));
      if (item.truncated) td.appendChild(h("div", "bl-note", "Preview truncated."));
    }
    return td;
  }

  function draw() {
    const names = [...items.keys()].sort((a, b) => a.localeCompare(b));
    const code = names.filter((n) => isCode(items.get(n) || {}));
    const shown = names.filter(
      (n) => (!filter || n.toLowerCase().includes(filter)) && (showCode.checked || !isCode(items.get(n) || {})),
    );
    title.textContent = model.get("title") || "Variables";
    count.textContent = String(names.length - code.length);
    codeCount.textContent = ` modules & functions (${code.length})`;
    codeLabel.hidden = code.length === 0;
    if (stale) {
      status.textContent = "stale · kernel restarted — run this cell again";
    } else {
      status.textContent = model.get("watching") ? `live${seq >= 0 ? ` · update ${seq}` : ""}` : "paused";
    }
    status.classList.toggle("bl-paused", stale || !model.get("watching"));
    error.textContent = model.get("error") || "";
    error.hidden = !model.get("error");
    empty.hidden = shown.length > 0;
    if (!ready) empty.textContent = "Loading variables…";
    else if (names.length) empty.textContent = "No variables match.";
    else empty.textContent = "No variables yet. Run a cell that assigns one.";
    table.hidden = shown.length === 0;
    for (const name of [...expanded]) if (!items.has(name)) expanded.delete(name);

    body.replaceChildren();
    for (const name of shown) {
      const item = items.get(name) || {};
      const tr = body.insertRow();
      tr.className = "bl-row";
      tr.dataset.name = name;
      if (changed.has(name)) tr.classList.add("bl-changed");
      if (item.status && item.status !== "ok") tr.classList.add(`bl-status-${item.status}`);
      const openable = canOpen(item);
      const nameCell = h("td", "bl-name");
      const caret = h("span", "bl-caret", openable ? (expanded.has(name) ? "▾" : "▸") : "");
      nameCell.append(caret, h("span", "", name));
      const typeCell = h("td", "bl-type", item.type || "");
      if (item.module) typeCell.title = `${item.module}.${item.type}`;
      const problem = statusText(item);
      const summaryCell = h("td", "bl-summary");
      if (problem) {
        const note = h("span", "bl-problem", `could not preview: ${problem}`);
        summaryCell.append(note);
        if (item.summary) summaryCell.append(h("span", "bl-problem-summary", ` ${item.summary}`));
      } else summaryCell.textContent = item.summary || "";
      summaryCell.title = problem ? `could not preview: ${problem}` : item.summary || "";
      tr.append(nameCell, typeCell, h("td", "bl-size", sizeOf(item)), summaryCell);
      if (openable) {
        tr.classList.add("bl-openable");
        tr.tabIndex = 0;
        const toggle = () => {
          if (expanded.has(name)) expanded.delete(name);
          else {
            expanded.add(name);
            if (item.pageable && !pages.has(name)) requestPage(name);
          }
          draw();
        };
        tr.addEventListener("click", toggle);
        tr.addEventListener("keydown", (e) => {
          if (e.key === "Enter" || e.key === " ") {
            e.preventDefault();
            toggle();
          }
        });
      }
      if (openable && expanded.has(name)) {
        const row = body.insertRow();
        row.className = "bl-detail";
        row.dataset.detailFor = name;
        row.appendChild(detail(name, item));
      }
    }
  }

  function onItems() {
    // Refetch the open page of items the last cell changed; forget pages of removed ones.
    for (const name of [...pages.keys()]) {
      if (!items.has(name)) {
        pages.delete(name);
        offsets.delete(name);
      } else if (changed.has(name) && expanded.has(name) && items.get(name).pageable) requestPage(name);
    }
    draw();
  }

  function onState(msg) {
    items = new Map(Object.entries(msg.items || {}));
    seq = msg.seq;
    changed = new Set();
    ready = true;
    onItems();
  }

  function onDelta(msg) {
    if (msg.full) {
      onState(msg);
      return;
    }
    if (!ready) return; // the state this view asked for is on its way
    if (msg.seq !== seq + 1) {
      // Missed an update (e.g. the panel was paused): ask for the whole state again.
      ready = false;
      model.send({ type: "sync" });
      return;
    }
    for (const [name, item] of Object.entries(msg.items || {})) items.set(name, item);
    for (const name of msg.removed || []) items.delete(name);
    seq = msg.seq;
    changed = new Set(Object.keys(msg.items || {}));
    onItems();
  }

  function onCustom(msg) {
    if (!msg) return;
    if (msg.type === "state") onState(msg);
    else if (msg.type === "delta") onDelta(msg);
    else if (msg.type === "page" && pending.has(msg.request_id)) {
      const name = pending.get(msg.request_id);
      pending.delete(msg.request_id);
      const page = msg.page;
      const offset = offsets.get(name) || 0;
      if (page && page.rows.length === 0 && offset > 0 && typeof page.total === "number") {
        // The item shrank under the open page: go to its last page.
        const limit = model.get("page_size") || 10;
        offsets.set(name, Math.max(0, Math.floor((page.total - 1) / limit) * limit));
        requestPage(name);
        return;
      }
      pages.set(name, msg.error ? { error: msg.error } : { page });
      const limit = page && page.limit;
      if (page && page.unit === "characters" && limit < TEXT_CHARS && page.total > offset + limit) {
        requestPage(name); // a kernel paging text by characters: take a large chunk instead
        return;
      }
      draw();
    }
  }

  function markStale() {
    if (stale) return;
    stale = true;
    items = new Map();
    pages.clear();
    pending.clear();
    expanded.clear();
    ready = true;
    draw();
  }

  // JupyterLab's widget manager exposes the kernel: a restart makes this panel stale.
  const kernel = model.widget_manager && model.widget_manager.kernel;
  const onKernelStatus = (_sender, state) => {
    if (state === "restarting" || state === "autorestarting" || state === "dead") markStale();
  };
  if (kernel && kernel.statusChanged && typeof kernel.statusChanged.connect === "function") {
    kernel.statusChanged.connect(onKernelStatus);
  }
  const onCommClose = () => markStale();
  model.on("comm:close", onCommClose);
  // A page that goes away (reload, closed tab) tells the kernel its view is gone.
  const onPageHide = () => {
    try {
      model.send({ type: "view", state: "closed", id: viewId });
    } catch (e) {
      // the comm may already be closed
    }
  };
  window.addEventListener("pagehide", onPageHide);

  showCode.addEventListener("change", draw);
  search.addEventListener("input", () => {
    filter = search.value.trim().toLowerCase();
    draw();
  });
  const DRAWN = ["change:watching", "change:error", "change:title"];
  for (const event of DRAWN) model.on(event, draw);
  model.on("msg:custom", onCustom);
  draw();
  model.send({ type: "view", state: "open", id: viewId });

  return () => {
    for (const event of DRAWN) model.off(event, draw);
    model.off("msg:custom", onCustom);
    model.off("comm:close", onCommClose);
    window.removeEventListener("pagehide", onPageHide);
    if (kernel && kernel.statusChanged && typeof kernel.statusChanged.disconnect === "function") {
      kernel.statusChanged.disconnect(onKernelStatus);
    }
    try {
      model.send({ type: "view", state: "closed", id: viewId });
    } catch (e) {
      // the comm may already be closed
    }
  };
}

export default { render };
