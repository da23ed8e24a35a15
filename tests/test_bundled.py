"""Every bundled scenario and roadmap loads and validates (what `ccsim validate` checks)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.roadmap import is_roadmap_file, load_roadmap
from sim.scenario import load_scenario
from sim.yamlio import load_yaml

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_bundled_file_is_valid(path: Path) -> None:
    if is_roadmap_file(load_yaml(path)[0]):
        lr = load_roadmap(path)
        assert lr.points[0].variant == "baseline" and len(lr.points) > len(lr.roadmap.phases)
        seeds = {p.scenario.seed for p in lr.points}
        assert len(seeds) == 1  # common random numbers across phases
    else:
        loaded = load_scenario(path)
        assert loaded.scenario.name


def test_the_bundle_has_what_the_demo_needs() -> None:
    names = {p.name for p in SCENARIOS}
    assert {"baseline.yaml", "roadmap-2026.yaml", "demo.yaml"} <= names


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_bundled_file_cites_a_digest_that_ships_with_it(path: Path) -> None:
    """Provenance must be checkable from a clone: the digest the comments cite is in the
    repository, and no comment points outside it."""
    text = path.read_text(encoding="utf-8")
    root = path.parents[1]
    assert "../shared/" not in text
    if "[S0" in text or "digest" in text:
        assert "docs/source-digest.md" in text and (root / "docs" / "source-digest.md").is_file()
