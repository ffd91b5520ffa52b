"""Dr. Mario's bottle: tile codes, the 16 × 8 board, column heights, holes, the falling capsule.

Facts (``docs/facts/dr-mario.md``; Nostaljipi's disassembly ``defines/drmario_constants.asm``,
``data/drmario_data_game.asm``):

- A playfield is 128 bytes, 8 wide × 16 tall, row-major from the top-left (P1 at
  0x0400, P2 at 0x0500): board ``[row, column]``, row 0 the top.
- A tile's high nibble is its kind, its low nibble its colour (0 yellow, 1 red,
  2 blue): 0x4_ capsule top half, 0x5_ bottom half, 0x6_ left half, 0x7_ right half,
  0x8_ single half, 0x9_ / 0xA_ middle halves (pills longer than two, unused by the
  game), 0xB_ cleared (flashing, gone within frames), 0xD_ virus, 0xF_ just emptied
  (still showing its colour), 0xFF empty.
- The falling capsule is not in the playfield (it is drawn as sprites) until it lands.
  Its x (0-7) and y (0-15, counted from the *bottom*: row = 15 - y) locate its
  bottom-left half; rotation r (0-3) says where its two halves are
  (``halfPill_posOffset_rotationAndSizeBased``), the first colour (0x0301, "left")
  and the second (0x0302, "right"):

  ====  ==========================  ===========================
  r     first colour at             second colour at
  ====  ==========================  ===========================
  0     (row, x)      left          (row, x + 1)   right
  1     (row, x)      bottom        (row - 1, x)   top
  2     (row, x + 1)  right         (row, x)       left
  3     (row - 1, x)  top           (row, x)       bottom
  ====  ==========================  ===========================

  A half above the top row (row -1: a vertical capsule at y = 15) is not shown.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

ROWS, COLUMNS = 16, 8
"""The bottle: 16 rows (row 0 at the top) × 8 columns."""
SIZE = ROWS * COLUMNS
"""Bytes in one playfield (128)."""
EMPTY_TILE = 0xFF
COLOURS = ("yellow", "red", "blue")
"""Colour codes 0, 1, 2 (a tile's low nibble; the capsule colour bytes)."""

# tile kinds: a tile's high nibble
TOP, BOTTOM, LEFT, RIGHT, SINGLE, MIDDLE_V, MIDDLE_H = 0x4, 0x5, 0x6, 0x7, 0x8, 0x9, 0xA
CLEARED, VIRUS, EMPTIED = 0xB, 0xD, 0xF
CAPSULE_KINDS = (TOP, BOTTOM, LEFT, RIGHT, SINGLE, MIDDLE_V, MIDDLE_H)

# cell classes of classify(): what a tile means to a player
EMPTY, HALF, VIRUS_CELL, FLASH = 0, 1, 2, 3

_CLASS = np.zeros(256, np.int8)  # by tile byte; anything unlisted (0x00-0x3F, 0xC_, 0xE_) counts as empty
for _kind in CAPSULE_KINDS:
    _CLASS[_kind << 4:(_kind << 4) + 16] = HALF
_CLASS[VIRUS << 4:(VIRUS << 4) + 16] = VIRUS_CELL
_CLASS[CLEARED << 4:(CLEARED << 4) + 16] = FLASH
_COLOUR = np.where(np.isin(_CLASS, (HALF, VIRUS_CELL)) & ((np.arange(256) & 0x0F) <= 2), np.arange(256) & 0x0F, -1).astype(np.int8)

# where the two halves of a falling capsule lie, by rotation: (row offset, column offset)
# of the first colour's half and of the second's, from the anchor (row 15 - y, column x)
HALF_OFFSETS = {0: ((0, 0), (0, 1)), 1: ((0, 0), (-1, 0)), 2: ((0, 1), (0, 0)), 3: ((-1, 0), (0, 0))}


def board(block) -> np.ndarray:
    """A playfield as a board.

    Args:
        block: the 128 playfield bytes (bytes, a uint8 array of 128 or (16, 8) values:
            an array variable of ``data.json`` such as ``playfield_p1``).

    Returns:
        uint8 (16, 8), ``[row, column]``, row 0 the top: the tile codes (``block`` itself
        where it already is a uint8 (16, 8) array, else a view of it where it is a uint8 array).

    Raises:
        ValueError: ``block`` does not hold 128 bytes.
    """
    if type(block) is np.ndarray and block.dtype == np.uint8 and block.shape == (ROWS, COLUMNS):
        return block  # the array variable as the reader gives it (every step, for each seat)
    a = np.frombuffer(block, np.uint8) if isinstance(block, (bytes, bytearray, memoryview)) else np.asarray(block, np.uint8)
    if a.size != SIZE:
        raise ValueError(f"a Dr. Mario playfield is {SIZE} bytes (16 rows x 8 columns), got {a.size}")
    return a.reshape(ROWS, COLUMNS)


def classify(tiles: np.ndarray) -> np.ndarray:
    """What each tile is: int8 of ``tiles``' shape, :data:`EMPTY` (0xFF, 0xF_ just emptied
    and unknown codes), :data:`HALF` (a capsule half), :data:`VIRUS_CELL` or :data:`FLASH`
    (0xB_, cleared and about to vanish)."""
    return _CLASS[np.asarray(tiles, np.uint8)]


def colours(tiles: np.ndarray) -> np.ndarray:
    """int8 of ``tiles``' shape: the colour (0 yellow, 1 red, 2 blue) of each capsule half
    and virus, -1 elsewhere (empty, cleared, unknown)."""
    return _COLOUR[np.asarray(tiles, np.uint8)]


def occupied(tiles: np.ndarray) -> np.ndarray:
    """bool of ``tiles``' shape: a capsule half or a virus is there (cleared tiles, which
    vanish within frames, and emptied ones are not)."""
    cls = classify(tiles)
    return (cls == HALF) | (cls == VIRUS_CELL)


def column_heights(tiles: np.ndarray) -> np.ndarray:
    """int64 (8,): per column, 16 minus the row of its topmost occupied cell (0 for an empty
    column, 16 for a full one): how high the stack of halves and viruses reaches, in cells."""
    occ = occupied(tiles)
    top = np.where(occ.any(axis=0), occ.argmax(axis=0), ROWS)
    return (ROWS - top).astype(np.int64)


def holes(tiles: np.ndarray) -> np.ndarray:
    """int64 (8,): per column, the empty cells below its topmost occupied cell (cells a
    capsule can reach only by sliding in sideways)."""
    occ = occupied(tiles)
    below_top = np.cumsum(occ, axis=0) > 0
    return (below_top & ~occ).sum(axis=0).astype(np.int64)


class Capsule(NamedTuple):
    """The falling capsule's cells: ``(row, column)`` of the first colour's half and of the
    second's; a half above the bottle is ``None``. Colours 0-2 (-1 when unknown)."""

    first: tuple[int, int] | None
    second: tuple[int, int] | None
    first_colour: int = -1
    second_colour: int = -1


def capsule_cells(x: int, y: int, rotation: int, first_colour: int = -1, second_colour: int = -1) -> Capsule:
    """Where the falling capsule's halves are (see the module docstring's table).

    Args:
        x: column of its bottom-left half, 0-7 (0x0305 / 0x0385).
        y: its row counted from the bottom, 0-15 (0x0306 / 0x0386).
        rotation: 0-3 (0x0325 / 0x03A5); only its low two bits count, as in the game.
        first_colour, second_colour: 0x0301 / 0x0302 (P2 0x0381 / 0x0382).

    Returns:
        :class:`Capsule`; a cell outside the bottle (a half above the top row, or garbage
        coordinates outside a level) is None.

    >>> capsule_cells(3, 15, 0)
    Capsule(first=(0, 3), second=(0, 4), first_colour=-1, second_colour=-1)
    >>> capsule_cells(3, 15, 1).second is None  # the upper half is above the bottle
    True
    """
    anchor_row = ROWS - 1 - int(y)
    cells = []
    for dr, dc in HALF_OFFSETS[int(rotation) & 3]:
        r, c = anchor_row + dr, int(x) + dc
        cells.append((r, c) if 0 <= r < ROWS and 0 <= c < COLUMNS else None)
    return Capsule(cells[0], cells[1], int(first_colour), int(second_colour))


def capsule_is_falling(tiles: np.ndarray, capsule: Capsule) -> bool:
    """Whether ``capsule`` can be the falling one: it has a cell in the bottle and every such
    cell is empty (0xFF). The game moves a capsule only onto empty cells and writes it into
    the playfield when it lands, so after landing (and until the next one appears) its
    stale coordinates point at filled cells. A heuristic, not a game flag: cells emptied
    again by a clear before the next capsule appears read as falling."""
    cells = [c for c in (capsule.first, capsule.second) if c is not None]
    t = np.asarray(tiles, np.uint8)
    return bool(cells) and all(t[r, c] == EMPTY_TILE for r, c in cells)


def newly_cleared(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """bool (16, 8): cells cleared (0xB_) in ``after`` that were not cleared in ``before``."""
    return (classify(after) == FLASH) & (classify(before) != FLASH)


def count_lines(mask: np.ndarray, length: int = 4) -> int:
    """Maximal horizontal and vertical runs of at least ``length`` True cells in ``mask``:
    the matches a set of newly cleared cells holds (the game clears a run of four or
    more of one colour as one match, ``match_length`` = 4)."""
    m = np.asarray(mask, bool)
    if not m.any():
        return 0
    lines = 0
    for runs in (m, m.T):
        for line in runs:
            run = 0
            for cell in line:
                if cell:
                    run += 1
                else:
                    lines += run >= length
                    run = 0
            lines += run >= length
    return int(lines)


__all__ = [
    "BOTTOM", "CAPSULE_KINDS", "CLEARED", "COLOURS", "COLUMNS", "Capsule", "EMPTIED", "EMPTY", "EMPTY_TILE",
    "FLASH", "HALF", "HALF_OFFSETS", "LEFT", "RIGHT", "ROWS", "SINGLE", "SIZE", "TOP", "VIRUS", "VIRUS_CELL",
    "board", "capsule_cells", "capsule_is_falling", "classify", "colours", "column_heights", "count_lines",
    "holes", "newly_cleared", "occupied",
]
