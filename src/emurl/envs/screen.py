"""Which part of the emulator's screen an ``"rgb"`` observation shows."""

from __future__ import annotations


def observed_region(height: int, width: int, screens: str | None, stacked: bool,
                    crop: tuple[int, int, int, int] | None) -> tuple[slice, slice] | None:
    """(rows, columns) of the screen the observation keeps; None for all of it.

    Args:
        height, width: the emulator's screen, pixels.
        screens: Nintendo DS ``"top"`` / ``"bottom"`` (of two screens stacked when
            ``stacked``), ``"both"`` or None.
        crop: the scenario's ``[x, y, width, height]`` within the chosen screen; a width or
            height of 0, or one past the edge, runs to the edge.
    """
    region = None
    y0 = 0
    if screens in ("top", "bottom") and stacked:
        height //= 2
        y0 = height if screens == "bottom" else 0
        region = (slice(y0, y0 + height), slice(0, width))
    if crop is not None:
        x, y, w, h = crop
        w = width - x if not w or x + w > width else w
        h = height - y if not h or y + h > height else h
        region = (slice(y0 + y, y0 + y + h), slice(x, x + w))
    return region
