"""Arrival profiles from history: a CSV of interval volumes -> a daily rate profile.

The CSV has columns ``interval_start`` (a date-time such as ``2024-03-04 08:30``, or a
time of day ``08:30``) and ``volume`` (contacts arriving in that interval). Volumes are
summed into the scenario's reporting intervals by time of day and averaged over the days
present in the file (a day with no row for a slot counts as zero there), giving one
arrival rate per hour for each interval of the day.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from sim.base.errors import InputError
from sim.base.limits import MAX_CSV_BYTES, MAX_CSV_ROWS
from sim.base.paths import read_input

REQUIRED = ("interval_start", "volume")


def _parser_line(exc: BaseException) -> int | None:
    """The line a pandas parser error names, if any (its text is never shown: it may
    quote the file)."""
    m = re.search(r"\b(?:line|row) (\d+)", str(exc))
    return int(m.group(1)) if m else None


def profile_from_csv(path: Path, interval_minutes: int,
                     origin: tuple[str, int | None, str] | None = None) -> list[float]:
    """Rates per hour, one per ``interval_minutes`` slot of the day, from a history CSV.

    ``origin`` = (file, line, field) of the ``profile_file`` that named it. Errors name the
    CSV file and line but never quote its cells or header (SPEC §7.1)."""
    import numpy as np  # here, not at module level: start-up stays fast (issue 16)
    import pandas as pd

    file = str(path)
    raw = read_input(path, what="a history CSV file", max_bytes=MAX_CSV_BYTES,
                     **(dict(zip(("file", "line", "field"), origin, strict=True))
                        if origin else {}))
    try:
        df = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False,
                         nrows=MAX_CSV_ROWS + 1)
    except pd.errors.EmptyDataError:
        raise InputError("the file is empty; expected a CSV with columns interval_start, "
                         "volume", file=file) from None
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError("the file is not valid UTF-8 text; expected a CSV with columns "
                         "interval_start, volume", file=file, line=line) from None
    except (pd.errors.ParserError, ValueError, OverflowError) as exc:
        raise InputError("cannot read it as CSV (rows must have the header's number of "
                         "comma-separated fields); expected columns interval_start, volume",
                         file=file, line=_parser_line(exc)) from None
    if len(df) > MAX_CSV_ROWS:
        raise InputError(f"more than {MAX_CSV_ROWS:,} rows; see Limits in docs/reference.md",
                         file=file)
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}; expected a header line "
                         f"with columns interval_start, volume (this file's header has "
                         f"{len(df.columns)} column(s), not these; its content is not shown)",
                         file=file, line=1)
    if df.empty:
        raise InputError("no rows; expected interval volumes", file=file)
    text = df["volume"].str.strip()
    vol = pd.to_numeric(text, errors="coerce")
    bad = vol.isna() | ~np.isfinite(vol.to_numpy(dtype=float, na_value=np.nan)) | (vol < 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        value = vol.iloc[i]
        what = ("an empty cell" if text.iloc[i] == "" else "text that is not a number"
                if pd.isna(value) else "a number that is not finite"
                if not np.isfinite(value) else "a negative number")
        raise InputError(f"volume must be a finite number >= 0 (got {what})",
                         file=file, line=i + 2, path="volume")
    raw_start = df["interval_start"].str.strip()
    has_date = raw_start.str.len() > 8
    stamps = pd.to_datetime(raw_start.where(has_date, "1970-01-01 " + raw_start),
                            errors="coerce")
    unread = stamps.isna() | (raw_start == "")
    if unread.any():
        i = int(np.flatnonzero(unread.to_numpy())[0])
        raise InputError("interval_start is not a date-time (2024-03-04 08:30) or a time of "
                         "day (08:30)", file=file, line=i + 2, path="interval_start")
    minute_of_day = stamps.dt.hour * 60 + stamps.dt.minute
    slot = (minute_of_day // interval_minutes).to_numpy()
    n_slots = 1440 // interval_minutes
    days = max(1, stamps.dt.normalize().nunique())
    totals = np.bincount(slot, weights=vol.to_numpy(dtype=float), minlength=n_slots)
    per_hour = totals / days * (60.0 / interval_minutes)
    return [float(x) for x in per_hour]
