"""One seat's placement player: from the step's variables to the placements its capsule can
reach, the frames that reach one, and the greedy choice. What an integration declares in
``metadata.json`` (``"placement": {"class": "drmario.py:Placements", "variables": {...}}``)
for :class:`emurl.wrappers.placement.PlacementActions` and the ``"greedy"`` opponent.

Variables read, per seat ``p`` (1 or 2): ``data.json``'s ``capsule_x_pN``, ``capsule_y_pN``,
``rotation_pN``, ``speed_counter_pN``, ``capsule_left_pN``, ``capsule_right_pN``,
``playfield_pN``, ``mode``; and those the ``"placement"`` block adds (MiniDoc's, see its
MEMORY.md): ``state_pN`` (0x0307: 0 while a capsule is under control), ``gravity_pN``
(0x030F), ``held_pN`` (0x00F7), ``das_pN`` (0x030C), ``capsules_pN`` (0x0327, capsules
placed, +1 when one locks).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from emurl.games.drmario.greedy import Weights, choose
from emurl.games.drmario.placement import NAMES, N_PLACEMENTS, Falling, Search, search

PLAYING = 4  # mode 0x0046: a game is on
CONTROLLED = 0  # state 0x0307: a capsule falls under the player's control


class Placements:
    """The placement set of Dr. Mario-like bottles under MiniDoc's rules (see
    :mod:`emurl.games.drmario.placement`), read from the step's variables. ``seat`` is
    0-based (0: player 1)."""

    n = N_PLACEMENTS
    names = NAMES

    def __init__(self, weights: Weights = Weights()):
        self.weights = weights

    @staticmethod
    def _v(values: Mapping, name: str, seat: int) -> int:
        return int(values[f"{name}_p{seat + 1}"])

    def falling(self, values: Mapping, seat: int) -> Falling | None:
        """The seat's capsule while the player controls it (mode 4, state 0), else None."""
        if int(values.get("mode", PLAYING)) != PLAYING or self._v(values, "state", seat) != CONTROLLED:
            return None
        v = lambda name: self._v(values, name, seat)  # noqa: E731
        return Falling(v("capsule_x"), v("capsule_y"), v("rotation") & 3, v("speed_counter"), v("gravity"),
                       v("held"), v("das"))

    def piece(self, values: Mapping, seat: int) -> int:
        """A number that changes when the seat's capsule locks (capsules placed, wraps at 256)."""
        return self._v(values, "capsules", seat)

    def position(self, values: Mapping, seat: int) -> tuple[int, int, int, int]:
        """``(x, y, rotation, speed_counter)`` now: compare with a :class:`~emurl.games.drmario.placement.Landing`'s trace."""
        return (self._v(values, "capsule_x", seat), self._v(values, "capsule_y", seat),
                self._v(values, "rotation", seat) & 3, self._v(values, "speed_counter", seat))

    def search(self, values: Mapping, seat: int, target: int | None = None) -> Search:
        """The placements reachable now and how (an all-False mask while no capsule is under
        control); with ``target``, the search stops once it has found that one (see
        :func:`~emurl.games.drmario.placement.search`)."""
        falling = self.falling(values, seat)
        if falling is None:
            return Search(np.zeros(N_PLACEMENTS, bool), {})
        return search(values[f"playfield_p{seat + 1}"], falling, target)

    def greedy(self, values: Mapping, seat: int, found: Search | None = None) -> int | None:
        """The greedy player's placement (:func:`~emurl.games.drmario.greedy.choose`), None
        while no capsule is under control."""
        found = self.search(values, seat) if found is None else found
        if not found.mask.any():
            return None
        return choose(values[f"playfield_p{seat + 1}"], found, self._v(values, "capsule_left", seat),
                      self._v(values, "capsule_right", seat), self.weights)


__all__ = ["Placements"]
