"""MiniKart's feature observation: wall rays, the next checkpoint and speed, from its track data.

The vector is the racing layout of :mod:`emurl.games.racing` (``K = n_rays + 4``, float32).
MiniKart's units and sources:

- Position, heading, speed, checkpoint and track come from the step's variables
  (``data.json`` of ``MiniKart-NintendoDs``: driver_t ``x``, ``y`` (fx32 px), ``speed``
  (fx32 px/frame), ``angle`` (u16, 65536 a turn, 0 = +x, clockwise on screen),
  race_status_t ``checkpoint`` (the last one passed) and the global ``track``; the memory
  map is ``MEMORY.md`` beside the data).
- The heading is the direction the game moves the kart in: its 256-entry sine table,
  index ``angle >> 8`` (``homebrew/minikart/arm9/main.c``: ``cos_fx``, ``sin_fx``).
- Walls and checkpoints are ``tracks.json`` beside the data, exported from the ROM's own
  track source by ``homebrew/minikart/tools/export_tracks.py`` and read once per process.
- Rays (``ray_<i>``): the distance, in px ÷ ``max_range`` (128 px), the kart's centre can
  go along the ray before its collision box (centre pixel ±``kart_half`` = 2 px, the game's
  ``blocked()``; the whole box, where the game tests its corners: :attr:`Track.blocked`)
  touches a wall pixel or leaves the 256×192 screen: the first
  multiple of ``step`` (0.5 px) at which it would be blocked, so a distance is at most
  0.5 px long; 0 where the kart is already blocked.
- ``checkpoint_*``: the next checkpoint is ``(checkpoint + 1) % count``; its line is
  ``checkpoint_half_length`` (34 px) each side of its centre, across the driving
  direction, as the game tests it; distance in px ÷ ``distance_scale`` (32 px, about one
  checkpoint spacing: 31.7 px on track 0, 26.4 on track 1).
- ``speed``: px/frame ÷ 0.75 (the road's top speed; grass caps it at 0.30 → 0.4,
  reversing at -0.26 → -0.35).

Outside a race (no driver yet: every variable reads 0) the vector is what a kart at (0, 0)
would see: rays 0. A ``track`` id the data does not know falls back to track 0.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Mapping

import numpy as np

from emurl.errors import IntegrationError
from emurl.games.racing import feature_names, feature_space, ray_offsets, relative_direction, segment_distance

TRACKS_FILE = Path(__file__).resolve().parents[1] / "data" / "MiniKart-NintendoDs" / "tracks.json"
"""The integration's track data (walls and checkpoints per track)."""
_TURN = 2 * np.pi / 256  # one step of the game's sine table


class Track:
    """One track's walls and checkpoints, as arrays.

    Attributes:
        name: ``"OVAL"``, ``"CHICANE"``.
        wall: bool (192, 256), ``[y, x]``: the wall pixels.
        blocked: bool (194, 258): whether a kart whose centre is on pixel (x, y) touches a
            wall: a pixel of its box (the centre pixel ±``kart_half``) is wall; at
            ``[y + 1, x + 1]``; the one-pixel border stands for "off the screen" (blocked).
            The game tests only the box's four corners (``main.c: blocked``), which leaves
            one-pixel free slivers in the walls where the grass ends in single pixels; the
            whole box closes them, so that a ray cannot slip through a wall between them.
        checkpoints: float64 (C, 4): centre x, y and unit driving direction dx, dy, px.
        half_length: a checkpoint line's half-length, px.
    """

    def __init__(self, spec: Mapping, width: int, height: int, kart_half: int, half_length: float):
        self.name = str(spec["name"])
        wall = np.ones((height, width), bool)
        for y, spans in enumerate(spec["free_rows"]):
            for x0, x1 in spans:
                wall[y, x0:x1 + 1] = False
        self.wall = wall
        k = int(kart_half)
        padded = np.pad(wall, k + 1, constant_values=True)  # off the screen is wall
        h, w = height + 2, width + 2  # pixels -1 .. width
        blocked = np.zeros((h, w), bool)
        for dy in range(-k, k + 1):
            for dx in range(-k, k + 1):
                blocked |= padded[k + dy: k + dy + h, k + dx: k + dx + w]
        self.blocked = blocked
        self.checkpoints = np.asarray(spec["checkpoints"], np.float64).reshape(-1, 4)
        # plain floats: scalar math on them is several times faster than on numpy's
        self.checkpoint_rows = [tuple(float(v) for v in row) for row in self.checkpoints]
        self.half_length = float(half_length)
        self.width, self.height = width, height
        self._grids: dict[int, np.ndarray] = {}

    def grid(self, pad: int) -> np.ndarray:
        """:attr:`blocked` with ``pad`` pixels of blocked border: bool, flattened, of a
        (height + 2·pad, width + 2·pad) grid where pixel (x, y) is at ``[y + pad, x + pad]``;
        a ray up to ``pad - 2`` long from a point on the screen stays inside it (no clipping)."""
        if pad not in self._grids:
            g = np.ones((self.height + 2 * pad, self.width + 2 * pad), bool)
            g[pad - 1: pad + self.height + 1, pad - 1: pad + self.width + 1] = self.blocked
            self._grids[pad] = g.ravel()
        return self._grids[pad]


