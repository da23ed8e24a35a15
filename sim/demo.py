"""`ccsim demo`: the story of the bundled scenarios in under a minute.

1. The 2024 baseline (scenarios/baseline.yaml) and its options (the file's variants), one
   Monday, with paired differences against the baseline: what each option buys.
2. The 2026 budget roadmap (scenarios/roadmap-2026.yaml) on the same day: which phase
   meets which target, the monthly cost against the baseline, payback and ROI.
3. The same roadmap with the documents' ranges as uncertain inputs
   (scenarios/roadmap-2026-uncertain.yaml), few draws: how sure the payback is.
The full-week versions are one command each (printed at the end).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.base import interrupts
from sim.base.paths import check_out
from sim.decide.roadmap_run import run_roadmap
from sim.decide.study import Study, run_study
from sim.inputs.scenario import load_scenario
from sim.measure.paired import best_option
from sim.report import console as con

REPS = 5
UNCERTAIN_DRAWS, UNCERTAIN_REPS = 12, 2   # step 3: ~45 s of CPU (one Monday per state)
ONE_DAY = [("horizon_hours", 24), ("warmup_hours", 24)]
KEY_METRICS = {"automation_rate", "asa_s", "service_level", "abandon_rate", "aht_s", "fcr",
               "repeat_rate", "occupancy", "paid_agents", "labor", "total", "labor_share",
               "operating_per_month", "savings_per_month"}


def run_demo(root: Path, out: Path, workers: int | None, quiet: bool) -> list[dict]:
    for part in ("options", "roadmap"):  # both folders usable before anything runs
        check_out(out / part)
    term = con.make_console(quiet=quiet)
    scen = root / "scenarios"
    term.print(con.styled(
        ("ccsim demo", "bold"), ": the contact centre of the source documents (2024 baseline:"
               " ~10,000 new contacts a day on phone, chat and social; an AI bot "
               "in front of base / advanced / trainer staff), simulated for one Monday with "
               f"{REPS} replications. Every figure is a mean with its 95% confidence "
               "interval; all options see the same customers (common random numbers).\n"))
    loaded = load_scenario(scen / "baseline.yaml", ONE_DAY)
    options = [(loaded.scenario.name, v, sc.model_copy(update={"replications": REPS}))
               for v, sc in loaded.options()]
    names = [v for _, v, _ in options]
    first = options[0][2]

    def show_options(t, tables: dict[str, pd.DataFrame]) -> None:  # noqa: ANN001
        t.print(con.kpi_table(tables["summary"], first.channels, list(first.tiers),
                              first.currency, only=KEY_METRICS,
                              title="1 · The 2024 baseline and what each option buys "
                              "(one Monday; mean ± 95% CI half-width)"))
        if "differences" in tables:
            t.print(con.differences_table(tables["differences"], tables["summary"],
                                          first.channels))
        tt = con.target_matrix(tables["targets"], names, what="option",
                               channels=first.channels)
        if tt is not None:
            t.print(tt)
        best = best_option(tables["targets"], tables["summary"])
        t.print(con.styled("option meeting all its targets at the lowest cost: ",
                           (best[1], "bold green") if best else "none (the plan's targets "
                           "need more than one lever: see the roadmap below)"))

    results = [run_study(Study(
        "compare", "demo-options", options, out / "options", workers, False, quiet, False,
        "ccsim demo: the baseline and its options",
        {"scenario_file": str(scen / "baseline.yaml"), "demo": True,
         "overrides": dict(ONE_DAY)}, {**loaded.raw, "replications": REPS},
        printer=show_options))]
    term.print("")
    if not results[0]["complete"]:
        return results  # interrupted or failed: the roadmap is not started
    interrupts.resume()  # a signal since the first part ended stops here
    results.append(run_roadmap(
        scen / "roadmap-2026.yaml", reps=REPS, seed=None, out=out / "roadmap",
        workers=workers, quiet=quiet, as_json=False, backend="local", scheduler=None,
        default_out=lambda _n: out / "roadmap", overrides=ONE_DAY,
        title="2 · The 2026 budget roadmap (one Monday per phase)", compact=KEY_METRICS))
    term.print("")
    results.append(run_roadmap(  # 3: the same roadmap with the documents' ranges (issue 12)
        scen / "roadmap-2026-uncertain.yaml", reps=UNCERTAIN_REPS, seed=None,
        out=out / "uncertain", workers=workers, quiet=quiet, as_json=False, backend="local",
        scheduler=None, default_out=lambda _n: out / "uncertain", overrides=ONE_DAY,
        title=f"3 · How sure are we? {UNCERTAIN_DRAWS} draws of the documents' ranges × "
        f"{UNCERTAIN_REPS} replications (one Monday per state)", compact=KEY_METRICS,
        draws=UNCERTAIN_DRAWS))
    term.print(con.styled(
        "\n", ("Next", "bold"), ": open the three report.html files above in a browser; run a "
               "full week with `ccsim run scenarios/baseline.yaml` and the roadmap with "
               "`ccsim roadmap scenarios/roadmap-2026.yaml` (with its uncertain inputs: "
               "`ccsim roadmap scenarios/roadmap-2026-uncertain.yaml`, 64 draws); find the "
               "cheapest staffing with "
               "`ccsim optimize scenarios/baseline.yaml`. docs/tutorial.md explains every "
               "table."))
    return results


def exit_code(results: list[dict]) -> int:
    return 0 if all(r["complete"] for r in results) else 3

