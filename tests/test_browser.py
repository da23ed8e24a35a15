"""report.html in a real browser: Debian's Chromium, headless, offline, from a file:// URL.

The page fills a hidden ``#ccsim-render-status`` element once its charts have rendered
(charts, rendered, titles, charts missing a target line, JavaScript errors); Chromium's
``--dump-dom`` gives the DOM after ``--virtual-time-budget`` and the test reads it back.
No test tool's own browser: the ``chromium`` binary from apt (.ci/run installs it).
Network is cut (``--host-resolver-rules``, a dead proxy), so a chart only renders if
everything it needs is inside the file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from test_report import (
    HOSTILE,
    SMALL,
    make_compare,
    make_hostile,
    make_optimize,
    make_roadmap,
    make_sweep,
)

from sim.report.page import rerender

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium")
TIMEOUT_S = 120
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--host-resolver-rules=MAP * ~NOTFOUND",
         "--proxy-server=http://127.0.0.1:9", "--virtual-time-budget=10000"]

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not on PATH and could not be installed here; "
    "install Debian's browser with `apt-get install -y chromium` (.ci/run tries this) to "
    "check report.html in a real browser")

RUN_TITLES = {"Service level by interval, per channel",
              "Average speed of answer by interval, per channel",
              "Occupancy by tier (mean, 95% CI)",
              "Cost breakdown over the horizon: labour / bot / overhead"}
EXPECTED = {
    "demo": RUN_TITLES,
    "compare": RUN_TITLES,
    "sweep": RUN_TITLES | {"Cost vs service: phone.asa_s against total cost (mean, 95% CI)"},
    "optimize": RUN_TITLES | {"Optimized staffing by interval"},
    "roadmap": RUN_TITLES | {"Cumulative net savings and payback", "Monthly cost vs baseline",
                             "phone.asa_s by phase", "all.service_level by phase",
                             "base.occupancy by phase"},
}


def chromium(*args: str, out: Path) -> None:
    """Run headless Chromium with a fresh profile; stdout to ``out``; never hangs."""
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory(prefix="ccsim-chromium-") as profile, \
            open(out, "wb") as stdout, open(out.with_suffix(".stderr"), "wb") as stderr:
        proc = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                                stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            rc = proc.wait(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            pytest.fail(f"chromium did not finish within {TIMEOUT_S} s: {' '.join(args)}")
        finally:
            try:  # helpers left behind by the browser process
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    assert rc == 0, out.with_suffix(".stderr").read_text(errors="replace")[-2000:]


class _Status(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.attrs: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if a.get("id") == "ccsim-render-status":
            self.attrs = {k: v or "" for k, v in a.items()}


def render_status(page: Path, tmp: Path) -> dict:
    """The status element of ``page`` after Chromium rendered it."""
    dom = tmp / f"{page.parent.name}-dom.html"
    chromium("--dump-dom", page.resolve().as_uri(), out=dom)
    text = dom.read_text(encoding="utf-8", errors="replace")
    tag = re.search(r'<div id="ccsim-render-status"[^>]*>', text)
    assert tag, "no #ccsim-render-status element in the rendered page"
    p = _Status()
    p.feed(tag.group(0))
    assert p.attrs is not None
    a = p.attrs
    return {"state": a.get("data-state"), "charts": int(a.get("data-charts", -1)),
            "rendered": int(a.get("data-rendered", -1)),
            "titles": [" ".join(t.replace("\u200b", " ").split())  # plotly's <br> marks
                       for t in json.loads(a.get("data-titles", "[]"))],
            "missing_targets": json.loads(a.get("data-missing-targets", "[]")),
            "overlaps": json.loads(a.get("data-overlaps", "[]")),
            "repeated_ticks": json.loads(a.get("data-repeated-ticks", "[]")),
            "xticks": json.loads(a.get("data-xticks", "{}")),
            "errors": json.loads(a.get("data-errors", "[]"))}


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("browser")
    demo = base / "demo"
    res = subprocess.run([sys.executable, "-c", "import cli; cli.main()", "run",
                          str(ROOT / "scenarios" / "demo.yaml"), "--reps", "2", "--out",
                          str(demo), "--quiet"], capture_output=True, text=True, cwd=ROOT,
                         timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert res.returncode == 0, res.stderr
    out = {"demo": demo}
    for name, make in (("compare", make_compare), ("sweep", make_sweep),
                       ("optimize", make_optimize), ("roadmap", make_roadmap),
                       ("hostile-run", make_hostile),
                       ("hostile-roadmap", lambda f: make_hostile(f, "roadmap"))):
        out[name] = make(base / name)
        rerender(out[name])
    # a real run of a scenario whose free-text fields and variant names are hostile
    doc = yaml.safe_load(SMALL)
    doc.update(description=HOSTILE["t"], currency=HOSTILE["CNY"],
               variants={HOSTILE["more"]: {"tiers.base.agents": 6},
                         HOSTILE["base"]: {"tiers.base.agents": 7}})
    (base / "hostile.yaml").write_text(yaml.safe_dump(doc))
    res = subprocess.run([sys.executable, "-c", "import cli; cli.main()", "run",
                          str(base / "hostile.yaml"), "--out", str(base / "hostile-cli"),
                          "--quiet", "--workers", "1"], capture_output=True, text=True,
                         cwd=ROOT, timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert res.returncode == 0, res.stderr
    out["hostile-cli"] = base / "hostile-cli"
    return out


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_every_chart_renders_in_chromium(folders: dict[str, Path], kind: str,
                                         tmp_path: Path) -> None:
    page = folders[kind] / "report.html"
    source = page.read_text(encoding="utf-8")
    expect_charts = source.count("<figure class=chart")
    expect_targets = sum(int(n) for n in re.findall(r'data-targets="(\d+)"', source))
    st = render_status(page, tmp_path)
    assert st["state"] == "done", st
    assert st["errors"] == [], f"JavaScript errors: {st['errors']}"
    assert st["charts"] == expect_charts >= 4
    assert st["rendered"] == st["charts"], f"{st['rendered']} of {st['charts']} charts drew"
    assert all(st["titles"]), f"a chart without a title: {st['titles']}"
    assert EXPECTED[kind] <= set(st["titles"]), set(EXPECTED[kind]) - set(st["titles"])
    assert expect_targets >= 2 and st["missing_targets"] == [], st["missing_targets"]
    assert st["overlaps"] == [], f"labels drawn over each other: {st['overlaps']}"
    assert st["repeated_ticks"] == [], f"an axis repeats a tick label: {st['repeated_ticks']}"
    clock = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d:\d\d$")
    for slug in ("interval-service_level", "interval-asa_s"):
        ticks = st["xticks"][slug]
        assert len(ticks) >= 3 and all(clock.match(t) for t in ticks), (slug, ticks)


def test_a_broken_page_is_caught(folders: dict[str, Path], tmp_path: Path) -> None:
    """The check can fail: a script error, a chart whose target line is gone, and a chart
    with two labels on top of each other and an axis that repeats a label ("61%")."""
    source = (folders["demo"] / "report.html").read_text(encoding="utf-8")
    broken = source.replace("<footer>", "<script>throw new Error('boom')</script><footer>", 1)
    broken = re.sub(r'"text":"target phone \\u2264 60 s"', '"text":"no line"', broken)
    assert broken.count("boom") == 1 and "target phone \\u2264 60 s" not in broken
    bad = {"data": [{"type": "scatter", "x": [1, 2, 3], "y": [0.601, 0.605, 0.612]}],
           "layout": {"title": {"text": "bad chart"}, "yaxis": {"tickformat": ".0%"},
                      "annotations": [{"text": "first label", "x": 2, "y": 0.605,
                                       "showarrow": False},
                                      {"text": "second label", "x": 2, "y": 0.605,
                                       "showarrow": False}]}}
    broken = broken.replace("<footer>", "<figure class=chart data-chart=bad data-targets=0>"
                            "<div class=plot style='height:300px'></div><script type="
                            f"'application/json' class=fig>{json.dumps(bad)}</script></figure>"
                            "<footer>", 1)
    (tmp_path / "broken").mkdir()
    page = tmp_path / "broken" / "report.html"
    page.write_text(broken, encoding="utf-8")
    st = render_status(page, tmp_path)
    assert any("boom" in e for e in st["errors"]), st["errors"]
    assert "Average speed of answer by interval, per channel" in st["missing_targets"]
    assert st["overlaps"] == ["bad chart: first label / second label"], st["overlaps"]
    assert any(re.match(r"bad chart: 6\d%$", r) for r in st["repeated_ticks"]), st



def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", head[16:24])


def test_screenshot(folders: dict[str, Path], tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    chromium(f"--screenshot={shot}", "--window-size=1280,2000", "--hide-scrollbars",
             (folders["demo"] / "report.html").resolve().as_uri(), out=tmp_path / "shot.log")
    assert _png_size(shot) == (1280, 2000)
    assert shot.stat().st_size > 50_000, "the screenshot looks blank"


class _Dom(HTMLParser):
    """Every element and attribute of a dumped DOM, and the <title> text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.title: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._in_title = tag == "title" and len(self.title) == 0

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)


