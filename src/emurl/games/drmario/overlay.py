"""The viewer's ``placement`` overlay for the versus capsule games: an outline around the two
cells where a placement agent's chosen placement locks its capsule.

The data is the step's ``landing``, ``[seat, column, rotation, y]`` (column and rotation of the
placement, ``y`` the anchor row from the bottom that its plan locks on:
:class:`emurl.wrappers.placement.PlacementActions` puts it in the step's info and
:class:`emurl.vector.frames.PublishFrames` publishes it). The cells are
:func:`~emurl.games.drmario.board.capsule_cells`'; where they are on the screen is the
game's: a class with :attr:`PlacementOverlay.bottles` set (MiniDoc-Nes's features). Pure
functions of that data, as :func:`emurl.games.minikart.features.overlay_shapes` is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from emurl.games.drmario.board import capsule_cells

CELL = 8
"""A bottle cell's size on the NES screen, px (one 8×8 background tile)."""


def placement_shapes(overlay: Mapping, layers, frame_shape, bottles: Sequence[tuple[int, int]]) -> list[tuple]:
    """Draw primitives for the ``placement`` layer: each locked half's cell outlined.

    Args:
        overlay: the published overlay (``landing``: ``[seat, column, rotation, y]``; others ignored).
        layers: the layers wanted; nothing is drawn unless ``"placement"`` is one.
        frame_shape: the frame's (H, W[, C]); shapes are clipped to it.
        bottles: per seat, the frame pixel ``(x, y)`` of the top-left corner of the bottle's
            top-left cell (row 0, column 0).

    Returns:
        ``("placement", "line", (x0, y0, x1, y1), clip)`` tuples, four per cell in the
        bottle (a half above the top row has none), float px (x right, y down).

    >>> placement_shapes({"landing": [0, 3, 0, 0]}, ["placement"], (224, 240, 3), [(24, 64)])[0]
    ('placement', 'line', (48.0, 184.0, 56.0, 184.0), (0, 0, 240, 224))
    """
    landing = overlay.get("landing")
    if "placement" not in layers or not landing:
        return []
    seat, column, rotation, y = (int(v) for v in landing[:4])
    if not 0 <= seat < len(bottles):
        return []
    bx, by = bottles[seat]
    clip = (0, 0, int(frame_shape[1]), int(frame_shape[0]))
    out = []
    capsule = capsule_cells(column, y, rotation)
    for cell in (capsule.first, capsule.second):
        if cell is None:
            continue
        x0, y0 = float(bx + CELL * cell[1]), float(by + CELL * cell[0])
        x1, y1 = x0 + CELL, y0 + CELL
        for coords in ((x0, y0, x1, y0), (x1, y0, x1, y1), (x1, y1, x0, y1), (x0, y1, x0, y0)):
            out.append(("placement", "line", coords, clip))
    return out


class PlacementOverlay:
    """Gives a features class the viewer's ``placement`` layer (:func:`placement_shapes`) for
    a game whose bottles' screen positions are known: set :attr:`bottles`."""

    bottles: tuple[tuple[int, int], ...] = ()
    """Per seat, the frame pixel (x, y) of the bottle's top-left cell (empty: not drawn)."""

    def overlay_shapes(self, overlay: Mapping, layers, frame_shape) -> list[tuple]:
        """What a viewer draws for the published ``landing``: :func:`placement_shapes`."""
        return placement_shapes(overlay, layers, frame_shape, self.bottles)


__all__ = ["CELL", "PlacementOverlay", "placement_shapes"]
