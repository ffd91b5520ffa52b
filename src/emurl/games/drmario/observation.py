"""The founding plan's observation of Dr. Mario, from one player's side: planes and a vector.

Both are built from the step's variables (``data.json`` of ``DrMario-Nes`` or
``MiniDoc-Nes``: one name per player, ``viruses_p1`` / ``viruses_p2``, ...; the
playfields ``playfield_p1`` / ``playfield_p2`` are array variables, uint8 (16, 8)).
"Own" is the seat ``player`` (1 or 2), "opponent" the other one. Only what a player
sees on screen goes in: never the pre-generated capsule sequence at 0x0780.

Planes, uint8 (12, 16, 8), 0 or 1, ``[plane, row, column]``, row 0 the top:

=====  ===================================================================================
plane  meaning
=====  ===================================================================================
0      own bottle: empty cell (0xFF, and 0xF_ just emptied / 0xB_ cleared: gone in frames)
1-3    own bottle: a yellow / red / blue capsule half or virus
4      own falling capsule: the cell of its first colour's half (0x0301)
5      own falling capsule: the cell of its second colour's half (0x0302); with plane 4
       this fixes position and orientation (which half is left/right/top/bottom).
       Both are 0 while no capsule falls (:func:`~emurl.games.drmario.board.capsule_is_falling`).
6-11   the same six for the opponent; all 0 in a one-player game
=====  ===================================================================================

Viruses and capsule halves share the colour planes; the vector's virus counts (and the
board's stillness: viruses never move) tell them apart.

Vector, float32 (46,): two blocks of 23, own then opponent (zeros in a one-player game):

======  =================================================================================
index   meaning (block offset)
======  =================================================================================
+0      viruses left / 84 (84 = level 20's count; BCD byte 0x0324 / 0x03A4)
+1      1.0 while a capsule falls (planes 4-5 / 10-11 show it), else 0.0
+2..4   falling capsule's first colour, one-hot (yellow, red, blue)
+5..7   falling capsule's second colour, one-hot
+8..10  next capsule's first colour, one-hot (0x031A / 0x039A)
+11..13 next capsule's second colour, one-hot (0x031B / 0x039B)
+14     speed counter / 255: frames the capsule has spent on its row (0x0312 / 0x0392;
        gravity moves it down when this passes the level's drop time: the drop timer)
+15..22 column heights / 16, left to right (:func:`~emurl.games.drmario.board.column_heights`)
======  =================================================================================
"""

from __future__ import annotations

from functools import lru_cache
from typing import Mapping

import numpy as np

from emurl.games.drmario.board import (
    COLUMNS,
    EMPTY,
    FLASH,
    ROWS,
    board,
    capsule_cells,
    capsule_is_falling,
    classify,
    colours,
    column_heights,
)

N_PLANES = 12
PLANES_SHAPE = (N_PLANES, ROWS, COLUMNS)
SIDE = 23
VECTOR_SIZE = 2 * SIDE
MAX_VIRUSES = 84.0


def other(player: int) -> int:
    """The other seat: 1 → 2, 2 → 1."""
    return 3 - _seat(player)


def _seat(player: int) -> int:
    if player not in (1, 2):
        raise ValueError(f"player must be 1 or 2, got {player!r}")
    return int(player)


def side_names(player: int) -> dict[str, str]:
    """The variable names of seat ``player``: ``{"viruses": "viruses_p1", ...}``."""
    p = _seat(player)
    keys = ("viruses", "capsule_left", "capsule_right", "capsule_x", "capsule_y", "rotation", "next_left",
            "next_right", "speed_counter", "level", "victories", "playfield")
    return {k: f"{k}_p{p}" for k in keys}


_SIDE_NAMES = {p: side_names(p) for p in (1, 2)}


def _two_player(values: Mapping) -> bool:
    return int(values.get("players", 2)) == 2


_TILES = np.arange(256)
_BOARD_PLANES = np.stack([np.isin(classify(_TILES), (EMPTY, FLASH))]  # a cleared (flashing) tile is gone within frames
                         + [colours(_TILES) == c for c in range(3)], axis=1).astype(np.uint8)
