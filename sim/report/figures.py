"""Figure specs as plain dicts: ``{"data": [...], "layout": {...}}`` as plotly.js takes them.

The report draws its charts with the vendored plotly.js (sim/report/assets/); the figures are
built here as dicts so that no plotly Python package is imported (it cost about half a
second of start-up, issue 16). Only what the report's charts use is here: traces, a
recursive layout update, axis updates (all axes, or one panel's), horizontal and vertical
target lines, shaded bands, annotations, and a column of panels sharing the x axis.

The specs are the ones plotly's Python package wrote for the same calls (same keys, the
same numbers): numeric arrays (numpy, pandas) become plotly.js typed arrays
(``{"dtype": "f8", "bdata": base64}``, 64-bit integers narrowed to the smallest type that
holds them), other arrays lists, NaN ``null``.
"""

from __future__ import annotations

import base64
import math
from typing import Any

# numpy dtype -> plotly.js typed-array type
_TYPED = {"int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2", "int32": "i4",
          "uint32": "u4", "float32": "f4", "float64": "f8"}
_NARROW = (("int8", -2**7, 2**7 - 1), ("int16", -2**15, 2**15 - 1),
           ("int32", -2**31, 2**31 - 1))
_NO_TYPED = {"range"}   # kept as a list even when an array is given (as plotly does)
_TEMPLATE_NONE = {"data": {"scatter": [{"type": "scatter"}]}}


def merge(into: dict, update: dict) -> dict:
    """``update`` merged into ``into`` (nested dicts merged key by key), in place."""
    for k, v in update.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            merge(into[k], v)
        else:
            into[k] = dict(v) if isinstance(v, dict) else v
    return into


def trace(kind: str, **props: Any) -> dict:
    """One trace: ``trace("bar", x=[...], y=[...], marker={"color": "#1a73e8"})``."""
    return {"type": kind, **props}


def bar(**props: Any) -> dict:
    return trace("bar", **props)


def scatter(**props: Any) -> dict:
    return trace("scatter", **props)


def band(x: Any, low: Any, high: Any, fillcolor: str, name: str) -> list[dict]:
    """A shaded interval between two lines: an invisible upper edge, then the lower edge
    filled up to it (add both traces, in this order, before the line they surround)."""
    return [scatter(x=x, y=high, mode="lines", line={"width": 0}, showlegend=False,
                    hoverinfo="skip"),
            scatter(x=x, y=low, mode="lines", line={"width": 0}, fill="tonexty",
                    fillcolor=fillcolor, name=name)]


def _axis(letter: str, row: int) -> str:
    return letter if row <= 1 else f"{letter}{row}"


class Figure:
    """A figure being built; :meth:`to_dict` is the spec. ``rows`` > 0 for a column of
    panels made by :func:`panels` (traces and lines then go to a panel by ``row``)."""

    def __init__(self, *data: dict) -> None:
        self.data: list[dict] = list(data)
        self.layout: dict = {}
        self.rows = 0

    # --- traces and layout -------------------------------------------------------------
    def add_trace(self, tr: dict, row: int | None = None) -> None:
        if self.rows and row is not None:
            tr = {**tr, "xaxis": _axis("x", row), "yaxis": _axis("y", row)}
        self.data.append(tr)

    def update_layout(self, **props: Any) -> None:
        if props.get("template") == "none":
            props = {**props, "template": _TEMPLATE_NONE}
        merge(self.layout, props)

    def _axes(self, letter: str, row: int | None) -> list[str]:
        if row is not None and self.rows:
            return [_axis(letter + "axis", row)]
        return [_axis(letter + "axis", r) for r in range(1, max(self.rows, 1) + 1)]

    def update_xaxes(self, row: int | None = None, **props: Any) -> None:
        for name in self._axes("x", row):
            merge(self.layout.setdefault(name, {}), props)

    def update_yaxes(self, row: int | None = None, **props: Any) -> None:
        for name in self._axes("y", row):
            merge(self.layout.setdefault(name, {}), props)

    def add_annotation(self, **props: Any) -> None:
        self.layout.setdefault("annotations", []).append(props)

    def add_shape(self, **props: Any) -> None:
        self.layout.setdefault("shapes", []).append(props)

    # --- lines and bands across a panel ----------------------------------------------
    def add_hline(self, y: float, line: dict, row: int | None = None,
                  annotation: dict | None = None) -> None:
        """A horizontal line across the panel; ``annotation`` (text, font) at its top
        right, above the line."""
        r = row if self.rows and row is not None else 1
        xref, yref = f"{_axis('x', r)} domain", _axis("y", r)
        self.add_shape(type="line", x0=0, x1=1, y0=y, y1=y, xref=xref, yref=yref,
                       line=line)
        if annotation is not None:
            self.add_annotation(**annotation, xanchor="right", yanchor="bottom", x=1, y=y,
                                showarrow=False, xref=xref, yref=yref)

    def add_vline(self, x: float, line: dict, annotation: dict | None = None) -> None:
        """A vertical line over the plot's height; ``annotation`` at its top, left of it."""
        self.add_shape(type="line", x0=x, x1=x, y0=0, y1=1, xref="x", yref="y domain",
                       line=line)
        if annotation is not None:
            self.add_annotation(**annotation, xanchor="right", yanchor="top", x=x, y=1,
                                showarrow=False, xref="x", yref="y domain")

    def add_vrect(self, x0: float, x1: float, annotation: dict | None = None,
                  **props: Any) -> None:
        """A shaded band from x0 to x1 over the plot's height; ``annotation`` inside it at
        the bottom left."""
        self.add_shape(type="rect", x0=x0, x1=x1, y0=0, y1=1, xref="x", yref="y domain",
                       **props)
        if annotation is not None:
            self.add_annotation(**annotation, xanchor="left", yanchor="bottom",
                                x=min([x0, x1]), y=0, showarrow=False, xref="x",
                                yref="y domain")

    def to_dict(self) -> dict:
        """The spec, JSON-ready: arrays typed or listed, numpy scalars plain, NaN None."""
        return {"data": plain(self.data), "layout": plain(self.layout)}


