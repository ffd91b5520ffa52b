"""MiniKart's feature observation (emurl.games.minikart.features): the track data against the
game's own wall map in RAM, the rays against distances measured on the track data, the
checkpoint direction at known positions, and ``obs_type="features"`` on the real emulator
with the kart put at known positions by writing its RAM.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emurl.games.minikart.features import TRACKS_FILE, Features, load_tracks
from emurl.games.racing import feature_names

REPO = Path(__file__).resolve().parents[2]
GAME = "MiniKart-NintendoDs"
DRIVER_POINTER = 0x02100000  # MEMORY.md: driver_t*; x +0x00, y +0x04 (fx32), angle +0x0C (u16)
MAP_WALL = 3  # main.c: track_map values (0 road, 1 finish, 2 grass, 3 wall)

FEATURES = Features()
TRACKS, _ = load_tracks(str(TRACKS_FILE))


def box_blocked(wall: np.ndarray) -> np.ndarray:
    """Where a kart centred on each pixel overlaps a wall pixel with its 5×5 box (centre ±2 px;
    off the screen is wall), as [y + 1, x + 1] with the off-screen border, from the wall alone."""
    h, w = wall.shape
    out = np.ones((h + 2, w + 2), bool)
    for y in range(h):
        for x in range(w):
            y0, y1, x0, x1 = y - 2, y + 3, x - 2, x + 3
            inside = 0 <= y0 and y1 <= h and 0 <= x0 and x1 <= w
            out[y + 1, x + 1] = not inside or wall[y0:y1, x0:x1].any()
    return out


def deep(blocked: np.ndarray) -> np.ndarray:
    """Blocked pixels whose eight neighbours are blocked too (off the grid counts as blocked)."""
    p = np.pad(blocked, 1, constant_values=True)
    h, w = blocked.shape
    return np.logical_and.reduce([p[1 + dy: 1 + dy + h, 1 + dx: 1 + dx + w] for dy in (-1, 0, 1) for dx in (-1, 0, 1)])


def measured(grid: np.ndarray, x: float, y: float, angle: float, max_range: float = 128.0,
             fine: float = 1 / 64) -> float:
    """Distance along the ray to the first pixel of ``grid`` (a :func:`box_blocked`-shaped grid),
    in steps of ``fine`` px (the features march 0.5 px steps: a multiple of it)."""
    t = np.arange(0.0, max_range + fine / 2, fine)
    px = np.clip(np.floor(x + math.cos(angle) * t), -1, grid.shape[1] - 2).astype(int)
    py = np.clip(np.floor(y + math.sin(angle) * t), -1, grid.shape[0] - 2).astype(int)
    hit = grid[py + 1, px + 1]
    return float(t[hit.argmax()]) if hit.any() else max_range


def check_rays(distances: np.ndarray, grids, x: float, y: float, heading: float) -> None:
    """Each ray's distance is never short of the wall measured on the track data (but for float32
    rounding at a grazed cell edge: one march step), and reaches
    at most one march step past the point where the ray is one pixel deep in it (a ray that
    only grazes a wall's outer pixels may pass them: it samples every 0.5 px)."""
    blocked, deep_blocked = grids
    for i, offset in enumerate(FEATURES.offsets):
        near = measured(blocked, x, y, heading + offset)
        far = measured(deep_blocked, x, y, heading + offset)
        # a ray grazing a cell edge: the features march in float32 and may meet the wall one step
        # earlier than this float64 measure (seen: 23.0 against 23.015625, the edge 0.016 px along the ray)
        assert near - FEATURES.step - 1e-6 <= distances[i] <= far + FEATURES.step + 1e-6, (i, x, y, heading, distances[i], near, far)


@pytest.fixture(scope="module")
def grids():
    """Per track: (box-blocked, deep) grids measured from tracks.json's wall pixels."""
    out = []
    for track in TRACKS:
        blocked = box_blocked(track.wall)
        out.append((blocked, deep(blocked)))
    return out


def values(x, y, angle, checkpoint=0, speed=0.0, track=0) -> dict:
    return {"x": x, "y": y, "angle": angle, "checkpoint": checkpoint, "speed": speed, "track": track}


def test_layout_and_space():
    assert FEATURES.names == feature_names(9) and FEATURES.size == 13
    shape, dtype, low, high = FEATURES.spaces["features"]
    assert shape == (13,) and dtype == "float32"
    assert list(low[:9]) == [0.0] * 9 and list(high[:9]) == [1.0] * 9


def test_track_data_is_the_generators_output(tmp_path):
    """tracks.json is what homebrew/minikart/tools/export_tracks.py writes from the ROM's source."""
    out = tmp_path / "tracks.json"
    subprocess.run([sys.executable, str(REPO / "homebrew/minikart/tools/export_tracks.py"), str(out)], check=True,
                   capture_output=True)
    assert out.read_text() == TRACKS_FILE.read_text()


def test_blocked_grid_is_the_box_rule(grids):
    for track, (blocked, _) in zip(TRACKS, grids):
        np.testing.assert_array_equal(track.blocked, blocked)


@pytest.mark.parametrize("track", [0, 1])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_rays_match_distances_measured_on_the_track(grids, track, data):
    """At any position where the kart fits, any heading: the rays are the distances measured
    on the track data (to the march's 0.5 px), and their end points lie along the rays."""
    free = np.argwhere(~grids[track][0][1:-1, 1:-1])  # (y, x) pixels where the kart fits
    py, px = free[data.draw(st.integers(0, len(free) - 1))]
    x = px + data.draw(st.floats(0, 0.999))
    y = py + data.draw(st.floats(0, 0.999))
    angle = data.draw(st.integers(0, 65535))
    dist, ends = FEATURES.rays(values(x, y, angle, track=track))
    heading = (angle >> 8) * 2 * math.pi / 256
    check_rays(dist, grids[track], x, y, heading)
    vec = FEATURES.vector(values(x, y, angle, track=track))
    np.testing.assert_allclose(vec[:9], dist / FEATURES.max_range, rtol=1e-6)
    np.testing.assert_allclose(ends[:, 0], x + dist * np.cos(heading + FEATURES.offsets), atol=1e-3)
    np.testing.assert_allclose(ends[:, 1], y + dist * np.sin(heading + FEATURES.offsets), atol=1e-3)


def test_rays_across_the_top_straight():
    """The oval's top straight (centre line y = 40): the walls are grass_radius (32 px) away on
    both sides, less the kart's half box (2 px) and a pixel of rounding; the side rays are
    perpendicular to it, the middle one runs along it."""
    vec = FEATURES.vector(values(128.5, 40.5, 0))
    left, ahead, right = vec[0] * 128, vec[4] * 128, vec[8] * 128
    assert 29 <= left <= 31 and 29 <= right <= 31
    assert ahead > 80  # the straight runs on to x = 176, the bend beyond it


@pytest.mark.parametrize("angle, cos, sin", [(0, 1, 0), (16384, 0, -1), (32768, -1, 0), (49152, 0, 1)])
def test_checkpoint_direction(angle, cos, sin):
    """Checkpoint 0 (the start line, centre (128, 40) on the top straight; MEMORY.md) seen from
    5 px before it, facing right / down / left / up: ahead, to the left, behind, to the right."""
    vec = FEATURES.vector(values(123.0, 40.0, angle, checkpoint=15, speed=-0.3))
    assert vec[9] == pytest.approx(cos, abs=1e-6) and vec[10] == pytest.approx(sin, abs=1e-6)
    assert vec[11] == pytest.approx(5 / 32)
    assert vec[12] == pytest.approx(-0.3 / 0.75)


def test_checkpoint_distance_is_to_the_line_not_its_centre():
    """Checkpoint 1 is the line x = 159.708 across the top straight, 34 px each side of y = 40."""
    vec = FEATURES.vector(values(150.0, 60.0, 0, checkpoint=0))
    assert vec[11] * 32 == pytest.approx(159.7080078125 - 150.0)
    vec = FEATURES.vector(values(150.0, 84.0, 0, checkpoint=0))  # past the line's end (y = 74)
    assert vec[11] * 32 == pytest.approx(math.hypot(9.7080078125, 10.0))


def test_unknown_track_falls_back_and_off_screen_is_blocked():
    assert np.array_equal(FEATURES.vector(values(60.0, 100.0, 0, track=7)), FEATURES.vector(values(60.0, 100.0, 0)))
    assert not FEATURES.vector(values(0.0, 0.0, 0))[:9].any()
    assert not FEATURES.vector(values(1e9, -1e9, 0))[:9].any()


# -- the real game -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def env():
    import emurl

    e = emurl.make(GAME, obs_type="features")
    yield e
    e.close()


def _driver(env) -> int:
    return env.unwrapped.emulator.read(DRIVER_POINTER, "<u4")


@pytest.mark.parametrize("track, state", [(0, "Track0"), (1, "Track1")])
def test_tracks_json_is_the_games_wall_map(env, track, state):
    """Each track's walls in tracks.json are exactly the wall cells of the game's own track_map
    (main.c), found in main RAM by its row 8 (the tips of the top straight's discs), once the
    game has drawn it all (6 rows per race frame from race frame 1)."""
    env.reset(seed=0)
    base = env.unwrapped
    base.emulator.load_state(base.integration.load_state_bytes(state, backend=base.emulator.backend))
    base.emulator.step(40)
    assert base.emulator.read(0x02100010, "<u4") == track  # MEMORY.md: the track id
    ram = base.emulator.ram().tobytes()
    wall = TRACKS[track].wall
    row8 = np.where(wall[8], MAP_WALL, 2).astype(np.uint8).tobytes()  # grass at the disc tips
    at = ram.find(row8)
    assert at >= 8 * 256, f"track {track}'s map not found in RAM"
    game_map = np.frombuffer(ram, np.uint8, 192 * 256, at - 8 * 256).reshape(192, 256)
    np.testing.assert_array_equal(game_map == MAP_WALL, wall)


@pytest.mark.parametrize("x, y, angle", [(60.0, 100.0, 49152), (200.5, 150.25, 40000), (128.0, 152.0, 32768)])
def test_env_features_at_known_positions(env, grids, x, y, angle):
    """The kart written to (x, y, angle) during the countdown (it cannot move): the env's
    observation is the Box vector of those, its rays the distances measured on the track."""
    obs, info = env.reset(seed=0)
    assert env.observation_space.shape == (13,) and obs.dtype == np.float32
    emu = env.unwrapped.emulator
    driver = _driver(env)
    emu.write(driver + 0x00, "<i4", int(x * 4096))
    emu.write(driver + 0x04, "<i4", int(y * 4096))
    emu.write(driver + 0x0C, "<u2", angle)
    obs, _, _, _, info = env.step(0)
    assert info["race_frame"] <= 90  # still the countdown: the kart stays where it was put
    assert (info["x"], info["y"]) == (x, y)
    want = FEATURES.vector(values(x, y, angle, checkpoint=info["checkpoint"], speed=info["speed"]))
    np.testing.assert_array_equal(obs, want)
    check_rays(obs[:9] * 128, grids[0], x, y, (angle >> 8) * 2 * math.pi / 256)
    assert env.observation_space.contains(obs)


def test_overlay_for_viewers():
    """The kart, the rays' ends and the next checkpoint line (checkpoint 1: x = 159.708, 34 px
    each side of y = 40), in track px, JSON-able."""
    v = values(150.0, 60.0, 16384, checkpoint=0, speed=0.5)
    overlay = FEATURES.overlay(v)
    dist, ends = FEATURES.rays(v)
    assert overlay["kart"] == [150.0, 60.0, pytest.approx(math.pi / 2)] and overlay["speed"] == 0.5
    np.testing.assert_allclose(overlay["rays"], ends, atol=0.01)
    x0, y0, x1, y1 = overlay["checkpoint"]
    assert (x0, x1) == (pytest.approx(159.708, abs=1e-3), pytest.approx(159.708, abs=1e-3))
    assert sorted([y0, y1]) == [pytest.approx(6.0), pytest.approx(74.0)]
