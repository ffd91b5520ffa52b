"""Racing metrics (emurl.games.metrics, the games' Metrics, wrappers.metrics).

MiniKart: a scripted race on the real emulator (a checkpoint-chasing driver with two
deliberate swerves, onto the grass and into a wall), its RAM read every frame straight
from the addresses in MEMORY.md (not through data.json), and the metrics computed by hand
from that trace. Mario Kart DS and Super Mario Kart: synthetic variable traces (no ROM).
"""

from __future__ import annotations

import json
import math

import gymnasium as gym
import numpy as np
import pytest

import emurl
from emurl.errors import IntegrationError
from emurl.games import load_integration
from emurl.games.metrics import RaceSample, race_metrics
from emurl.games.minikart.metrics import autopilot_reference
from emurl.games.mkds.metrics import Metrics as MkdsMetrics
from emurl.games.mkds.reward import RaceOptions
from emurl.games.scenario import load_scenario
from emurl.games.smk.metrics import Metrics as SmkMetrics
from emurl.wrappers.metrics import RecordEpisodeMetrics, summarize_episode_metrics

MINIKART = "MiniKart-NintendoDs"
DS_HZ = 59.8261  # GBATEK: 33.513982 MHz / 560190 cycles a frame
GLOBALS = 0x02100000  # MEMORY.md: driver pointer, race status pointer


def read_ram(emu) -> dict:
    """MiniKart's race state from raw RAM (MEMORY.md's driver_t and race_status_t)."""
    driver, race = emu.read(GLOBALS, "<u4"), emu.read(GLOBALS + 4, "<u4")
    return {
        "speed": emu.read(driver + 0x08, "<i4"), "floor": emu.read(driver + 0x0E, "|u1"),
        "lap": emu.read(race + 0x00, "<i4"), "progress": emu.read(race + 0x08, "<i4"),
        "race_time": emu.read(race + 0x0C, "<i4"), "finished": emu.read(race + 0x10, "<u4"),
        "lap_times": [emu.read(race + 0x14 + 4 * k, "<i4") for k in range(3)],
    }


