"""obs_type="features" on the fake game (tests/fakes.py): the integration's variables scaled
where it declares no features class, a features class with one space as that Box, a class
that reads the emulator, and a Dict for several spaces."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from fakes import ADDR

from emurl.envs.observation import scale_variables, unscaled_elements
from emurl.games.variables import Variable

FEATURES_PY = '''
import numpy as np

class One:
    spaces = {"v": ((2,), "float32", -1.0, 1.0)}
    def observe(self, values, seat):
        return {"v": np.array([values["x"] / 127, values["lives"] / 3], np.float32)}

class Memory:
    needs_emulator = True
    spaces = {"v": ((1,), "float32", 0.0, 255.0)}
    def observe(self, values, seat, emulator=None):
        return {"v": np.array([emulator.read(0x02, "|u1")], np.float32)}

class Two:
    spaces = {"a": ((1,), "float32", 0.0, 1.0), "b": ((1,), "uint8", 0, 255)}
    def observe(self, values, seat):
        return {"a": np.array([1.0], np.float32), "b": np.array([values["lives"]], np.uint8)}
'''


def test_features_without_a_class_are_the_scaled_variables(fake_env):
    env, emu = fake_env(obs_type="features", action_set="steer")
    assert env.observation_space == gym.spaces.Box(-np.inf, np.inf, (5,), np.float32)
    obs, _ = env.reset()
    for _ in range(3):
        obs, *_ = env.step(2)  # RIGHT
    frame, x, score, lives, bcd = (emu.peek(n) for n in ("frame", "x", "score", "lives", "bcd"))
    # data.json order: frame, x, score, lives, bcd: integers, on the log scale
    raw = np.array([frame, x, score, lives, bcd], np.float64)
    np.testing.assert_allclose(obs, np.log2(1 + raw) / 8, rtol=1e-6)
    assert x != 64 and lives == 3 and obs[3] == 0.25 and obs.dtype == np.float32


def test_scale_variables():
    vs = [Variable("a", 0, "<i2"), Variable("b", 0, "<i4", scale=4096.0), Variable("c", 0, "|u1", shape=(2,))]
    mask = unscaled_elements(vs)
    assert mask.tolist() == [True, False, True, True]
    obs = scale_variables(np.array([-32767, -1.5, 255, 1], np.float32), mask)
    np.testing.assert_allclose(obs, [-np.log2(32768) / 8, -1.5, 1.0, 0.125])


@pytest.mark.parametrize("cls", ["One", "Memory", "Two"])
def test_features_class(fake_env, cls):
    env, emu = fake_env(obs_type="features", action_set="steer", metadata={"default_state": "Start",
                        "features": f"feat.py:{cls}"}, files={"feat.py": FEATURES_PY})
    obs, _ = env.reset()
    obs, *_ = env.step(1)  # LEFT
    assert env.observation_space.contains(obs)
    if cls == "One":
        assert env.observation_space == gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        np.testing.assert_allclose(obs, [emu.peek("x") / 127, 1.0])
    elif cls == "Memory":  # given the env's emulator
        assert obs.tolist() == [emu.read(ADDR["x"], "|u1")]
    else:
        assert isinstance(env.observation_space, gym.spaces.Dict) and set(obs) == {"a", "b"}
