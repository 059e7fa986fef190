"""Self-contained report pages: one HTML file with its figures inside.

A report must open offline by double-click and print cleanly to PDF, so the
page loads nothing from anywhere: the style sheet is inline, figures are PNG
images embedded as base64 ``data:`` URIs and fonts are the reader's own.
Pages are rendered with Jinja2 templates with autoescaping on, so text from
scenario files (names, stories) can never become markup.
"""

from __future__ import annotations

import base64
import io
import math
from typing import Iterable, Sequence

import jinja2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# Okabe and Ito's colour-blind-safe palette; the baseline is drawn in near-black.
BASELINE_COLOUR = "#3b3b3b"
OPTION_COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#f0e442")

CSS = """
:root { --ink: #1d2733; --muted: #5b6672; --rule: #d6dbe1; --accent: #1f5f8b;
        --better: #1a7f4b; --worse: #b03a2e; --noise: #6b7280; --panel: #f5f7fa; }
* { box-sizing: border-box; }
html { font-size: 15px; }
body { margin: 0; color: var(--ink); background: #fff;
       font-family: "Segoe UI", "Helvetica Neue", Helvetica, Arial, "Liberation Sans", sans-serif;
       line-height: 1.5; }
main { max-width: 1040px; margin: 0 auto; padding: 2rem 2.2rem 4rem; }
header.report { border-bottom: 3px solid var(--accent); padding-bottom: 1rem; margin-bottom: 1.5rem; }
header.report .kicker { text-transform: uppercase; letter-spacing: .08em; font-size: .78rem;
                        color: var(--accent); font-weight: 600; }
h1 { font-size: 1.85rem; line-height: 1.25; margin: .25rem 0 .5rem; }
h2 { font-size: 1.3rem; margin: 2.2rem 0 .6rem; padding-bottom: .25rem; border-bottom: 1px solid var(--rule);
     break-after: avoid; page-break-after: avoid; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; break-after: avoid; page-break-after: avoid; }
p { margin: .45rem 0; }
.meta { color: var(--muted); font-size: .9rem; }
.lede { font-size: 1.05rem; }
.note { color: var(--muted); font-size: .88rem; }
a { color: var(--accent); }
section.summary .option { background: var(--panel); border-left: 5px solid var(--accent);
                          padding: .8rem 1.1rem; margin: .9rem 0; break-inside: avoid; page-break-inside: avoid; }
section.summary .option h3 { margin-top: .1rem; }
section.summary ul { margin: .3rem 0 .3rem 1.1rem; padding: 0; }
section.summary li { margin: .15rem 0; }
.badge { display: inline-block; border-radius: 3px; padding: 0 .4rem; font-size: .8rem; font-weight: 600;
         color: #fff; white-space: nowrap; }
.badge.better { background: var(--better); }
.badge.worse { background: var(--worse); }
.badge.noise { background: var(--noise); }
.badge.neutral { background: var(--accent); }
table { border-collapse: collapse; width: 100%; margin: .6rem 0 1rem; font-size: .86rem;
        font-variant-numeric: tabular-nums; }
thead { display: table-header-group; }
th, td { border-bottom: 1px solid var(--rule); padding: .3rem .45rem; text-align: left; vertical-align: top; }
th { background: var(--panel); font-weight: 600; }
td.num, th.num { text-align: right; }
td.num { white-space: nowrap; }
td.option { white-space: nowrap; }
tr { break-inside: avoid; page-break-inside: avoid; }
tr.group td { background: #eef2f6; font-weight: 600; }
figure { margin: 1rem 0 1.4rem; break-inside: avoid; page-break-inside: avoid; }
figure img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption { color: var(--muted); font-size: .86rem; margin-top: .4rem; }
pre { background: var(--panel); padding: .7rem .9rem; font-size: .75rem; line-height: 1.35;
      white-space: pre-wrap; word-break: break-word; border: 1px solid var(--rule); }
pre.toml { column-count: 3; column-gap: 1.4rem; column-rule: 1px solid var(--rule); font-size: .7rem; }
.swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; margin-right: .35rem;
          vertical-align: -1px; }
.appendix { font-size: .92rem; }
@page { size: A4; margin: 14mm 13mm 16mm; }
@media print {
  html { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  a { color: inherit; text-decoration: none; }
  h2 { margin-top: 1.4rem; }
  section.appendix { break-before: page; page-break-before: always; }
  .screen-only { display: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="nlcsim {{ version }}">
<title>{{ title }}</title>
<style>{{ css | safe }}</style>
</head>
<body>
<main>
{{ body | safe }}
</main>
</body>
</html>
"""

ENVIRONMENT = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True,
                                 undefined=jinja2.StrictUndefined)


def render(template: str, **context) -> str:
    """Render a Jinja2 template string with autoescaping."""
    return ENVIRONMENT.from_string(template).render(**context)


def page(title: str, body: str, version: str) -> str:
    """A complete HTML document around ``body`` (already rendered, trusted markup)."""
    return render(PAGE, title=title, body=body, css=CSS, version=version)


def figure_png(fig, dpi: int = 130) -> bytes:
    """A matplotlib figure as PNG bytes; the figure is closed."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    plt.close(fig)
    return buffer.getvalue()


def data_uri(payload: bytes, mime: str = "image/png") -> str:
    """``payload`` embedded in a ``data:`` URI, so the page needs no other file."""
    return f"data:{mime};base64," + base64.b64encode(payload).decode("ascii")


def option_colours(labels: Sequence[str], baseline: str) -> dict[str, str]:
    """A fixed colour per option, the baseline in near-black, used by every figure and table."""
    colours, k = {}, 0
    for label in labels:
        if label == baseline:
            colours[label] = BASELINE_COLOUR
        else:
            colours[label] = OPTION_COLOURS[k % len(OPTION_COLOURS)]
            k += 1
    return colours


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]],
                   align: Sequence[str] | None = None) -> str:
    """A GitHub-flavoured Markdown table; ``align`` holds 'l' or 'r' per column."""
    align = align or ["l"] * len(header)

    def cell(value: object) -> str:
        text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |",
             "|" + "|".join("---:" if a == "r" else ":---" for a in align) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
