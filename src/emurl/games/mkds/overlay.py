"""Mario Kart DS overlays: the collision walls near the kart, the wall rays and the next
checkpoint, projected onto the top screen through the game's camera.

Two halves, as for MiniKart (:func:`emurl.games.minikart.features.overlay_shapes`):
:func:`race_overlay` runs in the worker and returns the small JSON-able dict it publishes
(world coordinates and the camera); :func:`overlay_shapes` runs in the viewer and turns that
dict into lines in the frame's pixels. The KCL walls are drawn as the community tools draw
them (SuuperW's "MKDS Info" BizHawk script, gym-mkds): each prism's triangle, its three
edges projected through the race camera, cut at the near plane.

Camera facts (docs/facts/mario-kart-ds.md): the u32 at ``0x0217AA4C`` (USA; other releases
add the region offset ``u32[0x02000B54] - 0x0216F320``) points to ``camera_t``:

========== ======== ===========================================================
field      offset   type
========== ======== ===========================================================
target     ``0x18`` VecFx32: the point looked at, world units
position   ``0x24`` VecFx32: the eye, world units
matrix     ``0x30`` MtxFx43 (4 rows of 3 fx32): not used here, see below
fovSin     ``0x68`` fx16: sin of half the vertical field of view
fovCos     ``0x6A`` fx16: cos of the same angle
aspect     ``0x6C`` fx32: width / height (4/3 on the DS screen)
near, far  ``0x70`` fx32 each (``0x74``): the clip planes
========== ======== ===========================================================

The projection is NITRO's: a look-at from ``position`` to ``target`` with world y up
(``G3_LookAt``, as gluLookAt: right = forward × up), then ``G3_Perspective(fovySin,
fovyCos, aspect, near, far)``. A view point (x right, y up, z depth ahead) lands at

    px = 128 · (1 + x / (z · t · aspect)),   py = 96 · (1 - y / (z · t)),   t = fovSin / fovCos

on the 256 × 192 top screen. gym-mkds (github.com/blayyyyyk/gym-mkds, ``utils/vector.py``
``compute_model_view``) builds the same look-at from ``position`` and ``target``, and its
projection matrix from the same fields (``cos / (sin · aspect)``, ``cos / sin``: the
half-angle reading). The look-at is used rather than ``matrix`` because the matrix's layout
(which side of the product; its translation row, which later gym-mkds code scales by 16)
is in no source we can check here, while position and target are plain world points.
Segments are cut at ``max(near, NEAR_MIN)`` world units in front of the eye (``near`` may
be in the renderer's scaled units; SuuperW's script cuts at depth 1.0 too), then at the
screen's edges, so every coordinate handed to the viewer lies on the top screen.

**Not checked against the game** (no ROM here). With a ROM, in a race, draw the walls
(``emurl watch --overlays walls``) and check: the wall lines sit on the rendered walls
and barriers (a left-right mirror means right = up × forward instead; lines off by a
constant zoom mean fovSin/fovCos hold the full angle, not the half); they stay put while
the camera swings in a drift (else position/target are swapped or the camera pointer is
wrong); nothing is drawn from behind the camera.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from emurl.games.mkds import game
from emurl.games.mkds.features import RaceFeatures
from emurl.games.mkds.kcl import FX, KclGeometry, MemoryLayoutError, read_block
from emurl.games.variables import Variable

SCREEN_W, SCREEN_H = 256, 192
"""The DS top screen, px; a 384-row frame is both screens stacked, top first (DeSmuME)."""
TOP_SCREEN = (0, 0, SCREEN_W, SCREEN_H)
CAMERA_DTYPE = np.dtype({
    "names": ["target", "position", "matrix", "fov_sin", "fov_cos", "aspect", "near", "far"],
    "formats": [("<i4", (3,)), ("<i4", (3,)), ("<i4", (4, 3)), "<i2", "<i2", "<i4", "<i4", "<i4"],
    "offsets": [0x18, 0x24, 0x30, 0x68, 0x6A, 0x6C, 0x70, 0x74],
    "itemsize": 0x78,
})
"""The fields of ``camera_t`` read here (the table in the module docstring)."""
CAMERA_POINTER = {
    "address": "0x0217AA4C", "type": "<u4",
    "address_offset": {"address": "0x02000B54", "type": "<u4", "minus": "0x0216F320"},
    "doc": "the pointer to camera_t (docs/facts/mario-kart-ds.md)",
}
"""``data.json``'s format for the camera pointer; used while ``data.json`` has no ``camera_pointer``."""
NEAR_MIN = 1.0
"""The nearest a segment is drawn, world units in front of the eye (when ``near`` reads less)."""
RADIUS = 1000.0
"""Default: walls whose bounding box comes within this many world units of the kart are published."""
MAX_TRIANGLES = 256
"""Default: at most this many wall triangles, the nearest (about 70 bytes of JSON each)."""


