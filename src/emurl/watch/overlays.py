"""Which overlays the viewer draws and where a game's drawing code is found.

The layers are :data:`LAYERS`, toggled by the keys 1-6 in this order. ``rays``,
``checkpoint``, ``walls`` (collision near the player: Mario Kart DS's KCL prisms) and
``placement`` (where a puzzle agent chose to put its piece) are the game's: drawn from
the primitives its features' ``overlay_shapes``
returns (``emurl.games.<game>``; MiniKart's: :func:`emurl.games.minikart.features.overlay_shapes`),
so that drawing code lives with the game integration, not here. ``vars`` (a table of the
published variables) and ``buttons`` (the buttons the last action pressed) are the same for
every game and drawn by the viewer.
"""

from __future__ import annotations

from functools import lru_cache

from emurl.errors import ConfigError, EmurlError
from emurl.games.integration import list_games, load_integration
from emurl.vector.frameblock import PREFIX, frame_name

LAYERS = ("rays", "checkpoint", "vars", "buttons", "walls", "placement")
"""The overlay layers, in the order of their keys (1-6)."""
GAME_LAYERS = ("rays", "checkpoint", "walls", "placement")
"""The layers a game's features draw (a game draws those it has and ignores the others)."""
COLOURS = {"rays": (255, 230, 0), "checkpoint": (0, 230, 255), "walls": (255, 70, 70), "placement": (255, 255, 255)}
"""RGB of each game layer's lines and points."""


def parse_layers(text: str | None) -> list[str]:
    """``"rays,checkpoint"`` → ``["rays", "checkpoint"]``; ``"all"`` → every layer; empty or
    None → none.

    Raises:
        ConfigError: a name not in :data:`LAYERS`.

    >>> parse_layers("buttons, rays")
    ['rays', 'buttons']
    """
    if not text:
        return []
    names = [n.strip() for n in text.split(",") if n.strip()]
    if names == ["all"]:
        return list(LAYERS)
    bad = [n for n in names if n not in LAYERS]
    if bad:
        raise ConfigError(f"--overlays: unknown {', '.join(bad)} (choose from {', '.join(LAYERS)} or all)")
    return [n for n in LAYERS if n in names]


@lru_cache(maxsize=32)
def game_shapes(game: str | None):
    """The game's ``overlay_shapes(overlay, layers, frame_shape) -> [(layer, kind, coords, clip)]``
    (its integration's features; see :func:`emurl.games.minikart.features.overlay_shapes`), or
    None where the game has none or is not known here. Looked up once per game."""
    if not game:
        return None
    try:
        features = load_integration(game).features()
    except (EmurlError, OSError, ImportError):  # a user's game this machine lacks: no game overlay
        return None
    return getattr(features, "overlay_shapes", None)


@lru_cache(maxsize=64)
def game_of_job(job: str) -> str | None:
    """The game a job's name begins with, for blocks whose overlay does not name it: run
    names are ``<game>__<algo>__...`` (train, selfplay, NEAT), as block names spell them
    (``MiniKart_NintendoDs__neat__0__1796434707`` → ``MiniKart-NintendoDs``); None if none.
    Lists the integrations once per job (~1 s cold)."""
    head = job.split("__", 1)[0]
    if head == job:
        return None
    for name in list_games():
        if frame_name(name, "")[len(PREFIX):-1] == head:
            return name
    return None


def shapes(overlay: dict, layers, frame_shape, job: str = "") -> list[tuple]:
    """The game layers' primitives for one tile (empty when none of them is on, or its game
    has no shapes): ``(layer, kind, coords, clip)`` in frame pixels. The game is the
    overlay's ``game``, else the one ``job``'s name begins with (:func:`game_of_job`)."""
    wanted = [layer for layer in layers if layer in GAME_LAYERS]
    if not wanted:
        return []
    draw = game_shapes(overlay.get("game") or game_of_job(job))
    return draw(overlay, wanted, tuple(frame_shape)) if draw is not None else []


__all__ = ["COLOURS", "GAME_LAYERS", "LAYERS", "game_of_job", "game_shapes", "parse_layers", "shapes"]
