"""Every bundled scenario and roadmap loads and validates (what `ccsim validate` checks), and
cites its document figures through docs/sources.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.decide.roadmap import load_roadmap
from sim.inputs.scenario import load_scenario
from sim.inputs.yamlio import is_roadmap_file, load_yaml

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
SOURCES_MD = ROOT / "docs" / "sources.md"
DIGEST_MD = ROOT / "docs" / "source-digest.md"


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


# A document citation: S000-S004 and a section, e.g. "S003 §2.3.1", "S004 Ch.3", and the
# further sections of the same document that follow it: "[S000 §2.2; §1.3]", "S004 Ch.3, Ch.5",
# "S000 §1.2 and §2.3".
_SECTION = r"(?:§\d+(?:\.\d+)*|Ch\.\d+)"
_CITATION = re.compile(rf"\b(S00\d)\s+({_SECTION}(?:(?:\s*[,;/]\s*|\s+and\s+){_SECTION})*)")
_DIGEST = re.compile(r"digest\s+((?:§\d+(?:\.\d+)*)(?:(?:\s*[,;]\s*|\s+and\s+)§\d+(?:\.\d+)*)*)")


def _flat(text: str) -> str:
    """A file's text on one line: a citation may wrap onto the next comment line."""
    return re.sub(r"\s*\n\s*#?\s*", " ", text)


def citations(text: str) -> set[tuple[str, str]]:
    """Every (document tag, section) a file cites, e.g. ("S000", "§1.2"), ("S004", "Ch.3")."""
    return {(m.group(1), s) for m in _CITATION.finditer(_flat(text))
            for s in re.findall(_SECTION, m.group(2))}


def digest_sections(text: str) -> set[str]:
    """Every section of the digest a file cites as [digest §x]."""
    return {s for m in _DIGEST.finditer(_flat(text))
            for s in re.findall(r"§\d+(?:\.\d+)*", m.group(1))}


def _documents(sources: str) -> dict[str, str]:
    """Tag -> file name, from the documents table of docs/sources.md."""
    return dict(re.findall(r"^\|\s*(S00\d)\s*\|\s*`(\d{3}_[0-9a-f]{16}\.txt)`", sources, re.M))


def missing_from_sources(cited: set[tuple[str, str]], sources: str) -> list[str]:
    """The citations no table row of docs/sources.md holds: a row (a line starting with
    `|`) that names the document's file and the section, not a longer one (§1.2 is not
    §1.2.3)."""
    files = _documents(sources)
    rows = [line for line in sources.splitlines() if line.startswith("|")]
    missing = []
    for doc, section in sorted(cited):
        sec = re.compile(re.escape(section) + r"(?![.]?\d)")
        if doc not in files or not any(files[doc] in r and sec.search(r) for r in rows):
            missing.append(f"{doc} {section}")
    return missing


def test_citation_parser_and_check_can_fail() -> None:
    text = ("x: 1   # [S000 §2.2; §1.3] and [S004 Ch.3, Ch.5] (S003 §1.2.3), [S001\n"
            "       # §9.1]; [digest §9, §8.2]\n")
    assert citations(text) == {("S000", "§2.2"), ("S000", "§1.3"), ("S004", "Ch.3"),
                               ("S004", "Ch.5"), ("S003", "§1.2.3"), ("S001", "§9.1")}
    assert digest_sections(text) == {"§9", "§8.2"}
    sources = ("| S000 | `000_8a00c25a539932f8.txt` | t |\n"
               "| AHT | 320 s | `000_8a00c25a539932f8.txt` | §1.2.3 | baseline.yaml |\n")
    assert missing_from_sources({("S000", "§1.2.3")}, sources) == []
    assert missing_from_sources({("S000", "§1.2"), ("S001", "§1.2.3")}, sources) == \
        ["S000 §1.2", "S001 §1.2.3"]


def test_sources_md_lists_the_five_documents_and_links_the_digest() -> None:
    sources = SOURCES_MD.read_text(encoding="utf-8")
    assert sorted(_documents(sources)) == ["S000", "S001", "S002", "S003", "S004"]
    assert "(source-digest.md" in sources and DIGEST_MD.is_file()


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_bundled_file_cites_docs_sources_md(path: Path) -> None:
    """Provenance must be checkable from a clone: every bundled file's header points at
    docs/sources.md, which ships with it, and no comment points outside the repository."""
    text = path.read_text(encoding="utf-8")
    assert "../shared/" not in text
    header = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            break
        header.append(line)
    assert "docs/sources.md" in "\n".join(header), (
        f"{path.name}: its header (the comments before the first key) must cite docs/sources.md")
    assert SOURCES_MD.is_file()


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_every_document_citation_is_in_docs_sources_md(path: Path) -> None:
    """Each [S00x §y] / [S004 Ch.n] a bundled file cites has a row in docs/sources.md with
    that document's file name and section; each [digest §x] is a section of the digest.
    A new bundled scenario citing a new section must add the figure to docs/sources.md."""
    text = path.read_text(encoding="utf-8")
    missing = missing_from_sources(citations(text), SOURCES_MD.read_text(encoding="utf-8"))
    assert not missing, f"{path.name} cites {missing}: add the figures to docs/sources.md"
    digest = DIGEST_MD.read_text(encoding="utf-8")
    headings = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)*)\.?\s", digest, re.M))
    unknown = sorted(s for s in digest_sections(text) if s[1:] not in headings)
    assert not unknown, f"{path.name} cites digest sections {unknown} not in docs/source-digest.md"
