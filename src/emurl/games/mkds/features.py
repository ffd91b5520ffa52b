"""Memory features beyond pixels: speed, the next checkpoint, and wall distances ("LiDAR").

:class:`RaceFeatures` turns the game's memory into a small float32 vector; the
:class:`RaceFeaturesObservation` wrapper adds it to (or puts it in place of) an env's
observation. Layout of the vector, ``K = 3 + n_rays``:

====== ===================================================================================
index  meaning
====== ===================================================================================
0      speed: driver_t ``+0x2A8``, world units per frame (fx32 ÷ 4096)
1      angle to the next checkpoint, radians in (-π, π]: from the kart's heading to the
       middle of the next checkpoint line, positive to the right
2      distance to the next checkpoint line, world units (horizontal)
3..    wall distances along ``n_rays`` horizontal rays from the kart, left to right,
       spread evenly over ``fov_degrees`` around the heading; ``max_range`` where no
       wall is nearer
====== ===================================================================================

Outside a race (the racer pointer is 0) the vector is ``[0, 0, 0, max_range, ...]``.

Where the facts come from:

- RAM addresses: ``data.json`` of the integration (docs/facts/mario-kart-ds.md): position and
  direction (driver_t ``+0x80``, ``+0x50``), checkpoint (race_status_t ``+0x46``), the
  checkpoint (CPOI) entries behind the map data pointer (mdat_mapdata_t ``+0x44``,
  count ``+0x48``), the KCL header at 0x0217B5F4 (the header itself, not a pointer).
- CPOI entry, 0x24 bytes: x1, z1, x2, z2, sin, cos, distance (fx32), then gotoSection,
  startSection, keyId (s16), respawnId, flags (u8) (docs/facts/mario-kart-ds.md). The next
  checkpoint is ``(checkpoint + 1) % count``; branching sections are not followed.
- KCL: the course's collision prisms as triangles, :mod:`emurl.games.mkds.kcl` (sources there).
- Axes: y is up; the heading is the driver's direction vector projected on the ground
  plane; "right" is ``heading × up``, as in NITRO's right-handed y-up world. Not checked
  on a running game: if rays come out mirrored, negate ``fov_degrees``.

Ray casting intersects each horizontal ray with the triangles of the wall prisms
(Möller-Trumbore, vectorised over rays × triangles with numpy), after keeping only the
triangles whose bounding box reaches the ray's height and lies within ``max_range``.
gym-mkds (github.com/blayyyyyk/gym-mkds, ``wrappers/sweeping_ray.py``) sweeps rays the
same way against road-boundary lines.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from emurl.games.mkds import game
from emurl.games.mkds.kcl import (  # re-exported: they were defined here
    FX,
    MAIN_RAM,
    PRISM_DTYPE,
    WALL_TYPES,
    KclGeometry,
    MemoryLayoutError,
    prism_triangles,
    read_block,
    read_kcl,
    read_pointer,
)

CPOI_DTYPE = np.dtype(
    [("x1", "<i4"), ("z1", "<i4"), ("x2", "<i4"), ("z2", "<i4"), ("sin", "<i4"), ("cos", "<i4"), ("distance", "<i4"),
     ("goto_section", "<i2"), ("start_section", "<i2"), ("key_id", "<i2"), ("respawn_id", "u1"), ("flags", "u1")]
)
"""One checkpoint (CPOI) entry, 0x24 bytes."""
def read_checkpoints(emulator) -> np.ndarray:
    """The course's checkpoint (CPOI) entries, structured :data:`CPOI_DTYPE` (C,); empty outside a race.

    Raises:
        MemoryLayoutError: the pointer is outside main RAM or the count is over 1024.
    """
    ptr, count = read_pointer("cpoi_pointer", emulator), read_pointer("cpoi_count", emulator)
    if ptr == 0 or count == 0:
        return np.zeros(0, CPOI_DTYPE)
    if not (MAIN_RAM[0] <= ptr and ptr + count * CPOI_DTYPE.itemsize <= MAIN_RAM[1]) or count > 1024:
        raise MemoryLayoutError(
            f"checkpoint table at {ptr:#010x} with {count} entries is not plausible; check cpoi_pointer "
            f"and cpoi_count in {game.GAME}/data.json (\"on_demand\")"
        )
    return np.frombuffer(read_block(emulator, ptr, count * CPOI_DTYPE.itemsize), CPOI_DTYPE).copy()


# -- rays -----------------------------------------------------------------------------------
def ray_directions(forward_xz: Sequence[float], n_rays: int, fov_degrees: float) -> np.ndarray:
    """Unit horizontal directions, float64 (n_rays, 3), spread over ``fov_degrees`` around
    ``forward_xz`` = (x, z), left to right (right = heading × up; see the module docstring)."""
    fx, fz = float(forward_xz[0]), float(forward_xz[1])
    norm = math.hypot(fx, fz)
    fx, fz = (fx / norm, fz / norm) if norm > 1e-9 else (0.0, 1.0)
    rx, rz = -fz, fx
    if n_rays == 1:
        angles = np.zeros(1)
    else:
        half = math.radians(fov_degrees) / 2
        angles = np.linspace(-half, half, n_rays)
    c, s = np.cos(angles), np.sin(angles)
    return np.stack([c * fx + s * rx, np.zeros(n_rays), c * fz + s * rz], axis=1)


def cast_rays(origin: Sequence[float], directions: np.ndarray, geometry: KclGeometry, max_range: float) -> np.ndarray:
    """Distance along each ray to the nearest triangle, capped at ``max_range``.

    Args:
        origin: (3,) ray start, world units.
        directions: (N, 3) unit directions.
        geometry: the triangles to hit (e.g. ``read_kcl(emu).select(WALL_TYPES)``).
        max_range: distance returned when nothing is nearer.

    Returns:
        float32 (N,), in ``[0, max_range]``. Triangles are hit from either side.
    """
    o = np.asarray(origin, dtype=np.float64)
    d = np.asarray(directions, dtype=np.float64).reshape(-1, 3)
    out = np.full(len(d), float(max_range))
    if len(geometry) == 0 or len(d) == 0:
        return out.astype(np.float32)
    # Only triangles near enough, and spanning the rays' height when all rays are level.
    near = np.all(geometry.lo <= o + max_range, axis=1) & np.all(geometry.hi >= o - max_range, axis=1)
    if np.allclose(d[:, 1], 0.0):
        near &= (geometry.lo[:, 1] <= o[1]) & (geometry.hi[:, 1] >= o[1])
    tri = geometry.triangles[near]
    if len(tri) == 0:
        return out.astype(np.float32)
    v0 = tri[:, 0]
    e1 = tri[:, 1] - v0
    e2 = tri[:, 2] - v0
    p = np.cross(d[:, None, :], e2[None, :, :])  # (N, M, 3)
    det = np.einsum("mk,nmk->nm", e1, p)
    ok = np.abs(det) > 1e-12
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    s = o - v0  # (M, 3)
    u = np.einsum("mk,nmk->nm", s, p) * inv
    q = np.cross(s, e1)  # (M, 3)
    v = np.einsum("nk,mk->nm", d, q) * inv
    t = np.einsum("mk,mk->m", e2, q)[None, :] * inv
    eps = 1e-9
    hit = ok & (u >= -eps) & (v >= -eps) & (u + v <= 1 + eps) & (t >= 0)
    t = np.where(hit, t, np.inf).min(axis=1)
    return np.minimum(out, t).astype(np.float32)


# -- the feature vector ---------------------------------------------------------------------
class RaceFeatures:
    """Memory features of the player's kart: a float32 vector (layout: the module docstring).

    Args:
        n_rays: wall rays (0 for none).
        fov_degrees: angle the rays span, centred on the heading (180: left to right).
        max_range: ray length, world units (gym-mkds uses 3000).
        ray_height: world units above the kart's position the rays start at, so that they
            pass over the floor's edges.
        wall_types: KCL collision types the rays stop at (default :data:`WALL_TYPES`).

    The KCL and checkpoint tables are read once per course and cached (keyed by their
    pointers and the course id); :meth:`invalidate` forgets them.

    >>> f = RaceFeatures(n_rays=8)
    >>> f.size, f.names[:4]
    (11, ['speed', 'checkpoint_angle', 'checkpoint_distance', 'ray_0'])
    """

    def __init__(
        self,
        n_rays: int = 16,
        fov_degrees: float = 180.0,
        max_range: float = 3000.0,
        ray_height: float = 5.0,
        wall_types: Sequence[int] = WALL_TYPES,
    ):
        if n_rays < 0:
            raise ValueError(f"n_rays must be >= 0, got {n_rays}")
        if max_range <= 0:
            raise ValueError(f"max_range must be > 0, got {max_range}")
        self.n_rays = int(n_rays)
        self.fov_degrees = float(fov_degrees)
        self.max_range = float(max_range)
        self.ray_height = float(ray_height)
        self.wall_types = tuple(int(t) for t in wall_types)
        self._walls: KclGeometry | None = None
        self._walls_key = None
        self._cpoi: np.ndarray | None = None
        self._cpoi_key = None
        self._last_cast = None  # (position and heading, walls, result) of the last cast
        v = game.variable
        self._vars = {n: v(n) for n in ("racer_pointer", "speed", "position_x", "position_y", "position_z",
                                         "direction_x", "direction_z", "checkpoint", "course")}

    @property
    def size(self) -> int:
        """K = 3 + n_rays."""
        return 3 + self.n_rays

    @property
    def names(self) -> list[str]:
        return ["speed", "checkpoint_angle", "checkpoint_distance"] + [f"ray_{i}" for i in range(self.n_rays)]

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(low, high), float32 (K,) each: speed and distance unbounded, angle in [-π, π],
        rays in [0, max_range] (a ``Box(low, high)`` of the vector)."""
        low = np.array([-np.inf, -np.pi, 0.0] + [0.0] * self.n_rays, np.float32)
        high = np.array([np.inf, np.pi, np.inf] + [self.max_range] * self.n_rays, np.float32)
        return low, high

    def invalidate(self) -> None:
        """Forget the cached course geometry and checkpoints."""
        self._walls = self._cpoi = None
        self._walls_key = self._cpoi_key = None
        self._last_cast = None

    def default(self) -> np.ndarray:
        """The vector outside a race: zeros, rays at ``max_range``."""
        out = np.zeros(self.size, np.float32)
        out[3:] = self.max_range
        return out

    def walls(self, emulator) -> KclGeometry:
        """The wall triangles of the current course (cached per course)."""
        key = tuple(read_pointer(k, emulator) for k in ("kcl_vertices", "kcl_normals", "kcl_prisms", "kcl_octree"))
        key += (int(self._vars["course"].read(emulator)),)
        if key != self._walls_key:
            self._walls = read_kcl(emulator).select(self.wall_types)
            self._walls_key = key
        return self._walls

    def checkpoints(self, emulator) -> np.ndarray:
        """The CPOI entries of the current course (cached per course)."""
        key = (read_pointer("cpoi_pointer", emulator), read_pointer("cpoi_count", emulator),
               int(self._vars["course"].read(emulator)))
        if key != self._cpoi_key:
            self._cpoi = read_checkpoints(emulator)
            self._cpoi_key = key
        return self._cpoi

    def __call__(self, emulator) -> np.ndarray:
        """The feature vector now: float32 (K,)."""
        var = self._vars
        if not var["racer_pointer"].read(emulator):
            return self.default()
        px, py, pz = (float(var[k].read(emulator)) for k in ("position_x", "position_y", "position_z"))
        fx, fz = float(var["direction_x"].read(emulator)), float(var["direction_z"].read(emulator))
        out = self.default()
        out[0] = float(var["speed"].read(emulator))
        cps = self.checkpoints(emulator)
        if len(cps):
            nxt = cps[(int(var["checkpoint"].read(emulator)) + 1) % len(cps)]
            out[1], out[2] = checkpoint_angle_distance((px, pz), (fx, fz), nxt)
        if self.n_rays:
            out[3:] = self.cast(emulator, (px, py, pz), (fx, fz))[2]
        return out

    def cast(self, emulator, position: Sequence[float], forward_xz: Sequence[float]):
        """The wall rays of a kart at ``position`` (x, y, z) heading ``forward_xz``: their
        origin, float64 (3,) (``ray_height`` above the kart), unit directions, float (n_rays, 3),
        and distances to the first wall, float32 (n_rays,) (``max_range`` where none).

        The last cast is kept: a watched worker's overlay (:func:`emurl.games.mkds.overlay.race_overlay`)
        asks for the rays the observation cast from the same RAM a moment before, and gets
        them back without casting again (the same arrays: do not modify them).
        """
        walls = self.walls(emulator)
        key = (float(position[0]), float(position[1]), float(position[2]),
               float(forward_xz[0]), float(forward_xz[1]))
        last = self._last_cast
        if last is not None and last[0] == key and last[1] is walls:
            return last[2]
        origin = np.array((key[0], key[1] + self.ray_height, key[2]), np.float64)
        dirs = ray_directions(forward_xz, self.n_rays, self.fov_degrees)
        result = origin, dirs, cast_rays(origin, dirs, walls, self.max_range)
        self._last_cast = (key, walls, result)
        return result


