"""Arrival profiles from history: a CSV of interval volumes -> a daily rate profile.

The CSV has columns ``interval_start`` (a date-time such as ``2024-03-04 08:30``, or a
time of day ``08:30``) and ``volume`` (contacts arriving in that interval). Volumes are
summed into the scenario's reporting intervals by time of day and averaged over the days
present in the file (a day with no row for a slot counts as zero there), giving one
arrival rate per hour for each interval of the day.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import InputError

REQUIRED = ("interval_start", "volume")


def profile_from_csv(path: Path, interval_minutes: int) -> list[float]:
    """Rates per hour, one per ``interval_minutes`` slot of the day, from a history CSV."""
    try:
        df = pd.read_csv(path)
    except FileNotFoundError:
        raise InputError("history file not found", file=str(path)) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read CSV: {exc}", file=str(path)) from None
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}; expected columns "
                         f"interval_start, volume (got {', '.join(map(str, df.columns))})",
                         file=str(path), line=1)
    if df.empty:
        raise InputError("no rows; expected interval volumes", file=str(path))
    vol = pd.to_numeric(df["volume"], errors="coerce")
    bad = vol.isna() | (vol < 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        got = df["volume"].iloc[i]
        shown = "an empty cell" if pd.isna(got) else repr(str(got))
        raise InputError(f"volume must be a number >= 0 (got {shown})",
                         file=str(path), line=i + 2, path="volume")
    raw = df["interval_start"].astype(str).str.strip()
    has_date = raw.str.len() > 8
    stamps = pd.to_datetime(raw.where(has_date, "1970-01-01 " + raw), errors="coerce")
    if stamps.isna().any():
        i = int(np.flatnonzero(stamps.isna().to_numpy())[0])
        raise InputError(f"interval_start is not a date-time or HH:MM (got {raw.iloc[i]!r})",
                         file=str(path), line=i + 2, path="interval_start")
    minute_of_day = stamps.dt.hour * 60 + stamps.dt.minute
    slot = (minute_of_day // interval_minutes).to_numpy()
    n_slots = 1440 // interval_minutes
    days = max(1, stamps.dt.normalize().nunique())
    totals = np.bincount(slot, weights=vol.to_numpy(dtype=float), minlength=n_slots)
    per_hour = totals / days * (60.0 / interval_minutes)
    return [float(x) for x in per_hour]
