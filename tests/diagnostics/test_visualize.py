"""The HTML page: well-formed, self-contained, carrying the requested unit's activations (exactly,
and every other unit quantised), safe whatever the text holds, and its script runs (under node)."""

import base64
import html.parser
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnkit.data import CharVocab
from rnnkit.diagnostics.activations import text_activations
from rnnkit.diagnostics.find_units import rank_units, text_properties
from rnnkit.diagnostics.visualize import render_html
from rnnkit.models import LanguageModel, LanguageModelConfig

TEXT = 'He said “hi (there)” & left.\n<b>bold</b> </script><!-- "x" -->\nend\n'
VOID = {"meta", "input", "br", "img", "link", "hr", "area", "base", "col", "embed", "source", "track", "wbr"}


def activations(cell: str = "lstm"):
    vocab = CharVocab.from_text(TEXT)
    torch.manual_seed(0)
    cfg = LanguageModelConfig.from_dict(
        dict(vocab_size=len(vocab), cell=cell, hidden_size=6, num_layers=2, embedding_size=4)
    )
    return text_activations(LanguageModel(cfg), vocab, TEXT)


class Checker(html.parser.HTMLParser):
    """Collects tags, checks that every non-void element is closed in order, and keeps the scripts."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.tags, self.scripts, self.attrs = [], [], [], [], []
        self.text = []
        self._in_text = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs
        if tag not in VOID:
            self.stack.append(tag)
        if tag == "script":
            self.scripts.append({"attrs": dict(attrs), "body": ""})
        if self._in_text or dict(attrs).get("id") == "text":
            self._in_text += 1

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack}")
            return
        self.stack.pop()
        if self._in_text:
            self._in_text -= 1

    def handle_data(self, data):
        if self.stack and self.stack[-1] == "script":
            self.scripts[-1]["body"] += data
        elif self._in_text:
            self.text.append(data)


def signed_alpha(colour: str) -> float:
    """rgba(33,102,172,a) -> +a (blue, high), rgba(178,24,43,a) -> -a (red, low)."""
    rgb, alpha = colour[len("rgba(") : -1].rsplit(",", 1)
    return float(alpha) * (1 if rgb == "33,102,172" else -1)


def parse(page: str) -> Checker:
    checker = Checker()
    checker.feed(page)
    checker.close()
    return checker


def test_the_page_is_well_formed_and_self_contained():
    acts = activations()
    page = render_html(acts, "c", 1, 4)
    assert page.startswith("<!DOCTYPE html>")
    checker = parse(page)
    assert checker.errors == [] and checker.stack == []
    assert {"html", "head", "meta", "title", "style", "body", "select", "input", "script"} <= set(checker.tags)
    assert ("charset", "utf-8") in checker.attrs
    # nothing is fetched: no external scripts, styles, images or frames
    assert not any(name in ("src", "href") for name, _ in checker.attrs)
    assert not set(checker.tags) & {"link", "img", "iframe", "object", "embed"}
    assert "@import" not in page and "url(" not in page
    assert len(checker.scripts) == 2 and checker.scripts[0]["attrs"]["type"] == "application/json"
    # the text survives escaping: the page shows exactly the text (newlines as a visible mark + newline)
    assert "".join(checker.text) == TEXT.replace("\n", "\u21b5\n")


def test_the_page_carries_the_requested_units_activations():
    acts = activations()
    page = render_html(acts, "c", 1, 4)
    data = json.loads(parse(page).scripts[0]["body"])
    assert data["selected"]["signal"] == "c" and data["selected"]["layer"] == 1 and data["selected"]["unit"] == 4
    assert np.allclose(data["selected"]["values"], acts.unit("c", 1, 4), atol=1e-6)
    assert data["pieces"] == list(TEXT)
    # every unit of every signal and layer, quantised to int8 with a per-unit scale
    for name, values in acts.signals.items():
        for layer in range(2):
            block = data["signals"][name]["layers"][layer]
            q = np.frombuffer(base64.b64decode(block["data"]), dtype=np.int8).reshape(len(TEXT), 6)
            scale = np.array(block["scale"])
            assert np.allclose(q / 127 * scale, values[layer], atol=scale.max() / 127)
    assert data["signals"]["f"]["range"] == "sigmoid" and data["signals"]["c"]["range"] == "free"
    assert len(data["top"]["ids"]) == len(TEXT) and all(str(i) in data["symbols"] for i in data["top"]["ids"][0])
    # the symbols are coloured for that unit when the page opens, before any script runs
    colours = re.findall(r'<span data-i="\d+" style="background:(rgba\([^)]*\))">', page)
    assert len(colours) == len(TEXT) and len(set(colours)) > 5


def test_found_units_are_listed():
    acts = activations()
    found = rank_units(acts.signals, text_properties(acts.pieces), top=2)
    data = json.loads(parse(render_html(acts, found=found)).scripts[0]["body"])
    assert set(data["found"]) == set(found)
    first = found["inside_quotes"][0]
    assert data["found"]["inside_quotes"][0] == {
        "signal": first.signal,
        "layer": first.layer,
        "unit": first.unit,
        "r": round(first.r, 4),
    }


def test_bad_selection():
    acts = activations("gru")
    with pytest.raises(ValueError, match=r"signal: expected one of \['h', 'n', 'r', 'z'\] for this gru, got 'c'"):
        render_html(acts, "c")
    with pytest.raises(ValueError, match=r"unit: expected 0\.\.5, got 6"):
        render_html(acts, "h", 0, 6)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the page's script")
def test_the_script_draws_the_same_colours_and_switches_units(tmp_path):
    acts = activations()
    found = rank_units(acts.signals, text_properties(acts.pieces), top=2)
    page = tmp_path / "page.html"
    page.write_text(render_html(acts, "h", 0, 2, found=found), encoding="utf-8")
    harness = Path(__file__).with_name("page_harness.js")
    other = {"signal": "f", "layer": 1, "unit": 5}
    done = subprocess.run(
        ["node", str(harness), str(page), json.dumps(other)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["drawn"] == result["initial"]  # the script colours exactly as the page was written
    want = render_html(acts, "f", 1, 5)  # the page written for the other unit (exact values)...
    exact = re.findall(r'<span data-i="\d+" style="background:([^"]*)">', want)
    assert len(result["after"]) == len(exact)
    for got, ref in zip(result["after"], exact):  # ...equals the script's, from int8 data, to quantisation
        assert signed_alpha(got) == pytest.approx(signed_alpha(ref), abs=2 * 2 / 127)
    assert result["tip"].startswith('position 1  "e"\nf[5] = ') and "next: " in result["tip"]
    assert result["found"] == len(found)
