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
14     virus   viruses in the runs of 4+ the placed halves complete (the first clear; chains
               not followed)
15     lines   runs of 4+ through the placed halves (a half's row and column; 0-4)
16     halves  capsule halves in those runs, the placed ones included
17     touch   same-colour cells beside the placed halves (up, down, left, right; not each
               other); 0 when the placement clears
18     cover   placed halves resting on another colour with a virus lower in that column
               (the top half of a two-colour vertical capsule rests on its bottom half); 0
               when the placement clears
19     holes   ``gap`` when the placement clears nothing, else 0 (the empty cells it roofs)
20     height  the highest column after the placement (its own columns at ``top`` when it
               clears nothing)
21     danger  how far columns 3-4 (where a capsule appears) reach above 6 after it:
               ``max(0, max(h[3], h[4]) - 6)`` with its own columns raised as for ``height``
22     lag     the greedy score (:mod:`~emurl.games.drmario.greedy`'s weights) of these
               terms, ``q = 100 virus + 20 lines + halves + 4 touch - 6 cover - 6 holes -
               height - 8 danger^2``, below the best ``q`` of the capsule's 32 placements:
               ``min(255, max q - q)`` (0: a best placement)
=====  ======  ==============================================================================

Features 14-21 are the terms of the greedy player's score
(:func:`emurl.games.drmario.greedy.score`) evaluated on the board with the capsule written
in, before anything falls: they equal the greedy's terms unless a clear sets off a chain or
lets halves fall. ``lag`` weighs them as the greedy does; it is the feature that lets a small
tree play like the teacher (offline, 80-leaf trees fitted on 3,000 recorded states: the
greedy score of the tree's placement equalled the teacher's on 69% of 1,500 held-out states
with features 0-13, 78% with 0-21, 94% with ``lag`` too). A placement onto a full column
(``land`` 16: never reachable) has features 14-22 at 0.

6502 cost (estimated per capsule from the walks below, not yet written in 6502 code; an NTSC
frame is 29,780 cycles): ``h[c]`` and the height of each
column's lowest virus, one walk of the 128 bytes (~2,500 cycles). Per placement, the two
halves written into a copy of the 8 x 16 neighbourhood (or into the playfield and restored):
``virus``/``lines``/``halves`` are four walks from the halves (left, right, down, up, at most
7 cells each) counting cells of the half's colour and the viruses among them; ``touch`` four
reads per half; ``cover`` one read and one compare per half; ``height``/``danger`` a max over
8 bytes; about 600 cycles. ``q`` is 16-bit: shifts and adds for the weights, ``danger^2``
from an 11-byte table; ``lag`` a second pass over the 32 ``q`` (16-bit subtract, clamp).
About 25,000 cycles for the 32 placements: spread over the frames a capsule takes to fall.

Rows of placements that don't exist (horizontal in column 7) are all 0. Only what the
player sees: no next capsule, nothing of the opponent, never the capsule sequence at 0x0780.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from emurl.games.drmario.board import COLUMNS, ROWS
from emurl.games.drmario.greedy import Weights
from emurl.games.drmario.placement import N_PLACEMENTS

_WEIGHTS = Weights()
NAMES: tuple[str, ...] = ("vert", "x", "land", "gap", "va", "vb", "ha", "hb", "run", "bury_a", "bury_b", "top",
                          "same", "spawn", "virus", "lines", "halves", "touch", "cover", "holes", "height", "danger",
                          "lag")
"""The feature names, in row order."""
N_FEATURES = len(NAMES)
_GREEDY_FIRST, _LAG_INDEX = NAMES.index("virus"), NAMES.index("lag")
_EMPTY, _WALL = 9, 8  # colour codes of an empty cell and of outside the bottle (never a capsule colour)
_CAP = 15
_LAG = 255
# the greedy's own weights, for ``lag`` (whole numbers, so that q stays an int as on the 6502)
_W_VIRUS, _W_LINE, _W_HALF, _W_TOUCH, _W_COVER, _W_HOLES, _W_HEIGHT, _W_DANGER = (
    int(w) for w in (_WEIGHTS.virus, _WEIGHTS.line, _WEIGHTS.half, _WEIGHTS.colour, _WEIGHTS.bury, _WEIGHTS.holes,
                     _WEIGHTS.height, _WEIGHTS.spawn))
_SPAWN_COLUMNS, _SPAWN_ROW = (3, 4), 6


def _heights(occ: np.ndarray) -> list[int]:
    return [ROWS - int(np.argmax(occ[:, c])) if occ[:, c].any() else 0 for c in range(COLUMNS)]


def _greedy_terms(colour: np.ndarray, virus: np.ndarray, h: list[int], vlow: list[int], x: int, vertical: bool,
                  a: int, b: int, land: int, gap: int, top: int) -> tuple[list[int], int]:
    """Features 14-21 of one placement and its ``q`` (see the module docstring). ``colour``
    (16, 8) int, ``virus`` (16, 8) bool, rows from the top; ``vlow[c]``: 1 + the row (from the
    bottom) of column c's lowest virus, 0 if none."""
    halves = {(land, x): a, (land + 1, x) if vertical else (land, x + 1): b}
    halves = {k: v for k, v in halves.items() if k[0] < ROWS}  # a vertical one locked in the top row keeps one half

    def cell(row: int, c: int) -> int:  # row from the bottom, the capsule written in
        if (row, c) in halves:
            return halves[(row, c)]
        return int(colour[ROWS - 1 - row, c]) if 0 <= row < ROWS and 0 <= c < COLUMNS else _WALL

    marked: set = set()
    lines = 0
    for (row, c), col in halves.items():
        for dr, dc in ((0, 1), (1, 0)):
            run = {(row, c)}
            for step in (1, -1):
                n = 1
                while cell(row + step * dr * n, c + step * dc * n) == col:
                    run.add((row + step * dr * n, c + step * dc * n))
                    n += 1
            if len(run) >= 4 and not run <= marked:  # the other half's run may be this one
                lines += 1
                marked |= run
    viruses = sum(bool(virus[ROWS - 1 - row, c]) for row, c in marked if (row, c) not in halves)
    touch = cover = 0
    if not marked:
        for (row, c), col in halves.items():
            touch += sum((row + dr, c + dc) not in halves and cell(row + dr, c + dc) == col
                         for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)))
            below = cell(row - 1, c)
            cover += row > 0 and below not in (_EMPTY, col) and 0 < vlow[c] <= row
    raised = list(h)
    if not marked:
        for _, c in halves:
            raised[c] = min(top, ROWS)
    holes = 0 if marked else gap
    height = max(raised)
    danger = max(0, max(raised[c] for c in _SPAWN_COLUMNS) - _SPAWN_ROW)
    q = (_W_VIRUS * viruses + _W_LINE * lines + _W_HALF * (len(marked) - viruses) + _W_TOUCH * touch
         - _W_COVER * cover - _W_HOLES * holes - _W_HEIGHT * height - _W_DANGER * danger * danger)
    terms = [min(viruses, _CAP), lines, min(len(marked) - viruses, _CAP), touch, cover, holes, height, danger]
    return terms, q


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
    virus = occ & ((tiles >> 4) == 0xD)
    vlow = [ROWS - int(np.flatnonzero(virus[:, c])[-1]) if virus[:, c].any() else 0 for c in range(COLUMNS)]
    q = np.full(N_PLACEMENTS, np.iinfo(np.int64).min, np.int64)
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
            out[x * 4 + r, :_GREEDY_FIRST] = [r & 1, x, land, gap, *runs, max(runs), bury_a, bury_b, top, a == b,
                              max(0, top - 10) if 2 <= x <= 5 else 0]
            if land < ROWS:  # else the column is full: no placement there
                terms, q[x * 4 + r] = _greedy_terms(colour, virus, h, vlow, x, bool(r & 1), a, b, land, gap, top)
                out[x * 4 + r, _GREEDY_FIRST:_LAG_INDEX] = terms
    scored = q > np.iinfo(np.int64).min
    if scored.any():
        out[scored, _LAG_INDEX] = np.minimum(q[scored].max() - q[scored], _LAG)
    return out


def seat_features(values: Mapping, seat: int) -> np.ndarray:
    """:func:`placement_features` of seat ``seat`` (0: player 1) from the step's variables
    (``playfield_pN``, ``capsule_left_pN``, ``capsule_right_pN`` of ``data.json``)."""
    p = int(seat) + 1
    return placement_features(values[f"playfield_p{p}"], values[f"capsule_left_p{p}"], values[f"capsule_right_p{p}"])


__all__ = ["NAMES", "N_FEATURES", "N_PLACEMENTS", "placement_features", "seat_features"]
