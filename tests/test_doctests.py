"""The docstring examples of every emurl module run as tests (``pytest --doctest-modules``
without having to name ``src/``), one test per module that has any.

An example that needs what a test machine lacks (a commercial ROM, minutes of benchmark)
is marked ``# doctest: +SKIP`` in its docstring; the others run as written, on
Airstriker-Genesis (its ROM ships with stable-retro). The game integrations' Python
modules (``games/data/<Game>/*.py``) are data, loaded by path, not package modules.
"""

from __future__ import annotations

import doctest
import importlib
import io
from pathlib import Path

import pytest

import emurl

PACKAGE = Path(emurl.__file__).parent


def modules_with_examples() -> list[str]:
    """Dotted names of the package's modules whose source holds a ``>>>`` example."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent)
        if rel.parts[1:3] == ("games", "data") or ">>>" not in path.read_text():
            continue
        parts = rel.with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


MODULES = modules_with_examples()


def test_the_package_has_examples():
    assert {"emurl.envs.spec", "emurl.movies.movie", "emurl.games.ale_actions"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    tests = doctest.DocTestFinder().find(module, name)
    assert tests, f"{name}: its '>>>' lines are not in any docstring"
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in tests:
        runner.run(test, out=out.write)
    # an example that can't run here is a literal block ("::"), not a '>>>' marked +SKIP
    assert runner.tries > 0, f"{name}: every example is marked +SKIP; run it or write it as a literal block"
    assert runner.failures == 0, out.getvalue()
