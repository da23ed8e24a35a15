"""The package layout follows the one-way data path (README, Layout): layers import only
layers below them, every layer says what belongs in it, and modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parents[1] / "sim"
# bottom to top; the API (sim/api.py), the commands' bodies (sim/commands.py), the demo
# and the CLI sit above every layer
LAYERS = ("base", "inputs", "model", "measure", "report", "decide")
TOP = {"__init__.py", "api.py", "demo.py", "commands.py"}
MAX_LINES = 420  # "about 400": a module past this is split by concept


def _modules() -> list[Path]:
    return sorted(SIM.rglob("*.py"))


def _sim_imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported sim module) for every import of sim in the file, also in functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                found.append((node.lineno, "." * node.level + (node.module or "")))
            elif node.module and (node.module == "sim" or node.module.startswith("sim.")):
                if node.module == "sim":
                    found += [(node.lineno, f"sim.{a.name}") for a in node.names]
                else:
                    found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("sim.")]
    return found


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def test_the_top_of_sim_holds_only_the_api_and_the_layers():
    loose = {p.name for p in SIM.glob("*.py")} - TOP
    assert not loose, f"modules outside a layer: {sorted(loose)}"
    assert {p.name for p in SIM.iterdir() if p.is_dir() and (p / "__init__.py").exists()} \
        == set(LAYERS)


@pytest.mark.parametrize("layer", LAYERS)
def test_every_layer_says_what_belongs_in_it(layer):
    doc = ast.get_docstring(ast.parse((SIM / layer / "__init__.py").read_text()))
    assert doc and len(doc.split()) >= 12, f"sim/{layer}/__init__.py needs a docstring"


def test_layers_import_only_downwards():
    wrong = []
    for path in _modules():
        rel = path.relative_to(SIM)
        if len(rel.parts) == 1:
            continue  # sim/api.py, sim/demo.py may use every layer
        here = LAYERS.index(rel.parts[0])
        for line, module in _sim_imports(path):
            if module.startswith("."):
                wrong.append(f"sim/{rel}:{line} relative import {module} (use sim.<layer>)")
                continue
            layer = _layer_of(module)
            if layer is None:
                if module not in ("sim", "sim.__version__"):
                    wrong.append(f"sim/{rel}:{line} imports {module}, which is in no layer")
            elif LAYERS.index(layer) > here:
                wrong.append(f"sim/{rel}:{line} ({rel.parts[0]}) imports {module} ({layer}),"
                             " a layer above it")
    assert not wrong, "\n".join(wrong)


def test_the_check_catches_an_upward_import(tmp_path):
    fake = tmp_path / "m.py"
    fake.write_text("def f():\n    from sim.report.console import clean\n")
    assert _sim_imports(fake) == [(2, "sim.report.console")]
    assert LAYERS.index(_layer_of("sim.report.console")) > LAYERS.index("model")


def test_modules_stay_small():
    big = [f"{p.relative_to(SIM.parent)}: {n} lines" for p in _modules()
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES]
    cli = SIM.parent / "cli.py"
    if (n := len(cli.read_text(encoding="utf-8").splitlines())) > MAX_LINES:
        big.append(f"cli.py: {n} lines")
    assert not big, "split these by concept:\n" + "\n".join(big)
