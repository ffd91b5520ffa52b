"""Features of one candidate placement that a 6502 can compute from RAM bytes: the input of
a decision tree small enough to run on the NES (issue 17, phase 2). The tree scores each of
the 32 placements (anchor column x rotation, :mod:`~emurl.games.drmario.placement`) from
its row here; the player takes the best-scored reachable one.

Inputs: the seat's 128 playfield bytes (P1 0x0400-0x047F, P2 0x0500-0x057F, row-major from
the top-left, 8 wide) and the falling capsule's colours (P1 0x0301 / 0x0302, P2 0x0381 /
0x0382; 0 yellow, 1 red, 2 blue). Addresses, tile codes and the rotation table:
``docs/facts/dr-mario.md`` and MiniDoc-Nes's ``MEMORY.md``. A cell is *occupied* when its
byte is not 0xFF and its high nibble is not 0xB (a cleared cell is gone within frames); its
colour is the byte AND 0x0F. ``h[c]`` is column c's height: 16 minus the row of its topmost
occupied cell (0 if empty; a walk down the column, ``LDA $0400+c,Y`` with Y += 8).

The capsule's halves: ``a`` is the left (horizontal) or bottom (vertical) one, ``b`` the
other; rotation 0: a = first colour, 1: a = first (bottom), 2: a = second (left), 3: a =
second (bottom). It is assumed to land straight down on the stack (rows counted from the
bottom, 0-based): horizontal at ``max(h[x], h[x+1])``, vertical at ``h[x]``.

=====  ======  ==============================================================================
index  name    meaning (one byte each; runs capped at 15)
=====  ======  ==============================================================================
0      vert    1 for rotations 1 and 3 (vertical), else 0
1      x       anchor column 0-7
2      land    landing row of the lower half (0-16)
3      gap     horizontal: ``|h[x] - h[x+1]|``, the empty cells left under one half; else 0
4      va      the vertical run half a ends up in: same-colour cells straight below it (if
               it rests on them) + 1, + 1 more for a vertical one-colour capsule
5      vb      the same for half b (vertical: = va for a one-colour capsule, else 1)
6      ha      the horizontal run half a ends up in at its row (cells of its colour beside it,
               through b when b has the same colour) + 1
7      hb      the same for half b
8      run     max(va, vb, ha, hb): 4 or more clears
9      bury_a  1 if half a rests on an occupied cell of another colour
10     bury_b  the same for half b (horizontal only)
11     top     the row above the placed capsule's top (land + 1, or + 2 vertical)
12     same    1 for a one-colour capsule
13     spawn   columns 2-5 (near where capsules appear): max(0, top - 10); else 0
=====  ======  ==============================================================================

Rows of placements that don't exist (horizontal in column 7) are all 0. Only what the
player sees: no next capsule, nothing of the opponent, never the capsule sequence at 0x0780.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

COLUMNS = 8
ROWS = 16
N_PLACEMENTS = 32
NAMES: tuple[str, ...] = ("vert", "x", "land", "gap", "va", "vb", "ha", "hb", "run", "bury_a", "bury_b", "top",
                          "same", "spawn")
"""The feature names, in row order."""
N_FEATURES = len(NAMES)
_EMPTY, _WALL = 9, 8  # colour codes of an empty cell and of outside the bottle (never a capsule colour)
_CAP = 15


def _heights(occ: np.ndarray) -> list[int]:
    return [ROWS - int(np.argmax(occ[:, c])) if occ[:, c].any() else 0 for c in range(COLUMNS)]


def placement_features(playfield, first: int, second: int) -> np.ndarray:
    """The features of every placement (see the module docstring).

    Args:
        playfield: the seat's 128 playfield bytes (bytes or a uint8 array of 128 or (16, 8)).
        first, second: the falling capsule's colours (0x0301 / 0x0302), 0-2.

    Returns:
        uint8 (32, :data:`N_FEATURES`): row ``column * 4 + rotation``.

    Raises:
        ValueError: ``playfield`` is not 128 bytes.
    """
    tiles = np.frombuffer(bytes(playfield), np.uint8) if isinstance(playfield, (bytes, bytearray)) \
        else np.asarray(playfield, np.uint8).reshape(-1)
    if tiles.size != ROWS * COLUMNS:
        raise ValueError(f"a playfield is {ROWS * COLUMNS} bytes, got {tiles.size}")
    tiles = tiles.reshape(ROWS, COLUMNS)
    occ = (tiles != 0xFF) & ((tiles >> 4) != 0xB)
    colour = np.where(occ, tiles & 0x0F, _EMPTY).astype(int)
    h = _heights(occ)
    first, second = int(first) & 0x0F, int(second) & 0x0F

    def cell(row: int, c: int) -> int:  # row from the bottom
        r = ROWS - 1 - row
        return int(colour[r, c]) if 0 <= r < ROWS and 0 <= c < COLUMNS else _WALL

    def down(c: int, row: int, col: int) -> int:
        n = 0
        while row - 1 - n >= 0 and cell(row - 1 - n, c) == col:
            n += 1
        return n

    def side(c: int, row: int, col: int, step: int) -> int:
        n = 0
        while cell(row, c + step * (n + 1)) == col:
            n += 1
        return n

    out = np.zeros((N_PLACEMENTS, N_FEATURES), np.uint8)
    for x in range(COLUMNS):
        for r in range(4):
            a, b = (first, second) if r in (0, 1) else (second, first)
            if r & 1:
                land = h[x]
                va = down(x, land, a) + 1 + (a == b)
                vb = va if a == b else 1
                ha = side(x, land, a, -1) + side(x, land, a, 1) + 1
                hb = side(x, land + 1, b, -1) + side(x, land + 1, b, 1) + 1
                bury_a, bury_b = int(land > 0 and cell(land - 1, x) != a), 0
                gap, top = 0, land + 2
            else:
                if x == COLUMNS - 1:
                    continue
                land = max(h[x], h[x + 1])
                gap = abs(h[x] - h[x + 1])
                va = (down(x, land, a) if h[x] == land else 0) + 1
                vb = (down(x + 1, land, b) if h[x + 1] == land else 0) + 1
                ha = side(x, land, a, -1) + 1 + ((1 + side(x + 1, land, a, 1)) if a == b else 0)
                hb = side(x + 1, land, b, 1) + 1 + ((1 + side(x, land, b, -1)) if a == b else 0)
                bury_a = int(land > 0 and h[x] == land and cell(land - 1, x) != a)
                bury_b = int(land > 0 and h[x + 1] == land and cell(land - 1, x + 1) != b)
                top = land + 1
            runs = [min(v, _CAP) for v in (va, vb, ha, hb)]
            out[x * 4 + r] = [r & 1, x, land, gap, *runs, max(runs), bury_a, bury_b, top, a == b,
                              max(0, top - 10) if 2 <= x <= 5 else 0]
    return out


def seat_features(values: Mapping, seat: int) -> np.ndarray:
    """:func:`placement_features` of seat ``seat`` (0: player 1) from the step's variables
    (``playfield_pN``, ``capsule_left_pN``, ``capsule_right_pN`` of ``data.json``)."""
    p = int(seat) + 1
    return placement_features(values[f"playfield_p{p}"], values[f"capsule_left_p{p}"], values[f"capsule_right_p{p}"])


__all__ = ["NAMES", "N_FEATURES", "N_PLACEMENTS", "placement_features", "seat_features"]