def panels(rows: int, vertical_spacing: float, titles: list[str]) -> Figure:
    """A column of ``rows`` panels sharing one x axis (tick labels on the bottom panel
    only), each titled above it, the first at the top: the layout plotly's
    ``make_subplots(rows, 1, shared_xaxes=True, ...)`` gives, to the same floats."""
    fig = Figure()
    fig.rows = rows
    h = (1.0 - vertical_spacing * (rows - 1)) / rows
    heights = [h] * rows
    starts = [sum(heights[:r]) + r * vertical_spacing for r in range(rows)]  # bottom up
    for row in range(1, rows + 1):
        i = rows - row                     # panels count from the top
        y0, y1 = starts[i] + 0.0, starts[i] + heights[i] - 0.0
        y0 = 0.0 if -0.01 < y0 < 0.0 else 1.0 if 1.0 < y0 < 1.01 else y0
        y1 = 0.0 if -0.01 < y1 < 0.0 else 1.0 if 1.0 < y1 < 1.01 else y1
        x = {"anchor": _axis("y", row), "domain": [0.0, 1.0]}
        if row < rows:
            x.update(matches=_axis("x", rows), showticklabels=False)
        fig.layout[_axis("xaxis", row)] = x
        fig.layout[_axis("yaxis", row)] = {"anchor": _axis("x", row), "domain": [y0, y1]}
        if titles[row - 1]:
            fig.add_annotation(font={"size": 16}, showarrow=False, text=titles[row - 1],
                               x=0.5, xanchor="center", xref="paper", y=y1,
                               yanchor="bottom", yref="paper")
    return fig


def typed_array(v: Any) -> Any:
    """A numpy array (or pandas Series) as a plotly.js typed array where plotly.js has the
    type, else a list."""
    a = v.to_numpy() if hasattr(v, "to_numpy") else v
    if a.size == 0:
        return []
    dtype = str(a.dtype)
    if dtype == "int64":
        lo, hi = int(a.min()), int(a.max())
        narrow = next((t for t, a_lo, a_hi in _NARROW if a_lo <= lo and hi <= a_hi), None)
        if narrow is None:
            return plain(a.tolist())
        a, dtype = a.astype(narrow), narrow
    if dtype in _TYPED:
        return {"dtype": _TYPED[dtype], "bdata": base64.b64encode(a.tobytes()).decode("ascii")}
    return plain(a.tolist())


def plain(obj: Any, key: str = "") -> Any:
    """``obj`` with only JSON types: dicts, lists, str, bool, int, float (NaN and
    infinities as None, as plotly's encoder writes them), None."""
    if isinstance(obj, dict):
        return {k: plain(v, k) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [plain(v) for v in obj]
    if isinstance(obj, str | bool) or obj is None:
        return obj
    if isinstance(obj, float):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, int):
        return int(obj)
    if hasattr(obj, "dtype") and getattr(obj, "ndim", 0) >= 1:   # numpy array, Series
        return plain(obj.tolist()) if key in _NO_TYPED else typed_array(obj)
    if hasattr(obj, "item"):                                      # a numpy scalar
        return plain(obj.item())
    raise TypeError(f"not a figure value: {type(obj).__name__}")
