"""SharedMemoryVecEnv when a worker fails: errors come back as themselves, dead workers are
restarted, and too many deaths stop with a WorkerError (Airstriker-Genesis ships with stable-retro)."""

from __future__ import annotations

import functools
import multiprocessing as mp
import os
import signal
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import emurl
from emurl.envs import EnvSpec
from emurl.errors import EmurlError, IntegrationError, UnknownGameError, UnknownStateError, WorkerError
from emurl.vector import SharedMemoryVecEnv, WorkerRestartWarning, make_vec_env, subprocess_vec_env
from emurl.vector.faults import RestartBudget

GAME = "Airstriker-Genesis"
KW = dict(pipeline="atari", frame_skip=4)


def _env_fn():
    return emurl.make(GAME, **KW)


def _kill(venv, i: int) -> int:
    pid = venv.processes[i].pid
    os.kill(pid, signal.SIGKILL)
    venv.processes[i].join(10)  # dead for sure before the next call (no race with the kill)
    return pid


def _assert_freed(venv, shm_name: str) -> None:
    assert venv.closed and not any(p.is_alive() for p in venv.processes)
    with pytest.raises(FileNotFoundError):
        SharedMemory(name=shm_name)


@pytest.fixture
def venv():
    venv = SharedMemoryVecEnv([_env_fn, _env_fn])
    yield venv
    venv.close()


def test_a_worker_killed_while_stepping_is_restarted_at_its_start_state(venv):
    venv.seed(0)
    first = venv.reset()  # no no-ops: a reset is the start state's first observation
    for _ in range(5):
        before, *_ = venv.step(np.array([6, 3]))
    old_pid = _kill(venv, 1)
    with pytest.warns(WorkerRestartWarning, match=r"env 1 \(Airstriker-Genesis\).*SIGKILL.*restart 1"):
        obs, rewards, dones, infos = venv.step(np.array([6, 3]))
    assert venv.worker_restarts == 1 and venv.processes[1].pid != old_pid and venv.processes[1].is_alive()
    assert obs.shape == (2, 4, 84, 84) and obs.dtype == np.uint8
    assert dones.tolist() == [False, True] and rewards[1] == 0.0
    assert infos[1]["worker_restarted"] is True and infos[1]["TimeLimit.truncated"] is True
    assert "worker_restarted" not in infos[0]
    np.testing.assert_array_equal(infos[1]["terminal_observation"], before[1])  # the last one seen
    np.testing.assert_array_equal(obs[1], first[1])  # the new episode's first observation
    assert not np.array_equal(obs[0], first[0])  # env 0 went on
    for _ in range(3):  # and both keep stepping, no more restarts
        obs, _, dones, infos = venv.step(np.array([6, 3]))
        assert not dones.any() and not any("worker_restarted" in i for i in infos)
    assert venv.worker_restarts == 1 and obs.shape == (2, 4, 84, 84)


def test_a_worker_killed_between_steps_is_restarted_by_the_next_call(venv):
    venv.seed(3)
    first = venv.reset()
    _kill(venv, 0)
    with pytest.warns(WorkerRestartWarning):
        again = venv.reset()  # the new worker resets with the seed this reset was given
    np.testing.assert_array_equal(again, first)
    _kill(venv, 1)
    with pytest.warns(WorkerRestartWarning):
        assert venv.get_attr("frame_skip") == [4, 4]  # asked again of the new worker
    _, _, dones, infos = venv.step(np.array([0, 0]))  # the episode that worker had ended there
    assert dones.tolist() == [False, True] and infos[1]["worker_restarted"] is True
    assert venv.worker_restarts == 2


def test_workers_that_keep_dying_stop_with_a_worker_error(tmp_path):
    marker = str(tmp_path / "started")

    def dies_after_its_first_start():
        if os.path.exists(marker):  # every restart: the emulator "crashes" while starting
            os.kill(os.getpid(), signal.SIGKILL)
        Path(marker).touch()
        return emurl.make(GAME, **KW)

    venv = SharedMemoryVecEnv([_env_fn, dies_after_its_first_start], max_restarts=3, restart_window=100)
    name = venv.shm_name
    venv.reset()
    _kill(venv, 1)
    with pytest.warns(WorkerRestartWarning), pytest.raises(WorkerError) as info:
        venv.step(np.array([0, 0]))
    assert "env 1" in str(info.value) and "workers keep dying: 3 restarts within 100 vector steps" in str(info.value)
    assert "while building the env after a restart" in str(info.value)
    assert venv.worker_restarts == 3
    _assert_freed(venv, name)
    venv.close()  # again: nothing happens


def test_restarts_off_make_a_death_an_error():
    off = SharedMemoryVecEnv([_env_fn], max_restarts=0)
    try:
        off.reset()
        _kill(off, 0)
        with pytest.raises(WorkerError, match=r"env 0 \(Airstriker-Genesis\).*SIGKILL.*restarts are off"):
            off.step(np.array([0]))
        assert off.worker_restarts == 0
    finally:
        off.close()
    with pytest.raises(ValueError, match="max_restarts"):
        SharedMemoryVecEnv([_env_fn], max_restarts=-1)


