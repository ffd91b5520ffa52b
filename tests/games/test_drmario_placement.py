"""Dr. Mario placement actions and the greedy player on hand-built boards (pure logic: no
emulator). The real emulator's check is tests/envs/test_placement.py."""

from __future__ import annotations

import numpy as np
import pytest

from emurl.games.drmario.board import BOTTOM, EMPTY_TILE, LEFT, RIGHT, SINGLE, TOP, VIRUS, capsule_cells
from emurl.games.drmario.greedy import choose, lock, score, settle
from emurl.games.drmario.placement import (
    A,
    B,
    BITS,
    N_PLACEMENTS,
    VALID,
    Falling,
    fits_table,
    next_buttons,
    placement_index,
    placement_of,
    plan,
    reachable,
    search,
    step_frame,
)
from emurl.games.drmario.player import Placements

RED, YELLOW, BLUE = 1, 0, 2
SPAWN = Falling(3, 15, 0, 0, 40)


def empty() -> np.ndarray:
    return np.full((16, 8), EMPTY_TILE, np.uint8)


def virus(colour: int = RED) -> int:
    return (VIRUS << 4) | colour


def replay(tiles, falling: Falling, landing) -> tuple[int, int, int]:
    """Press a landing's frames through the frame model; it must follow the trace and lock
    on the last frame, where the landing says."""
    fits = fits_table(tiles)
    state = (falling.x, falling.y, falling.rotation, falling.speed_counter, falling.das, falling.held)
    for i, buttons in enumerate(landing.frames):
        state, locked = step_frame(fits, state, sum(BITS[b] for b in buttons), falling.gravity)
        if i < len(landing.frames) - 1:
            assert not locked and state[:4] == landing.trace[i], (i, state, landing.trace[i])
    assert locked
    return state[0], state[1], state[2]


def test_the_placement_set_is_column_by_rotation():
    assert N_PLACEMENTS == 32 and VALID.shape == (32,)
    assert [placement_of(i) for i in np.flatnonzero(~VALID)] == [(7, 0), (7, 2)]
    assert all(placement_index(*placement_of(i)) == i for i in range(32))


@pytest.mark.parametrize("gravity", [40, 25, 15])
def test_on_an_empty_bottle_every_valid_placement_is_reachable(gravity):
    tiles = empty()
    found = search(tiles, Falling(3, 15, 0, 0, gravity))
    assert (found.mask == VALID).all()
    for idx, landing in found.landings.items():
        assert (landing.column, landing.rotation) == placement_of(idx) and landing.y == 0
        assert replay(tiles, Falling(3, 15, 0, 0, gravity), landing) == (landing.column, 0, landing.rotation)


def test_every_path_locks_where_it_says_on_random_boards():
    rng = np.random.default_rng(0)
    for _ in range(25):
        tiles = empty()
        heights = rng.integers(0, 12, 8)
        for c, h in enumerate(heights):
            tiles[16 - h:, c] = virus(int(rng.integers(3)))
        tiles[0, 3] = tiles[0, 4] = EMPTY_TILE
        tiles[rng.integers(4, 16, 6), rng.integers(0, 8, 6)] = EMPTY_TILE  # holes and overhangs
        falling = Falling(3, 15, int(rng.integers(2)) * 2, int(rng.integers(0, 15)), int(rng.choice([40, 25, 15])),
                          int(rng.choice([0, A, BITS["LEFT"]])), int(rng.integers(0, 16)))
        if not fits_table(tiles)[15][3][falling.rotation]:
            continue
        found = search(tiles, falling)
        assert found.mask.any() and not found.mask[~VALID].any()
        for idx, landing in found.landings.items():
            assert replay(tiles, falling, landing) == (landing.column, landing.y, landing.rotation)
        for idx in list(found.landings)[:2]:
            assert plan(tiles, falling, idx) == found.landings[idx]
        for idx in np.flatnonzero(~found.mask)[:2]:
            assert plan(tiles, falling, idx) is None and next_buttons(tiles, falling, idx) is None


def test_a_full_column_walls_off_the_columns_behind_it():
    tiles = empty()
    tiles[:, 2] = virus()
    mask = reachable(tiles, SPAWN)
    assert not mask[:12].any()  # columns 0, 1, 2
    assert (mask[12:] == VALID[12:]).all()


def test_it_slides_under_an_overhang():
    tiles = empty()
    tiles[:11, 0:2] = virus(BLUE)  # a tower over columns 0-1 from the top to row 10; rows 11-15 open below it
    found = search(tiles, SPAWN)
    for idx in range(8):  # columns 0-1: only by falling down column 2 past row 10 and sliding left
        assert found.mask[idx] and found.landings[idx].y == 0, placement_of(idx)
        landing = found.landings[idx]
        assert replay(tiles, SPAWN, landing) == (landing.column, 0, landing.rotation)
    # on a stack: the straight drop lands on top of it
    tiles = empty()
    tiles[10:, 5] = virus()
    assert search(tiles, SPAWN).landings[placement_index(5, 1)].y == 6


