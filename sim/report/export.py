"""Workbook export (SPEC §7.9): ``ccsim export RESULTS_DIR --xlsx FILE.xlsx``.

One sheet per CSV of a results folder (summary first, then the others in a fixed order),
plus an ``about`` sheet with the run's provenance from summary.json. Numbers are stored as
numbers (empty cells for a metric with no value), the header row is frozen and filtered.

Text from the files is stored as text, never as a formula: a cell that starts with ``=``
(a sweep variant can hold one) would otherwise be evaluated by a spreadsheet program.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sim.base.errors import InputError
from sim.base.paths import read_input

if TYPE_CHECKING:
    import pandas as pd

ORDER = ("summary", "targets", "differences", "roadmap", "uncertainty", "sensitivity",
         "workforce", "staffing", "sweep", "intervals", "replications")
MAX_ROWS = 1_048_575          # Excel's sheet limit, less the header row
MAX_CSV_BYTES = 512 * 2**20   # a results CSV larger than this is not a results CSV
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def export_folder(results_dir: Path, xlsx: Path) -> Path:
    """Read every CSV of ``results_dir`` and write them to the workbook ``xlsx``."""
    import pandas as pd

    folder = Path(results_dir)
    if not folder.is_dir():
        raise InputError("expected a results folder (with summary.csv)", file=str(folder))
    if not (folder / "summary.csv").is_file():
        raise InputError("not a results folder: there is no summary.csv", file=str(folder))
    if xlsx.suffix.lower() != ".xlsx":
        raise InputError(f"the workbook name must end in .xlsx (got {xlsx.name!r})",
                         path="--xlsx")
    tables: dict[str, pd.DataFrame] = {}
    for csv in sorted(folder.glob("*.csv")):
        if not csv.is_file() or csv.stat().st_size > MAX_CSV_BYTES:
            continue
        try:
            data = read_input(csv, what="a results CSV", max_bytes=MAX_CSV_BYTES)
            tables[csv.stem] = pd.read_csv(io.BytesIO(data), keep_default_na=False,
                                           na_values=[""])
        except (ValueError, UnicodeDecodeError, pd.errors.ParserError):
            raise InputError("cannot read this CSV (it is not a table ccsim wrote)",
                             file=str(csv)) from None
    meta: dict = {}
    try:
        doc = json.loads(read_input(folder / "summary.json", what="a summary.json",
                                    max_bytes=MAX_CSV_BYTES))
        meta = doc.get("meta", {}) if isinstance(doc, dict) else {}
    except (InputError, ValueError, RecursionError):
        meta = {"note": "summary.json missing or unreadable"}
    return write_workbook(tables, meta if isinstance(meta, dict) else {}, xlsx)


def write_workbook(tables: dict[str, pd.DataFrame], meta: dict, xlsx: Path) -> Path:
    """Write ``tables`` (name -> DataFrame) as sheets of one workbook, atomically."""
    from openpyxl import Workbook

    from sim.measure.results import write_atomic

    wb = Workbook()
    wb.remove(wb.active)
    names = sorted(tables, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
    used: set[str] = set()
    for name in names:
        df = tables[name]
        for part, start in enumerate(range(0, max(len(df), 1), MAX_ROWS)):
            title = _sheet_name(name if part == 0 else f"{name} ({part + 1})", used)
            _sheet(wb.create_sheet(title), df.iloc[start:start + MAX_ROWS])
    about = wb.create_sheet(_sheet_name("about", used))
    _sheet_rows(about, ["key", "value"],
                [[str(k), v if isinstance(v, int | float | bool) or v is None
                  else json.dumps(v) if not isinstance(v, str) else v]
                 for k, v in meta.items()])
    buf = io.BytesIO()
    wb.save(buf)
    if xlsx.exists() and not xlsx.is_file():
        raise InputError("exists and is not a file; expected the workbook to write",
                         file=str(xlsx), path="--xlsx")
    try:
        write_atomic(xlsx, buf.getvalue())
    except OSError as exc:
        raise InputError(f"cannot write the workbook ({exc.strerror or exc})",
                         file=str(xlsx), path="--xlsx") from None
    return xlsx


def _sheet_name(name: str, used: set[str]) -> str:
    """A valid, unique sheet title (at most 31 characters, none of []:*?/\\)."""
    base = _SHEET_BAD.sub("_", name)[:31] or "sheet"
    title, i = base, 2
    while title.lower() in used:
        suffix = f"~{i}"
        title, i = base[:31 - len(suffix)] + suffix, i + 1
    used.add(title.lower())
    return title


def _sheet(ws, df: pd.DataFrame) -> None:  # noqa: ANN001 - an openpyxl worksheet
    _sheet_rows(ws, [str(c) for c in df.columns], df.itertuples(index=False, name=None))


def _sheet_rows(ws, header: list[str], rows) -> None:  # noqa: ANN001
    from openpyxl.utils import get_column_letter

    widths = [len(h) for h in header]
    body = ([_cell(v) for v in row] for row in rows)
    for cells in itertools.chain([[_cell(h) for h in header]], body):
        ws.append(cells)
        for i, v in enumerate(cells):
            if isinstance(v, str):
                if v.startswith("="):  # openpyxl would store it as a formula
                    ws.cell(row=ws.max_row, column=i + 1).data_type = "s"
                if i < len(widths) and len(v) > widths[i]:
                    widths[i] = min(len(v), 60)
    ws.freeze_panes = "A2"
    if header:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(ws.max_row, 1)}"
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(8, w + 2)


def _cell(v: object) -> object:
    """A value as openpyxl should store it: finite numbers as numbers, NaN as empty,
    everything else as text without control characters (which XML cannot hold)."""
    if hasattr(v, "item") and not isinstance(v, str):   # a numpy scalar
        v = v.item()  # type: ignore[union-attr]
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return v if math.isfinite(v) else None
    return _CONTROL.sub("\ufffd", str(v))
