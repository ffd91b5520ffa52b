"""A greedy placement player: lock the capsule in every reachable placement, let the board
settle as MiniDoc does (``rules.c``: ``lock``, ``find_matches``, ``apply_marks``,
``fall_once``, chains), score the result, pick the best. Pure logic (NumPy only).

The score (higher is better), per placement, weights in :class:`Weights`:

- ``virus`` × viruses cleared, ``line`` × runs of 4+ cleared, ``half`` × capsule halves cleared;
- ``colour`` × same-colour neighbours the placed halves that stay join (a half on a half
  or virus of its colour, in a row or a column: the start of the next match), and
  ``bury`` × halves that stay on top of another colour with a virus below them in that
  column (covering a virus with the wrong colour);
- ``holes`` × new holes (empty cells under the stack top: :func:`~emurl.games.drmario.board.holes`),
  ``height`` × the highest column, ``spawn`` × how far columns 3-4 (where capsules appear:
  a full one tops out) reach above row 6 from the bottom, squared.

Ties go to the placement whose path has fewer frames (the capsule is down sooner).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emurl.games.drmario.board import (
    BOTTOM,
    COLUMNS,
    EMPTY_TILE,
    LEFT,
    RIGHT,
    ROWS,
    SINGLE,
    TOP,
    VIRUS,
    board,
    column_heights,
    holes,
)
from emurl.games.drmario.placement import Search

_EMPTY = EMPTY_TILE


@dataclass(frozen=True)
class Weights:
    """The greedy score's coefficients (see the module docstring)."""

    virus: float = 100.0
    line: float = 20.0
    half: float = 1.0
    colour: float = 4.0
    bury: float = 6.0
    holes: float = 6.0
    height: float = 1.0
    spawn: float = 8.0


def lock(tiles: np.ndarray, x: int, y: int, rotation: int, first: int, second: int) -> list[list[int]]:
    """The board (rows of tile codes, a copy) with the capsule written in as ``rules.c``'s
    ``lock`` does: horizontal 0x6_/0x7_, vertical 0x4_ over 0x5_, a vertical one locked in
    the top row keeps only its lower half, as a single (0x8_)."""
    pf = [list(map(int, row)) for row in board(tiles)]
    a, b = (second, first) if rotation in (1, 2) else (first, second)  # a: top or left half
    row = ROWS - 1 - int(y)
    if rotation & 1:
        if row == 0:
            pf[row][x] = (SINGLE << 4) | b
        else:
            pf[row - 1][x] = (TOP << 4) | a
            pf[row][x] = (BOTTOM << 4) | b
    else:
        pf[row][x] = (LEFT << 4) | a
        pf[row][x + 1] = (RIGHT << 4) | b
    return pf


def _colour(t: int) -> int:
    return -1 if t == _EMPTY or (t >> 4) == 0xB else t & 0x0F


def _matches(pf) -> tuple[set, int]:
    marked: set = set()
    runs = 0
    for lines in ([[(r, c) for c in range(COLUMNS)] for r in range(ROWS)],
                  [[(r, c) for r in range(ROWS)] for c in range(COLUMNS)]):
        for line in lines:
            i = 0
            while i < len(line):
                col = _colour(pf[line[i][0]][line[i][1]])
                n = 1
                while col >= 0 and i + n < len(line) and _colour(pf[line[i + n][0]][line[i + n][1]]) == col:
                    n += 1
                if col >= 0 and n >= 4:
                    runs += 1
                    marked.update(line[i:i + n])
                i += n
    return marked, runs


def _fall(pf) -> bool:
    moved = False
    for r in range(ROWS - 2, -1, -1):
        c = 0
        while c < COLUMNS:
            v = pf[r][c]
            k = v >> 4
            if v != _EMPTY and k in (SINGLE, BOTTOM):
                if pf[r + 1][c] == _EMPTY:
                    pf[r + 1][c], pf[r][c] = v, _EMPTY
                    if k == BOTTOM and r:
                        pf[r][c], pf[r - 1][c] = pf[r - 1][c], _EMPTY
                    moved = True
            elif v != _EMPTY and k == LEFT:
                if pf[r + 1][c] == _EMPTY and pf[r + 1][c + 1] == _EMPTY:
                    pf[r + 1][c], pf[r + 1][c + 1] = v, pf[r][c + 1]
                    pf[r][c] = pf[r][c + 1] = _EMPTY
                    moved = True
                c += 1
            c += 1
    return moved


