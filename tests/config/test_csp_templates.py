"""Our templates hold nothing the Content-Security-Policy refuses: no style="", no <style> or inline <script>,
no onclick="" and the like. A fast check of every template, so a new page fails here and not only in a browser."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFUSED = {
    "a style attribute (use a class: config/templatetags/bars.py for widths)": re.compile(r"\sstyle\s*=", re.I),
    "a <style> element (use a file in static/css)": re.compile(r"<style[\s>]", re.I),
    "an inline <script> (use a file in static/js)": re.compile(
        r"<script(?![^>]*\ssrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I
    ),
    "an inline event handler (add a listener in static/js)": re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I),
    "a javascript: URL": re.compile(r"javascript:", re.I),
}


def our_templates():
    for folder in [ROOT / "templates", *ROOT.glob("*/templates")]:
        if ".venv" not in folder.parts:
            yield from folder.rglob("*.html")


def test_no_template_holds_what_the_content_security_policy_refuses():
    templates = list(our_templates())
    assert len(templates) > 20
    found = [
        f"{path.relative_to(ROOT)}:{number}: {what}"
        for path in templates
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        for what, pattern in REFUSED.items()
        if pattern.search(line)
    ]
    assert found == [], "\n".join(found)


def test_control_each_pattern_finds_what_it_names():
    samples = [
        '<span style="width: 5%">',
        "<style>a{}</style>",
        "<script>alert(1)</script>",
        '<b onclick="x()">',
        '<a href="javascript:x()">',
    ]
    for sample, pattern in zip(samples, REFUSED.values(), strict=True):
        assert pattern.search(sample), sample
    assert not REFUSED["an inline <script> (use a file in static/js)"].search('<script src="/static/js/a.js" defer>')
