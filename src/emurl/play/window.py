"""The ``emurl play`` window: the emulator's screen scaled by an integer factor, the key map
over it (F1), and a caption with the frame, pause, recording and the latest notice."""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np
import pygame

NOTICE_SECONDS = 2.0
"""How long a notice stays in the caption."""


class Window:
    """A pygame window showing screens of ``(height, width)`` pixels at ``scale`` × that size.

    Args:
        title: the caption's start (``"emurl play Airstriker-Genesis"``).
        height, width: the emulator's screen size in pixels.
        scale: integer scale >= 1.
        help_lines: the key map text shown over the game while :attr:`show_help`.

    Opens the display (``SDL_VIDEODRIVER=dummy`` for none); :meth:`close` closes it.
    """

    def __init__(self, title: str, height: int, width: int, scale: int, help_lines: Sequence[str]):
        pygame.display.init()
        pygame.font.init()
        self.title, self.height, self.width, self.scale = title, height, width, scale
        self.surface = pygame.display.set_mode((width * scale, height * scale))
        self.font = pygame.font.Font(None, max(14, 9 * scale))
        self.help_lines = list(help_lines)
        self.show_help = False
        self.message, self.message_until = "", 0.0

    @property
    def size(self) -> tuple[int, int]:
        """The window's (width, height) in pixels."""
        return self.surface.get_size()

    def notice(self, text: str) -> None:
        """Show ``text`` in the caption for :data:`NOTICE_SECONDS`."""
        self.message, self.message_until = text, time.perf_counter() + NOTICE_SECONDS

    def draw(self, screen: np.ndarray, status: Sequence[str]) -> None:
        """Show ``screen`` (uint8 (height, width, 3) RGB), the key map if :attr:`show_help`,
        and a caption of ``status`` parts (plus the notice while it lasts)."""
        w, h, s = self.width, self.height, self.scale
        surf = pygame.image.frombuffer(np.ascontiguousarray(screen).tobytes(), (w, h), "RGB")
        self.surface.blit(pygame.transform.scale(surf, (w * s, h * s)), (0, 0))
        if self.show_help:
            shade = pygame.Surface((w * s, h * s), pygame.SRCALPHA)
            shade.fill((0, 0, 0, 190))
            self.surface.blit(shade, (0, 0))
            y = 4
            for line in self.help_lines:
                self.surface.blit(self.font.render(line, True, (255, 255, 255)), (6, y))
                y += self.font.get_linesize()
        parts = list(status)
        if self.message and time.perf_counter() < self.message_until:
            parts.append(self.message)
        pygame.display.set_caption(f"{self.title}: " + " | ".join(parts))
        pygame.display.flip()

    def touch_at(self, pos: tuple[int, int]) -> tuple[int, int, int] | None:
        """A mouse position as a touch ``(x, y, 1)`` in bottom-screen pixels of a stacked DS
        screen (the bottom half), or None outside it."""
        x, y = pos[0] // self.scale, pos[1] // self.scale - self.height // 2
        if 0 <= x < self.width and 0 <= y < self.height // 2:
            return (int(x), int(y), 1)
        return None

    def close(self) -> None:
        pygame.display.quit()


__all__ = ["NOTICE_SECONDS", "Window"]
