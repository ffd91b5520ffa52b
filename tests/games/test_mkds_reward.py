"""Mario Kart DS race scenario (``emurl.games.mkds.reward``): reward terms, clipping, laps,
finish, stuck and respawn ends, info; and the scenario's Python-class hook it is built by."""

from __future__ import annotations

import json

import pytest

from emurl.errors import IntegrationError
from emurl.games.mkds.reward import Race, RaceOptions


def test_scenario_class_without_from_scenario_still_builds(tmp_path):
    from emurl.games.scenario import load_scenario

    (tmp_path / "s.py").write_text(
        "class S:\n    def reset(self, v): pass\n    def reward(self, v): return 1.0\n"
        "    def terminated(self, v): return False\n"
    )
    (tmp_path / "scenario.json").write_text(json.dumps({"python": "s.py:S"}))
    assert load_scenario(str(tmp_path / "scenario.json")).load_python().reward({}) == 1.0


def _v(**kw):
    v = dict(race_progress=0.0, speed=0.0, floor_type=0, lap=1, race_frame=1, respawn_counter=0, checkpoint=0, place=1)
    v.update(kw)
    return v


def test_reward_terms_and_clip():
    race = Race()
    race.reset(_v())
    assert race.reward(_v(race_progress=0.002, race_frame=5)) == pytest.approx(0.2)
    assert race.reward(_v(race_progress=0.004, speed=10.0, race_frame=9)) == pytest.approx(0.3)
    v = _v(race_progress=0.006, speed=10.0, floor_type=3, race_frame=13)
    assert race.reward(v) == pytest.approx(0.2)
    info = race.info(v)
    assert info["offroad"] is True and info["delta_progress"] == pytest.approx(0.002)
    assert race.reward(_v(race_progress=-0.5, race_frame=17)) == -1.0  # a respawn's jump back: clipped
    assert race.reward(_v(race_progress=0.5, race_frame=21)) == 1.0
    no_clip = Race(RaceOptions(clip=None))
    no_clip.reset(_v())
    assert no_clip.reward(_v(race_progress=0.5)) == pytest.approx(50.0)


def test_one_lap_sums_to_progress_reward():
    """A lap of 2400 frames at frame skip 4: 600 steps of ~0.17, none clipped, summing to ~100 + speed terms."""
    race = Race(RaceOptions(speed_reward=0.0, stuck_seconds=None))
    race.reset(_v())
    total, biggest = 0.0, 0.0
    for step in range(1, 601):
        r = race.reward(_v(race_progress=step / 600, race_frame=1 + 4 * step, lap=1 if step < 600 else 2))
        total, biggest = total + r, max(biggest, r)
    assert total == pytest.approx(100.0) and biggest < 1.0


@pytest.mark.parametrize("laps", [1, 3])
def test_terminated_when_laps_done(laps):
    race = Race(RaceOptions(laps=laps, stuck_seconds=None))
    race.reset(_v())
    for lap in range(1, laps + 1):
        v = _v(lap=lap, race_progress=lap - 0.5, race_frame=100 * lap)
        race.reward(v)
        assert not race.terminated(v) and race.info(v)["laps_done"] == lap - 1
    v = _v(lap=laps + 1, race_progress=laps + 0.01, race_frame=100 * (laps + 1))
    race.reward(v)
    assert race.terminated(v) and race.info(v)["end"] == "finished" and race.info(v)["laps_done"] == laps


def test_finish_by_progress_and_first_lap():
    race = Race(RaceOptions(laps=2, finish="progress", stuck_seconds=None))
    race.reset(_v())
    for p, done in ((1.99, False), (2.0, True)):
        v = _v(race_progress=p, lap=0)
        race.reward(v)
        assert race.terminated(v) is done
    zero_based = Race(RaceOptions(laps=1, first_lap=0, stuck_seconds=None))
    zero_based.reset(_v(lap=0))
    v = _v(lap=1, race_progress=1.0)
    zero_based.reward(v)
    assert zero_based.terminated(v)


def test_stuck_detection_uses_race_frames():
    race = Race(RaceOptions(stuck_seconds=2.0, stuck_min_progress=0.01))
    race.reset(_v(race_frame=100))
    limit = 100 + 2.0 * 59.8261
    frame, progress = 100, 0.0
    while frame + 4 < limit:  # crawling forward by less than stuck_min_progress: still stuck-counting
        frame, progress = frame + 4, progress + 0.0001
        v = _v(race_progress=progress, race_frame=frame)
        race.reward(v)
        assert not race.terminated(v), frame
    v = _v(race_progress=progress, race_frame=frame + 4)
    race.reward(v)
    assert race.terminated(v) and race.info(v)["stuck"] and race.info(v)["end"] == "stuck"
    # progress resets the clock
    race.reset(_v(race_frame=100))
    for frame in range(104, 400, 4):
        v = _v(race_progress=(frame - 100) * 0.001, race_frame=frame)
        race.reward(v)
        assert not race.terminated(v)
    never = Race(RaceOptions(stuck_seconds=None))
    never.reset(_v())
    v = _v(race_frame=10_000)
    never.reward(v)
    assert not never.terminated(v)


def test_respawn_termination_is_optional():
    for end_on_respawn in (False, True):
        race = Race(RaceOptions(end_on_respawn=end_on_respawn))
        race.reset(_v(respawn_counter=0))
        v = _v(race_frame=5)
        race.reward(v)
        assert not race.terminated(v)
        v = _v(respawn_counter=1, race_frame=9)
        race.reward(v)
        assert race.info(v)["respawned"] and race.terminated(v) is end_on_respawn
        v = _v(respawn_counter=0, race_frame=13)  # counter going back to 0 is not a respawn
        race.reward(v)
        assert not race.info(v)["respawned"] and not race.terminated(v)


def test_info_keys():
    race = Race()
    race.reset(_v())
    v = _v(race_progress=0.01, speed=3.0, lap=1, checkpoint=4, place=2, race_frame=40)
    race.reward(v)
    info = race.info(v)
    assert set(info) >= {"speed", "delta_progress", "lap", "offroad", "checkpoint", "place", "race_frame"}
    assert (info["speed"], info["lap"], info["checkpoint"], info["place"], info["race_frame"]) == (3.0, 1, 4, 2, 40)


def test_race_options_errors():
    with pytest.raises(IntegrationError, match=r"s\.json: race: unknown key\(s\) \['lapz'\]"):
        RaceOptions.from_dict({"lapz": 3}, "s.json: race")
    for bad in ({"laps": 0}, {"laps": "3"}, {"finish": "time"}, {"offroad_types": "3"}, {"end_on_respawn": 1},
                {"clip": -1}, {"speed_reward": "x"}):
        with pytest.raises(IntegrationError, match=list(bad)[0]):
            RaceOptions.from_dict(bad)
