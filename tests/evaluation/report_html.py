"""Reading a crmml report back: the series of each plot (its embedded JSON), the metric rows and the tables."""

from __future__ import annotations

import html
import json
import re

import pandas as pd

_FIGURE = re.compile(r'<figure[^>]*><img alt="([^"]*)" src="data:image/png;base64,[^"]+">'
                     r'<figcaption>.*?</figcaption><script type="application/json" class="plot-data">(.*?)</script>'
                     r"</figure>", re.S)
_ROW = re.compile(r'<tr data-metric="([^"]+)">(.*?)</tr>', re.S)
_CELL = re.compile(r"<td([^>]*)>(.*?)</td>", re.S)


def plot_data(text: str) -> dict:
    """Caption -> list of axes, each {"title", "series": [{"name", "label", "x", "y"}]}."""
    return {html.unescape(caption): json.loads(data) for caption, data in _FIGURE.findall(text)}


def series(text: str, caption: str, axes: int = 0) -> dict:
    """Series name -> series dict of one Axes of one figure."""
    return {s["name"]: s for s in plot_data(text)[caption][axes]["series"]}


def metric_rows(text: str) -> dict:
    """Metric -> (difference cell class or None, data-lower, data-upper, [cell texts])."""
    out = {}
    for name, row in _ROW.findall(text):
        cells = _CELL.findall(row)
        attrs = cells[-1][0]
        cls = re.search(r'class="(\w+)"', attrs)
        lo, hi = (re.search(rf'data-{k}="([^"]+)"', attrs) for k in ("lower", "upper"))
        out[html.unescape(name)] = (cls.group(1) if cls else None, float(lo.group(1)) if lo else None,
                                    float(hi.group(1)) if hi else None,
                                    [re.sub(r"<[^>]+>", "", c[1]) for c in cells])
    return out


def table(text: str, caption: str) -> pd.DataFrame:
    """The HTML table under an ``<h3>`` caption, as text cells (header row as columns)."""
    start = text.index(f"<h3>{html.escape(caption)}</h3>")
    body = text[start:text.index("</table>", start)]
    head = [html.unescape(h) for h in re.findall(r"<th>(.*?)</th>", body)]
    rows = [[html.unescape(c) for _, c in _CELL.findall(r)] for r in re.findall(r"<tr>(.*?)</tr>", body)[1:]]
    return pd.DataFrame(rows, columns=head)


def number(cell: str) -> float:
    return float(cell.replace(",", "").split(" [")[0])