@lru_cache(maxsize=4)
def load_tracks(path: str = str(TRACKS_FILE)) -> tuple[tuple[Track, ...], float]:
    """MiniKart's tracks from ``tracks.json`` (read once per process and path).

    Returns:
        ``(tracks, max_speed)``: the tracks in id order, the road's top speed in px/frame.

    Raises:
        IntegrationError: the file is missing or not the exporter's format.
    """
    try:
        data = json.loads(Path(path).read_text())
        tracks = tuple(Track(t, int(data["width"]), int(data["height"]), int(data["kart_half"]),
                             float(data["checkpoint_half_length"])) for t in data["tracks"])
        return tracks, float(data["max_speed"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IntegrationError(f"{path}: not MiniKart's track data ({exc}); regenerate it with "
                               f"homebrew/minikart/tools/export_tracks.py") from exc


class RayFan:
    """Rays marched over a :class:`Track`'s blocked grid, ``step`` px at a time.

    A distance is the first multiple of ``step`` along the ray at which the kart's centre
    would be blocked (so at most ``step`` too long), ``max_range`` where none is; 0 where
    the kart is blocked already. The march's offsets for each of the game's 256 headings
    are computed on first use and kept (float32 (2, N, S), 18 KiB per heading with 9 rays).

    Args:
        offsets: the rays' angles from the heading, radians (N,).
        max_range: the rays' length, px.
        step: px between the points tested.
    """

    def __init__(self, offsets: np.ndarray, max_range: float, step: float = 0.5):
        self.offsets = np.asarray(offsets, np.float64)
        self.max_range = float(max_range)
        self.t = np.arange(0.0, self.max_range + step / 2, step, dtype=np.float32)
        self.pad = int(np.ceil(self.max_range)) + 2
        self._rows = np.arange(len(self.offsets))
        self._by_heading: list[np.ndarray | None] = [None] * 256

    def _steps(self, angles: np.ndarray) -> np.ndarray:
        return np.stack([np.multiply.outer(np.cos(angles), self.t),
                         np.multiply.outer(np.sin(angles), self.t)]).astype(np.float32)

    def heading_steps(self, heading: int) -> np.ndarray:
        """The march's (dx, dy) offsets for heading index ``heading`` (0-255: ``angle >> 8``)."""
        s = self._by_heading[heading]
        if s is None:
            s = self._by_heading[heading] = self._steps(heading * _TURN + self.offsets)
        return s

    def cast(self, track: Track, x: float, y: float, heading: int | None = None,
             angles: np.ndarray | None = None) -> np.ndarray:
        """Distances, px, float32 (N,), from (x, y) along the rays of heading index
        ``heading`` (the game's 256 directions) or along the absolute ``angles`` (radians,
        0 = +x, clockwise on screen; any number of rays)."""
        steps = self.heading_steps(heading) if angles is None else self._steps(np.asarray(angles, np.float64))
        pad = self.pad
        # a kart off the screen (garbage outside a race) is moved to its edge: all blocked there
        x = min(max(float(x), -1.0), track.width + 0.5) + pad
        y = min(max(float(y), -1.0), track.height + 0.5) + pad
        cells = (steps + np.array([x, y], np.float32).reshape(2, 1, 1)).astype(np.int32)  # >= 0: floor
        index = cells[1] * (track.width + 2 * pad)
        index += cells[0]
        hit = track.grid(pad).take(index)
        first = hit.argmax(axis=1)
        out = self.t[first]
        out[~hit[np.arange(len(first)), first]] = self.max_range
        return out


def cast_rays(track: Track, x: float, y: float, angles: np.ndarray, max_range: float, step: float = 0.5) -> np.ndarray:
    """Distances, px, float32 (N,), along rays from (x, y) in the absolute directions
    ``angles`` (radians) until the kart would be blocked (see :class:`RayFan`)."""
    return RayFan(np.zeros(0), max_range, step).cast(track, x, y, angles=angles)


class Features:
    """MiniKart's feature observation (the integration's ``"features"``; layout: the module doc).

    Args:
        n_rays: wall rays (default 9: every 22.5° over ±90°).
        fov_degrees: angle the rays span, centred on the heading.
        max_range: ray length, px.
        distance_scale: px of checkpoint distance that make 1.0.
        tracks_file: the track data (default :data:`TRACKS_FILE`).

    ``spaces``: ``{"features": ((K,), "float32", low, high)}``; ``observe(values, seat)``
    returns ``{"features": float32 (K,)}`` (a one-entry ``spaces`` makes the env's
    observation that Box itself). :meth:`vector` is the same array; :meth:`rays` gives the
    rays' hit points and :meth:`overlay` what a viewer draws (JSON-able).

    >>> f = Features()
    >>> f.size, f.names[8:]
    (13, ['ray_8', 'checkpoint_cos', 'checkpoint_sin', 'checkpoint_distance', 'speed'])
    >>> v = f.vector({"x": 123.0, "y": 40.0, "angle": 0, "speed": 0.75, "checkpoint": 15, "track": 0})
    >>> float(v[4] * f.max_range)  # straight ahead (+x): px to the wall beyond the first bend
    110.0
    >>> [round(float(e), 3) for e in v[9:]]  # the start line (checkpoint 0) 5 px ahead; top speed
    [1.0, 0.0, 0.156, 1.0]
    """

    n_rays = 9
    fov_degrees = 180.0
    max_range = 128.0
    distance_scale = 32.0
    step = 0.5

    def __init__(self, n_rays: int | None = None, fov_degrees: float | None = None, max_range: float | None = None,
                 distance_scale: float | None = None, tracks_file: str | Path | None = None):
        self.n_rays = int(self.n_rays if n_rays is None else n_rays)
        self.fov_degrees = float(self.fov_degrees if fov_degrees is None else fov_degrees)
        self.max_range = float(self.max_range if max_range is None else max_range)
        self.distance_scale = float(self.distance_scale if distance_scale is None else distance_scale)
        if self.n_rays < 0 or self.max_range <= 0 or self.distance_scale <= 0:
            raise ValueError(f"need n_rays >= 0, max_range > 0, distance_scale > 0; got {self.n_rays}, "
                             f"{self.max_range}, {self.distance_scale}")
        self.tracks, self.speed_scale = load_tracks(str(tracks_file or TRACKS_FILE))
        self.offsets = ray_offsets(self.n_rays, self.fov_degrees)
        self.fan = RayFan(self.offsets, self.max_range, self.step)
        self._inverse_range = np.float32(1.0 / self.max_range)
        self.names = feature_names(self.n_rays)
        self.size = len(self.names)
        self.spaces = {"features": feature_space(self.n_rays)}

    def track(self, values: Mapping) -> Track:
        """The :class:`Track` the variables' ``track`` id names (track 0 for an unknown id)."""
        i = int(values.get("track", 0))
        return self.tracks[i] if 0 <= i < len(self.tracks) else self.tracks[0]

    @staticmethod
    def heading(values: Mapping) -> float:
        """The kart's heading, radians (0 = +x, clockwise on screen), as the game moves it."""
        return ((int(values["angle"]) >> 8) & 255) * _TURN

    def rays(self, values: Mapping) -> tuple[np.ndarray, np.ndarray]:
        """``(distances, hit_points)``: px, float32 (N,) and float64 (N, 2) (x, y of each
        ray's end: where to draw it on the track)."""
        x, y = float(values["x"]), float(values["y"])
        d = self.fan.cast(self.track(values), x, y, (int(values["angle"]) >> 8) & 255)
        angles = self.heading(values) + self.offsets
        return d, np.stack([x + d * np.cos(angles), y + d * np.sin(angles)], axis=1)

    def next_checkpoint(self, values: Mapping) -> tuple[float, float, float, float]:
        """The next checkpoint line: its centre x, y and driving direction dx, dy (px)."""
        cps = self.track(values).checkpoint_rows
        return cps[(int(values.get("checkpoint", 0)) + 1) % len(cps)]

    def vector(self, values: Mapping) -> np.ndarray:
        """The feature vector from the variables: float32 (K,)."""
        track = self.track(values)
        x, y = float(values["x"]), float(values["y"])
        h = (int(values["angle"]) >> 8) & 255
        out = np.empty(self.size, np.float32)
        n = self.n_rays
        if n:
            np.multiply(self.fan.cast(track, x, y, h), self._inverse_range, out=out[:n])
        cps = track.checkpoint_rows
        cx, cy, dx, dy = cps[(int(values.get("checkpoint", 0)) + 1) % len(cps)]
        a = h * _TURN
        out[n], out[n + 1] = relative_direction(cx - x, cy - y, math.cos(a), math.sin(a))
        # the line runs across the driving direction (dx, dy): along (-dy, dx)
        out[n + 2] = segment_distance(x, y, cx, cy, -dy, dx, track.half_length) / self.distance_scale
        out[n + 3] = float(values["speed"]) / self.speed_scale
        return out

    def overlay(self, values: Mapping, emulator=None) -> dict:
        """What a viewer draws over the track, in track px (x right, y down): ``kart``
        [x, y, heading radians], ``rays`` [[x, y], ...] (each ray's end), ``checkpoint``
        [x0, y0, x1, y1] (the next checkpoint line's ends), ``speed`` (px/frame)."""
        _, ends = self.rays(values)
        cx, cy, dx, dy = self.next_checkpoint(values)
        half = self.track(values).half_length
        return {"kart": [float(values["x"]), float(values["y"]), self.heading(values)],
                "rays": np.round(ends, 2).tolist(),
                "checkpoint": [cx + dy * half, cy - dx * half, cx - dy * half, cy + dx * half],
                "speed": float(values["speed"])}

    def observe(self, values: Mapping, seat: int = 0) -> dict[str, np.ndarray]:
        """``{"features": float32 (K,)}``; MiniKart has one seat."""
        return {"features": self.vector(values)}

    @staticmethod
    def overlay_shapes(overlay: Mapping, layers, frame_shape) -> list[tuple]:
        """What a viewer draws for :meth:`overlay`'s data: :func:`overlay_shapes`."""
        return overlay_shapes(overlay, layers, frame_shape)


SCREEN_H = 192
"""A DS screen's height, px: the bottom screen starts this many rows down a stacked frame."""
VIEW_X, VIEW_Y = 128, 144
"""Where the race's chase view puts the kart on the top screen, px (``main.c``: ``VIEW_X``, ``VIEW_Y``)."""
MINIMAP_X, MINIMAP_Y = 128, 96
"""The minimap's top-left on the bottom screen; it shows the track at half size (``main.c``: ``MM_X``, ``MM_Y``)."""


def overlay_shapes(overlay: Mapping, layers, frame_shape) -> list[tuple]:
    """Draw primitives for MiniKart's overlay data (:meth:`Features.overlay`), in the pixels of
    the published frame (pure: the viewer renders them).

    Args:
        overlay: the published overlay dict (``kart``, ``rays``, ``checkpoint``; others ignored).
        layers: the layers wanted, of ``"rays"`` (each ray from the kart to its hit point,
            and the point) and ``"checkpoint"`` (the next checkpoint line, and the line from
            the kart to its middle: the direction to it).
        frame_shape: the frame's (H, W[, C]): 384 rows are both screens stacked (DeSmuME:
            top first), otherwise the top screen alone.

    Returns:
        ``(layer, kind, coords, clip)`` tuples: ``kind`` ``"line"`` with coords
        ``(x0, y0, x1, y1)`` or ``"point"`` with ``(x, y)``, float px in the frame (x right, y
        down); ``clip`` ``(x, y, w, h)``, the screen the shape is drawn on (it must not
        spill onto the other). Empty outside a race (kart at (0, 0), as every variable reads
        then).

    The race's top screen is a chase view (``homebrew/minikart/arm9/main.c``: ``set_view``):
    screen (sx, sy) shows track point kart + (sx - 128)·right + (sy - 144)·back with
    right = (-sin h, cos h), back = (-cos h, -sin h), h the heading; the inverse (a rotation)
    maps track px to the screen here (to within the game's 8.8 fixed point, under 1 px).
    The bottom screen's minimap shows the track at half size from (128, 96).

    >>> s = overlay_shapes({"kart": [100.0, 50.0, 0.0], "rays": [[110.0, 50.0]],
    ...                     "checkpoint": [120.0, 16.0, 120.0, 84.0]}, ["rays"], (384, 256, 3))
    >>> s[0]  # straight ahead is up the chase view
    ('rays', 'line', (128.0, 144.0, 128.0, 134.0), (0, 0, 256, 192))
    >>> s[-1][:3]  # the same ray's end on the minimap: (128 + 110 / 2, 192 + 96 + 50 / 2)
    ('rays', 'point', (183.0, 313.0))
    """
    kart = overlay.get("kart")
    if not kart or (kart[0] == 0 and kart[1] == 0):
        return []
    kx, ky, h = (float(v) for v in kart[:3])
    s, c = math.sin(h), math.cos(h)
    views = [(lambda x, y: (VIEW_X + (x - kx) * -s + (y - ky) * c, VIEW_Y + (x - kx) * -c + (y - ky) * -s),
              (0, 0, 256, SCREEN_H))]
    if frame_shape[0] >= 2 * SCREEN_H:
        views.append((lambda x, y: (MINIMAP_X + x / 2, SCREEN_H + MINIMAP_Y + y / 2),
                      (MINIMAP_X, SCREEN_H + MINIMAP_Y, 128, 96)))
    out = []
    for view, clip in views:
        k = view(kx, ky)
        if "checkpoint" in layers and overlay.get("checkpoint"):
            x0, y0, x1, y1 = (float(v) for v in overlay["checkpoint"])
            a, b = view(x0, y0), view(x1, y1)
            out.append(("checkpoint", "line", (*a, *b), clip))
            out.append(("checkpoint", "line", (*k, *view((x0 + x1) / 2, (y0 + y1) / 2)), clip))
        if "rays" in layers:
            for end in overlay.get("rays") or ():
                e = view(float(end[0]), float(end[1]))
                out.append(("rays", "line", (*k, *e), clip))
                out.append(("rays", "point", e, clip))
    return out


__all__ = ["TRACKS_FILE", "Features", "RayFan", "Track", "cast_rays", "load_tracks", "overlay_shapes"]
