"""A self-contained HTML page: the text, each symbol coloured by one unit's activation.

One file, no network: the styles, the script and the data are inline. The page shows

* the text, every symbol's background coloured by the chosen unit (blue = high, red = low; for a
  gate, 0.5 is white) and already coloured for the requested unit when opened (no script needed);
* selectors for the signal (h, c, gates), the layer and the unit, with previous / next buttons;
* under the cursor: the symbol, the unit's value, and the model's top predictions for what follows;
* with ``found`` units (``rank_units``), a list per text property; clicking one selects it.

Data: every signal of every layer travels as int8 (value / per-unit max |value| x 127), base64, in
one JSON block; the requested unit's values also travel in full precision ("selected").
"""

from __future__ import annotations

import base64
import html
import json

import numpy as np

from rnnkit.diagnostics.activations import SIGNAL_NAMES, TextActivations
from rnnkit.diagnostics.find_units import PROPERTY_NAMES, UnitMatch


def render_html(
    acts: TextActivations,
    signal: str = "h",
    layer: int = 0,
    unit: int = 0,
    title: str = "rnnkit: neuron activations",
    found: dict[str, list[UnitMatch]] | None = None,
) -> str:
    """The page (a str). ``layer`` and ``unit`` are 0-based; raises ValueError for ones out of range."""
    values = acts.unit(signal, layer, unit)  # validates
    data = {
        "pieces": acts.pieces,
        "layers": acts.num_layers,
        "hidden": acts.hidden_size,
        "cell": acts.cell,
        "signals": {
            name: {"name": SIGNAL_NAMES.get(name, name), "range": acts.ranges[name], "layers": _quantise(v)}
            for name, v in acts.signals.items()
        },
        "selected": {"signal": signal, "layer": layer, "unit": unit, "values": [round(float(v), 6) for v in values]},
        "top": {"ids": acts.top_ids.tolist(), "probs": np.round(acts.top_probs, 4).tolist()},
        "symbols": {str(k): v for k, v in acts.symbols.items()},
        "found": {
            prop: [{"signal": m.signal, "layer": m.layer, "unit": m.unit, "r": round(m.r, 4)} for m in matches]
            for prop, matches in (found or {}).items()
        },
        "property_names": PROPERTY_NAMES,
    }
    # "<" only occurs inside JSON strings, where \u003c means the same: no "</script>" or "<!--" can end
    # or confuse the script block, whatever the text holds.
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    scale = float(np.abs(values).max()) or 1.0
    spans = "".join(
        _span(i, piece, _colour(v, acts.ranges[signal], scale)) for i, (piece, v) in enumerate(zip(acts.pieces, values))
    )
    options = "".join(
        f'<option value="{n}"{" selected" if n == signal else ""}>{html.escape(SIGNAL_NAMES.get(n, n))}</option>'
        for n in acts.signals
    )
    layers = "".join(
        f'<option value="{k}"{" selected" if k == layer else ""}>layer {k + 1}</option>' for k in range(acts.num_layers)
    )
    return _PAGE.format(
        title=html.escape(title),
        heading=html.escape(title),
        signal_options=options,
        layer_options=layers,
        unit=unit,
        max_unit=acts.hidden_size - 1,
        text=spans,
        payload=payload,
        script=_SCRIPT,
        style=_STYLE,
    )


def _quantise(values: np.ndarray) -> list[dict]:
    """Per layer: {"scale": per-unit max |value| (H,), "data": base64 of int8 (N, H) row-major}."""
    out = []
    for per_layer in values:  # (N, H)
        scale = np.abs(per_layer).max(axis=0)  # (H,)
        scale = np.where(scale > 0, scale, 1.0)
        q = np.clip(np.rint(per_layer / scale * 127), -127, 127).astype(np.int8)
        out.append({"scale": [float(f"{s:.6g}") for s in scale], "data": base64.b64encode(q.tobytes()).decode("ascii")})
    return out


def _colour(value: float, kind: str, scale: float) -> str:
    """Blue for high, red for low, white in the middle (the same rule as the page's script)."""
    if kind == "sigmoid":
        v = 2.0 * value - 1.0
    elif kind == "tanh":
        v = value
    else:
        v = value / scale
    v = max(-1.0, min(1.0, v))
    rgb = "33,102,172" if v >= 0 else "178,24,43"
    return f"rgba({rgb},{abs(v):.3f})"


def _span(i: int, piece: str, colour: str) -> str:
    shown = html.escape(piece.replace("\n", "\u21b5"))
    tail = "\n" if piece.endswith("\n") else ""
    return f'<span data-i="{i}" style="background:{colour}">{shown}</span>{tail}'


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
#controls { position: sticky; top: 0; background: #fff; padding: .5em 0; border-bottom: 1px solid #ddd; }
#controls label { margin-right: 1em; }
#controls input[type=number] { width: 5em; }
#text { font-family: ui-monospace, monospace; white-space: pre-wrap; line-height: 1.6; margin-top: 1em; }
#text span { cursor: default; }
#text span:hover { outline: 1px solid #000; }
#tip { position: fixed; display: none; background: #333; color: #fff; padding: .4em .6em; border-radius: 4px;
       font: 13px ui-monospace, monospace; pointer-events: none; white-space: pre; z-index: 10; }