def _local_error(**settings) -> Exception:
    with pytest.raises(EmurlError) as info:
        emurl.make(settings.pop("game", GAME), **settings)
    return info.value


@pytest.mark.parametrize("settings, cls", [
    ({"state": "NoSuchState"}, UnknownStateError),
    ({"scenario": "nosuch"}, IntegrationError),
    ({"scenario": "BAD_JSON"}, IntegrationError),
    ({"game": "NoSuchGame-Genesis"}, UnknownGameError),
])
def test_a_bad_env_in_a_worker_is_the_same_error_as_in_process(tmp_path, settings, cls):
    if settings.get("scenario") == "BAD_JSON":
        bad = tmp_path / "scenario.json"
        bad.write_text('{"reward": {"variables": {"nosuchvar": {"reward": 1}}}}')
        settings["scenario"] = str(bad)
    local = _local_error(**settings)
    assert type(local) is cls
    before = set(mp.active_children())
    game = settings.pop("game", GAME)
    with pytest.raises(EmurlError) as info:
        make_vec_env(game, num_envs=2, **settings)
    got = info.value
    assert type(got) is type(local) and str(got) == str(local)  # what `emurl: error:` prints, one line
    assert "\n" not in str(got) and "Traceback" not in str(got)
    assert "Traceback" in got.worker_traceback and got.worker_index == 0  # kept for debugging
    assert set(mp.active_children()) <= before  # nothing left running


def _build_fails(spec: EnvSpec) -> gym.Env:
    raise MemoryError("no room for the core")


class _BrokenStep(gym.Wrapper):
    def step(self, action):
        raise ZeroDivisionError("the core divided by zero")


def test_another_exception_is_one_worker_error_naming_env_and_game():
    venv = SharedMemoryVecEnv([_env_fn, lambda: _BrokenStep(emurl.make(GAME, **KW))])
    name = venv.shm_name
    venv.reset()
    with pytest.raises(WorkerError) as info:
        venv.step(np.array([0, 0]))
    assert str(info.value) == ("env 1 (Airstriker-Genesis) failed while stepping: "
                               "ZeroDivisionError: the core divided by zero")
    assert isinstance(info.value, RuntimeError) and "_BrokenStep" not in str(info.value)
    assert "in step" in info.value.worker_traceback  # the worker's frames, in an attribute
    _assert_freed(venv, name)

    before = set(mp.active_children())
    with pytest.raises(WorkerError) as info:
        SharedMemoryVecEnv([functools.partial(_build_fails, EnvSpec(GAME))])  # the game: from the spec
    assert str(info.value) == ("env 0 (Airstriker-Genesis) failed while building the env: "
                               "MemoryError: no room for the core")
    assert set(mp.active_children()) <= before


def test_close_after_a_death_does_not_hang_and_frees_the_block(venv):
    name = venv.shm_name
    venv.reset()
    venv.step_async(np.array([0, 0]))
    _kill(venv, 0)  # dies with a step in flight
    venv.close()
    _assert_freed(venv, name)


def _features_env():
    return emurl.make("MiniDoc-Nes", obs_type="features")


def test_dict_observations_through_the_pipes_survive_a_death_too():
    """subprocess_vec_env (training's for obs_type="features"): the same errors and restarts."""
    venv = subprocess_vec_env([_features_env, _features_env])
    try:
        assert venv.shm_name is None and isinstance(venv.observation_space, gym.spaces.Dict)
        venv.seed(0)
        first = venv.reset()
        assert first["planes"].shape == (2, 12, 16, 8) and first["vector"].dtype == np.float32
        before, *_ = venv.step(np.array([0, 0]))
        _kill(venv, 0)
        with pytest.warns(WorkerRestartWarning, match=r"env 0 \(MiniDoc-Nes\)"):
            obs, _, dones, infos = venv.step(np.array([0, 0]))
        assert venv.worker_restarts == 1 and dones[0] and infos[0]["worker_restarted"] is True
        assert {k: v.shape for k, v in obs.items()} == {"planes": (2, 12, 16, 8), "vector": (2, 46)}
        for key in ("planes", "vector"):
            np.testing.assert_array_equal(infos[0]["terminal_observation"][key], before[key][0])
    finally:
        venv.close()
    with pytest.raises(UnknownStateError) as info:
        subprocess_vec_env([functools.partial(emurl.make, "MiniDoc-Nes", obs_type="features", state="Nope")])
    assert str(info.value) == str(_local_error(game="MiniDoc-Nes", obs_type="features", state="Nope"))


def test_the_restart_budget_counts_within_a_sliding_window_of_steps():
    budget = RestartBudget(max_restarts=2, window=100)
    assert [budget.take(step) for step in (5, 50, 60)] == [True, True, False]  # a 3rd within 100 steps
    assert budget.take(104) is False  # 5 is 99 steps back: still in the window
    assert budget.take(105) is True  # 5 has left it; 50 and 105 are in
    assert "2 restarts within 100 vector steps" in budget.exhausted_text()
