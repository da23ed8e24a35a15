"""The selection section of report.html (``compare --pcs``, sim.decide.selection): which option
was named, with its probability statement, and how many replications each option
needed. Read from the folder's meta (``selection``)."""

from __future__ import annotations

from sim.report.data import ReportData
from sim.report.parts import Table


def selection_data(d: ReportData) -> dict | None:
    sel = d.meta.get("selection")
    if not isinstance(sel, dict) or not isinstance(sel.get("replications"), dict):
        return None
    status = sel.get("status") or {}
    targets = sel.get("targets") or {}
    rows = [[str(k), str(n), str(targets.get(k, "")), str(status.get(k, ""))]
            for k, n in sel["replications"].items()]
    return {"table": Table.of(["option", "replications needed", "targets", "status"], rows,
                              "selection"),
            "statement": str(sel.get("statement", "")),
            "settings": (f"probability of correct selection {sel.get('pcs')}, indifference "
                         f"zone {sel.get('currency', '')} {sel.get('indifference')} a "
                         f"replication, first stage {sel.get('first_stage')} replications, "
                         f"at most {sel.get('max_reps')}")}
