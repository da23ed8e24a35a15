"""What the report's templates render: tables as rows of cells, and sections.

Data functions (sim/report/tables.py, sim/report/roadmap.py, ...) build these from
ReportData; the Jinja2 templates in sim/report/templates/ turn them into HTML with autoescaping
on, so every string here is text, never markup: a name like ``<img src=x onerror=...>``
is shown as written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Cell:
    """One table cell. ``text`` is the main value; ``ci`` a muted "[low, high]" after it;
    ``sub`` a second line; ``lines`` several lines (with ``notes``: a muted note after
    line i); ``title`` the hover text; ``badge`` a small label ("best")."""

    text: str = ""
    cls: str = ""
    ci: str = ""
    sub: str = ""
    title: str = ""
    badge: str = ""
    strong: bool = False
    breakable: bool = False      # allow a line break after the first "." (metric names)
    lines: list[str] | None = None
    notes: list[str] | None = None


def cell(x: object) -> Cell:
    return x if isinstance(x, Cell) else Cell("" if x is None else str(x))


@dataclass
class Row:
    cells: list[Cell]
    cls: str = ""                # "group" starts a block of rows (a scope in the KPI table)


@dataclass
class Table:
    head: list[Cell]
    rows: list[Row]
    cls: str = ""

    @classmethod
    def of(cls, head: list[object], rows: list[list[object]], css: str = "") -> Table:
        return cls([cell(h) for h in head], [Row([cell(c) for c in r]) for r in rows], css)


@dataclass
class Section:
    """A part of the page: ``template`` (a file in sim/report/templates/sections/) rendered with
    ``data`` (the template sees its keys, plus ``d``, the ReportData)."""

    anchor: str
    heading: str
    template: str
    data: dict[str, Any] = field(default_factory=dict)


# A section's data function: ReportData -> the template's variables, or None to leave the
# section out. Registered in sim/report/page.py (SECTIONS) with its anchor, heading, template.
SectionData = Callable[[Any], dict[str, Any] | None]
