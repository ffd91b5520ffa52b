"""``emurl watch``: a pygame-ce window tiling the live screens of the workers that publish frames.

Each tile is one worker's last published frame (:mod:`emurl.vector.frames`), scaled by
``scale`` (nearest neighbour), with two label lines under it (:func:`~emurl.watch.viewer_sources.label`)
and the overlays drawn over it (:mod:`emurl.watch.overlays`; keys 1-6 toggle rays,
checkpoint, vars, buttons, walls, placement). The viewer only reads shared memory, at the display's pace
(``fps``); only while a viewer reads does a worker take its screen and overlay into its
block (:class:`emurl.vector.frames.PublishFrames`). Keys: 1-6 overlays, S screenshot, Q or
Esc quit.

Run without a display with ``SDL_VIDEODRIVER=dummy`` (the tests do): ``screenshot`` then
writes the tiled view to a PNG after ``frames`` frames.
"""

from __future__ import annotations

import io
import math
import os
import time
from dataclasses import dataclass, field

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # before pygame's import: no banner on stdout

import numpy as np  # noqa: E402
import pygame  # noqa: E402

from emurl.fileio import atomic_write  # noqa: E402
from emurl.watch.overlays import COLOURS, LAYERS, shapes  # noqa: E402
from emurl.watch.viewer_sources import DEAD, ENDED, LIVE, Sources, Tile, label, variable_rows  # noqa: E402

PAD = 4
"""Pixels between tiles and around the label lines."""
FONT_PX = 16
"""Label font size, px."""
MAX_WINDOW = (1920, 1080)
"""The window an automatic scale keeps the tiled view within, px."""
BACKGROUND = (24, 24, 28)
TEXT = (235, 235, 235)
STATE_COLOURS = {DEAD: (230, 60, 60), ENDED: (150, 150, 150)}


@dataclass
class ViewerStats:
    """What a viewer run did: ``frames`` drawn, ``seconds`` it ran, ``tiles`` at the end,
    ``fps`` (frames ÷ seconds); ``names`` (the blocks shown, in tile order) and ``rects``
    (each tile's image in the window, ``(x, y, w, h)`` px) of the last frame."""

    frames: int
    seconds: float
    tiles: int
    names: list[str] = field(default_factory=list)
    rects: list[tuple[int, int, int, int]] = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def grid(n: int) -> tuple[int, int]:
    """Columns and rows for ``n`` tiles: as square as can be, wider than tall.

    >>> grid(1), grid(2), grid(5), grid(8)
    ((1, 1), (2, 1), (3, 2), (3, 3))
    """
    cols = max(1, math.ceil(math.sqrt(n)))
    return cols, max(1, math.ceil(n / cols))


def auto_scale(frame_hw: tuple[int, int], n: int, label_h: int, window=MAX_WINDOW) -> float:
    """The largest of 3, 2, 1, 1/2, 1/4 at which ``n`` tiles of ``frame_hw`` (H, W) frames fit
    ``window``."""
    cols, rows = grid(n)
    for s in (3, 2, 1, 0.5, 0.25):
        w = cols * (int(frame_hw[1] * s) + PAD) + PAD
        h = rows * (int(frame_hw[0] * s) + label_h + PAD) + PAD
        if w <= window[0] and h <= window[1]:
            return s
    return 0.25


