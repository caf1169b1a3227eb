// Runs the script of a page written by rnnkit.diagnostics.visualize against a minimal stand-in for the DOM
// (no browser needed): prints, as JSON, the span colours as written, as the script draws them, and after
// switching to the unit given as argv[3], the tooltip over symbol 1, and how many "found" rows it built.
const fs = require("fs");
const html = fs.readFileSync(process.argv[2], "utf8");
const next = JSON.parse(process.argv[3]);  // {signal, layer, unit}
const data = html.match(/<script type="application\/json" id="data">([\s\S]*?)<\/script>/)[1];
const script = html.match(/<script>([\s\S]*?)<\/script>/)[1];
const initial = [...html.matchAll(/<span data-i="\d+" style="background:([^"]*)">/g)].map((m) => m[1]);
function el(props) {
  return Object.assign({ style: {}, listeners: {}, children: [], textContent: "",
    addEventListener(e, f) { this.listeners[e] = f; }, appendChild(c) { this.children.push(c); } }, props);
}
const spans = initial.map((bg) => el({ style: { background: bg } }));
const D = JSON.parse(data);
const ids = { data: el({ textContent: data }), signal: el({ value: D.selected.signal }),
  layer: el({ value: String(D.selected.layer) }), unit: el({ value: String(D.selected.unit) }),
  tip: el(), found: el(), prev: el(), next: el() };
global.document = { getElementById: (id) => ids[id], querySelectorAll: () => spans,
  createElement: () => el() };
eval(script);
const drawn = spans.map((s) => s.style.background);
ids.signal.value = next.signal; ids.layer.value = String(next.layer); ids.unit.value = String(next.unit);
ids.unit.listeners.input();
spans[1].listeners.mousemove({ clientX: 1, clientY: 2 });
console.log(JSON.stringify({ initial, drawn, after: spans.map((s) => s.style.background), tip: ids.tip.textContent,
  found: ids.found.children.length }));
