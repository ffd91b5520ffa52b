"""The racing games' feature vector: one layout for MiniKart and Mario Kart DS (pure numpy).

A racing integration's ``obs_type="features"`` observation is a float32 vector of
``K = n_rays + 4`` numbers, each scaled to about [-1, 1] so that a small network (NEAT's
genomes) can take it as it is:

=========  ==========================================================================
index      meaning
=========  ==========================================================================
0..N-1     ``ray_<i>``: distance to the nearest wall along ray i ÷ ``max_range``, in
           [0, 1] (1: no wall within ``max_range``). The N rays fan out from the kart's
           heading over ``fov_degrees`` (180: ±90°), left to right: ray 0 points
           ``fov/2`` to the left, ray N-1 ``fov/2`` to the right, ray (N-1)/2 straight
           ahead when N is odd.
N, N+1     ``checkpoint_cos``, ``checkpoint_sin``: the direction from the kart to the
           middle of the next checkpoint line, relative to the heading: (1, 0) straight
           ahead, (0, 1) to the right, (0, -1) to the left, (-1, 0) behind.
N+2        ``checkpoint_distance``: distance from the kart to the next checkpoint line
           (the segment) ÷ the game's ``distance_scale``; ≥ 0, about 1 at one
           checkpoint spacing.
N+3        ``speed``: the kart's speed ÷ the game's ``speed_scale`` (its top speed on
           road), negative when reversing.
=========  ==========================================================================

Distances and ``max_range`` are in the game's units (MiniKart: screen pixels; Mario Kart
DS: world units). Which checkpoint is "next", what a wall is, and the scales are each
game's: :mod:`emurl.games.minikart.features`, :mod:`emurl.games.mkds.features`.
"""

from __future__ import annotations

import numpy as np

EXTRA = ("checkpoint_cos", "checkpoint_sin", "checkpoint_distance", "speed")
"""The names after the rays, in order."""


def feature_names(n_rays: int) -> list[str]:
    """The vector's element names: ``ray_0`` ... ``ray_<N-1>``, then :data:`EXTRA`."""
    return [f"ray_{i}" for i in range(n_rays)] + list(EXTRA)


def feature_bounds(n_rays: int) -> tuple[np.ndarray, np.ndarray]:
    """(low, high), float32 (N + 4,) each: rays [0, 1], cos and sin [-1, 1], distance
    [0, inf), speed [-1, 1]."""
    low = np.array([0.0] * n_rays + [-1.0, -1.0, 0.0, -1.0], np.float32)
    high = np.array([1.0] * n_rays + [1.0, 1.0, np.inf, 1.0], np.float32)
    return low, high


def feature_space(n_rays: int) -> tuple[tuple[int], str, np.ndarray, np.ndarray]:
    """``(shape, dtype, low, high)`` of the vector: an integration features class's
    ``spaces`` entry (:meth:`emurl.games.Integration.features`)."""
    low, high = feature_bounds(n_rays)
    return (n_rays + 4,), "float32", low, high


def ray_offsets(n_rays: int, fov_degrees: float) -> np.ndarray:
    """Angles of the rays from the heading, radians, float64 (N,), left (negative) to right;
    one ray points straight ahead."""
    if n_rays < 1:
        return np.zeros(0)
    if n_rays == 1:
        return np.zeros(1)
    half = np.radians(fov_degrees) / 2
    return np.linspace(-half, half, n_rays)


def relative_direction(dx: float, dy: float, heading_cos: float, heading_sin: float) -> tuple[float, float]:
    """(cos, sin) of the direction (dx, dy) relative to a heading, positive sin to the right.

    "Right" is the heading turned a quarter turn in the direction angles grow: clockwise on
    a y-down screen (MiniKart), ``heading × up`` in a y-up world seen from above (Mario
    Kart DS's x-z plane, with (dx, dy) = (Δx, Δz)). A zero vector gives (1, 0).
    """
    norm = (dx * dx + dy * dy) ** 0.5
    if norm < 1e-9:
        return 1.0, 0.0
    return ((dx * heading_cos + dy * heading_sin) / norm, (dy * heading_cos - dx * heading_sin) / norm)


def segment_distance(px: float, py: float, cx: float, cy: float, ux: float, uy: float, half_length: float) -> float:
    """Distance from point (px, py) to the segment centred on (cx, cy), running along the
    unit vector (ux, uy) for ``half_length`` each side."""
    vx, vy = px - cx, py - cy
    along = vx * ux + vy * uy
    clamped = min(half_length, max(-half_length, along))
    ex, ey = vx - clamped * ux, vy - clamped * uy
    return (ex * ex + ey * ey) ** 0.5


__all__ = ["EXTRA", "feature_bounds", "feature_names", "feature_space", "ray_offsets", "relative_direction",
           "segment_distance"]
