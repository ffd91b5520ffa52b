"""A start state's input script as frames from power-on (emurl.movies.power_on); the real
round trip through DeSmuME's movie player is tests/train/test_eval_movies.py's."""

import numpy as np
import pytest

from emurl.errors import MovieError
from emurl.movies import Movie
from emurl.movies.power_on import power_on_movie, state_script_frames

SCRIPT = [{"wait": 2}, {"press": "START"}, {"until": {"race_frame": 1}, "timeout": 120}, {"press": ["A"], "frames": 2}]


def test_the_until_step_lasts_what_the_record_leaves():
    frames = state_script_frames({"script": SCRIPT, "frames_from_power_on": 10}, "t.json")
    assert frames == [(), (), ("START",), (), (), (), (), (), ("A",), ("A",)]  # press: 1 frame, then the 4-frame until


@pytest.mark.parametrize("record, error", [
    ({"script": SCRIPT}, "no input script and frames_from_power_on"),
    ({"script": SCRIPT, "frames_from_power_on": 3}, "fewer than the script's fixed steps"),
    ({"script": SCRIPT + SCRIPT[2:3], "frames_from_power_on": 30}, "2 until steps"),
    ({"script": [{"wait": 2}], "frames_from_power_on": 5}, "takes 2 frames, its record says 5"),
])
def test_records_that_cant_say_the_frames_are_refused_by_name(record, error):
    with pytest.raises(MovieError, match=error) as e:
        state_script_frames(record, "t.json")
    assert "t.json" in str(e.value)


def test_a_start_state_that_is_none_of_the_games_is_refused():
    movie = Movie("MiniKart-NintendoDs", "NintendoDs", ["A"], np.zeros((3, 1, 1), np.uint8), backend="desmume",
                  start_state=b"not a state of the game")
    with pytest.raises(MovieError, match="none of MiniKart-NintendoDs's states for desmume"):
        power_on_movie(movie)
    assert power_on_movie(Movie(None, "NintendoDs", ["A"], np.zeros((3, 1, 1), np.uint8))).frames == 3  # from power-on
