"""SharedMemoryVecEnv on real emulators (Airstriker-Genesis ships with stable-retro)."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from multiprocessing.shared_memory import SharedMemory

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import VecEnv

import emurl
from emurl.envs import EnvSpec
from emurl.errors import ConfigError, UnknownGameError, WorkerError
from emurl.vector import SharedMemoryVecEnv, make_vec_env

GAME = "Airstriker-Genesis"
KW = dict(pipeline="atari", frame_skip=4)
N_STEPS = 12


def _env_fn(**extra):
    def fn():
        return emurl.make(GAME, **KW, **extra)

    return fn


def _actions(n_envs: int, n_steps: int = N_STEPS) -> np.ndarray:
    """A fixed action sequence, different per env (LEFT=3 / RIGHT=6 / fire=9 / noop=0)."""
    rng = np.random.default_rng(1234)
    acts = rng.choice([0, 3, 6, 9], size=(n_steps, n_envs))
    acts[:, 0] = 3  # env 0 drifts left, env 1 right: their screens must differ
    if n_envs > 1:
        acts[:, 1] = 6
    return acts


def _rollout(venv, actions, seed=0):
    venv.seed(seed)
    frames = [venv.reset()]
    for a in actions:
        obs, _, _, _ = venv.step(a)
        frames.append(obs)
    return np.stack(frames)  # (steps + 1, n_envs, 4, 84, 84)


def test_vecenv_api_and_make_vec_env():
    venv = make_vec_env(GAME, num_envs=2, seed=0, frame_skip=4)
    try:
        assert isinstance(venv, VecEnv) and isinstance(venv, SharedMemoryVecEnv)
        assert venv.num_envs == 2
        assert venv.observation_space.shape == (4, 84, 84)
        obs = venv.reset()
        assert obs.shape == (2, 4, 84, 84) and obs.dtype == np.uint8
        obs, rewards, dones, infos = venv.step(np.array([0, 3]))
        assert obs.shape == (2, 4, 84, 84) and obs.dtype == np.uint8
        assert rewards.shape == (2,)
        assert dones.shape == (2,) and dones.dtype == bool
        assert len(infos) == 2 and "lives" in infos[0]
        # the returned array is a copy, not the shared block
        obs2, *_ = venv.step(np.array([6, 6]))
        assert not np.shares_memory(obs, obs2)
        assert venv.env_is_wrapped(Monitor) == [True, True]
        assert venv.get_attr("frame_skip") == [4, 4]
        assert venv.env_method("action_meaning", 3, indices=[1]) == [["LEFT"]]
        with pytest.raises(AttributeError):
            venv.get_attr("no_such_attribute")
        assert venv.get_images()[0].shape == (224, 320, 3)
    finally:
        venv.close()


@pytest.mark.slow
def test_determinism_and_exact_transfer():
    actions = _actions(2)
    runs = []
    for _ in range(2):
        venv = SharedMemoryVecEnv([_env_fn(), _env_fn()])
        try:
            runs.append(_rollout(venv, actions, seed=7))
        finally:
            venv.close()
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0][-1, 0], runs[0][-1, 1])  # the two envs really differ

    # Worker i against an in-process env with the same seed and actions.
    env = emurl.make(GAME, **KW)
    try:
        for i in range(2):
            obs, _ = env.reset(seed=7 + i)
            frames = [obs]
            for a in actions[:, i]:
                obs, *_ = env.step(a)
                frames.append(obs)
            np.testing.assert_array_equal(runs[0][:, i], np.stack(frames))
    finally:
        env.close()


def test_auto_reset_on_truncation():
    venv = make_vec_env(GAME, num_envs=2, seed=0, frame_skip=4, max_episode_steps=5)
    try:
        first = venv.reset()
        last = first
        for t in range(5):
            obs, rewards, dones, infos = venv.step(np.array([3, 6]))
            if t < 4:
                assert not dones.any()
                last = obs
        assert dones.all()
        for i, info in enumerate(infos):
            term = info["terminal_observation"]
            assert term.shape == (4, 84, 84) and term.dtype == np.uint8
            assert info["TimeLimit.truncated"] is True
            assert info["episode"]["l"] == 5  # Monitor saw the whole episode
            assert not np.array_equal(term, last[i])  # it is the 5th obs, not the 4th
        # after the auto-reset, the obs is the start of a new episode
        np.testing.assert_array_equal(obs, first)
    finally:
        venv.close()


def test_worker_error_surfaces_and_cleans_up():
    def failing_env():
        class FailingReset(gym.Wrapper):
            def reset(self, **kwargs):
                raise ValueError("boom: reset is broken on purpose")

        return FailingReset(emurl.make(GAME, **KW))

    venv = SharedMemoryVecEnv([_env_fn(), failing_env])
    name = venv.shm_name
    with pytest.raises(WorkerError, match="env 1 .*resetting: ValueError: boom: reset is broken on purpose"):
        venv.reset()
    assert venv.closed
    assert not any(p.is_alive() for p in venv.processes)
    with pytest.raises(FileNotFoundError):
        SharedMemory(name=name)
    with pytest.raises(RuntimeError, match="closed"):
        venv.reset()

    # an env fn that raises while building the env: the constructor fails, nothing is left
    before = set(mp.active_children())
    with pytest.raises(UnknownGameError, match="unknown game 'NoSuchGame-Genesis'"):  # as emurl.make says it
        SharedMemoryVecEnv([lambda: emurl.make("NoSuchGame-Genesis")])
    assert set(mp.active_children()) <= before


def test_dead_worker_does_not_hang():
    venv = SharedMemoryVecEnv([_env_fn(), _env_fn()], max_restarts=0)  # restarts: test_worker_faults.py
    try:
        venv.reset()
        os.kill(venv.processes[0].pid, signal.SIGKILL)
        with pytest.raises(WorkerError, match="env 0.*died.*SIGKILL"):
            venv.step(np.array([0, 0]))
        assert not any(p.is_alive() for p in venv.processes)
    finally:
        venv.close()


def test_close_twice_frees_shared_memory():
    venv = SharedMemoryVecEnv([_env_fn()])
    name = venv.shm_name
    SharedMemory(name=name).close()  # exists while open
    venv.reset()
    venv.close()
    venv.close()
    with pytest.raises(FileNotFoundError):
        SharedMemory(name=name)
    assert not any(p.is_alive() for p in venv.processes)


def test_non_box_space_is_rejected():
    with pytest.raises(ValueError, match="Box"):
        SharedMemoryVecEnv([lambda: gym.make("Blackjack-v1")])  # Tuple observation space


def test_make_vec_env_from_a_spec_and_bad_settings():
    spec = EnvSpec(GAME, obs_type="ram", frame_skip=2)
    venv = make_vec_env(spec, num_envs=1, max_episode_steps=3)
    try:
        assert venv.observation_space.shape == (65536,) and venv.get_attr("frame_skip") == [2]
        venv.reset()
        for _ in range(3):
            *_, dones, _ = venv.step(np.array([0]))
        assert dones.all()  # max_episode_steps=3 changed the spec
    finally:
        venv.close()
    before = set(mp.active_children())
    with pytest.raises(ConfigError, match="frame_skp.*did you mean frame_skip"):
        make_vec_env(GAME, num_envs=2, frame_skp=4)  # checked before any worker starts
    assert set(mp.active_children()) <= before


class _ProcessProbe(gym.Wrapper):
    def process_settings(self):
        import cv2

        return {"omp": os.environ.get("OMP_NUM_THREADS"), "sdl": os.environ.get("SDL_VIDEODRIVER"),
                "cv2_threads": cv2.getNumThreads(), "sigint_ignored": signal.getsignal(signal.SIGINT) == signal.SIG_IGN}


def test_workers_are_set_up_by_the_shared_helper():
    """emurl.emulators.process.setup_worker_process ran in the worker: one thread, SDL's dummy
    driver, Ctrl-C left to the parent."""
    venv = SharedMemoryVecEnv([lambda: _ProcessProbe(emurl.make(GAME, **KW))])
    try:
        (got,) = venv.env_method("process_settings")
    finally:
        venv.close()
    assert got == {"omp": "1", "sdl": os.environ.get("SDL_VIDEODRIVER", "dummy"), "cv2_threads": 1,
                   "sigint_ignored": True}