def scripted_race(frame_skip: int) -> tuple[list[dict], dict]:
    """A 3-lap race on track 0 with the steer actions (A, A+LEFT, A+RIGHT): aim at the
    checkpoint two ahead, except right turns at race time 200-234 (grass, then the infield
    wall) and left turns at 900-929 (the outer wall). Returns the RAM after reset and after
    every step, and the last step's info."""
    checkpoints = json.loads((load_integration(MINIKART).folder / "tracks.json").read_text())["tracks"][0]["checkpoints"]
    env = emurl.make(MINIKART, state="Track0", backend="desmume", frame_skip=frame_skip, obs_type="variables",
                     action_set="steer", noop_max=0, max_episode_steps=4000 // frame_skip)
    try:
        if not _has_metrics_wrapper(env):  # (once build_env adds it for a scenario with metrics, it is there)
            env = RecordEpisodeMetrics(env, env.unwrapped.scenario.load_metrics())
        _, info = env.reset(seed=0)
        emu = env.unwrapped.emulator
        trace = [read_ram(emu)]
        done = False
        while not done:
            heading = info["angle"] * 2 * math.pi / 65536
            cx, cy = checkpoints[(info["checkpoint"] + 2) % len(checkpoints)][:2]
            err = (math.atan2(cy - info["y"], cx - info["x"]) - heading + math.pi) % (2 * math.pi) - math.pi
            action = 2 if err > 0.06 else 1 if err < -0.06 else 0
            if 200 <= info["race_time"] < 235:
                action = 2
            if 900 <= info["race_time"] < 930:
                action = 1
            _, _, terminated, truncated, info = env.step(action)
            trace.append(read_ram(emu))
            done = terminated or truncated
        return trace, info
    finally:
        env.close()


def _has_metrics_wrapper(env) -> bool:
    while isinstance(env, gym.Wrapper):
        if isinstance(env, RecordEpisodeMetrics):
            return True
        env = env.env
    return False


@pytest.fixture(scope="module")
def per_frame():
    return scripted_race(frame_skip=1)


def test_minikart_metrics_equal_a_hand_computation_from_the_ram_trace(per_frame):
    trace, info = per_frame
    end = trace[-1]
    assert end["finished"] == 1 and end["lap"] == 3  # the scripted driver finishes...
    laps = end["lap_times"]
    assert sum(laps) == end["race_time"]  # (the game's own bookkeeping)
    racing = [t for t in trace[1:] if t["race_time"] > 0]  # the clock runs from GO; the episode ends at the finish
    walls = sum(1 for a, b in zip(trace, trace[1:]) if b["race_time"] > 0 and b["floor"] == 8 and a["floor"] != 8)
    assert walls > 0 and any(t["floor"] == 3 for t in racing)  # ...and met the grass and the walls
    # lap ends by hand: race time on the first frame each lap count is reached
    ends = [0] + [next(t["race_time"] for t in trace if t["lap"] >= k) for k in (1, 2, 3)]
    assert [b - a for a, b in zip(ends, ends[1:])] == laps
    expected = {
        "lap_completion": 1.0, "finished": 1.0, "laps_completed": 3.0,
        "lap1_time_s": laps[0] / DS_HZ, "lap2_time_s": laps[1] / DS_HZ, "lap3_time_s": laps[2] / DS_HZ,
        "lap_time_s": sum(laps) / 3 / DS_HZ, "best_lap_time_s": min(laps) / DS_HZ,
        "best_lap_ratio": min(laps) / 632,  # the autopilot's best lap on track 0: 632 frames (metadata.json)
        "race_time_s": end["race_time"] / DS_HZ, "race_time_ratio": end["race_time"] / 1929,
        "average_speed": sum(t["speed"] / 4096 for t in racing) / len(racing),
        "offroad_fraction": sum(t["floor"] == 3 for t in racing) / len(racing),
        "wall_hits": float(walls),
    }
    assert info["metrics"] == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert set(info["metrics"]) == set(expected)


def test_minikart_frame_skip_samples_step_ends_and_keeps_the_race_time_exact():
    trace, info = scripted_race(frame_skip=4)
    m, end = info["metrics"], trace[-1]
    assert m["finished"] == 1.0 and m["race_time_s"] == pytest.approx(end["race_time"] / DS_HZ)  # the clock stops at the finish
    for k, frames in enumerate(end["lap_times"], 1):  # a lap ends in the step where the counter grew: at most 3 frames late
        assert -3 <= round((m[f"lap{k}_time_s"]) * DS_HZ) - frames <= 3
    racing = [t for t in trace[1:] if t["race_time"] > 0]
    assert m["average_speed"] == pytest.approx(np.mean([t["speed"] / 4096 for t in racing]))
    assert m["offroad_fraction"] == pytest.approx(np.mean([t["floor"] == 3 for t in racing]))


def test_autopilot_reference_is_read_from_metadata(tmp_path):
    meta = load_integration(MINIKART).metadata
    assert meta["autopilot"]["rom_sha1"] == (load_integration(MINIKART).folder / "rom.sha").read_text().split()[0]
    assert autopilot_reference(meta, "metadata.json") == {0: (632 / DS_HZ, 1929 / DS_HZ), 1: (634 / DS_HZ, 1933 / DS_HZ)}
    with pytest.raises(IntegrationError, match=r"m\.json: autopilot\.tracks\.0: expected"):
        autopilot_reference({"autopilot": {"tracks": {"0": {"lap_frames": [], "race_frames": 9}}}}, "m.json")


@pytest.mark.parametrize("game, scenario, kind, laps", [
    (MINIKART, "scenario", "emurl.games.minikart.metrics", 3), (MINIKART, "scenario_1lap", "emurl.games.minikart.metrics", 1),
    ("MarioKartDS-NintendoDs", "scenario", "emurl.games.mkds.metrics", 3),
    ("MarioKartDS-NintendoDs", "scenario_1lap", "emurl.games.mkds.metrics", 1),
    ("MarioKartDS-NintendoDs", "scenario_strict", "emurl.games.mkds.metrics", 3),
    ("SuperMarioKart-Snes", "scenario", "emurl.games.smk.metrics", 5),
    ("SuperMarioKart-Snes", "scenario_community", "emurl.games.smk.metrics", 5),
])
def test_every_racing_scenario_declares_its_metrics(game, scenario, kind, laps):
    metrics = load_integration(game).scenario(scenario).load_metrics()
    assert type(metrics).__module__ == kind and metrics.laps == laps


def test_a_bad_metrics_declaration_names_the_file(tmp_path):
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps({"metrics": 5}))
    with pytest.raises(IntegrationError, match=rf"{path}: metrics: expected \"file.py:ClassName\""):
        load_scenario(str(path))
    (tmp_path / "m.py").write_text("class Metrics:\n    def reset(self, v): pass\n    def update(self, v): pass\n")
    path.write_text(json.dumps({"metrics": "m.py"}))
    with pytest.raises(IntegrationError, match=r"metrics: Metrics must define result\(\)"):
        load_scenario(str(path)).load_metrics()
    assert load_scenario(str(tmp_path / "scenario.json")).metrics == "m.py"
    path.write_text("{}")
    assert load_scenario(str(path)).load_metrics() is None