# -- the camera -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Camera:
    """The race camera, decoded: positions in world units, ``fov_sin``/``fov_cos`` of half the
    vertical field of view, ``aspect`` = width / height, ``near`` in the game's units."""

    position: tuple[float, float, float]
    target: tuple[float, float, float]
    fov_sin: float
    fov_cos: float
    aspect: float
    near: float

    @classmethod
    def from_bytes(cls, raw: bytes) -> "Camera":
        """From the first 0x78 bytes of ``camera_t`` (:data:`CAMERA_DTYPE`)."""
        c = np.frombuffer(raw[: CAMERA_DTYPE.itemsize], CAMERA_DTYPE)[0]
        return cls(tuple((c["position"] / FX).tolist()), tuple((c["target"] / FX).tolist()),
                   int(c["fov_sin"]) / FX, int(c["fov_cos"]) / FX, int(c["aspect"]) / FX, int(c["near"]) / FX)

    @classmethod
    def from_json(cls, data: Mapping) -> "Camera":
        return cls(tuple(float(v) for v in data["position"]), tuple(float(v) for v in data["target"]),
                   float(data["fov_sin"]), float(data["fov_cos"]), float(data["aspect"]), float(data["near"]))

    def to_json(self) -> dict:
        return {"position": [round(v, 3) for v in self.position], "target": [round(v, 3) for v in self.target],
                "fov_sin": self.fov_sin, "fov_cos": self.fov_cos, "aspect": self.aspect, "near": self.near}

    def basis(self) -> np.ndarray | None:
        """float64 (3, 3): rows right, up, forward (unit, world axes; NITRO's look-at with
        world y up), or None where the eye is on the target or a field of view is not valid."""
        f = np.subtract(self.target, self.position, dtype=np.float64)
        n = np.linalg.norm(f)
        if n < 1e-9 or self.fov_sin <= 0 or self.fov_cos <= 0:
            return None
        f /= n
        right = np.cross(f, (0.0, 1.0, 0.0))
        if np.linalg.norm(right) < 1e-6:  # looking straight up or down: keep world x as right
            right = np.array([1.0, 0.0, 0.0])
        right /= np.linalg.norm(right)
        return np.stack([right, np.cross(right, f), f])

    def to_view(self, points: np.ndarray) -> np.ndarray:
        """World points (..., 3) → view coordinates (..., 3): x right, y up, z depth ahead."""
        basis = self.basis()
        if basis is None:
            raise ValueError("camera without a view: eye on target or fov not positive")
        return (np.asarray(points, np.float64) - np.asarray(self.position)) @ basis.T

    def to_screen(self, view: np.ndarray) -> np.ndarray:
        """View points (..., 3) with z > 0 → top-screen pixels (..., 2), float (x right, y down)."""
        t = self.fov_sin / self.fov_cos
        aspect = self.aspect if self.aspect > 0 else SCREEN_W / SCREEN_H
        z = view[..., 2]
        return np.stack([SCREEN_W / 2 * (1 + view[..., 0] / (z * t * aspect)),
                         SCREEN_H / 2 * (1 - view[..., 1] / (z * t))], axis=-1)


