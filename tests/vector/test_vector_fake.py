"""SharedMemoryVecEnv's step, reset and autoreset with fake-emulator envs (``tests/fakes.py``).

Each worker builds its env from a picklable :class:`fakes.FakeEnvFactory`; the expected
observations come from the same env run in this process with the same actions.
"""

from __future__ import annotations

import numpy as np
import pytest

from fakes import FakeEnvFactory, write_integration
from emurl.vector import SharedMemoryVecEnv

COMBOS = [[], ["A"], ["RIGHT"], ["B"], ["LEFT"]]
NOOP, A, RIGHT, B, LEFT = range(5)


@pytest.fixture
def root(tmp_path):
    return write_integration(tmp_path)


@pytest.fixture
def vec(root):
    made = []

    def factory(n: int, **kwargs):
        venv = SharedMemoryVecEnv([FakeEnvFactory(root, action_set=COMBOS, **kwargs)] * n)
        made.append(venv)
        return venv

    yield factory
    for venv in made:
        venv.close()


def local_rollout(root, actions, seed, **kwargs):
    env = FakeEnvFactory(root, action_set=COMBOS, **kwargs)()
    try:
        out = [env.reset(seed=seed)[0]]
        for a in actions:
            obs, reward, terminated, truncated, info = env.step(a)
            out.append(obs)
            if terminated or truncated:
                out.append(env.reset()[0])
        return out
    finally:
        env.close()


def test_step_and_reset_carry_each_envs_observation_and_reward(vec, root):
    venv = vec(2, frame_skip=4, noop_max=6)
    assert venv.observation_space.shape == (96, 128, 3) and venv.action_space.n == len(COMBOS)
    venv.seed(10)
    obs = venv.reset()
    assert obs.shape == (2, 96, 128, 3) and obs.dtype == np.uint8
    actions = [[A, RIGHT], [RIGHT, LEFT], [NOOP, A]]
    steps = []
    for a in actions:
        obs_t, rewards, dones, infos = venv.step(np.array(a))
        steps.append(obs_t)
        assert rewards.dtype == np.float32 and rewards.tolist() == [4.0 * (x == A) for x in a]
        assert not dones.any() and [i["score"] for i in infos] == [4 * sum(s == A for s in col) for col in
                                                                   zip(*actions[:len(steps)])]
    for i in range(2):  # env i was seeded 10 + i: its no-ops and every frame are the local env's
        want = local_rollout(root, [a[i] for a in actions], seed=10 + i, frame_skip=4, noop_max=6)
        np.testing.assert_array_equal(obs[i], want[0])
        for got, expected in zip(steps, want[1:]):
            np.testing.assert_array_equal(got[i], expected)


def test_autoreset_on_termination_keeps_the_terminal_observation(vec, root):
    venv = vec(2, frame_skip=4)
    venv.reset()
    obs, rewards, dones, infos = venv.step(np.array([B, NOOP]))  # env 0 loses its 3 lives
    assert dones.tolist() == [True, False]
    assert infos[0]["TimeLimit.truncated"] is False and "terminal_observation" not in infos[1]
    want = local_rollout(root, [B], seed=None, frame_skip=4)  # reset, terminal, reset again
    np.testing.assert_array_equal(infos[0]["terminal_observation"], want[1])
    np.testing.assert_array_equal(obs[0], want[2])  # already the next episode's first frame
    assert not np.array_equal(want[1], want[2])
    assert venv.reset_infos[0] == {"score": 0, "lives": 3}


def test_autoreset_on_truncation_says_time_limit(vec):
    venv = vec(1, frame_skip=1, max_episode_steps=2)
    venv.reset()
    steps = [venv.step(np.array([RIGHT])) for _ in range(4)]
    assert [bool(dones[0]) for _, _, dones, _ in steps] == [False, True, False, True]
    _, _, _, infos = steps[1]
    assert infos[0]["TimeLimit.truncated"] is True
    assert infos[0]["terminal_observation"].shape == (96, 128, 3)
    terminal_x = np.flatnonzero(infos[0]["terminal_observation"][0, :, 0]).tolist()
    assert terminal_x == [66] and infos[0]["score"] == 0  # two RIGHT steps from x = 64
    obs = steps[1][0]
    assert np.flatnonzero(obs[0, 0, :, 0]).tolist() == [64]  # the reset frame: back at x = 64


def test_an_episode_both_terminated_and_truncated_counts_as_terminated(vec):
    venv = vec(1, frame_skip=4, max_episode_steps=1)
    venv.reset()
    _, _, dones, infos = venv.step(np.array([B]))  # lives run out on the step the limit hits
    assert dones[0] and infos[0]["lives"] == 0 and infos[0]["TimeLimit.truncated"] is False
    _, _, dones, infos = venv.step(np.array([NOOP]))  # truncated only
    assert dones[0] and infos[0]["lives"] == 3 and infos[0]["TimeLimit.truncated"] is True