def test_rotation_kicks_left_off_the_right_wall_and_is_blocked_by_a_cell_above():
    tiles = empty()
    fits = fits_table(tiles)
    # vertical in column 7, A (1 -> 0): horizontal does not fit at 7, it kicks to 6
    state, _ = step_frame(fits, (7, 8, 1, 0, 0, 0), A, 40)
    assert state[:3] == (6, 8, 0)
    state, _ = step_frame(fits, (7, 8, 3, 0, 0, 0), B, 40)  # B: 3 -> 0
    assert state[:3] == (6, 8, 0)
    # horizontal with a cell above its anchor: turning vertical does not fit, no kick
    tiles[16 - 1 - 9, 4] = virus()
    state, _ = step_frame(fits_table(tiles), (4, 8, 0, 0, 0, 0), A, 40)
    assert state[:3] == (4, 8, 0)
    # a button already held is no new press
    state, _ = step_frame(fits, (4, 8, 0, 0, 0, A), A, 40)
    assert state[:3] == (4, 8, 0)


def test_in_the_top_row_a_capsule_turns_upright_with_its_upper_half_above_the_bottle():
    tiles = empty()
    tiles[1:, :] = virus()
    tiles[0, :] = EMPTY_TILE
    found = search(tiles, SPAWN)
    assert found.mask[placement_index(3, 1)] and found.landings[placement_index(3, 1)].y == 15
    pf = lock(tiles, 3, 15, 1, RED, BLUE)
    assert pf[0][3] == (SINGLE << 4) | RED  # only the lower half (the first colour at rotation 1) stays


def test_lock_writes_the_halves_as_the_game_does():
    for rotation, cells in ((0, {(15, 2): (LEFT, RED), (15, 3): (RIGHT, BLUE)}),
                            (2, {(15, 2): (LEFT, BLUE), (15, 3): (RIGHT, RED)}),
                            (1, {(15, 2): (BOTTOM, RED), (14, 2): (TOP, BLUE)}),
                            (3, {(14, 2): (TOP, RED), (15, 2): (BOTTOM, BLUE)})):
        pf = lock(empty(), 2, 0, rotation, RED, BLUE)
        got = {(r, c): (pf[r][c] >> 4, pf[r][c] & 0xF) for r in range(16) for c in range(8) if pf[r][c] != EMPTY_TILE}
        assert got == cells, rotation
        cap = capsule_cells(2, 0, rotation, RED, BLUE)
        assert pf[cap.first[0]][cap.first[1]] & 0xF == RED and pf[cap.second[0]][cap.second[1]] & 0xF == BLUE


def test_settle_clears_runs_cuts_capsules_and_chains():
    tiles = empty()
    tiles[13:16, 5] = virus(RED)
    pf = lock(tiles, 5, 3, 1, RED, BLUE)  # red bottom on the three red viruses, blue on top
    runs, viruses, halves = settle(pf)
    assert (runs, viruses, halves) == (1, 3, 1)
    assert pf[15][5] == (SINGLE << 4) | BLUE  # the cut blue half fell to the bottom
    # a chain: the reds clear, the cut blue half falls onto three blue viruses and clears them
    tiles = empty()
    tiles[15, 0:3] = virus(RED)
    tiles[15, 4:7] = virus(BLUE)
    pf = lock(tiles, 3, 0, 1, RED, BLUE)
    assert settle(pf) == (2, 6, 2)
    assert all(t == EMPTY_TILE for row in pf for t in row)


def test_the_greedy_player_clears_viruses_when_it_can():
    tiles = empty()
    tiles[13:16, 5] = virus(RED)
    tiles[15, 0:2] = virus(BLUE)
    found = search(tiles, SPAWN)
    best = choose(tiles, found, RED, YELLOW)
    landing = found.landings[best]
    pf = lock(tiles, landing.column, landing.y, landing.rotation, RED, YELLOW)
    assert settle(pf)[1] == 3
    assert score(tiles, landing.column, landing.y, landing.rotation, RED, YELLOW) > 200


def test_placements_reads_a_seat_from_the_variables():
    tiles = empty()
    values = {"mode": 4, "playfield_p2": tiles, "capsule_x_p2": 3, "capsule_y_p2": 15, "rotation_p2": 0,
              "speed_counter_p2": 0, "gravity_p2": 25, "held_p2": 0, "das_p2": 0, "state_p2": 0, "capsules_p2": 7,
              "capsule_left_p2": RED, "capsule_right_p2": RED}
    seat = Placements()
    assert seat.falling(values, 1) == Falling(3, 15, 0, 0, 25, 0, 0) and seat.piece(values, 1) == 7
    assert (seat.search(values, 1).mask == VALID).all() and seat.greedy(values, 1) is not None
    values["state_p2"] = 2  # halves falling: no capsule under control
    assert seat.falling(values, 1) is None and not seat.search(values, 1).mask.any() and seat.greedy(values, 1) is None