def tile_rects(n: int, frame_hw: tuple[int, int], scale: float, label_h: int) -> list[tuple[int, int, int, int]]:
    """Where each tile's image goes in the window: ``(x, y, w, h)`` px, row by row; its label
    lines are the ``label_h`` px below it.

    >>> tile_rects(2, (192, 256), 1, 40)
    [(4, 4, 256, 192), (264, 4, 256, 192)]
    """
    cols, _ = grid(n)
    w, h = int(frame_hw[1] * scale), int(frame_hw[0] * scale)
    return [(PAD + (i % cols) * (w + PAD), PAD + (i // cols) * (h + label_h + PAD), w, h) for i in range(n)]


def frame_surface(frame: np.ndarray) -> pygame.Surface:
    """A surface of a uint8 (H, W, C) frame (C 1, 3 or 4)."""
    if frame.shape[2] == 1:
        frame = np.repeat(frame, 3, axis=2)
    fmt = "RGBA" if frame.shape[2] == 4 else "RGB"
    return pygame.image.frombuffer(np.ascontiguousarray(frame), (frame.shape[1], frame.shape[0]), fmt).copy()


class Viewer:
    """The tiled view: :meth:`draw` paints the tiles of a :class:`Sources` onto a surface.

    Args:
        sources: what to show.
        layers: the overlays on at the start (of :data:`~emurl.watch.overlays.LAYERS`).
        scale: tile scale (None: :func:`auto_scale`, chosen again when the tiles change).
    """

    def __init__(self, sources: Sources, layers=(), scale: float | None = None):
        self.sources = sources
        self.layers = [layer for layer in LAYERS if layer in layers]
        self.scale = scale
        self.font = pygame.font.Font(None, FONT_PX)
        self.label_h = 2 * self.font.get_linesize() + PAD
        self.screen: pygame.Surface | None = None
        self._layout_key = None
        self.rects: list[tuple[int, int, int, int]] = []
        self.tiles: list[Tile] = []

    def toggle(self, layer: str) -> None:
        """Turn an overlay layer on or off."""
        self.layers = [x for x in LAYERS if (x in self.layers) != (x == layer)]

    def _layout(self, tiles: list[Tile]) -> None:
        shapes_ = [t.frame.shape[:2] for t in tiles if t.frame is not None] or [(192, 256)]
        frame_hw = (max(s[0] for s in shapes_), max(s[1] for s in shapes_))
        n = max(1, len(tiles))
        scale = self.scale if self.scale is not None else auto_scale(frame_hw, n, self.label_h)
        key = (n, frame_hw, scale)
        if key == self._layout_key and self.screen is not None:
            return
        self._layout_key = key
        self.rects = tile_rects(n, frame_hw, scale, self.label_h)
        cols, rows = grid(n)
        size = (cols * (int(frame_hw[1] * scale) + PAD) + PAD,
                rows * (int(frame_hw[0] * scale) + self.label_h + PAD) + PAD)
        self.screen = pygame.display.set_mode(size)
        self.tile_scale = scale

    def draw(self, now: float | None = None) -> pygame.Surface:
        """Read the sources and paint every tile; returns the window's surface."""
        tiles = self.sources.poll(now)
        self._layout(tiles)
        self.tiles = tiles
        screen = self.screen
        screen.fill(BACKGROUND)
        if not tiles:
            job = self.sources.pattern or "any job"
            screen.blit(self.font.render(f"waiting for workers publishing frames ({job})", True, TEXT), (PAD, PAD))
        for tile, rect in zip(tiles, self.rects):
            self._draw_tile(screen, tile, rect, now)
        return screen

    def _draw_tile(self, screen: pygame.Surface, tile: Tile, rect, now) -> None:
        x, y, w, h = rect
        s = self.tile_scale
        if tile.frame is not None:
            image = frame_surface(tile.frame)
            if s != 1:
                image = pygame.transform.scale_by(image, s)  # nearest neighbour: pixels stay pixels
            screen.blit(image, (x, y))
            self._draw_shapes(screen, tile, rect)
            if "buttons" in self.layers and tile.overlay.get("buttons"):
                pressed = " ".join(str(b) for b in tile.overlay["buttons"])
                self._text_box(screen, [pressed], (x + 2, y + h - 2), "bottom")
            if "vars" in self.layers:
                rows = [f"{k} {v}" for k, v in variable_rows(tile.overlay)]
                if rows:
                    self._text_box(screen, rows, (x + w - 2, y + 2), "topright")
        if tile.state in STATE_COLOURS:
            veil = pygame.Surface((w, h), pygame.SRCALPHA)
            veil.fill((0, 0, 0, 150))
            screen.blit(veil, (x, y))
            pygame.draw.rect(screen, STATE_COLOURS[tile.state], (x, y, w, h), 2)
        first, second = label(tile, now)
        colour = STATE_COLOURS.get(tile.state, TEXT)
        screen.blit(self.font.render(first, True, TEXT), (x, y + h + PAD // 2))
        screen.blit(self.font.render(second, True, colour if tile.state != LIVE else TEXT),
                    (x, y + h + PAD // 2 + self.font.get_linesize()))

    def _draw_shapes(self, screen: pygame.Surface, tile: Tile, rect) -> None:
        x, y, w, h = rect
        s = self.tile_scale
        width = max(1, round(s))
        for layer, kind, coords, clip in shapes(tile.overlay, self.layers, tile.frame.shape, tile.job):
            cx, cy, cw, ch = clip
            area = pygame.Rect(x + round(cx * s), y + round(cy * s), round(cw * s), round(ch * s)).clip((x, y, w, h))
            screen.set_clip(area)
            colour = COLOURS.get(layer, TEXT)
            xy = [round(v * s) + (y if i % 2 else x) for i, v in enumerate(coords)]  # pygame would truncate
            if kind == "line":
                pygame.draw.line(screen, colour, xy[:2], xy[2:], width)
            elif kind == "point":
                pygame.draw.circle(screen, colour, xy, 2 * width)
        screen.set_clip(None)

    def _text_box(self, screen: pygame.Surface, lines: list[str], at: tuple[int, int], anchor: str) -> None:
        images = [self.font.render(line, True, TEXT) for line in lines]
        bw = max(i.get_width() for i in images) + 4
        bh = sum(i.get_height() for i in images) + 2
        box = pygame.Surface((bw, bh), pygame.SRCALPHA)
        box.fill((0, 0, 0, 170))
        top = 1
        for image in images:
            box.blit(image, (2, top))
            top += image.get_height()
        rect = box.get_rect(**{anchor if anchor != "bottom" else "bottomleft": at})
        screen.blit(box, rect)


def run_viewer(job: str | None = None, workers=None, max_tiles: int | None = None, layers=(), fps: float = 30,
               scale: float | None = None, screenshot: str | os.PathLike | None = None, frames: int | None = None,
               caption: str = "emurl watch") -> ViewerStats:
    """Open the window and show the tiles until closed (Q, Esc, the window's close button) or
    ``frames`` frames are drawn; then write ``screenshot`` (PNG) if given.

    Args:
        job, workers, max_tiles: what to show (:class:`~emurl.watch.viewer_sources.Sources`).
        layers: overlays on at the start (``["rays", "checkpoint"]``).
        fps: frames drawn per second at most (0: as fast as it can, for measuring).
        scale: tile scale (None: as large as fits a 1920×1080 window, up to 3).
        screenshot: PNG written at the end, and whenever S is pressed.
        frames: stop after this many frames.

    Returns:
        :class:`ViewerStats`.
    """
    pygame.init()
    try:
        pygame.display.set_caption(caption)
        sources = Sources(job, workers, max_tiles)
        viewer = Viewer(sources, layers, scale)
        clock = pygame.time.Clock()
        start, drawn = time.perf_counter(), 0
        running = True
        while running and (frames is None or drawn < frames):
            for event in pygame.event.get():
                if event.type == pygame.QUIT:
                    running = False
                elif event.type == pygame.KEYDOWN:
                    if event.key in (pygame.K_q, pygame.K_ESCAPE):
                        running = False
                    elif pygame.K_1 <= event.key < pygame.K_1 + len(LAYERS):
                        viewer.toggle(LAYERS[event.key - pygame.K_1])
                    elif event.key == pygame.K_s:
                        _save(viewer.screen, screenshot or f"emurl-watch-{int(time.time())}.png")
            viewer.draw()
            pygame.display.flip()
            drawn += 1
            if fps:
                clock.tick(fps)
        seconds = time.perf_counter() - start
        if screenshot is not None and viewer.screen is not None:
            _save(viewer.screen, screenshot)
        stats = ViewerStats(drawn, seconds, len(viewer.tiles), [t.name for t in viewer.tiles],
                            viewer.rects[: len(viewer.tiles)])
        sources.close()
        return stats
    finally:
        pygame.quit()


def _save(surface: pygame.Surface, path) -> None:
    data = io.BytesIO()
    pygame.image.save(surface, data, "screenshot.png")
    print(f"screenshot: {atomic_write(path, data.getvalue())}")


__all__ = ["Viewer", "ViewerStats", "auto_scale", "frame_surface", "grid", "run_viewer", "tile_rects"]