"""uint8 (256, 4): planes 0-3 of one tile byte (empty, yellow, red, blue)."""


@lru_cache(maxsize=16)
def _board_part(key: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Planes 0-3 (uint8 (4, 16, 8)) and column heights / 16 (float32 (8,)) of a playfield's
    128 bytes. Cached: a board changes only when a capsule lands or cells clear, while
    the observation is built every step for both seats."""
    tiles = board(key)
    part = np.ascontiguousarray(_BOARD_PLANES[tiles].transpose(2, 0, 1))
    heights = (column_heights(tiles) / float(ROWS)).astype(np.float32)
    part.flags.writeable = heights.flags.writeable = False
    return part, heights


def _fill_side(planes: np.ndarray, vec: np.ndarray, values: Mapping, player: int) -> None:
    n = _SIDE_NAMES[player]
    tiles = board(values[n["playfield"]])
    part, heights = _board_part(tiles.tobytes())
    planes[:4] = part
    capsule = capsule_cells(values[n["capsule_x"]], values[n["capsule_y"]], values[n["rotation"]])
    falling = capsule_is_falling(tiles, capsule)
    if falling:
        for plane, cell in ((4, capsule.first), (5, capsule.second)):
            if cell is not None:
                planes[plane][cell] = 1
    vec[0] = int(values[n["viruses"]]) / MAX_VIRUSES
    vec[1] = float(falling)
    for i, key in enumerate(("capsule_left", "capsule_right", "next_left", "next_right")):
        colour = int(values[n[key]])
        if 0 <= colour <= 2:
            vec[2 + 3 * i + colour] = 1.0
    vec[14] = int(values[n["speed_counter"]]) / 255.0
    vec[15:23] = heights


def planes_and_vector(values: Mapping, player: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The observation of seat ``player`` (see the module docstring for the layout).

    Args:
        values: the step's variables, name → value, with both seats' variables (the
            ``_p1`` and ``_p2`` names of ``data.json``, the playfields as 128 bytes or
            uint8 (16, 8)) and ``players`` (1 or 2; a one-player game leaves the opponent's
            planes and block of the vector at 0).
        player: 1 or 2, whose side the observation is from.

    Returns:
        ``(planes, vector)``: uint8 (12, 16, 8) of 0/1, float32 (46,).

    Raises:
        KeyError: a variable is missing; ValueError: ``player`` is not 1 or 2, or a
        playfield is not 128 bytes.
    """
    p = _seat(player)
    planes = np.zeros(PLANES_SHAPE, np.uint8)
    vec = np.zeros(VECTOR_SIZE, np.float32)
    _fill_side(planes[:6], vec[:SIDE], values, p)
    if _two_player(values):
        _fill_side(planes[6:], vec[SIDE:], values, other(p))
    return planes, vec


def planes(values: Mapping, player: int = 1) -> np.ndarray:
    """uint8 (12, 16, 8): the planes of :func:`planes_and_vector`."""
    return planes_and_vector(values, player)[0]


def vector(values: Mapping, player: int = 1) -> np.ndarray:
    """float32 (46,): the vector of :func:`planes_and_vector`."""
    return planes_and_vector(values, player)[1]



class Features:
    """The ``"features"`` observation of ``DrMario-Nes`` and ``MiniDoc-Nes`` (``metadata.json``
    names it): :func:`planes_and_vector` from seat ``seat``'s side (0: player 1)."""

    spaces = {
        "planes": (PLANES_SHAPE, "uint8", 0, 1),
        "vector": ((VECTOR_SIZE,), "float32", 0.0, 1.0),
    }

    def observe(self, values: Mapping, seat: int) -> dict[str, np.ndarray]:
        planes_, vector_ = planes_and_vector(values, seat + 1)
        return {"planes": planes_, "vector": vector_}


__all__ = ["Features", "MAX_VIRUSES", "N_PLANES", "PLANES_SHAPE", "SIDE", "VECTOR_SIZE", "other", "planes", "planes_and_vector",
           "side_names", "vector"]