@functools.lru_cache(maxsize=1)
def camera_variable() -> Variable:
    """The camera pointer: ``data.json``'s ``camera_pointer`` (``on_demand``) if it has one,
    else :data:`CAMERA_POINTER`."""
    found = game.on_demand_variables().get("camera_pointer")
    return found or Variable.from_json("camera_pointer", CAMERA_POINTER, __name__)


def read_camera(emulator) -> Camera | None:
    """The race camera now, or None while its pointer is 0 or outside main RAM (menus)."""
    ptr = int(camera_variable().read(emulator))
    if not 0x02000000 <= ptr <= 0x02400000 - CAMERA_DTYPE.itemsize:
        return None
    return Camera.from_bytes(read_block(emulator, ptr, CAMERA_DTYPE.itemsize))


# -- projection -----------------------------------------------------------------------------
def clip_segments(seg: np.ndarray, width: float = SCREEN_W, height: float = SCREEN_H) -> tuple[np.ndarray, np.ndarray]:
    """Cut 2-D segments to the rectangle [0, width] × [0, height] (Liang-Barsky).

    Args:
        seg: float (N, 4): x0, y0, x1, y1.

    Returns:
        ``(segments, keep)``: float (M, 4), the visible parts of the kept segments, and bool
        (N,), which were kept (those with a part inside).
    """
    seg = np.asarray(seg, np.float64).reshape(-1, 4)
    x0, y0 = seg[:, 0], seg[:, 1]
    dx, dy = seg[:, 2] - x0, seg[:, 3] - y0
    t0, t1 = np.zeros(len(seg)), np.ones(len(seg))
    keep = np.ones(len(seg), bool)
    for p, q in ((-dx, x0), (dx, width - x0), (-dy, y0), (dy, height - y0)):
        flat = p == 0
        keep &= ~(flat & (q < 0))
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(flat, 0.0, q / np.where(flat, 1.0, p))
        t0 = np.where(~flat & (p < 0), np.maximum(t0, r), t0)
        t1 = np.where(~flat & (p > 0), np.minimum(t1, r), t1)
    keep &= t0 <= t1
    out = np.stack([x0 + t0 * dx, y0 + t0 * dy, x0 + t1 * dx, y0 + t1 * dy], axis=1)
    return out[keep], keep


