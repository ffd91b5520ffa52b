"""Python beside an integration's data (scenario classes, feature observations): the one loader."""

from __future__ import annotations

import importlib.util
import os
import traceback

from emurl.errors import IntegrationError


def load_class(spec: str, folder: str | os.PathLike, where: str, default: str):
    """The class named by ``spec`` (``"file.py:ClassName"``; ``"file.py"`` means ``default``)
    in the module ``file.py`` in ``folder``.

    Raises:
        IntegrationError: no such file or class, or the module can't be imported (a syntax
            error, or an exception while it runs), naming ``where`` (the JSON file and
            key), the module and the line.
    """
    file, _, cls_name = str(spec).partition(":")
    module_path = os.path.join(os.fspath(folder), file)
    if not file.endswith(".py") or not os.path.isfile(module_path):
        raise IntegrationError(f"{where}: {module_path} does not exist (expected \"file.py:ClassName\" beside the data)")
    module_spec = importlib.util.spec_from_file_location(f"emurl_game_{abs(hash(module_path))}", module_path)
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except SyntaxError as exc:  # the module's own line, not this loader's
        raise IntegrationError(
            f"{where}: {exc.filename or module_path}, line {exc.lineno}: {type(exc).__name__}: {exc.msg} "
            f"(expected a Python module defining {cls_name or default})"
        ) from None
    except Exception as exc:  # running the module failed: say where in it, keep the traceback as the cause
        raise IntegrationError(
            f"{where}: {module_path}, line {_line_in(exc, module_path)}: {type(exc).__name__}: {exc} "
            f"(while importing it)"
        ) from exc
    cls_name = cls_name or default
    if not hasattr(module, cls_name):
        raise IntegrationError(f"{where}: {module_path} defines no class {cls_name!r}")
    return getattr(module, cls_name)


def _line_in(exc: BaseException, path: str) -> int | str:
    """The last line of ``path`` in ``exc``'s traceback (where the module failed), or ``"?"``."""
    path = os.path.abspath(path)
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if os.path.abspath(f.filename) == path]
    return lines[-1] if lines else "?"