@pytest.mark.parametrize("kind", ["hostile-run", "hostile-roadmap", "hostile-cli"])
def test_hostile_strings_do_not_change_the_dom(folders: dict[str, Path], kind: str,
                                               tmp_path: Path) -> None:
    """Every string field holds <img onerror>, </script><script>, quote breakouts,
    javascript: links, <iframe srcdoc>, <style>: in Chromium the page renders as usual,
    no injected element or handler exists and no injected script ran (each would set
    data-pwned on <body>); the names are on the page as text."""
    page = folders[kind] / "report.html"
    source = page.read_text(encoding="utf-8")
    st = render_status(page, tmp_path)
    assert st["state"] == "done" and st["errors"] == [], st
    assert st["rendered"] == st["charts"] >= 3
    dom_text = (tmp_path / f"{page.parent.name}-dom.html").read_text(encoding="utf-8")
    dom = _Dom()
    dom.feed(dom_text)
    tags = [t for t, _ in dom.tags]
    assert not {"img", "iframe", "object", "embed", "x"} & set(tags), set(tags)
    body = next(a for t, a in dom.tags if t == "body")
    assert "data-pwned" not in body, body
    handlers = [(t, k) for t, a in dom.tags for k in a if k.startswith("on")]
    assert handlers == [], handlers
    links = [a.get("href", "") for t, a in dom.tags if t == "a"]
    assert not any(h.lower().startswith("javascript") for h in links), links
    assert tags.count("script") == len(re.findall(r"<script[ >]", source))
    styles = [a.get("id", "") for t, a in dom.tags if t == "style"]
    assert styles[0] == "" and all(i.startswith("plotly") for i in styles[1:]), styles
    title = "".join(dom.title)
    assert title.startswith("ccsim") or title == HOSTILE["more"], title
    assert "&lt;img src=x onerror=" in dom_text          # shown, as text
    if kind != "hostile-cli":
        assert "&lt;iframe srcdoc=" in dom_text
    legend = re.findall(r'<text class="legendtext"[^>]*>([^<]*)</text>', dom_text)
    assert any("&lt;" in x for x in legend) or kind == "hostile-roadmap", legend
