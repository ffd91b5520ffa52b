"""Mario Kart DS overlays (``emurl.games.mkds.overlay``): the camera and KCL read from synthetic
RAM (``tests/mkds_memory.py``), wall triangles projected onto the top screen at pixels
computed by hand, near-plane and screen clipping, what is published, and the viewer's lookup."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from emurl.games.integration import load_integration
from emurl.games.mkds.features import RaceFeatures
from emurl.games.mkds.overlay import (
    MAX_TRIANGLES,
    Camera,
    clip_segments,
    overlay_shapes,
    project_points,
    project_segments,
    race_overlay,
    read_camera,
)
from emurl.watch.overlays import game_shapes
from mkds_memory import CAMERA_POINTER, POINTERS, REGIONS, build_memory, fx, write_camera, write_kcl

WALL, ROAD = 8 << 8, 0 << 8
TOP = (0, 0, 256, 192)
# Every camera here: fovSin = fovCos (a 90° vertical field of view: t = sin/cos = 1), so a view
# point (x right, y up, z ahead) lands at px = 128 (1 + x / (z · aspect)), py = 96 (1 - y / z).


def race(code="AMCE", kart=(0.0, 10.0, 0.0), camera=None, triangles=(), attributes=(), checkpoint=0, cpois=()):
    """Synthetic RAM of a race: the kart at ``kart`` facing +z, a camera, a KCL, checkpoints."""
    facts = {
        "position_x": ("driver", 0x80, "<i4", fx(kart[0]), kart[0]),
        "position_y": ("driver", 0x84, "<i4", fx(kart[1]), kart[1]),
        "position_z": ("driver", 0x88, "<i4", fx(kart[2]), kart[2]),
        "checkpoint": ("status", 0x46, "<u2", checkpoint, checkpoint),
        "cpoi_count": ("map", 0x48, "<u4", len(cpois), len(cpois)),
    }
    ram = build_memory(code, facts=facts)
    write_camera(ram, code, **(camera or {"position": (0, 10, 0), "target": (0, 10, 100), "aspect": 1.5}))
    if len(triangles):
        write_kcl(ram, triangles, attributes, code)
    for i, line in enumerate(cpois):
        for j, v in enumerate(line):
            ram.write(0x02260000 + 0x24 * i + 4 * j, "<i4", fx(v))  # CPOI_AT, x1 z1 x2 z2
    return ram


def shapes_of(ram, layers=("walls",), frame_shape=(192, 256, 3), race_features=None, **kw):
    overlay = race_overlay(race_features or RaceFeatures(n_rays=0), {}, ram, **kw)
    overlay = json.loads(json.dumps(overlay))  # what the viewer gets: the published JSON
    return overlay, overlay_shapes(overlay, list(layers), frame_shape)


def edges(shapes):
    return sorted(tuple(round(v, 1) for v in coords) for _, kind, coords, _ in shapes if kind == "line")


@pytest.mark.parametrize("code", list(REGIONS))
@pytest.mark.parametrize("aspect, right_px", [(1.5, 153.6), (4 / 3, 156.8)])
def test_wall_triangle_lands_on_hand_computed_pixels(code, aspect, right_px):
    # eye (0, 10, 0) looking down +z; right = forward × up = -x (NITRO's look-at, as gluLookAt)
    # (0, 10, 100): on the axis -> (128, 96); (-30, 10, 100): x = 30 -> 128 (1 + 30 / (100 aspect))
    # (0, 30, 100): y = 20 -> 96 (1 - 20 / 100) = 76.8
    tri = [((0, 10, 100), (-30, 10, 100), (0, 30, 100))]
    ram = race(code, camera={"position": (0, 10, 0), "target": (0, 10, 100), "aspect": aspect},
               triangles=tri, attributes=[WALL])
    overlay, shapes = shapes_of(ram)
    assert overlay["camera"]["position"] == [0, 10, 0] and len(overlay["walls"]) == 1
    assert {s[0] for s in shapes} == {"walls"} and all(s[3] == TOP for s in shapes)
    got = np.array(edges(shapes))
    want = np.array(sorted([(128, 96, right_px, 96), (right_px, 96, 128, 76.8), (128, 76.8, 128, 96)]))
    np.testing.assert_allclose(got, want, atol=0.3)  # the KCL's fx16 normals move corners ~0.1 unit


def test_projection_follows_the_camera_round():
    # looking down -x from the origin: right = (-1, 0, 0) × (0, 1, 0) = (0, 0, -1)
    cam = Camera((0.0, 0.0, 0.0), (-5.0, 0.0, 0.0), 0.5, 0.5, 1.5, 0.0)
    np.testing.assert_allclose(project_points(cam, [(-100, 0, -30), (-100, 50, 0), (100, 0, 0)]),
                               [(153.6, 96), (128, 48), (math.nan, math.nan)])
    ram = race(camera={"position": (1, 2, 3), "target": (1, 2, 9), "fov_sin": 0.25, "fov_cos": 0.75,
                       "aspect": 4 / 3, "near": 16.0})
    cam = read_camera(ram)
    assert cam.position == (1, 2, 3) and cam.target == (1, 2, 9)
    assert (cam.fov_sin, cam.fov_cos, cam.near) == (0.25, 0.75, 16.0) and cam.aspect == pytest.approx(4 / 3, abs=1e-4)


def test_points_behind_the_camera_are_clipped():
    cam = Camera((0.0, 10.0, 0.0), (0.0, 10.0, 100.0), 0.5, 0.5, 1.5, 0.0)
    assert np.isnan(project_points(cam, [(0, 10, -50)])).all()
    seg, keep = project_segments(cam, np.array([(-30, 0, -50), (5, 5, -1)]), np.array([(-30, 0, 100), (-5, 0, -9)]))
    assert keep.tolist() == [True, False] and len(seg) == 1  # the second lies wholly behind the eye
    x0, y0, x1, y1 = seg[0]
    # the end in front is where it belongs: (-30, 0, 100) -> 128 (1 + 30 / 150), 96 (1 + 10 / 100)
    assert (x1, y1) == (pytest.approx(153.6), pytest.approx(105.6))
    # the other end is cut at the near plane then at the screen's edge, not the mirrored point a
    # naive projection of (-30, 0, -50) gives: 128 (1 + 30 / -75), 96 (1 - 10 / 50) = (76.8, 76.8)
    assert x0 == pytest.approx(256) and 105.6 < y0 <= 192
    tri = [((-20, 0, -100), (20, 0, -100), (0, 20, -100))]
    assert shapes_of(race(triangles=tri, attributes=[WALL]))[1] == []


def test_clip_segments_to_the_screen():
    seg, keep = clip_segments([(-128, 96, 384, 96), (10, 10, 20, 20), (300, 0, 400, 100), (128, -50, 128, 50)])
    assert keep.tolist() == [True, True, False, True]
    np.testing.assert_allclose(seg, [(0, 96, 256, 96), (10, 10, 20, 20), (128, 0, 128, 50)])


def test_far_walls_are_not_published():
    near_wall = ((0, 0, 100), (-30, 0, 100), (0, 20, 100))
    far_wall = ((0, 0, 5000), (-30, 0, 5000), (0, 20, 5000))
    road = ((0, 0, 50), (10, 0, 60), (-10, 0, 60))
    ram = race(triangles=[far_wall, near_wall, road], attributes=[WALL, WALL, ROAD])
    overlay, shapes = shapes_of(ram, radius=1000)
    np.testing.assert_allclose(np.array(overlay["walls"]).reshape(-1, 3, 3), [near_wall], atol=0.2)
    assert len(shapes) == 3
    assert len(shapes_of(ram, radius=10_000)[0]["walls"]) == 2


def test_at_most_max_triangles_nearest_first():
    # 400 small wall triangles in a row ahead of the kart, 10 units apart
    tris = [((0, 0, 20 + 10 * i), (-5, 0, 20 + 10 * i), (0, 5, 20 + 10 * i)) for i in range(400)]
    ram = race(triangles=tris, attributes=[WALL] * len(tris))
    overlay, shapes = shapes_of(ram, radius=1e6)
    walls = np.array(overlay["walls"]).reshape(-1, 3, 3)
    assert len(walls) == MAX_TRIANGLES == 256
    assert np.all(np.diff(walls[:, 0, 2]) > 0) and walls[-1, 0, 2] == pytest.approx(20 + 10 * 255, abs=0.2)
    assert len(json.dumps(overlay)) < 32 * 1024  # small beside the frame block's 64 KiB for overlays


def test_layers_and_frame_shape():
    ram = race(triangles=[((0, 10, 100), (-30, 10, 100), (0, 30, 100))], attributes=[WALL])
    overlay = race_overlay(RaceFeatures(n_rays=0), {}, ram)
    assert overlay_shapes(overlay, [], (192, 256, 3)) == []
    assert overlay_shapes(overlay, ["rays", "checkpoint", "placement"], (192, 256, 3)) == []
    assert overlay_shapes({}, ["walls"], (192, 256, 3)) == []
    top, both = (overlay_shapes(overlay, ["walls"], shape) for shape in ((192, 256, 3), (384, 256, 3)))
    assert top == both and len(top) == 3
    assert all(clip == TOP and 0 <= c[1] <= 192 and 0 <= c[3] <= 192 for _, _, c, clip in both)


def test_nothing_outside_a_race():
    ram = race(triangles=[((0, 10, 100), (-30, 10, 100), (0, 30, 100))], attributes=[WALL])
    assert race_overlay(RaceFeatures(), {}, None) == {}
    ram.write(CAMERA_POINTER, "<u4", 0)
    assert race_overlay(RaceFeatures(), {}, ram) == {}
    write_camera(ram)
    ram.write(POINTERS["driver"], "<u4", 0)
    assert race_overlay(RaceFeatures(), {}, ram) == {}


def test_integration_features_draw_rays_and_checkpoint():
    # a corridor: walls at x = -60 and x = 100, 200 long; the kart at (20, 0, -30) facing +z,
    # the camera 100 behind it at height 30, looking level; checkpoint 1 is the line z = 60
    tris, attrs = [], []
    for x in (-60, 100):
        tris += [((x, 0, -200), (x, 0, 200), (x, 50, 200)), ((x, 0, -200), (x, 50, 200), (x, 50, -200))]
        attrs += [WALL, WALL]
    cpois = [(-50, -60, 50, -60), (-50, 60, 50, 60), (-60, -50, -60, 50)]
    ram = race(kart=(20, 0, -30), camera={"position": (20, 30, -130), "target": (20, 30, 0), "aspect": 1.5},
               triangles=tris, attributes=attrs, cpois=cpois)
    features = load_integration("MarioKartDS-NintendoDs").features()
    assert game_shapes("MarioKartDS-NintendoDs") is not None  # the viewer finds the game's drawing
    overlay = json.loads(json.dumps(features.overlay({"position_x": 20.0, "position_y": 0.0, "position_z": -30.0,
                                                       "checkpoint": 0}, ram)))
    assert overlay["kart"] == [20, 0, -30] and len(overlay["walls"]) == 4 and len(overlay["rays"]) == features.n_rays
    left, right = overlay["rays"][0], overlay["rays"][-1]  # ±90°: right = heading × up = -x
    assert left == pytest.approx([100, 5, -30], abs=0.2) and right == pytest.approx([-60, 5, -30], abs=0.2)
    shapes = features.overlay_shapes(overlay, ["rays", "checkpoint"], (384, 256, 3))
    points = [c for layer, kind, c, _ in shapes if kind == "point"]
    # the ray straight ahead meets nothing within 3000: its end (20, 5, 2970) is drawn at
    # x = 0, y = -25, z = 3100 -> (128, 96 (1 + 25 / 3100))
    assert any(p == pytest.approx((128, 96 * (1 + 25 / 3100)), abs=0.05) for p in points)
    lines = [c for layer, kind, c, _ in shapes if layer == "checkpoint"]
    # (-50, 0, 60): x = 70, y = -30, z = 190; (50, 0, 60): x = -30
    want = (128 * (1 + 70 / 285), 96 * (1 + 30 / 190), 128 * (1 - 30 / 285), 96 * (1 + 30 / 190))
    assert len(lines) == 2 and lines[0] == pytest.approx(want, abs=0.05)
    assert {s[0] for s in shapes} == {"rays", "checkpoint"}


def test_the_overlay_reuses_the_rays_the_observation_cast(monkeypatch):
    from emurl.games.mkds import features as mkds_features

    tris = [((x, 0, -200), (x, 0, 200), (x, 50, 200)) for x in (-60, 100)]
    ram = race(kart=(20, 0, -30), camera={"position": (20, 30, -130), "target": (20, 30, 0), "aspect": 1.5},
               triangles=tris, attributes=[WALL, WALL])
    casts = []
    real = mkds_features.cast_rays
    monkeypatch.setattr(mkds_features, "cast_rays", lambda *a: casts.append(a[0]) or real(*a))
    features = load_integration("MarioKartDS-NintendoDs").features()
    values = {"position_x": 20.0, "position_y": 0.0, "position_z": -30.0, "checkpoint": 0}
    vector = features.vector(ram, values)
    overlay = features.overlay(values, ram)
    assert len(casts) == 1  # one cast for the observation and the overlay of the same frame
    ends = np.array(overlay["rays"])
    distances = np.linalg.norm(ends - np.array(overlay["ray_origin"]), axis=1)
    np.testing.assert_allclose(distances / features.max_range, vector[:features.n_rays], atol=1e-3)
    moved = dict(values, position_x=30.0)  # the kart moved: cast again, from the new place
    assert features.overlay(moved, ram)["ray_origin"][0] == 30.0 and len(casts) == 2
