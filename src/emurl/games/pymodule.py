"""Python beside an integration's data (scenario classes, feature observations): the one loader."""

from __future__ import annotations

import importlib.util
import os

from emurl.errors import IntegrationError


def load_class(spec: str, folder: str | os.PathLike, where: str, default: str):
    """The class named by ``spec`` (``"file.py:ClassName"``; ``"file.py"`` means ``default``)
    in the module ``file.py`` in ``folder``.

    Raises:
        IntegrationError: no such file or class, naming ``where`` (the JSON file and key).
    """
    file, _, cls_name = str(spec).partition(":")
    module_path = os.path.join(os.fspath(folder), file)
    if not file.endswith(".py") or not os.path.isfile(module_path):
        raise IntegrationError(f"{where}: {module_path} does not exist (expected \"file.py:ClassName\" beside the data)")
    module_spec = importlib.util.spec_from_file_location(f"emurl_game_{abs(hash(module_path))}", module_path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    cls_name = cls_name or default
    if not hasattr(module, cls_name):
        raise IntegrationError(f"{where}: {module_path} defines no class {cls_name!r}")
    return getattr(module, cls_name)
