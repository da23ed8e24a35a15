"""sim/report/figures.py: the report's plotly.js specs without the plotly package (the rendered
pages are checked by tests/test_report*.py and, in Chromium, tests/test_browser.py)."""

from __future__ import annotations

import base64
import json
import math

import numpy as np
import pandas as pd

from sim.report.figures import Figure, bar, panels, plain, scatter, typed_array


def _decode(spec: dict) -> list:
    return np.frombuffer(base64.b64decode(spec["bdata"]), dtype=spec["dtype"]).tolist()


def test_numeric_arrays_become_typed_arrays_as_plotly_js_reads_them() -> None:
    months = pd.Series([1, 2, 60], dtype="int64")
    assert typed_array(months)["dtype"] == "i1" and _decode(typed_array(months)) == [1, 2, 60]
    assert typed_array(np.array([1, 40_000]))["dtype"] == "i4"
    assert typed_array(np.array([-300, 300]))["dtype"] == "i2"
    assert typed_array(np.array([2**40])) == [2**40]          # no 64-bit type in plotly.js
    y = np.array([0.5, math.nan, 2.0], dtype=np.float32)
    got = _decode(typed_array(y))
    assert got[0] == 0.5 and math.isnan(got[1]) and got[2] == 2.0
    assert typed_array(pd.Series([1.25, 3.0]))["dtype"] == "f8"
    assert typed_array(pd.Series(["08:00", "08:30"]).astype(str)) == ["08:00", "08:30"]
    assert typed_array(np.array([], dtype=float)) == []


def test_plain_leaves_only_json_values() -> None:
    spec = plain({"x": (np.int64(3), np.float64(1.5), math.nan, math.inf), "ok": np.bool_(True),
                  "range": np.array([0.0, 1.0]), "name": "a<b"})
    assert spec == {"x": [3, 1.5, None, None], "ok": True, "range": [0.0, 1.0], "name": "a<b"}
    assert type(spec["x"][0]) is int and type(spec["x"][1]) is float
    json.dumps(spec, allow_nan=False)


def test_layout_updates_merge_and_axes_update_every_axis() -> None:
    fig = Figure(bar(x=["a"], y=[1.0]))
    fig.update_layout(legend={"orientation": "h", "y": -0.12}, template="none")
    fig.update_layout(legend={"y": -0.3}, margin={"t": 50})
    fig.update_xaxes(type="category")
    fig.update_yaxes(tickformat=".0%")
    spec = fig.to_dict()
    assert spec["data"] == [{"type": "bar", "x": ["a"], "y": [1.0]}]
    assert spec["layout"]["legend"] == {"orientation": "h", "y": -0.3}
    assert spec["layout"]["template"] == {"data": {"scatter": [{"type": "scatter"}]}}
    assert spec["layout"]["xaxis"] == {"type": "category"}
    assert spec["layout"]["yaxis"] == {"tickformat": ".0%"}


def test_panels_stack_top_down_share_x_and_route_traces_and_lines() -> None:
    n, gap = 3, 0.12
    fig = panels(n, gap, ["phone", "", "email"])
    for row in range(1, n + 1):
        fig.add_trace(scatter(y=[1.0]), row=row)
    fig.add_hline(0.8, {"dash": "dash"}, row=2, annotation={"text": "target"})
    fig.update_yaxes(row=3, rangemode="tozero")
    lay = fig.to_dict()["layout"]
    doms = [lay["yaxis"]["domain"], lay["yaxis2"]["domain"], lay["yaxis3"]["domain"]]
    height = (1 - gap * (n - 1)) / n
    assert doms[0][1] == 1.0 and doms[-1][0] == 0.0
    for (lo, hi), below in zip(doms, [*doms[1:], None], strict=True):
        assert math.isclose(hi - lo, height)
        if below is not None:
            assert math.isclose(lo - below[1], gap)
    assert lay["xaxis"]["matches"] == lay["xaxis2"]["matches"] == "x3"
    assert "matches" not in lay["xaxis3"] and lay["xaxis"]["showticklabels"] is False
    assert [a["text"] for a in lay["annotations"]] == ["phone", "email", "target"]
    assert [a["y"] for a in lay["annotations"][:2]] == [doms[0][1], doms[2][1]]
    assert [(t["xaxis"], t["yaxis"]) for t in fig.data] == [("x", "y"), ("x2", "y2"),
                                                             ("x3", "y3")]
    assert lay["shapes"] == [{"type": "line", "x0": 0, "x1": 1, "y0": 0.8, "y1": 0.8,
                              "xref": "x2 domain", "yref": "y2", "line": {"dash": "dash"}}]
    assert lay["annotations"][-1]["xref"] == "x2 domain" and lay["annotations"][-1]["x"] == 1
    assert lay["yaxis3"]["rangemode"] == "tozero" and "rangemode" not in lay["yaxis"]


def test_vertical_lines_and_bands_span_the_plot_height() -> None:
    fig = Figure()
    fig.add_vline(36, {"dash": "dot"}, annotation={"text": "payback month 36"})
    fig.add_vrect(30, 42, annotation={"text": "payback range"}, opacity=0.15)
    lay = fig.to_dict()["layout"]
    assert [(s["type"], s["x0"], s["x1"], s["yref"]) for s in lay["shapes"]] == [
        ("line", 36, 36, "y domain"), ("rect", 30, 42, "y domain")]
    line_note, band_note = lay["annotations"]
    assert (line_note["x"], line_note["y"], line_note["xanchor"]) == (36, 1, "right")
    assert (band_note["x"], band_note["y"], band_note["xanchor"]) == (30, 0, "left")