def project_segments(camera: Camera, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World segments a→b (each (N, 3)) → their visible parts on the top screen.

    A segment is cut where it crosses the near plane (``max(camera.near, NEAR_MIN)`` ahead
    of the eye; wholly behind it, dropped), projected, then cut to the screen.

    Returns:
        ``(segments, keep)``: float (M, 4) px (x0, y0, x1, y1) and bool (N,), which were kept.
    """
    a, b = np.asarray(a, np.float64).reshape(-1, 3), np.asarray(b, np.float64).reshape(-1, 3)
    if camera.basis() is None or len(a) == 0:
        return np.zeros((0, 4)), np.zeros(len(a), bool)
    va, vb = camera.to_view(a), camera.to_view(b)
    near = max(camera.near, NEAR_MIN)
    za, zb = va[:, 2:], vb[:, 2:]
    front = (za[:, 0] >= near) | (zb[:, 0] >= near)
    with np.errstate(divide="ignore", invalid="ignore"):
        cut = np.where(za != zb, (near - za) / (zb - za), 0.0)  # where the segment meets the near plane
    hit = va + cut * (vb - va)
    va = np.where(za < near, hit, va)
    vb = np.where(zb < near, hit, vb)
    seg = np.concatenate([camera.to_screen(va[front]), camera.to_screen(vb[front])], axis=1)
    seg, inside = clip_segments(seg)
    keep = np.zeros(len(a), bool)
    keep[np.flatnonzero(front)[inside]] = True
    return seg, keep


def project_points(camera: Camera, points: np.ndarray) -> np.ndarray:
    """World points (N, 3) → top-screen px (N, 2); NaN for a point nearer than the near
    plane or off the screen."""
    p = np.asarray(points, np.float64).reshape(-1, 3)
    out = np.full((len(p), 2), np.nan)
    if camera.basis() is None or len(p) == 0:
        return out
    v = camera.to_view(p)
    ok = v[:, 2] >= max(camera.near, NEAR_MIN)
    out[ok] = camera.to_screen(v[ok])
    off = ~((out[:, 0] >= 0) & (out[:, 0] <= SCREEN_W) & (out[:, 1] >= 0) & (out[:, 1] <= SCREEN_H))
    out[off] = np.nan
    return out


# -- the worker's half ----------------------------------------------------------------------
def nearby_triangles(geometry: KclGeometry, point: Sequence[float], radius: float, limit: int) -> np.ndarray:
    """The triangles whose bounding box comes within ``radius`` of ``point``, nearest first, at
    most ``limit``: float64 (K, 3, 3), world units."""
    if len(geometry) == 0 or limit <= 0:
        return np.zeros((0, 3, 3))
    p = np.asarray(point, np.float64)
    gap = np.linalg.norm(np.maximum(np.maximum(geometry.lo - p, p - geometry.hi), 0.0), axis=1)
    near = np.flatnonzero(gap <= radius)
    order = near[np.argsort(gap[near], kind="stable")][:limit]
    return geometry.triangles[order]


def _value(values: Mapping, name: str, emulator) -> float:
    v = values.get(name)
    return float(game.variable(name).read(emulator) if v is None else v)


def race_overlay(race: RaceFeatures, values: Mapping, emulator, radius: float = RADIUS,
                 max_triangles: int = MAX_TRIANGLES) -> dict:
    """What a worker publishes for the Mario Kart DS overlays (JSON-able, a few KiB).

    Args:
        race: the features whose course geometry, rays and checkpoints are drawn (its
            caches are reused: the KCL is read once per course).
        values: the step's variables (``position_x/y/z``, ``checkpoint``; read from memory
            where absent).
        emulator: read for the camera, KCL, direction and checkpoints; None gives ``{}``.
        radius, max_triangles: which walls: those within ``radius`` world units of the
            kart, the nearest ``max_triangles``.

    Returns:
        ``{}`` outside a race (racer or camera pointer 0), else ``camera``
        (:meth:`Camera.to_json`), ``kart`` [x, y, z], ``walls`` [[x1, y1, z1, x2, ..., z3], ...]
        (wall triangles of ``race.wall_types``), ``ray_origin`` [x, y, z] and ``rays``
        [[x, y, z], ...] (each ray's end), ``checkpoint`` [x1, y, z1, x2, y, z2] (the next
        checkpoint line at the kart's height), all world units rounded to 0.1. Where the
        course data is not readable (``MemoryLayoutError``) ``overlay_error`` says why and
        walls, rays and checkpoint are left out: a viewer must not stop a worker.
    """
    if emulator is None or not game.variable("racer_pointer").read(emulator):
        return {}
    camera = read_camera(emulator)
    if camera is None:
        return {}
    kart = np.array([_value(values, k, emulator) for k in ("position_x", "position_y", "position_z")])
    out: dict = {"camera": camera.to_json(), "kart": np.round(kart, 1).tolist()}
    try:
        walls = race.walls(emulator)
        out["walls"] = np.round(nearby_triangles(walls, kart, radius, max_triangles).reshape(-1, 9), 1).tolist()
        if race.n_rays:
            forward = tuple(float(game.variable(k).read(emulator)) for k in ("direction_x", "direction_z"))
            origin, dirs, distances = race.cast(emulator, kart, forward)
            ends = origin + dirs * distances[:, None].astype(np.float64)
            out["ray_origin"], out["rays"] = np.round(origin, 1).tolist(), np.round(ends, 1).tolist()
        cps = race.checkpoints(emulator)
        if len(cps):
            e = cps[(int(_value(values, "checkpoint", emulator)) + 1) % len(cps)]
            y = round(float(kart[1]), 1)
            out["checkpoint"] = [int(e["x1"]) / FX, y, int(e["z1"]) / FX, int(e["x2"]) / FX, y, int(e["z2"]) / FX]
    except MemoryLayoutError as error:
        out["overlay_error"] = str(error)
    return out


# -- the viewer's half ----------------------------------------------------------------------
def overlay_shapes(overlay: Mapping, layers, frame_shape) -> list[tuple]:
    """Draw primitives for :func:`race_overlay`'s data, in the frame's pixels (pure).

    Args:
        overlay: the published dict (``camera``, ``walls``, ``kart``, ``ray_origin``, ``rays``,
            ``checkpoint``; others ignored).
        layers: the layers wanted, of ``"walls"`` (each wall triangle's three edges),
            ``"rays"`` (each ray from its origin to its end, and the end as a point) and
            ``"checkpoint"`` (the next checkpoint line, and a line from the kart to its middle).
        frame_shape: the frame's (H, W[, C]); the top screen is its first 192 rows whether
            the frame is the top screen alone (192 rows) or both stacked (384).

    Returns:
        ``(layer, kind, coords, clip)`` tuples: ``"line"`` with ``(x0, y0, x1, y1)`` or
        ``"point"`` with ``(x, y)``, float px already cut to the top screen;
        ``clip`` = ``(0, 0, 256, 192)``. Empty without a camera (outside a race).

    >>> cam = {"position": [0, 0, 0], "target": [0, 0, 10], "fov_sin": 0.5, "fov_cos": 0.5,
    ...        "aspect": 1.5, "near": 0.0}
    >>> overlay_shapes({"camera": cam, "walls": [[0, 0, 100, -30, 0, 100, 0, 20, 100]]}, ["walls"], (384, 256, 3))[0]
    ('walls', 'line', (128.0, 96.0, 153.6, 96.0), (0, 0, 256, 192))
    """
    data = overlay.get("camera")
    if not data or not layers:
        return []
    camera = Camera.from_json(data)
    out: list[tuple] = []

    def lines(layer: str, a, b) -> None:
        seg, _ = project_segments(camera, np.asarray(a, np.float64), np.asarray(b, np.float64))
        out.extend((layer, "line", tuple(float(v) for v in s), TOP_SCREEN) for s in seg)

    if "walls" in layers and overlay.get("walls"):
        tri = np.asarray(overlay["walls"], np.float64).reshape(-1, 3, 3)
        lines("walls", tri.reshape(-1, 3), tri[:, [1, 2, 0]].reshape(-1, 3))
    kart = overlay.get("kart")
    if "rays" in layers and overlay.get("rays") and overlay.get("ray_origin"):
        ends = np.asarray(overlay["rays"], np.float64).reshape(-1, 3)
        lines("rays", np.broadcast_to(np.asarray(overlay["ray_origin"], np.float64), ends.shape), ends)
        out.extend(("rays", "point", (float(x), float(y)), TOP_SCREEN)
                   for x, y in project_points(camera, ends) if not math.isnan(x))
    if "checkpoint" in layers and overlay.get("checkpoint") and kart:
        line = np.asarray(overlay["checkpoint"], np.float64).reshape(2, 3)
        lines("checkpoint", line[:1], line[1:])
        lines("checkpoint", np.asarray(kart, np.float64)[None], line.mean(axis=0)[None])
    return out


__all__ = [
    "CAMERA_DTYPE", "CAMERA_POINTER", "MAX_TRIANGLES", "NEAR_MIN", "RADIUS", "SCREEN_H", "SCREEN_W",
    "Camera", "camera_variable", "clip_segments", "nearby_triangles", "overlay_shapes", "project_points",
    "project_segments", "race_overlay", "read_camera",
]
