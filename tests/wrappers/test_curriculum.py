"""StartStateCurriculum (``emurl.wrappers.curriculum``): weighted, seeded draws of the start
state per episode, on a stub env and on Airstriker-Genesis with a state saved by
``save_state_here``."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from emurl.wrappers.curriculum import StartStateCurriculum, save_state_here


class OptionsEnv(gym.Env):
    observation_space = gym.spaces.Discrete(1)
    action_space = gym.spaces.Discrete(1)

    def reset(self, *, seed=None, options=None):
        self.last = options
        return 0, {"state_seen": options["state"]}

    def step(self, action):
        return 0, 0.0, False, False, {}


def test_curriculum_sampling():
    env = StartStateCurriculum(OptionsEnv(), ["a", "b", "c"], [6, 3, 1], seed=1)
    assert env.probabilities.tolist() == pytest.approx([0.6, 0.3, 0.1])
    drawn = [env.reset()[1]["start_state"] for _ in range(3000)]
    freq = {s: drawn.count(s) / len(drawn) for s in "abc"}
    assert freq["a"] == pytest.approx(0.6, abs=0.04) and freq["c"] == pytest.approx(0.1, abs=0.03)
    assert env.counts["a"] == drawn.count("a")
    again = StartStateCurriculum(OptionsEnv(), ["a", "b", "c"], [6, 3, 1], seed=1)
    assert [again.reset()[1]["start_state"] for _ in range(50)] == drawn[:50]
    first = [env.reset(seed=7)[1]["start_state"]] + [env.reset()[1]["start_state"] for _ in range(20)]
    second = [env.reset(seed=7)[1]["start_state"]] + [env.reset()[1]["start_state"] for _ in range(20)]
    assert first == second
    assert env.reset(options={"state": "c"})[1]["state_seen"] == "c"  # explicit wins
    env.set_weights([0, 0, 1])
    assert {env.reset()[1]["start_state"] for _ in range(20)} == {"c"}
    for bad in ([1, 2], [-1, 1, 1], [0, 0, 0], [float("nan"), 1, 1]):
        with pytest.raises(ValueError):
            env.set_weights(bad)
    with pytest.raises(ValueError):
        StartStateCurriculum(OptionsEnv(), [])


def test_curriculum_on_a_real_env(make_env, tmp_path, monkeypatch):
    monkeypatch.setenv("EMURL_DATA_DIR", str(tmp_path))
    env = make_env("Airstriker-Genesis", frame_skip=4)
    env.reset(seed=0, options={"state": "Level1"})
    for _ in range(60):
        env.step(1)
    path = save_state_here(env, "Level1later")
    assert path.parent == tmp_path / "states" / "Airstriker-Genesis" and path.read_bytes()[:2] == b"\x1f\x8b"
    later = env.unwrapped.get_state()
    env.reset(options={"state": "Level1"})
    start = env.unwrapped.get_state()
    cur = StartStateCurriculum(env, ["Level1", "Level1later"], [1, 1], seed=3)
    seen = {}
    for _ in range(8):
        obs, info = cur.reset()
        seen.setdefault(info["start_state"], obs.copy())
    assert set(seen) == {"Level1", "Level1later"}
    assert not np.array_equal(seen["Level1"], seen["Level1later"])
    assert later != start