#found { margin-top: .5em; font-size: 90%; }
#found a { margin-right: .8em; cursor: pointer; color: #2166ac; }
.legend { font-size: 85%; color: #555; }
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<h1>{heading}</h1>
<div id="controls">
<label>signal <select id="signal">{signal_options}</select></label>
<label>layer <select id="layer">{layer_options}</select></label>
<label>unit <input id="unit" type="number" min="0" max="{max_unit}" value="{unit}"></label>
<button id="prev" type="button">&larr;</button> <button id="next" type="button">&rarr;</button>
<span class="legend">blue = high, red = low (gates: 0.5 is white);
hover a symbol for its value and the top predictions</span>
<div id="found"></div>
</div>
<div id="text">{text}</div>
<div id="tip"></div>
<script type="application/json" id="data">{payload}</script>
<script>{script}</script>
</body>
</html>
"""

_SCRIPT = """
(function () {
  const D = JSON.parse(document.getElementById("data").textContent);
  const spans = Array.from(document.querySelectorAll("#text span"));
  const sel = { signal: document.getElementById("signal"), layer: document.getElementById("layer"),
                unit: document.getElementById("unit") };
  const tip = document.getElementById("tip");
  const decoded = {};
  function bytes(sig, layer) {
    const key = sig + "/" + layer;
    if (!decoded[key]) {
      const raw = atob(D.signals[sig].layers[layer].data);
      const q = new Int8Array(raw.length);
      for (let i = 0; i < raw.length; i++) q[i] = (raw.charCodeAt(i) << 24) >> 24;
      decoded[key] = q;
    }
    return decoded[key];
  }
  function values(sig, layer, unit) {
    const s = D.selected;
    if (s.signal === sig && s.layer === layer && s.unit === unit) return s.values;
    const q = bytes(sig, layer), H = D.hidden, scale = D.signals[sig].layers[layer].scale[unit];
    const out = new Array(D.pieces.length);
    for (let t = 0; t < out.length; t++) out[t] = q[t * H + unit] / 127 * scale;
    return out;
  }
  function colour(v, range, scale) {
    let x = range === "sigmoid" ? 2 * v - 1 : range === "tanh" ? v : v / scale;
    x = Math.max(-1, Math.min(1, x));
    return "rgba(" + (x >= 0 ? "33,102,172" : "178,24,43") + "," + Math.abs(x).toFixed(3) + ")";
  }
  let current = [];
  function draw() {
    const sig = sel.signal.value, layer = +sel.layer.value;
    const unit = Math.max(0, Math.min(D.hidden - 1, +sel.unit.value || 0));
    sel.unit.value = unit;
    current = values(sig, layer, unit);
    const scale = current.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-12);
    const range = D.signals[sig].range;
    spans.forEach((s, t) => { s.style.background = colour(current[t], range, scale); });
  }
  function show(t, ev) {
    const top = D.top.ids[t].map((id, k) =>
      JSON.stringify(D.symbols[id]) + " " + (100 * D.top.probs[t][k]).toFixed(1) + "%");
    tip.textContent = "position " + t + "  " + JSON.stringify(D.pieces[t]) + "\\n" +
      sel.signal.value + "[" + sel.unit.value + "] = " + current[t].toFixed(4) + "\\nnext: " + top.join("  ");
    tip.style.display = "block";
    tip.style.left = (ev.clientX + 12) + "px";
    tip.style.top = (ev.clientY + 16) + "px";
  }
  spans.forEach((s, t) => {
    s.addEventListener("mousemove", (ev) => show(t, ev));
    s.addEventListener("mouseleave", () => { tip.style.display = "none"; });
  });
  sel.signal.addEventListener("change", draw);
  sel.layer.addEventListener("change", draw);
  sel.unit.addEventListener("input", draw);
  document.getElementById("prev").addEventListener("click", () => { sel.unit.value = +sel.unit.value - 1; draw(); });
  document.getElementById("next").addEventListener("click", () => { sel.unit.value = +sel.unit.value + 1; draw(); });
  const found = document.getElementById("found");
  Object.entries(D.found).forEach(([prop, list]) => {
    const row = document.createElement("div");
    row.textContent = (D.property_names[prop] || prop) + ": " + (list.length ? "" : "(does not vary in this text)");
    list.forEach((m) => {
      const a = document.createElement("a");
      a.textContent = "L" + (m.layer + 1) + " " + m.signal + "[" + m.unit + "] r=" + m.r.toFixed(2);
      a.addEventListener("click", () => {
        sel.signal.value = m.signal; sel.layer.value = m.layer; sel.unit.value = m.unit; draw();
      });
      row.appendChild(a);
    });
    found.appendChild(row);
  });
  draw();
})();
"""
