"""The Actions sidebar in a real JupyterLab (headless Chromium), through the real server.

1. Form submit → first progress update painted: the ``ping`` action (one ``{"progress": 1.0}``
   response at once) run from its form N times; each sample runs from the Run button's click to
   the end of the frame that paints the card's progress bar at 100 %. "Painted" is taken the same
   way whether the card writes its DOM in a frame callback or in the websocket message's task: a
   change made inside a frame callback is painted by that frame (the sample ends at the first task
   after it); a change made in any other task is painted by the next frame (the sample ends at the
   first task after that frame). Each sample is split into click → request on the socket,
   socket → ``ping_response`` in, response in → DOM updated, DOM updated → painted.
   In the same page and run (alternating blocks of 10), the raw websocket round trip: the same
   ``ping_request`` sent on a plain WebSocket to the kernel's channels, until its
   ``ping_response`` arrives. Prints both medians and their ratio.
2. A 10,000-response coalesced stream (``flood``) rendered live: long tasks > 200 ms seen by the
   browser's PerformanceObserver while it streams (none wanted).

    .venv/bin/python -m bench.bench_actions_ui [--runs 100] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "browser"))

RAW_JS = """async ([runs, token]) => {
  const sessions = await (await fetch(`/api/sessions?token=${token}`)).json();
  const kernelId = sessions[0].kernel.id;
  const session = crypto.randomUUID();
  const url = `${location.origin.replace('http', 'ws')}/api/kernels/${kernelId}/channels` +
              `?session_id=${session}&token=${token}`;
  const ws = new WebSocket(url);
  await new Promise((ok, err) => { ws.onopen = ok; ws.onerror = err; });
  const waiting = new Map();
  ws.onmessage = ev => {
    if (typeof ev.data !== 'string') return;
    const msg = JSON.parse(ev.data);
    const parent = msg.parent_header && msg.parent_header.msg_id;
    if (msg.header.msg_type === 'ping_response' && waiting.has(parent)) {
      waiting.get(parent)(performance.now());
      waiting.delete(parent);
    }
  };
  const times = [];
  for (let i = 0; i < runs + 2; i++) {
    const id = crypto.randomUUID();
    const done = new Promise(ok => waiting.set(id, ok));
    const t0 = performance.now();
    ws.send(JSON.stringify({
      header: {msg_id: id, msg_type: 'ping_request', username: '', session, date: new Date().toISOString(),
               version: '5.3'},
      parent_header: {}, metadata: {}, content: {}, channel: 'shell', buffers: []}));
    const t1 = await done;
    if (i >= 2) times.push(t1 - t0);   // 2 warm-up calls
    await new Promise(r => setTimeout(r, 20)); // let the reply and idle pass
  }
  ws.close();
  return times;
}"""

UI_JS = """async (runs) => {
  const sidebar = document.querySelector('#beakerlike-actions');
  const form = sidebar.querySelector('.bl-action-form[data-action="ping"]');
  const button = form.querySelector('.bl-form-submit');
  const runsBox = sidebar.querySelector('.bl-runs');
  // Instrumentation, removed at the end: is code running in a frame callback (or in the microtasks
  // right after it, where MutationObserver callbacks run)? When did the request leave and the
  // ping_response arrive on JupyterLab's own kernel socket?
  let inFrame = false;
  const raf = window.requestAnimationFrame;
  window.requestAnimationFrame = cb => raf.call(window, ts => {
    inFrame = true;
    try { cb(ts); } finally { queueMicrotask(() => { inFrame = false; }); }
  });
  let tSend = 0, tIn = 0;
  const send = WebSocket.prototype.send;
  const decoder = new TextDecoder();
  const hooked = new WeakSet();
  WebSocket.prototype.send = function (data) {
    if (!tSend) tSend = performance.now();
    if (!hooked.has(this)) {
      hooked.add(this);
      const ws = this, handler = ws.onmessage;
      ws.onmessage = ev => {
        if (!tIn && (typeof ev.data === 'string' ? ev.data : decoder.decode(ev.data)).includes('ping_response')) {
          tIn = performance.now();
        }
        return handler.call(ws, ev);
      };
    }
    return send.call(this, data);
  };
  const samples = [];
  try {
    for (let i = 0; i < runs + 2; i++) {
      const before = new Set([...runsBox.querySelectorAll('.bl-run')]);
      let tDom = 0;
      const painted = new Promise(resolve => {
        const obs = new MutationObserver(() => {
          const card = [...runsBox.querySelectorAll('.bl-run')].find(c => !before.has(c));
          const text = card && card.querySelector('.bl-run-progress-text');
          if (text && text.textContent === '100%') {
            obs.disconnect();
            tDom = performance.now();
            const done = () => setTimeout(() => resolve(performance.now()), 0);
            if (inFrame) done(); else raf.call(window, done);
          }
        });
        obs.observe(runsBox, {subtree: true, childList: true, characterData: true, attributes: true});
      });
      // Click at a random phase of the 60 Hz frame grid, as a person would: this loop's own waits are
      // frame-aligned, so without it every click would fall at the same point between two frames.
      await new Promise(r => setTimeout(r, Math.random() * 17));
      tSend = 0; tIn = 0;
      const t0 = performance.now();
      button.click();
      const t1 = await painted;
      if (i >= 2) samples.push({total: t1 - t0, submit: tSend - t0, wire: tIn - tSend, handle: tDom - tIn,
                                paint: t1 - tDom});
      const card = [...runsBox.querySelectorAll('.bl-run')].find(c => !before.has(c));
      while (card.dataset.state === 'running') await new Promise(r => setTimeout(r, 5));
      card.querySelector('.bl-run-close').click();
      await new Promise(r => setTimeout(r, 20));
    }
  } finally {
    window.requestAnimationFrame = raf;
    WebSocket.prototype.send = send;
  }
  return samples;
}"""

FLOOD_JS = """async (n) => {
  const long = [];
  const observer = new PerformanceObserver(list => { for (const e of list.getEntries()) long.push(e.duration); });
  observer.observe({type: 'longtask', buffered: false});
  // Check the observer sees long tasks at all: one deliberate 120 ms task.
  setTimeout(() => { const t = performance.now(); while (performance.now() - t < 120) {} }, 0);
  await new Promise(r => setTimeout(r, 300));
  const probeSeen = long.some(d => d >= 100);
  long.length = 0;
  const sidebar = document.querySelector('#beakerlike-actions');
  const form = sidebar.querySelector('.bl-action-form[data-action="flood"]');
  const runsBox = sidebar.querySelector('.bl-runs');
  const before = new Set([...runsBox.querySelectorAll('.bl-run')]);
  const input = form.querySelector('#bl-action-flood_n');
  const t0 = performance.now();
  form.querySelector('.bl-form-submit').click();
  let card = null;
  let frames = 0;
  for (;;) {
    await new Promise(r => requestAnimationFrame(r));
    frames++;
    card = card || [...runsBox.querySelectorAll('.bl-run')].find(c => !before.has(c));
    if (card && card.dataset.state !== 'running') break;
  }
  const t1 = performance.now();
  await new Promise(r => setTimeout(r, 300));
  observer.disconnect();
  return {state: card.dataset.state, count: card.querySelector('.bl-run-count').textContent,
          percent: card.querySelector('.bl-run-progress-text').textContent, seconds: (t1 - t0) / 1000,
          frames, long, probeSeen, n: input ? input.value : null};
}"""


def main() -> int:
    """Run both measurements and print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="20 runs")
    args = parser.parse_args()
    runs = 20 if args.quick else args.runs

    from actionsui import actions_lab, open_form, open_notebook
    from labserver import CHROMIUM, CHROMIUM_ARGS
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="beakerlike-bench-ui-") as tmp, actions_lab(Path(tmp)) as lab, \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            open_notebook(page, lab, ["x = 1"], name="bench.ipynb")
            open_form(page, "ping")
            samples: list[dict[str, float]] = []
            raw: list[float] = []
            block = max(1, runs // 10)
            while len(samples) < runs:  # alternate blocks, so both see the same machine load
                n = min(block, runs - len(samples))
                samples += page.evaluate(UI_JS, n)
                raw += page.evaluate(RAW_JS, [n, lab.token])
            ui = [s["total"] for s in samples]
            ui_med, raw_med = statistics.median(ui), statistics.median(raw)
            print(f"actions UI: form submit -> first progress painted: median {ui_med:.1f} ms "
                  f"(p90 {statistics.quantiles(ui, n=10)[-1]:.1f} ms, {len(ui)} runs)")
            parts = {k: statistics.median(s[k] for s in samples) for k in ("submit", "wire", "handle", "paint")}
            print(f"actions UI: medians of its parts: click -> request sent {parts['submit']:.1f} ms, "
                  f"sent -> ping_response in {parts['wire']:.1f} ms, response -> DOM updated {parts['handle']:.1f} ms, "
                  f"DOM updated -> painted {parts['paint']:.1f} ms")
            print(f"actions UI: raw websocket round trip (ping_request -> ping_response), same page: "
                  f"median {raw_med:.1f} ms")
            print(f"actions UI: ratio painted / raw round trip = {ui_med / raw_med:.2f} (target <= 3)")

            open_form(page, "flood")
            page.locator("#bl-action-flood_n").fill("10000")
            flood = page.evaluate(FLOOD_JS, 10_000)
            over = [d for d in flood["long"] if d > 200]
            print(f"actions UI: 10,000-response coalesced stream: {flood['count']}, {flood['percent']}, "
                  f"{flood['state']} in {flood['seconds']:.2f} s, {flood['frames']} frames; "
                  f"long tasks > 200 ms: {len(over)} (longest task {max(flood['long'], default=0):.0f} ms, "
                  f"{len(flood['long'])} long tasks > 50 ms; a deliberate 120 ms task was seen: {flood['probeSeen']})")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
