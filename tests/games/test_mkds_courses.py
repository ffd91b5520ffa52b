"""Mario Kart DS courses (``emurl.games.mkds.courses``): the table and its look-ups' errors."""

from __future__ import annotations

import pytest

from emurl.games.mkds.courses import (
    COURSES,
    CUPS,
    UnknownCourseError,
    course_by_abbr,
    course_by_id,
    course_by_order,
    find_course,
)


def test_course_table():
    assert len(COURSES) == 32 and [c.order for c in COURSES] == list(range(32))
    assert len({c.abbr for c in COURSES}) == 32 and len({c.internal_id for c in COURSES}) == 32
    yf = course_by_abbr("yf")
    assert (yf.order, yf.name, yf.internal_id, yf.cup_name, yf.slot) == (1, "Yoshi Falls", 22, "Mushroom", 1)
    assert course_by_abbr("YF") is yf and course_by_abbr("yoshi falls") is yf and find_course(yf) is yf
    assert course_by_id(1).abbr == "ryc" and course_by_order(15).abbr == "rr"
    assert course_by_abbr("rr").cup_name == "Special" and course_by_abbr("rmc1").cup_name == "Shell"
    assert [c.abbr for c in COURSES if c.cup == 7] == ["rci2", "rbb", "rsg", "ryc"] and CUPS[7] == "Lightning"
    assert sum(c.retro for c in COURSES) == 16


def test_course_errors():
    with pytest.raises(UnknownCourseError, match=r"Did you mean .*yf \(Yoshi Falls\)"):
        course_by_abbr("yff")
    with pytest.raises(UnknownCourseError, match="Rainbow Road"):
        course_by_abbr("rainbow")
    with pytest.raises(UnknownCourseError, match="Courses: f8c"):
        course_by_abbr("zzzzzzzz")
    with pytest.raises(UnknownCourseError, match="internal id 2"):
        course_by_id(2)
    with pytest.raises(UnknownCourseError, match="0-31"):
        course_by_order(32)
    with pytest.raises(UnknownCourseError, match="course_by_id"):
        find_course(22)
    assert "unknown Mario Kart DS course" in str(pytest.raises(UnknownCourseError, course_by_abbr, "q").value)
