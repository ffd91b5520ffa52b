"""The racing feature layout (emurl.games.racing) and Mario Kart DS's feature observation
(emurl.games.mkds.observation.FeatureObservation) on synthetic RAM (tests/mkds_memory.py):
the same layout as MiniKart's, from the KCL rays and the checkpoint table."""

from __future__ import annotations

import math

import numpy as np
import pytest
from mkds_memory import POINTERS, REGIONS
from test_mkds_features import race_memory

from emurl.games.integration import load_integration
from emurl.games.mkds.observation import FeatureObservation
from emurl.games.racing import feature_names, ray_offsets, relative_direction, segment_distance


def test_layout_helpers():
    assert feature_names(2) == ["ray_0", "ray_1", "checkpoint_cos", "checkpoint_sin", "checkpoint_distance", "speed"]
    np.testing.assert_allclose(ray_offsets(5, 180), np.radians([-90, -45, 0, 45, 90]))
    assert ray_offsets(1, 180).tolist() == [0.0]
    c, s = relative_direction(0.0, 3.0, 1.0, 0.0)  # heading +x, target +y: a quarter turn the way angles grow
    assert (c, s) == pytest.approx((0.0, 1.0))
    c, s = relative_direction(-2.0, 0.0, 0.0, 1.0)  # heading +y, target -x
    assert (c, s) == pytest.approx((0.0, 1.0))
    assert relative_direction(0.0, 0.0, 1.0, 0.0) == (1.0, 0.0)
    assert segment_distance(3.0, 4.0, 0.0, 0.0, 0.0, 1.0, 10.0) == pytest.approx(3.0)  # beside the segment
    assert segment_distance(0.0, 13.0, 0.0, 0.0, 0.0, 1.0, 10.0) == pytest.approx(3.0)  # past its end


@pytest.mark.parametrize("code", list(REGIONS))
def test_mkds_feature_observation(code):
    """The synthetic room: kart at (20, -30) facing +z; walls 80 left, 130 ahead, 120 right; the
    next checkpoint's middle (0, 60), its line 90 ahead; checkpoint middles (0, -60), (0, 60),
    (-60, 0): spacing (120 + 84.85) / 2; speed 18.5 of max 20."""
    ram, _, _ = race_memory(code)
    feats = FeatureObservation(n_rays=3, max_range=3000.0)
    vec = feats.observe({"max_speed": 20.0}, 0, emulator=ram)["features"]
    assert vec.dtype == np.float32 and vec.shape == (7,) and feats.names[3:] == feature_names(0)
    np.testing.assert_allclose(vec[:3], np.array([80, 130, 120]) / 3000, atol=1e-4)
    angle = math.atan2(20, 90)
    np.testing.assert_allclose(vec[3:5], [math.cos(angle), math.sin(angle)], atol=1e-5)
    assert vec[5] == pytest.approx(90 / ((120 + math.hypot(60, 60)) / 2), rel=1e-4)
    assert vec[6] == pytest.approx(18.5 / 20)
    assert feats.vector(ram)[6] == pytest.approx(18.5 / 20)  # max speed read from memory
    ram.write(POINTERS["driver"] + REGIONS[code], "<u4", 0)  # between races
    np.testing.assert_array_equal(feats.vector(ram, {"max_speed": 0.0}), [1, 1, 1, 1, 0, 0, 0])


def test_racing_integrations_declare_the_layout():
    """Both racing integrations name their features class in metadata.json, with one Box space."""
    for game, size in (("MiniKart-NintendoDs", 13), ("MarioKartDS-NintendoDs", 13)):
        feats = load_integration(game).features()
        [(shape, dtype, low, high)] = feats.spaces.values()
        assert shape == (size,) and dtype == "float32" and feats.names == feature_names(9)
