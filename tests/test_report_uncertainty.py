"""The uncertainty section of report.html and the terminal words (issue 12): payback in
plain words with its probability, the payback-probability curve, the fan chart, the
tornado, P(met) per target and phase; rendered in a real browser when Chromium is here."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from tests.test_cli import SMALL, broken, ccsim
from tests.test_uncertain import BOT_CENTRE, plan_with

TITLES = {"Probability of having paid back, by month",
          "Cumulative net savings over the draws (fan chart)",
          "What moves the payback month most (tornado)"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    tmp = tmp_path_factory.mktemp("unc-report")
    broken(tmp, SMALL, "small.yaml")
    plan = broken(tmp, plan_with("  phases.cut.set.tiers.advanced.agents: {dist: uniform, "
                                 "low: 2, high: 4}\n", draws=10), "plan.yaml")
    res = ccsim("roadmap", str(plan), "--out", str(tmp / "o"), "--workers", "2")
    assert res.returncode == 0, res.stderr
    return tmp / "o", res.stdout


def test_terminal_says_it_in_plain_words(folder: tuple[Path, str]) -> None:
    _, out = folder
    assert re.search(r"pays back within 12 months with probability \d\.\d\d "
                     r"\(\d\.\d\d–\d\.\d\d\); median payback month \d", out), out
    assert "probability of having paid back by month 12:" in out
    assert "P(met) by phase" in out and "Where the spread comes from" in out
    assert "inputs that move payback_month most" in out
    # beside the payback line: what the end state misses (or that it meets its target)
    assert re.search(r"the end state \(cut\) (meets|misses|is uncertain)", out), out


def test_report_has_the_uncertainty_section(folder: tuple[Path, str]) -> None:
    out, _ = folder
    page = html.unescape((out / "report.html").read_text(encoding="utf-8"))
    assert "Uncertainty: how sure are we?" in page
    assert re.search(r"Pays back within 12 months with probability <b>\d\.\d\d \(", page)
    assert "P(met) by phase" in page and "Where the spread comes from" in page
    for slug in ("uncertainty-payback-probability", "uncertainty-fan", "uncertainty-tornado"):
        assert f'data-chart="{slug}"' in page, slug
    assert "is not the chance that the plan succeeds" in page   # what it does not mean
    # `ccsim report` renders the same page again from the files alone
    before = (out / "report.html").read_text(encoding="utf-8")
    assert ccsim("report", str(out)).returncode == 0
    after = (out / "report.html").read_text(encoding="utf-8")
    assert before.count("<figure class=chart") == after.count("<figure class=chart") >= 3
    assert "uncertainty-tornado" in after


def test_a_run_with_draws_reports_p_met_by_option(tmp_path: Path) -> None:
    path = broken(tmp_path, BOT_CENTRE.replace("draws: 40", "draws: 8"), "bots.yaml")
    res = ccsim("run", str(path), "--out", str(tmp_path / "o"), "--workers", "2")
    assert res.returncode == 0, res.stderr
    assert "P(met) by option" in res.stdout
    page = (tmp_path / "o" / "report.html").read_text(encoding="utf-8")
    assert "Uncertainty: how sure are we?" in html.unescape(page)
    assert "P(met) by option" in html.unescape(page)
    assert 'data-chart="uncertainty-tornado"' in page


def test_charts_render_in_chromium(folder: tuple[Path, str], tmp_path: Path) -> None:
    from test_browser import CHROMIUM, render_status

    if CHROMIUM is None:
        pytest.skip("chromium is not on PATH")
    out, _ = folder
    st = render_status(out / "report.html", tmp_path)
    assert st["state"] == "done" and st["errors"] == [], st
    assert st["rendered"] == st["charts"], st
    assert TITLES <= set(st["titles"]), TITLES - set(st["titles"])
