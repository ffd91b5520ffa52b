"""Placement actions: where the falling capsule should lock, which of those it can still
reach, and the buttons that take it there. Pure logic (NumPy only).

**The placement set**: 8 columns × 4 rotations = 32 placements, index
``column * 4 + rotation``. ``column`` is the capsule's anchor column (its bottom-left
half: 0x0305) and ``rotation`` Dr. Mario's 0-3 (0x0325; :data:`~emurl.games.drmario.board.HALF_OFFSETS`)
at the moment it locks. Both horizontal rotations (0, 2) and both vertical ones (1, 3) are
kept apart because they put the two colours in opposite places. A horizontal capsule
anchored in column 7 would stick out of the bottle, so placements 28 (7, 0) and 30
(7, 2) are always masked (:data:`VALID`): 30 can ever be chosen. The row a placement
lands on is not part of it: it is the row the planner's path reaches first (normally the
straight drop; under an overhang, the tuck, see :func:`search`).

**The rules modelled** are MiniDoc's (``homebrew/minidoc/src/rules.c``: ``control``,
``fits``, ``rotate``), one game frame at a time: A rotates clockwise (0 → 3 → 2 → 1), B
counter-clockwise, on the frame the button goes down; turning back to horizontal where the
right-hand cell is blocked kicks the capsule one column left if that fits (no other kick);
LEFT/RIGHT move one column on the press (then auto-repeat after 16 frames held, every 6);
the speed counter (0x0312) counts frames, and at ``gravity`` frames (40 / 25 / 15, 0x030F),
or 2 with DOWN held, the capsule falls a row or, blocked, locks. The top row's vertical
capsule may poke its upper half above the bottle.

**The search** walks the frames from the capsule's present state with a small set of
moves: a *tap* (one of LEFT, RIGHT, A, B, LEFT+A, RIGHT+A, LEFT+B, RIGHT+B for one frame,
then a frame with nothing pressed, so the next tap is a new press), a *wait* (nothing pressed until
the next gravity step, or one frame to let go of a held button) and a *drop* (DOWN held until it locks). It never holds LEFT/RIGHT (no
auto-repeat) and never moves while dropping: the mask is what *this* planner reaches, a
subset of what a frame-perfect player could, so a placement the mask allows is one the
planner lands. Reaching ``(x, y, rotation)`` earlier dominates reaching it later (waiting
turns one into the other), so at most 16 × 8 × 4 states are expanded, in time order.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from emurl.games.drmario.board import COLUMNS, ROWS, board, occupied

ROTATIONS = 4
N_PLACEMENTS = COLUMNS * ROTATIONS
"""32: 8 anchor columns × 4 rotations (index ``column * 4 + rotation``)."""
VALID = np.array([not (c == COLUMNS - 1 and r % 2 == 0) for c in range(COLUMNS) for r in range(ROTATIONS)])
"""bool (32,): False for the two horizontal placements in column 7 (they never fit)."""
NAMES = [f"column {c} rotation {r}" for c in range(COLUMNS) for r in range(ROTATIONS)]

# button bits as the game reads them (0x00F5-0x00F8)
A, B, DOWN, LEFT, RIGHT = 0x80, 0x40, 0x04, 0x02, 0x01
BITS = {"A": A, "B": B, "DOWN": DOWN, "LEFT": LEFT, "RIGHT": RIGHT}
TAPS = (("LEFT",), ("RIGHT",), ("A",), ("B",), ("LEFT", "A"), ("RIGHT", "A"), ("LEFT", "B"), ("RIGHT", "B"))
"""The one-frame presses of a tap (each followed by a frame of nothing): all in the frame action set."""
NOTHING: tuple[str, ...] = ()
DROP = ("DOWN",)
AUTO_REPEAT_DELAY, AUTO_REPEAT_RESET = 16, 10  # rules.c control(): das >= 16, then das = 10 (every 6)
DOWN_GRAVITY = 2


def placement_index(column: int, rotation: int) -> int:
    """The index of placement ``(column, rotation)``: ``column * 4 + rotation``."""
    return int(column) * ROTATIONS + (int(rotation) & 3)


def placement_of(index: int) -> tuple[int, int]:
    """``(column, rotation)`` of placement ``index`` (0-31)."""
    return divmod(int(index), ROTATIONS)


@dataclass(frozen=True)
class Falling:
    """The falling capsule under control, as the game holds it.

    x (0-7) and y (0-15 from the bottom) of its anchor, rotation 0-3, ``speed_counter``
    (frames on this row, 0x0312), ``gravity`` (frames per row, 0x030F), ``held`` (the
    buttons held on the last frame the game read, 0x00F7 bits: a button held then is no
    new press now) and ``das`` (the auto-repeat counter, 0x030C).
    """

    x: int
    y: int
    rotation: int
    speed_counter: int = 0
    gravity: int = 40
    held: int = 0
    das: int = 0


class Landing(NamedTuple):
    """How placement ``(column, rotation)`` is reached: the anchor row ``y`` (from the
    bottom) it locks on, ``frames``, the buttons of each frame from now to the frame it
    locks (inclusive), and ``trace``, ``(x, y, rotation, speed_counter)`` after each frame
    but the last (what the game should show, to check the plan against)."""

    column: int
    rotation: int
    y: int
    frames: tuple[tuple[str, ...], ...]
    trace: tuple[tuple[int, int, int, int], ...]


class Search(NamedTuple):
    """What :func:`search` found: ``mask``, bool (32,), and ``landings``, placement index →
    :class:`Landing`, for the placements the mask allows."""

    mask: np.ndarray
    landings: dict[int, Landing]


def fits_table(tiles) -> list[list[list[bool]]]:
    """``fits[y][x][rotation]`` for y 0-15, x 0-7: the capsule can be there (rules.c
    ``fits``: the anchor cell and, horizontal, the cell to its right, vertical, the cell
    above it are inside and empty; above the top row counts as free)."""
    occ = occupied(board(tiles))
    free = [[not occ[ROWS - 1 - y, x] for x in range(COLUMNS)] for y in range(ROWS)] + [[True] * COLUMNS]
    return [[[free[y][x] and (free[y + 1][x] if r & 1 else (x + 1 < COLUMNS and free[y][x + 1]))
              for r in range(ROTATIONS)] for x in range(COLUMNS)] for y in range(ROWS)]


def _fits(fits, x: int, y: int, r: int) -> bool:
    return 0 <= x < COLUMNS and 0 <= y < ROWS and fits[y][x][r]


def step_frame(fits, state: tuple, held: int, gravity: int) -> tuple[tuple, bool]:
    """One game frame of rules.c ``control()``.

    Args:
        fits: :func:`fits_table` of the board.
        state: ``(x, y, rotation, speed_counter, das, previously held bits)``.
        held: the buttons held this frame (bits).
        gravity: frames per row.

    Returns:
        ``(new state, locked)``; when locked, x/y/rotation are where it locked.
    """
    x, y, r, ctr, das, prev = state
    pressed = held & ~prev
    for bit, turn in ((A, 3), (B, 1)):
        if pressed & bit:
            nr = (r + turn) & 3
            if _fits(fits, x, y, nr):
                r = nr
            elif not nr & 1 and _fits(fits, x - 1, y, nr):
                x, r = x - 1, nr
    d = 0
    if pressed & LEFT:
        d, das = -1, 0
    elif pressed & RIGHT:
        d, das = 1, 0
    elif held & (LEFT | RIGHT):
        das += 1
        if das >= AUTO_REPEAT_DELAY:
            das = AUTO_REPEAT_RESET
            d = -1 if held & LEFT else 1
    if d and _fits(fits, x + d, y, r):
        x += d
    ctr += 1
    locked = False
    if ctr >= (DOWN_GRAVITY if held & DOWN else gravity):
        ctr = 0
        if _fits(fits, x, y - 1, r):
            y -= 1
        else:
            locked = True
    return (x, y, r, ctr, das, held), locked


def _bits(names) -> int:
    return sum(BITS[n] for n in names)


_TAPS = [((tap, NOTHING), (_bits(tap), 0)) for tap in TAPS]
_ALL = int(VALID.sum())


def search(tiles, falling: Falling, target: int | None = None) -> Search:
    """Every placement the planner can still reach, and how.

    Args:
        tiles: the seat's playfield (128 bytes or uint8 (16, 8)); the falling capsule is
            not in it (the game writes it there when it locks).
        falling: the capsule now.
        target: stop as soon as this placement is found (the mask then holds what was
            found by then: to plan again towards a chosen placement).

    Returns:
        :class:`Search`; for a placement reached by several paths, the one whose path is
        found first in time order (usually the straight drop from the top). The mask
        always allows at least the placement the capsule locks on when dropped now.
    """
    fits = fits_table(tiles)
    g = max(1, int(falling.gravity))
    root = (int(falling.x), int(falling.y), int(falling.rotation) & 3, int(falling.speed_counter), int(falling.das),
            int(falling.held))
    # node key (x, y, r, has-held-buttons) -> (parent key, frames, trace, state)
    nodes: dict[tuple, tuple] = {}
    root_key = root[:3] + (root[5] != 0,)
    nodes[root_key] = (None, (), (), root)
    heap = [(0, 0, root_key)]
    serial = 1
    landings: dict[int, Landing] = {}

    def land(key, frames, trace, x, y, r) -> None:
        idx = placement_index(x, r)
        if idx not in landings:
            path_f, path_t = _path(nodes, key)
            landings[idx] = Landing(x, r, y, path_f + frames, path_t + trace)

    def add(key, t, names, trace, s) -> None:
        nonlocal serial
        child = s[:3] + (s[5] != 0,)
        if child not in nodes:
            nodes[child] = (key, names, tuple(trace), s)
            heapq.heappush(heap, (t + len(names), serial, child))
            serial += 1

    while heap and len(landings) < _ALL and (target is None or target not in landings):
        t, _, key = heapq.heappop(heap)
        state = nodes[key][3]
        x, y, r, ctr, das, held = state
        if placement_index(x, r) not in landings:  # drop: DOWN held until it locks (same x, r)
            s, n, trace = state, 0, []
            while True:
                s, locked = step_frame(fits, s, DOWN, g)
                n += 1
                if locked:
                    break
                trace.append(s[:4])
            land(key, (DROP,) * n, tuple(trace), s[0], s[1], s[2])
        for names, bits in _TAPS:
            s, trace, done = state, [], False
            for n, b in enumerate(bits):
                s, locked = step_frame(fits, s, b, g)
                if locked:
                    land(key, names[:n + 1], tuple(trace), s[0], s[1], s[2])
                    done = True
                    break
                trace.append(s[:4])
            if not done:
                add(key, t, names, trace, s)
        # wait: nothing pressed until the next gravity step (waiting less only reaches a key
        # reached earlier already: moves do not depend on the time spent in a row), or one
        # frame to let go of a held button
        if held:
            s, locked = step_frame(fits, state, 0, g)
            if locked:
                land(key, (NOTHING,), (), s[0], s[1], s[2])
            else:
                add(key, t, (NOTHING,), [s[:4]], s)
            continue
        n = max(1, g - ctr)
        trace = [(x, y, r, ctr + k) for k in range(1, n)]
        if _fits(fits, x, y - 1, r):
            add(key, t, (NOTHING,) * n, trace + [(x, y - 1, r, 0)], (x, y - 1, r, 0, das, 0))
        else:
            land(key, (NOTHING,) * n, tuple(trace), x, y, r)
    mask = np.zeros(N_PLACEMENTS, bool)
    for idx in landings:
        mask[idx] = True
    return Search(mask & VALID, landings)


def _path(nodes: dict, key) -> tuple[tuple, tuple]:
    frames: list = []
    trace: list = []
    while key is not None:
        parent, f, tr, _ = nodes[key]
        frames[:0] = f
        trace[:0] = tr
        key = parent
    return tuple(frames), tuple(trace)


def reachable(tiles, falling: Falling) -> np.ndarray:
    """bool (32,): the placements the falling capsule can still reach on this board
    (:func:`search`'s mask)."""
    return search(tiles, falling).mask


def plan(tiles, falling: Falling, placement: int) -> Landing | None:
    """How to reach ``placement``: a :class:`Landing` (its ``frames``: the buttons of every
    frame until the capsule locks), or None when the mask forbids it."""
    return search(tiles, falling).landings.get(int(placement))


def next_buttons(tiles, falling: Falling, placement: int) -> tuple[str, ...] | None:
    """The buttons to press this frame to go towards ``placement`` (then DOWN to drop);
    None when it cannot be reached. Searches anew each call: a wrapper that plays a whole
    capsule keeps :func:`plan`'s frames instead."""
    landing = plan(tiles, falling, placement)
    return landing.frames[0] if landing else None


__all__ = [
    "A", "B", "BITS", "DOWN", "DROP", "Falling", "LEFT", "Landing", "NAMES", "NOTHING", "N_PLACEMENTS", "RIGHT",
    "ROTATIONS", "Search", "TAPS", "VALID", "fits_table", "next_buttons", "placement_index", "placement_of", "plan",
    "reachable", "search", "step_frame",
]
