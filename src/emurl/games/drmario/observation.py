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
from operator import itemgetter
from typing import Mapping

import numpy as np

from emurl.games.drmario.board import (
    COLUMNS,
    EMPTY,
    EMPTY_TILE,
    FLASH,
    ROWS,
    board,
    capsule_cells,
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
def _board_part(key: bytes) -> tuple[np.ndarray, tuple[float, ...]]:
    """Planes 0-5 of a side with no capsule shown (uint8 (6, 16, 8), read-only: planes 0-3
    from the playfield's 128 bytes, 4-5 zero) and its column heights / 16 (8 floats, each a
    float32 value). Cached: a board changes only when a capsule lands or cells clear,
    while the observation is built every step for both seats."""
    tiles = board(key)
    planes = np.zeros((6, ROWS, COLUMNS), np.uint8)
    planes[:4] = _BOARD_PLANES[tiles].transpose(2, 0, 1)
    planes.flags.writeable = False
    return planes, tuple((column_heights(tiles) / float(ROWS)).astype(np.float32).tolist())


@lru_cache(maxsize=4096)
def _capsule_cells(x: int, y: int, rotation: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The capsule's halves inside the bottle (:func:`~emurl.games.drmario.board.capsule_cells`):
    their flat cell indices (row * 8 + column), and their indices in planes 0-5 flattened
    (plane 4 for the first colour's half, 5 for the second's)."""
    cells = capsule_cells(x, y, rotation)
    inside = [(plane, c[0] * COLUMNS + c[1]) for plane, c in ((4, cells.first), (5, cells.second)) if c is not None]
    return tuple(c for _, c in inside), tuple(plane * ROWS * COLUMNS + c for plane, c in inside)


_ONE_HOT = {0: (1.0, 0.0, 0.0), 1: (0.0, 1.0, 0.0), 2: (0.0, 0.0, 1.0)}
_NO_COLOUR = (0.0, 0.0, 0.0)
_PLANE = ROWS * COLUMNS
_NO_SIDE = (np.zeros((6, ROWS, COLUMNS), np.uint8), (), (0.0,) * SIDE)  # the opponent of a one-player game
_NO_SIDE[0].flags.writeable = False
_SIDE_VALUES = {p: itemgetter(*(n[k] for k in ("playfield", "capsule_x", "capsule_y", "rotation", "viruses", "capsule_left",
                                               "capsule_right", "next_left", "next_right", "speed_counter")))
                for p, n in _SIDE_NAMES.items()}


def _side(values: Mapping, player: int) -> tuple[np.ndarray, tuple[int, ...], tuple[float, ...]]:
    """Seat ``player``'s own half of an observation (the module docstring's planes 0-5 and
    block +0..22): planes 0-5 without the capsule (uint8 (6, 16, 8), read-only), the flat
    indices into them of the falling capsule's cells (none while no capsule falls), and
    the 23 values of the vector block."""
    block, x, y, rotation, viruses, left, right, next_left, next_right, speed = _SIDE_VALUES[player](values)
    key = board(block).tobytes()
    planes, heights = _board_part(key)
    cells, shown = _capsule_cells(int(x), int(y), int(rotation) & 3)
    # capsule_is_falling: a cell in the bottle, and every such cell empty
    falling = bool(cells) and key[cells[0]] == EMPTY_TILE and (len(cells) == 1 or key[cells[1]] == EMPTY_TILE)
    if not falling:
        shown = ()
    one_hot = _ONE_HOT.get
    vec = (int(viruses) / MAX_VIRUSES, float(falling), *one_hot(int(left), _NO_COLOUR), *one_hot(int(right), _NO_COLOUR),
           *one_hot(int(next_left), _NO_COLOUR), *one_hot(int(next_right), _NO_COLOUR), int(speed) / 255.0, *heights)
    return planes, shown, vec


def _assemble(own: tuple, opp: tuple | None) -> tuple[np.ndarray, np.ndarray]:
    """One seat's observation, new arrays, from its own side and the opponent's (None: zeros)."""
    opp = _NO_SIDE if opp is None else opp
    planes = np.concatenate((own[0], opp[0]))
    if own[1] or opp[1]:
        flat = planes.reshape(-1)
        for i in own[1]:
            flat[i] = 1
        for i in opp[1]:
            flat[6 * _PLANE + i] = 1
    return planes, np.array(own[2] + opp[2], np.float32)


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
    own = _side(values, p)
    return _assemble(own, _side(values, other(p)) if _two_player(values) else None)


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

    def __init__(self):
        self._values = None  # the variables dict the sides below were built from
        self._sides: dict = {}  # player → _side(values, player)

    def observe(self, values: Mapping, seat: int) -> dict[str, np.ndarray]:
        """``{"planes": uint8 (12, 16, 8), "vector": float32 (46,)}`` of seat ``seat``, new
        arrays. Each player's half is built once per ``values`` dict (the env asks for
        every seat with the same one; it is a new dict each step, never changed)."""
        if values is not self._values:
            self._values, self._sides = values, {}
        p = _seat(seat + 1)
        own = self._side(values, p)
        planes_, vector_ = _assemble(own, self._side(values, other(p)) if _two_player(values) else None)
        return {"planes": planes_, "vector": vector_}

    def _side(self, values: Mapping, player: int) -> tuple[np.ndarray, np.ndarray]:
        side = self._sides.get(player)
        if side is None:
            side = self._sides[player] = _side(values, player)
        return side


__all__ = ["Features", "MAX_VIRUSES", "N_PLANES", "PLANES_SHAPE", "SIDE", "VECTOR_SIZE", "other", "planes", "planes_and_vector",
           "side_names", "vector"]
