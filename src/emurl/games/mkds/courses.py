"""Mario Kart DS's 32 courses: menu order, abbreviation, name and internal id.

This is emurl's one table of Mario Kart DS courses; everything else (start states, ghost
decoding in ``emurl.movies``, the race config check) looks courses up here.

- ``order`` (0-31): the menu order, cup by cup, four courses a cup; also the order of
  the 32 Time Trial ghost slots in the save file.
- ``internal_id``: the id the game stores (race config ``+0x0``, a ghost header's
  bits 10-15).
- ``abbr``: the community's abbreviation (``"yf"`` Yoshi Falls, ``"rmc1"`` SNES Mario
  Circuit 1).

Source: the shared facts file ``docs/facts/mario-kart-ds.md``, section "Courses". The cup
names are those the game's menus show (not in the facts file).

>>> course_by_abbr("yf")
Course(order=1, abbr='yf', name='Yoshi Falls', internal_id=22)
>>> course_by_id(22).name, course_by_order(31).abbr
('Yoshi Falls', 'ryc')
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from emurl.errors import EmurlError

CUPS = ("Mushroom", "Flower", "Star", "Special", "Shell", "Banana", "Leaf", "Lightning")
"""Cup names in menu order: cup ``i`` holds the courses of order ``4*i .. 4*i+3``."""


class UnknownCourseError(EmurlError, KeyError):
    """No course has this abbreviation, name, id or order; the message lists close ones."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@dataclass(frozen=True)
class Course:
    """One course.

    Attributes:
        order: menu order 0-31 (also the ghost slot in the save file).
        abbr: lower-case abbreviation, e.g. ``"f8c"``.
        name: the name the menus show, with the console of origin for retro courses.
        internal_id: the game's course id (race config ``+0x0``).
    """

    order: int
    abbr: str
    name: str
    internal_id: int

    @property
    def cup(self) -> int:
        """Cup index 0-7 in the cup menu (:data:`CUPS`)."""
        return self.order // 4

    @property
    def cup_name(self) -> str:
        return CUPS[self.cup]

    @property
    def slot(self) -> int:
        """Position 0-3 of the course inside its cup."""
        return self.order % 4

    @property
    def retro(self) -> bool:
        """True for the 16 courses of the retro cups (Shell to Lightning)."""
        return self.order >= 16


# order, abbr, name, internal id (docs/facts/mario-kart-ds.md, "Courses")
_TABLE = (
    (0, "f8c", "Figure-8 Circuit", 20),
    (1, "yf", "Yoshi Falls", 22),
    (2, "ccb", "Cheep Cheep Beach", 31),
    (3, "lm", "Luigi's Mansion", 18),
    (4, "dh", "Desert Hills", 27),
    (5, "ds", "Delfino Square", 28),
    (6, "wp", "Waluigi Pinball", 33),
    (7, "sr", "Shroom Ridge", 24),
    (8, "dkp", "DK Pass", 30),
    (9, "ttc", "Tick-Tock Clock", 17),
    (10, "mc", "Mario Circuit", 25),
    (11, "af", "Airship Fortress", 19),
    (12, "ws", "Wario Stadium", 34),
    (13, "pg", "Peach Gardens", 26),
    (14, "bc", "Bowser Castle", 32),
    (15, "rr", "Rainbow Road", 29),
    (16, "rmc1", "SNES Mario Circuit 1", 10),
    (17, "rmmf", "N64 Moo Moo Farm", 11),
    (18, "rpc", "GBA Peach Circuit", 13),
    (19, "rlc1", "GCN Luigi Circuit", 14),
    (20, "rdp1", "SNES Donut Plains 1", 35),
    (21, "rfs", "N64 Frappe Snowland", 16),
    (22, "rbc2", "GBA Bowser Castle 2", 12),
    (23, "rbp", "GCN Baby Park", 9),
    (24, "rkb2", "SNES Koopa Beach 2", 15),
    (25, "rcm", "N64 Choco Mountain", 36),
    (26, "rlc2", "GBA Luigi Circuit", 37),
    (27, "rmb", "GCN Mushroom Bridge", 38),
    (28, "rci2", "SNES Choco Island 2", 39),
    (29, "rbb", "N64 Banshee Boardwalk", 23),
    (30, "rsg", "GBA Sky Garden", 40),
    (31, "ryc", "GCN Yoshi Circuit", 1),
)

COURSES: tuple[Course, ...] = tuple(Course(*row) for row in _TABLE)
"""All 32 courses in menu order (``COURSES[i].order == i``)."""

_BY_ABBR = {c.abbr: c for c in COURSES}
_BY_NAME = {c.name.lower(): c for c in COURSES}
_BY_ID = {c.internal_id: c for c in COURSES}


def _listing() -> str:
    return ", ".join(f"{c.abbr} ({c.name})" for c in COURSES)


def course_by_abbr(abbr: str) -> Course:
    """The course of an abbreviation (``"yf"``) or full name (``"Yoshi Falls"``), any case.

    Raises:
        UnknownCourseError: no such course; the message names the closest abbreviations
            and names, or lists all 32.
    """
    key = str(abbr).strip().lower()
    if key in _BY_ABBR:
        return _BY_ABBR[key]
    if key in _BY_NAME:
        return _BY_NAME[key]
    close = difflib.get_close_matches(key, list(_BY_ABBR), n=3, cutoff=0.5)
    close += [n for n in difflib.get_close_matches(key, list(_BY_NAME), n=3, cutoff=0.5)]
    close += [c.abbr for c in COURSES if key and (key in c.name.lower()) and c.abbr not in close]
    hints = list(dict.fromkeys((_BY_ABBR.get(k) or _BY_NAME[k]) for k in close))
    if hints:
        hint = "Did you mean " + ", ".join(f"{c.abbr} ({c.name})" for c in hints[:5]) + "?"
    else:
        hint = "Courses: " + _listing()
    raise UnknownCourseError(f"unknown Mario Kart DS course {abbr!r}. {hint}")


def course_by_id(internal_id: int) -> Course:
    """The course whose internal id (race config ``+0x0``) is ``internal_id``.

    Raises:
        UnknownCourseError: no course has this id (the message lists the ids).
    """
    try:
        return _BY_ID[int(internal_id)]
    except (KeyError, TypeError, ValueError):
        ids = ", ".join(f"{c.internal_id} {c.abbr}" for c in sorted(COURSES, key=lambda c: c.internal_id))
        raise UnknownCourseError(f"no Mario Kart DS course has internal id {internal_id!r} (ids: {ids})") from None


def course_by_order(order: int) -> Course:
    """The course at menu position ``order`` (0-31; also the save file's ghost slot).

    Raises:
        UnknownCourseError: ``order`` is not in 0-31.
    """
    try:
        order = int(order)
    except (TypeError, ValueError):
        raise UnknownCourseError(f"course order must be an int 0-31, got {order!r}") from None
    if not 0 <= order < len(COURSES):
        raise UnknownCourseError(f"course order must be 0-31 (menu order), got {order}")
    return COURSES[order]


def find_course(course: "str | Course") -> Course:
    """A :class:`Course` as is, or one named by abbreviation or full name (see :func:`course_by_abbr`)."""
    if isinstance(course, Course):
        return course
    if not isinstance(course, str):
        raise UnknownCourseError(
            f"name a course by abbreviation or name (e.g. 'yf'), got {course!r}; "
            "for numbers use course_by_id (internal id) or course_by_order (menu order)"
        )
    return course_by_abbr(course)


__all__ = ["COURSES", "CUPS", "Course", "UnknownCourseError", "course_by_abbr", "course_by_id", "course_by_order", "find_course"]
