"""Reading an integration's JSON files: the one loader, whose errors name the file."""

from __future__ import annotations

import json
import os
from pathlib import Path

from emurl.errors import IntegrationError


def read_json_object(path: str | os.PathLike) -> dict:
    """The JSON object in ``path`` (``data.json``, ``scenario.json``, ``metadata.json``,
    ``start_states.json``, ...).

    Raises:
        IntegrationError: the file can't be read, is not valid JSON (line and column
            given), or holds something other than an object at the top level.
    """
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise IntegrationError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise IntegrationError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    if not isinstance(raw, dict):
        raise IntegrationError(f"{path}: expected a JSON object at the top level, got {type(raw).__name__}")
    return raw