class Playback(gym.Env):
    """An env whose reset and steps give the infos of a scripted trace."""

    observation_space = gym.spaces.Discrete(1)
    action_space = gym.spaces.Discrete(1)

    def __init__(self, infos: list[dict]):
        self.infos = infos

    def reset(self, *, seed=None, options=None):
        self.i = 0
        return 0, dict(self.infos[0])

    def step(self, action):
        self.i += 1
        return 0, 0.0, self.i == len(self.infos) - 1, False, dict(self.infos[self.i])


def mkds(frame, lap, progress, speed, floor):
    return dict(race_frame=frame, lap=lap, race_progress=progress, speed=speed, floor_type=floor)


def test_mario_kart_ds_metrics_on_a_synthetic_trace():
    infos = [mkds(1, 1, 0.0, 0.0, 0),  # reset: the race's first frame, the first lap's counter (first_lap = 1)
             mkds(61, 1, 0.0, 0.0, 0),  # countdown: the race frame counter runs, the clock does not (GO at 121)
             mkds(241, 1, 0.0, 0.0, 0),  # racing, standing
             mkds(300, 1, 0.2, 50.0, 0), mkds(400, 1, 0.6, 60.0, 3),  # off-road
             mkds(500, 2, 1.05, 70.0, 8), mkds(520, 2, 1.1, 10.0, 8),  # lap 1 done; a wall, held: one hit
             mkds(600, 2, 1.5, 60.0, 0), mkds(700, 3, 2.0, 65.0, 8)]  # lap 2 done: 2 laps finish; another wall
    env = RecordEpisodeMetrics(Playback(infos), MkdsMetrics(RaceOptions(laps=2)))
    env.reset()
    got = [env.step(0)[4] for _ in infos[1:]]
    assert all("metrics" not in i for i in got[:-1])
    speeds = [0.0, 50.0, 60.0, 70.0, 10.0, 60.0, 65.0]
    assert got[-1]["metrics"] == pytest.approx({
        "lap_completion": 1.0, "finished": 1.0, "laps_completed": 2.0,
        "lap1_time_s": 379 / DS_HZ, "lap2_time_s": 200 / DS_HZ, "lap_time_s": 289.5 / DS_HZ, "best_lap_time_s": 200 / DS_HZ,
        "race_time_s": 579 / DS_HZ, "average_speed": sum(speeds) / 7, "offroad_fraction": 1 / 7, "wall_hits": 2.0})


def smk(minutes, seconds, hundredths, lap, checkpoint, speed, surface, mode=0x1C):
    return dict(timer_minutes=minutes, timer_seconds=seconds, timer_hundredths=hundredths, lap=lap, checkpoint=checkpoint,
                checkpoints_per_lap=10, speed=speed, surface=surface, game_mode=mode)