def checkpoint_angle_distance(position_xz: Sequence[float], forward_xz: Sequence[float], entry) -> tuple[float, float]:
    """(angle, distance) from a kart to a CPOI entry's line (see the layout's rows 1 and 2).

    Args:
        position_xz: kart (x, z), world units.
        forward_xz: heading (x, z), any length.
        entry: a :data:`CPOI_DTYPE` record (fx32 coordinates).
    """
    p = np.array(position_xz, dtype=np.float64)
    a = np.array([entry["x1"], entry["z1"]], dtype=np.float64) / FX
    b = np.array([entry["x2"], entry["z2"]], dtype=np.float64) / FX
    ab = b - a
    denom = float(ab @ ab)
    t = 0.0 if denom == 0 else min(1.0, max(0.0, float((p - a) @ ab) / denom))
    distance = float(np.linalg.norm(a + t * ab - p))
    fx, fz = forward_xz
    norm = math.hypot(fx, fz)
    if norm < 1e-9:
        return 0.0, distance
    fx, fz = fx / norm, fz / norm
    to = (a + b) / 2 - p
    angle = math.atan2(to[0] * -fz + to[1] * fx, to[0] * fx + to[1] * fz)
    return angle, distance


_default: RaceFeatures | None = None


def features(emulator) -> np.ndarray:
    """:class:`RaceFeatures` with its defaults (16 rays over 180°, 3000 units): float32 (19,)."""
    global _default
    if _default is None:
        _default = RaceFeatures()
    return _default(emulator)


__all__ = [
    "CPOI_DTYPE", "PRISM_DTYPE", "WALL_TYPES", "KclGeometry", "MemoryLayoutError", "RaceFeatures",
    "cast_rays", "checkpoint_angle_distance", "features", "prism_triangles",
    "ray_directions", "read_block", "read_checkpoints", "read_kcl",
]