def settle(pf: list[list[int]]) -> tuple[int, int, int]:
    """Clear matches and let loose halves fall until the board is still, in place (the
    flashing is skipped: cleared cells are emptied at once). Returns ``(runs cleared,
    viruses cleared, halves cleared)`` over every chain step."""
    runs = viruses = halves = 0
    while True:
        marked, n = _matches(pf)
        if not n:
            return runs, viruses, halves
        runs += n
        for r, c in marked:
            k = pf[r][c] >> 4
            viruses += k == VIRUS
            halves += k != VIRUS
            # the other half of a capsule cut in two becomes single (apply_marks)
            other = {TOP: (r + 1, c), BOTTOM: (r - 1, c), LEFT: (r, c + 1), RIGHT: (r, c - 1)}.get(k)
            if other and other not in marked and 0 <= other[0] < ROWS and 0 <= other[1] < COLUMNS:
                orow, ocol = other
                pf[orow][ocol] = (SINGLE << 4) | (pf[orow][ocol] & 0x0F)
        for r, c in marked:
            pf[r][c] = _EMPTY
        while _fall(pf):
            pass


def _placed_cells(x: int, y: int, rotation: int) -> list[tuple[int, int]]:
    row = ROWS - 1 - int(y)
    if rotation & 1:
        return [(row, x)] + ([(row - 1, x)] if row > 0 else [])
    return [(row, x), (row, x + 1)]


def _neighbourhood(pf, cells) -> tuple[int, int]:
    same = bury = 0
    for r, c in cells:
        t = pf[r][c]
        if t == _EMPTY or (t >> 4) == VIRUS:
            continue  # cleared (or fell away): nothing to judge
        col = t & 0x0F
        for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            rr, cc = r + dr, c + dc
            if 0 <= rr < ROWS and 0 <= cc < COLUMNS and (rr, cc) not in cells and _colour(pf[rr][cc]) == col:
                same += 1
        if r + 1 < ROWS and pf[r + 1][c] != _EMPTY and _colour(pf[r + 1][c]) != col:
            bury += any((pf[rr][c] >> 4) == VIRUS for rr in range(r + 1, ROWS))
    return same, bury


def score(tiles, x: int, y: int, rotation: int, first: int, second: int, weights: Weights = Weights()) -> float:
    """The greedy score of locking the capsule (colours ``first``, ``second``: 0x0301/0x0302)
    with its anchor at ``(x, y)`` (y from the bottom) in ``rotation`` on ``tiles``."""
    before = board(tiles)
    pf = lock(before, x, y, rotation, first, second)
    runs, viruses, halves = settle(pf)
    after = np.array(pf, np.uint8)
    same, bury = _neighbourhood(pf, _placed_cells(x, y, rotation)) if not runs else (0, 0)
    heights = column_heights(after)
    spawn = max(0, int(max(heights[3], heights[4])) - 6)
    new_holes = max(0, int(holes(after).sum() - holes(before).sum()))
    w = weights
    return (w.virus * viruses + w.line * runs + w.half * halves + w.colour * same - w.bury * bury
            - w.holes * new_holes - w.height * int(heights.max()) - w.spawn * spawn * spawn)


def choose(tiles, found: Search, first: int, second: int, weights: Weights = Weights()) -> int:
    """The best placement of ``found`` (a :func:`~emurl.games.drmario.placement.search` of
    this board) for a capsule of colours ``first`` and ``second``.

    Raises:
        ValueError: ``found`` allows no placement.
    """
    best, best_key = None, None
    for idx, landing in found.landings.items():
        if not found.mask[idx]:
            continue
        key = (score(tiles, landing.column, landing.y, landing.rotation, first, second, weights), -len(landing.frames))
        if best_key is None or key > best_key:
            best, best_key = idx, key
    if best is None:
        raise ValueError("no placement is reachable")
    return best


__all__ = ["Weights", "choose", "lock", "score", "settle"]