def test_super_mario_kart_metrics_on_a_synthetic_trace():
    metrics = SmkMetrics(laps=2)
    samples = [smk(0, 0, 0, 128, 0, 0, 64),  # reset: racing mode, timer not started
               smk(0, 0, 0, 128, 0, 0, 64),  # countdown: not racing
               smk(0, 5, 0, 128, 3, 500, 64), smk(0, 20, 50, 128, 9, 450, 84),  # off-road
               smk(0, 31, 20, 129, 0, 600, 128), smk(0, 40, 0, 129, 2, -100, 128),  # lap 1 at 31.20 s; a wall, held
               smk(1, 2, 40, 130, 0, 620, 64),  # lap 2 at 62.40 s: finished
               smk(1, 3, 0, 130, 1, 700, 84)]  # after the finish: not counted
    metrics.reset(samples[0])
    for v in samples[1:]:
        metrics.update(v)
    assert metrics.result() == pytest.approx({
        "lap_completion": 1.0, "finished": 1.0, "laps_completed": 2.0,
        "lap1_time_s": 31.2, "lap2_time_s": 31.2, "lap_time_s": 31.2, "best_lap_time_s": 31.2, "race_time_s": 62.4,
        "average_speed": (500 + 450 + 600 - 100 + 620) / 5, "offroad_fraction": 1 / 5, "wall_hits": 1.0})


def test_an_episode_that_starts_mid_lap_counts_only_its_own_laps_and_no_race_time():
    def s(clock, laps_done, progress, finished=False):
        return RaceSample(clock, laps_done, progress, 1.0, False, False, True, finished)
    samples = [s(5.0, 0, 0.3), s(8.0, 1, 1.02), s(18.0, 0, 0.99), s(19.0, 1, 1.01),  # reversed over the line and back
               s(30.0, 2, 2.0, True)]
    out = race_metrics(samples, laps=2, reference_lap_s=11.0, reference_race_s=30.0)
    assert "lap1_time_s" not in out and "race_time_s" not in out and "race_time_ratio" not in out
    assert out["lap2_time_s"] == out["best_lap_time_s"] == 22.0  # lap 1 counted once, at 8.0 s
    assert out["best_lap_ratio"] == 2.0 and out["laps_completed"] == 2.0 and out["finished"] == 1.0
    assert race_metrics([s(0.0, 0, 0.0)], laps=3) == {"lap_completion": 0.0, "finished": 0.0, "laps_completed": 0.0}


def test_truncated_episodes_report_metrics_and_evaluations_summarize_them():
    # racing from GO (race frame 121)
    infos = [mkds(1, 1, 0.0, 0.0, 0), mkds(150, 1, 0.1, 10.0, 0), mkds(200, 1, 0.2, 20.0, 3), mkds(300, 1, 0.3, 30.0, 0)]
    env = gym.wrappers.TimeLimit(Playback(infos), 2)
    env = RecordEpisodeMetrics(env, MkdsMetrics())
    env.reset()
    assert "metrics" not in env.step(0)[4]
    *_, truncated, info = env.step(0)
    assert truncated and info["metrics"] == pytest.approx(
        {"lap_completion": 0.2 / 3, "finished": 0.0, "laps_completed": 0.0, "average_speed": 15.0,
         "offroad_fraction": 0.5, "wall_hits": 0.0})
    summary = summarize_episode_metrics([info["metrics"], {"finished": 1.0, "race_time_s": 40.0, "best_lap_time_s": 12.0,
                                                           "average_speed": 25.0},
                                         {"finished": 1.0, "race_time_s": 44.0, "best_lap_time_s": 11.0}])
    assert summary["finish_rate"] == pytest.approx(2 / 3) and "finished" not in summary
    assert summary["race_time_s"] == 42.0 and summary["best_lap_time_s"] == 11.0 and summary["average_speed"] == 20.0
