"""The viewer's placement overlay on MiniDoc: the outlined cells are where the agent's chosen
capsule locked, on the screen and in the playfield."""

import os

import numpy as np
import pytest

import emurl
from emurl.games.drmario.board import COLUMNS, ROWS
from emurl.games.drmario.overlay import CELL, placement_shapes
from emurl.games.integration import load_integration
from emurl.vector.frames import FrameReader, PublishFrames, frame_name

GAME = "MiniDoc-Nes"


def test_shapes_outline_both_halves_and_only_when_asked():
    shapes = placement_shapes({"landing": [1, 2, 1, 4]}, ["rays", "placement"], (224, 240, 3), [(0, 0), (100, 10)])
    assert len(shapes) == 8 and all(s[0] == "placement" and s[1] == "line" for s in shapes)
    # vertical (rotation 1) anchored at column 2, row 4 from the bottom: rows 11 and 10 from the top
    corners = {(x, y) for s in shapes for x, y in (s[2][:2], s[2][2:])}
    assert corners == {(100 + 2 * CELL + dx, 10 + r * CELL + dy) for r in (10, 11) for dx in (0, CELL) for dy in (0, CELL)}
    assert placement_shapes({"landing": [1, 2, 1, 4]}, ["rays"], (224, 240, 3), [(0, 0), (100, 10)]) == []
    assert placement_shapes({}, ["placement"], (224, 240, 3), [(0, 0)]) == []
    assert len(placement_shapes({"landing": [0, 3, 1, 15]}, ["placement"], (224, 240), [(0, 0)])) == 4  # top half above


def test_the_published_landing_outlines_the_capsule_that_locked():
    env = emurl.make(GAME, action_set="placement", opponent="random", obs_type="features", render_mode="rgb_array")
    name = frame_name(f"overlay-test-{os.getpid()}", 0)
    env = PublishFrames(env, name)
    features = load_integration(GAME).features()
    try:
        _, info = env.reset(seed=3)
        with FrameReader(name) as reader:
            reader.read()  # watch
            u = env.unwrapped
            before = np.frombuffer(bytes(u.emulator.read_bytes(0x0400, 128)), np.uint8).reshape(ROWS, COLUMNS)
            # the reachable placement that lands lowest-left: nothing to clear at level 0 on the first piece
            action = int(np.flatnonzero(info["action_mask"])[0])
            _, _, terminated, truncated, info = env.step(action)
            assert not (terminated or truncated)
            frame, overlay, _ = reader.read()
        seat, column, rotation, _ = overlay["landing"]
        assert seat == 0 and column * 4 + rotation == action == info["placement"]
        after = np.frombuffer(bytes(u.emulator.read_bytes(0x0400, 128)), np.uint8).reshape(ROWS, COLUMNS)
        shapes = features.overlay_shapes(overlay, ["placement"], frame.shape)
        assert len(shapes) == 8
        bx, by = features.bottles[0]
        cells = {((s[2][1] - by) // CELL, (s[2][0] - bx) // CELL) for s in shapes[::4]}  # each outline's first corner
        newly = {tuple(rc) for rc in np.argwhere((before == 0xFF) & (after != 0xFF))}
        assert cells == newly  # the two halves that locked, in the playfield
        # and on the screen, where the outlines are: below the new piece's rows, a cell's tile is drawn
        # exactly where the playfield holds something (an empty cell is the bottle's black)
        for r in range(4, ROWS):
            for c in range(COLUMNS):
                x, y = bx + c * CELL, by + r * CELL
                assert frame[y:y + CELL, x:x + CELL].any() == (after[r, c] != 0xFF), (r, c)
        assert all(r >= 4 for r, _ in cells)
    finally:
        env.close()
