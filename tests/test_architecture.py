"""The import contracts of ``[tool.importlinter]`` in pyproject.toml: folders import only the
layers below them (DESIGN.md's data flow), games stay pure, train stays blind to games and
emulators, and no import cycle anywhere.

import-linter reads the package's source, it imports nothing of it. It runs here on a copy
of ``src/emurl`` (``.py`` files only), in a subprocess so that the copy, not the installed
package, is found: the copy gives the folders without an ``__init__.py`` (namespace
packages, which grimp would skip) an empty one, so that their imports are checked too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "emurl"
CONFIG = ROOT / "pyproject.toml"

# Runs in the subprocess: the contracts through import-linter's Python API (its report,
# which names each broken import with file line), and every import cycle (strongly
# connected modules) in grimp's graph, as JSON on stdout.
CHECK = r"""
import contextlib, io, json, sys
import grimp
from importlinter import configuration
from importlinter.application.use_cases import SUCCESS, lint_imports

configuration.configure()
report = io.StringIO()
with contextlib.redirect_stdout(report):
    kept = SUCCESS == lint_imports(config_filename=sys.argv[1], cache_dir=None, no_logo=True, is_debug_mode=True)

graph = grimp.build_graph("emurl", cache_dir=None)
index, low, stack, on_stack, cycles = {}, {}, [], set(), []
def visit(v):  # Tarjan's strongly connected components
    index[v] = low[v] = len(index)
    stack.append(v)
    on_stack.add(v)
    for w in graph.find_modules_directly_imported_by(v):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on_stack:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        component = []
        while True:
            w = stack.pop()
            on_stack.discard(w)
            component.append(w)
            if w == v:
                break
        if len(component) > 1:
            cycles.append(sorted(component))
sys.setrecursionlimit(10000)
for module in sorted(graph.modules):
    if module not in index:
        visit(module)
print(json.dumps({"kept": kept, "report": report.getvalue(), "cycles": cycles}))
"""


def copy_package(dest: Path) -> Path:
    """``src/emurl``'s ``.py`` files under ``dest/emurl``, with an ``__init__.py`` in each
    folder of Python modules that lacks one; returns ``dest/emurl``."""
    out = dest / "emurl"
    for src in PACKAGE.rglob("*.py"):
        rel = src.relative_to(PACKAGE)
        if "__pycache__" in rel.parts or not all(p.isidentifier() for p in rel.parts[:-1]):
            continue  # game integrations' folders ("Pong-Atari2600") are data, not packages
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    for folder in [out, *(p for p in out.rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch(exist_ok=True)
    return out


def check(tree: Path) -> dict:
    """Run the contracts and the cycle search on the package copy under ``tree``."""
    env = dict(os.environ, PYTHONPATH=str(tree), COLUMNS="250")  # the report's lines unwrapped
    proc = subprocess.run([sys.executable, "-c", CHECK, str(CONFIG)], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"import-linter did not run:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_contracts_are_kept(tmp_path):
    copy_package(tmp_path)
    result = check(tmp_path)
    assert "Contracts: 4 kept, 0 broken." in result["report"], result["report"]
    assert result["kept"], result["report"]
    assert not result["cycles"], "import cycles:\n" + "\n".join(" <-> ".join(c) for c in result["cycles"])


def test_an_upward_import_breaks_the_contracts(tmp_path):
    """The check can fail: games importing envs (a layer above) and games <-> emulators."""
    pkg = copy_package(tmp_path)
    with open(pkg / "games" / "variables.py", "a") as f:
        f.write("\nimport gymnasium\nfrom emurl.envs import emulator_env\nfrom emurl.emulators import base\n")
    with open(pkg / "emulators" / "base.py", "a") as f:
        f.write("\nfrom emurl.games import variables\n")
    result = check(tmp_path)
    report = result["report"]
    assert not result["kept"], report
    assert "folders import only the layers below them (the data flow) BROKEN" in report, report
    assert "games are data and pure logic: no emulator library, gymnasium, argparse or learner BROKEN" in report
    for line in ("emurl.games.variables -> emurl.envs.emulator_env", "emurl.games.variables -> emurl.emulators.base",
                 "emurl.games.variables -> gymnasium"):
        assert line in report, report
    assert any({"emurl.games.variables", "emurl.emulators.base"} <= set(c) for c in result["cycles"])
