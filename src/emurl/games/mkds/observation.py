"""Mario Kart DS's feature observation: the racing layout of :mod:`emurl.games.racing` from the
KCL wall rays and checkpoint features of :mod:`emurl.games.mkds.features`.

Sources: as :mod:`emurl.games.mkds.features` (docs/facts/mario-kart-ds.md): speed driver_t
``+0x2A8``, max speed ``+0xD0`` (fx32 world units per frame), the CPOI table.
"""

from __future__ import annotations

import math

import numpy as np

from emurl.games.mkds import game
from emurl.games.mkds.features import FX, RaceFeatures
from emurl.games.mkds.overlay import overlay_shapes, race_overlay
from emurl.games.racing import feature_names, feature_space


class FeatureObservation:
    """Mario Kart DS's ``obs_type="features"`` (the integration's ``"features"``): the racing
    layout of :mod:`emurl.games.racing`, float32 (K = n_rays + 4,), from :class:`RaceFeatures`.

    Units: rays are world units ÷ ``max_range``; the checkpoint direction is row 1's angle
    as (cos, sin); ``checkpoint_distance`` is world units ÷ the course's mean spacing of
    consecutive checkpoint middles (``max_range`` with fewer than two checkpoints);
    ``speed`` is driver_t ``+0x2A8`` ÷ max speed (``+0xD0``; 0 while that reads 0).

    It reads the course's collision data through the emulator, so the env calls
    ``observe(values, seat, emulator=...)`` (``needs_emulator``); Mario Kart DS has one seat.
    """

    needs_emulator = True
    n_rays = 9
    fov_degrees = 180.0
    max_range = 3000.0

    def __init__(self, n_rays: int | None = None, fov_degrees: float | None = None, max_range: float | None = None,
                 ray_height: float = 5.0):
        self.n_rays = int(self.n_rays if n_rays is None else n_rays)
        self.fov_degrees = float(self.fov_degrees if fov_degrees is None else fov_degrees)
        self.max_range = float(self.max_range if max_range is None else max_range)
        self.race = RaceFeatures(self.n_rays, self.fov_degrees, self.max_range, ray_height)
        self.names = feature_names(self.n_rays)
        self.size = len(self.names)
        self.spaces = {"features": feature_space(self.n_rays)}
        self._spacing: tuple[np.ndarray, float] | None = None  # (the CPOI array, its spacing)

    def spacing(self, emulator) -> float:
        """The mean distance between consecutive checkpoint middles, world units (cached per course)."""
        cps = self.race.checkpoints(emulator)
        if self._spacing is None or self._spacing[0] is not cps:
            mid = np.stack([(cps["x1"] + cps["x2"]) / 2, (cps["z1"] + cps["z2"]) / 2], axis=1) / FX
            gaps = np.linalg.norm(np.diff(mid, axis=0), axis=1) if len(mid) > 1 else np.zeros(0)
            gaps = gaps[gaps > 0]
            self._spacing = (cps, float(gaps.mean()) if len(gaps) else self.max_range)
        return self._spacing[1]

    def vector(self, emulator, values: dict | None = None) -> np.ndarray:
        """The feature vector now: float32 (K,). ``values``: the step's variables (for
        ``max_speed``; read from memory where absent)."""
        raw = self.race(emulator)  # speed, angle, distance, rays (RaceFeatures' layout)
        n = self.n_rays
        out = np.empty(self.size, np.float32)
        out[:n] = raw[3:] / self.max_range
        out[n], out[n + 1] = math.cos(raw[1]), math.sin(raw[1])
        out[n + 2] = raw[2] / self.spacing(emulator) if raw[2] else 0.0
        top = float((values or {}).get("max_speed", 0.0) or game.variable("max_speed").read(emulator))
        out[n + 3] = raw[0] / top if top > 0 else 0.0
        return out

    def observe(self, values: dict, seat: int = 0, emulator=None) -> dict[str, np.ndarray]:
        """``{"features": float32 (K,)}``."""
        return {"features": self.vector(emulator, values)}

    def overlay(self, values: dict, emulator=None) -> dict:
        """What a watched worker publishes: walls near the kart, rays, next checkpoint and the
        camera (:func:`emurl.games.mkds.overlay.race_overlay`, with this object's rays)."""
        return race_overlay(self.race, values, emulator)

    @staticmethod
    def overlay_shapes(overlay: dict, layers, frame_shape) -> list[tuple]:
        """What a viewer draws for :meth:`overlay`'s data: :func:`emurl.games.mkds.overlay.overlay_shapes`."""
        return overlay_shapes(overlay, layers, frame_shape)


__all__ = ["FeatureObservation"]
