"""Super Mario Kart's 20 courses in the order the menus show them: four cups of five.

Menu order and cup contents: the game's own course select (Mushroom, Flower, Star and
Special Cup; docs/facts/super-mario-kart.md lists the 20 Time Trial tracks the community
integration covers). From power-on without a cartridge save the Special Cup is locked, so
the input scripts of ``start_states.json`` reach the 15 courses of the first three cups
(:data:`UNLOCKED_CUPS`). The course byte (0x0124) is recorded in each state's info by
``emurl games check``; its value per course is not in the facts, so no script checks it.
"""

from __future__ import annotations

from typing import NamedTuple

CUPS = ("Mushroom", "Flower", "Star", "Special")
UNLOCKED_CUPS = 3
"""Cups open from power-on (the Special Cup needs a save that unlocked it)."""


class Course(NamedTuple):
    """One course: ``cup`` and ``slot`` are its place on the course select (0-based)."""

    cup: int
    slot: int
    name: str

    @property
    def state(self) -> str:
        """The Time Trial start state's name: ``"MarioCircuit1"``."""
        return self.name.replace(" ", "")


_NAMES = (
    ("Mario Circuit 1", "Donut Plains 1", "Ghost Valley 1", "Bowser Castle 1", "Mario Circuit 2"),
    ("Choco Island 1", "Ghost Valley 2", "Donut Plains 2", "Bowser Castle 2", "Mario Circuit 3"),
    ("Koopa Beach 1", "Choco Island 2", "Vanilla Lake 1", "Bowser Castle 3", "Mario Circuit 4"),
    ("Donut Plains 3", "Koopa Beach 2", "Ghost Valley 3", "Vanilla Lake 2", "Rainbow Road"),
)
COURSES = tuple(Course(c, s, name) for c, names in enumerate(_NAMES) for s, name in enumerate(names))
"""The 20 courses, cup by cup, in menu order."""

__all__ = ["COURSES", "CUPS", "Course", "UNLOCKED_CUPS"]
