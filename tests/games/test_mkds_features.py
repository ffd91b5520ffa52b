"""Mario Kart DS observation features (``emurl.games.mkds.features``): the course's KCL
collision geometry read from synthetic RAM (``tests/mkds_memory.py``), wall rays,
checkpoints, and the observation wrapper."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

from emurl.games.mkds.features import (
    KclGeometry,
    MemoryLayoutError,
    RaceFeatures,
    cast_rays,
    ray_directions,
    read_kcl,
)
from emurl.wrappers.race_features import RaceFeaturesObservation
from mkds_memory import CPOI_AT, KCL_HEADER, POINTERS, REGIONS, STRUCTS, build_memory, fx, write_kcl


WALL, FLOOR = (1 << 14) | (8 << 8), (1 << 15) | (0 << 8)


def room(half=100.0, height=50.0):
    """A square room of wall prisms (x, z in [-half, half], y in [0, height]), a road floor, and a
    road-type vertical panel at z = 50 that rays must pass through."""
    h, y = half, height
    corners = [(-h, -h), (h, -h), (h, h), (-h, h)]
    tris, attrs = [], []
    for (x0, z0), (x1, z1) in zip(corners, corners[1:] + corners[:1]):
        tris += [((x0, 0, z0), (x1, 0, z1), (x1, y, z1)), ((x0, 0, z0), (x1, y, z1), (x0, y, z0))]
        attrs += [WALL, WALL]
    tris += [((-h, 0, -h), (h, 0, h), (h, 0, -h)), ((-h, 0, -h), (-h, 0, h), (h, 0, h))]
    attrs += [FLOOR, FLOOR]
    tris += [((0, 0, 50), (40, 0, 50), (40, y, 50)), ((0, 0, 50), (40, y, 50), (0, y, 50))]
    attrs += [FLOOR, FLOOR]
    return tris, attrs


def race_memory(code="AMCE"):
    facts = {
        "position_x": ("driver", 0x80, "<i4", fx(20.0), 20.0),
        "position_y": ("driver", 0x84, "<i4", fx(0.0), 0.0),
        "position_z": ("driver", 0x88, "<i4", fx(-30.0), -30.0),
        "checkpoint": ("status", 0x46, "<u2", 0, 0),
        "cpoi_count": ("map", 0x48, "<u4", 3, 3),
    }
    ram = build_memory(code, facts=facts)
    tris, attrs = room()
    write_kcl(ram, tris, attrs, code)
    cps = [(-50, -60, 50, -60), (-50, 60, 50, 60), (-60, -50, -60, 50)]
    for i, (x1, z1, x2, z2) in enumerate(cps):
        for j, val in enumerate((x1, z1, x2, z2)):
            ram.write(CPOI_AT + 0x24 * i + 4 * j, "<i4", fx(val))
    return ram, tris, attrs


@pytest.mark.parametrize("code", list(REGIONS))
def test_kcl_geometry_round_trip(code):
    ram, tris, attrs = race_memory(code)
    geo = read_kcl(ram)
    assert len(geo) == len(tris)
    np.testing.assert_allclose(geo.triangles, np.array(tris, float), atol=0.2)
    assert list(geo.types) == [8] * 8 + [0] * 4 and len(geo.select([8])) == 8


def test_rays_in_a_square_room():
    ram, _, _ = race_memory()
    walls = read_kcl(ram).select([8])
    origin = (20.0, 10.0, -30.0)
    left, ahead, right = cast_rays(origin, ray_directions((0, 1), 3, 180), walls, 3000)
    assert (left, ahead, right) == (pytest.approx(80, abs=0.2), pytest.approx(130, abs=0.2), pytest.approx(120, abs=0.2))
    diag = cast_rays(origin, ray_directions((0, 1), 3, 90), walls, 3000)
    assert diag[0] == pytest.approx(80 * math.sqrt(2), abs=0.3) and diag[2] == pytest.approx(120 * math.sqrt(2), abs=0.3)
    assert list(cast_rays(origin, ray_directions((0, 1), 5, 180), walls, 50)) == [50] * 5
    assert cast_rays((0, 80, 0), ray_directions((1, 0), 4, 360), walls, 3000).tolist() == [3000] * 4  # above the walls
    all_types = read_kcl(ram)
    assert cast_rays(origin, ray_directions((0, 1), 1, 0), all_types, 3000)[0] == pytest.approx(80, abs=0.2)  # the panel
    empty = KclGeometry.from_triangles(np.zeros((0, 3, 3)), np.zeros(0))
    assert cast_rays(origin, ray_directions((0, 1), 2, 90), empty, 7).tolist() == [7, 7]


@pytest.mark.parametrize("code", list(REGIONS))
def test_race_features(code):
    ram, _, _ = race_memory(code)
    feats = RaceFeatures(n_rays=3, fov_degrees=180, max_range=3000, ray_height=10)
    vec = feats(ram)
    assert vec.dtype == np.float32 and vec.shape == (6,) and gym.spaces.Box(*feats.bounds(), dtype=np.float32).contains(vec)
    speed, angle, dist = vec[:3]
    assert speed == pytest.approx(18.5)
    assert angle == pytest.approx(math.atan2(20, 90), abs=1e-4)  # next checkpoint's middle (0, 60) is to the right
    assert dist == pytest.approx(90, abs=1e-3)
    np.testing.assert_allclose(vec[3:], [80, 130, 120], atol=0.2)
    ram.write(POINTERS["driver"] + REGIONS[code], "<u4", 0)  # between races
    np.testing.assert_array_equal(feats(ram), [0, 0, 0, 3000, 3000, 3000])


def test_features_cache_and_bad_header():
    ram, _, _ = race_memory()
    feats = RaceFeatures(n_rays=2)
    first = feats.walls(ram)
    assert feats.walls(ram) is first  # cached per course
    ram.write(STRUCTS["config"], "<i4", 20)  # another course id: read again
    assert feats.walls(ram) is not first
    ram.write(KCL_HEADER + 4, "<u4", 0x02000010)  # normals before vertices
    with pytest.raises(MemoryLayoutError, match="kcl_"):
        read_kcl(ram)


def test_features_wrapper():
    class Env(gym.Env):
        observation_space = gym.spaces.Box(0, 255, (4, 4, 3), np.uint8)
        action_space = gym.spaces.Discrete(2)

        def __init__(self):
            self.emulator = race_memory()[0]

        def reset(self, *, seed=None, options=None):
            return self.observation_space.sample(), {}

        def step(self, action):
            return self.observation_space.sample(), 0.0, False, False, {}

    env = RaceFeaturesObservation(Env(), RaceFeatures(n_rays=4))
    obs, _ = env.reset()
    assert set(obs) == {"observation", "features"} and obs["features"].shape == (7,)
    assert env.observation_space.contains(obs)
    env = RaceFeaturesObservation(Env(), RaceFeatures(n_rays=4), keep_observation=False)
    assert env.observation_space.shape == (7,) and env.step(0)[0].shape == (7,)
