"""Where integrations are: the search path of integration folders (emurl's own, stable-retro's,
the user's), canonical game names, the user's data folder, each system's ROM extensions.

Search path, first match wins: emurl's own integrations (``emurl/games/data``),
stable-retro's stable integrations, then the user's folders (``--game-path`` /
``EMURL_GAME_PATH``, ``os.pathsep``-separated; each folder may be an integration or hold
integrations). A user's integration with the name of a built-in one is not used, and a
warning says so: it never silently shadows the other.
"""

from __future__ import annotations

import functools
import os
import warnings
from pathlib import Path

from emurl.errors import IntegrationError

OWN_DATA = Path(__file__).parent / "data"


# stable-retro folder system names whose core is registered under another name.
_SYSTEM_ALIASES = {"Arcade": "FBNeo"}


def rom_extensions(system: str) -> list[str]:
    """File extensions (with the dot) of ROMs for ``system``, the core's canonical one first
    (stable-retro's ``EMU_INFO``)."""
    import stable_retro  # lazy: importing it costs ~0.1 s, twice this module's own import time

    info = stable_retro.data.EMU_INFO.get(_SYSTEM_ALIASES.get(system, system))
    return ["." + e for e in info["ext"]] if info else []


def data_dir() -> Path:
    """The user's emurl data folder (ROMs, states); created on demand by writers."""
    if os.environ.get("EMURL_DATA_DIR"):
        return Path(os.environ["EMURL_DATA_DIR"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "emurl"


def retro_data_root() -> Path:
    import stable_retro.data  # lazy: ~0.1 s (see rom_extensions)

    return Path(stable_retro.data.path()) / "stable"


def canonical_name(name: str) -> str:
    """``"emurl/Pong-Atari2600-v0"`` or ``"Pong-Atari2600-v0"`` → ``"Pong-Atari2600"``."""
    if name.startswith("emurl/"):
        name = name[len("emurl/"):]
    if name.endswith("-v0"):
        name = name[:-3]
    return name


def _user_paths(game_path: str | os.PathLike | list | None) -> list[Path]:
    paths: list[Path] = []
    if game_path:
        items = game_path if isinstance(game_path, (list, tuple)) else str(game_path).split(os.pathsep)
        paths += [Path(p).expanduser() for p in items if str(p)]
    env = os.environ.get("EMURL_GAME_PATH")
    if env:
        paths += [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return paths


def _folders_in(root: Path) -> dict[str, Path]:
    """Integration folders directly in ``root`` (or ``root`` itself): name → folder."""
    out: dict[str, Path] = {}
    if not root.is_dir():
        return out
    if (root / "data.json").is_file():
        return {canonical_name(root.name): root}
    for entry in os.scandir(root):
        if entry.is_dir() and "-" in entry.name and os.path.isfile(os.path.join(entry.path, "data.json")):
            out[canonical_name(entry.name)] = Path(entry.path)
    return out


@functools.lru_cache(maxsize=1)
def _builtin_folders() -> tuple[tuple[str, Path, str], ...]:
    out = []
    for source, root in (("emurl", OWN_DATA), ("stable-retro", retro_data_root())):
        for name, folder in sorted(_folders_in(root).items()):
            out.append((name, folder, source))
    return tuple(out)


def integration_folders(game_path=None) -> dict[str, tuple[Path, str]]:
    """Every known integration: name → (folder, source), source being ``"emurl"``,
    ``"stable-retro"`` or ``"user"``, with the search order's precedence applied."""
    found: dict[str, tuple[Path, str]] = {}
    for name, folder, source in _builtin_folders():
        found.setdefault(name, (folder, source))
    for root in _user_paths(game_path):
        if not root.exists():
            raise IntegrationError(f"{root}: game path does not exist (from --game-path or EMURL_GAME_PATH)")
        for name, folder in _folders_in(root).items():
            if name in found:
                if found[name][0].resolve() != folder.resolve():
                    warnings.warn(
                        f"{folder}: integration {name} is ignored: {found[name][0]} "
                        f"({found[name][1]}) has that name. Rename the folder to use yours.",
                        stacklevel=3,
                    )
                continue
            found[name] = (folder, "user")
    return found
