"""Pieces of one self-contained HTML page (report.html): images as base64 PNG data URIs,
tables, sections; inline CSS only, nothing fetched from elsewhere. No Kedro imports."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: what a section says when the pipeline that feeds it has not written its outputs
NOT_RUN_YET = "not run yet"

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em auto;
       max-width: 1400px; padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; border-bottom: 2px solid #ccc; padding-bottom: 0.15em; margin-top: 1.8em; }
h3 { font-size: 1.05em; margin-bottom: 0.3em; }
nav a { margin-right: 1em; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
table { border-collapse: collapse; font-size: 0.88em; margin: 0.4em 0 1em; }
th, td { border: 1px solid #ddd; padding: 0.2em 0.55em; text-align: left; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.missing { background: #fff6e0; border-left: 4px solid #e0a000; padding: 0.4em 0.8em; }
.warning { background: #fdecea; border-left: 4px solid #b22222; padding: 0.4em 0.8em; }
.note { color: #555; font-size: 0.92em; }
.inflated { color: #b22222; }
pre { background: #f6f6f6; padding: 0.6em 0.9em; overflow-x: auto; }
.figure-row { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
.card { flex: 0 1 660px; }
"""


@dataclass(frozen=True)
class Section:
    """One ``<h2>`` section of the page; ``body`` is HTML already escaped where it needs to be."""

    anchor: str
    heading: str
    body: str


def png_data_uri(png: bytes) -> str:
    """``data:image/png;base64,...`` for PNG bytes."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def figure_png(fig, dpi: int = 110) -> bytes:
    """A matplotlib figure as PNG bytes (closed afterwards: a report draws many)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def image_png(image) -> bytes:
    """A PIL image (what ``pillow.ImageDataset`` loads) as PNG bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def img(png: bytes, alt: str) -> str:
    """An ``<img>`` holding ``png`` inline."""
    return f'<img src="{png_data_uri(png)}" alt="{html.escape(alt)}">'


def missing(text: str) -> str:
    """A highlighted paragraph saying what is absent and how to produce it."""
    return f'<p class="missing">{text}</p>'


def paragraph(text: str, css: str = "") -> str:
    """A paragraph of escaped ``text``."""
    return f'<p{f" class={css!r}" if css else ""}>{html.escape(text)}</p>'


def table_html(frame: pd.DataFrame, digits: int = 3) -> str:
    """An HTML table of ``frame`` (no index); floats to ``digits`` places (small ones to
    ``digits`` significant digits), numbers right-aligned."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for values in frame.itertuples(index=False):
        cells = []
        for value in values:
            if isinstance(value, float | np.floating):
                text = "" if np.isnan(value) else (
                    f"{value:.{digits}g}" if 0 < abs(value) < 10 ** -(digits - 1) else f"{value:.{digits}f}")
                cells.append(f'<td class="num">{text}</td>')
            elif isinstance(value, int | np.integer) and not isinstance(value, bool):
                cells.append(f'<td class="num">{value}</td>')
            else:
                cells.append(f"<td>{html.escape(str(value))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def page(title: str, intro: str, sections: Sequence[Section]) -> str:
    """The whole document: title, a contents line and the sections in order."""
    nav = " ".join(f'<a href="#{s.anchor}">{html.escape(s.heading)}</a>' for s in sections)
    body = "\n".join(f'<section id="{s.anchor}">\n<h2>{html.escape(s.heading)}</h2>\n{s.body}\n</section>'
                     for s in sections)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
            f"<h1>{html.escape(title)}</h1>\n{intro}\n<nav>{nav}</nav>\n{body}\n</body>\n</html>\n")
