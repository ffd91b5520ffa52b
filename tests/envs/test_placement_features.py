"""The ``placement_features`` option on MiniDoc-Nes (the real emulator): the observation's
``"placements"`` rows are the seat's own placement features, read here straight from the
seat's RAM (playfield and capsule colours, docs/facts/dr-mario.md), in either seat, and a
checkpoint opponent that was trained with them sees its own seat's."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import emurl
from emurl.errors import ConfigError
from emurl.games.drmario.tree_features import N_FEATURES, placement_features
from emurl.wrappers.tree_features import KEY, placements_space, with_placements

GAME = "MiniDoc-Nes"


def rows_from_ram(env: gym.Env, seat: int) -> np.ndarray:
    """Seat ``seat``'s features from its RAM now: playfield P1 0x0400 / P2 0x0500 (128 bytes),
    capsule colours P1 0x0301-0x0302 / P2 0x0381-0x0382."""
    ram = env.unwrapped.emulator.ram()
    field, colours = 0x0400 + 0x100 * seat, 0x0301 + 0x80 * seat
    return placement_features(bytes(ram[field:field + 128]), ram[colours], ram[colours + 1])


def make(seat: int, opponent: str = "greedy", **settings) -> gym.Env:
    return emurl.make(GAME, state="2P_L0_Low", obs_type="features", action_set="placement", opponent=opponent,
                      seat=seat, placement_features=True, render_mode=None, **settings)


@pytest.mark.parametrize("seat", [0, 1])
def test_the_observation_holds_the_seat_s_own_placement_rows(seat):
    env = make(seat, max_episode_steps=12)
    rng = np.random.default_rng(seat)
    try:
        assert env.observation_space[KEY] == placements_space()
        assert env.observation_space[KEY].shape == (32, N_FEATURES)
        obs, _ = env.reset(seed=seat)
        differs, done, steps = False, False, 0
        while not done:
            assert env.observation_space.contains(obs)
            np.testing.assert_array_equal(obs[KEY], rows_from_ram(env, seat))
            np.testing.assert_array_equal(env.get_wrapper_attr("observation")()[KEY], obs[KEY])  # asked again: the same
            differs |= not np.array_equal(obs[KEY], rows_from_ram(env, 1 - seat))
            allowed = np.flatnonzero(env.get_wrapper_attr("action_masks")())
            obs, _, terminated, truncated, _ = env.step(int(rng.choice(allowed)))
            done = terminated or truncated
            steps += 1
        assert steps >= 6 and differs  # the other seat's rows are another board's
    finally:
        env.close()


class _Recorder:
    """A stand-in for a loaded checkpoint trained with placement features: records what it
    is shown and what the opponent's seat's RAM says at that moment."""

    def __init__(self, space: gym.spaces.Dict, seat: int):
        self.observation_space, self.seat = space, seat
        self.env: gym.Env | None = None
        self.seen: list[tuple[np.ndarray, np.ndarray]] = []

    def predict(self, observation, action_masks=None, deterministic=False):
        self.seen.append((observation[KEY].copy(), rows_from_ram(self.env, self.seat)))
        return np.flatnonzero(action_masks)[0], None


def test_a_checkpoint_opponent_sees_its_own_seat_s_rows(tmp_path, monkeypatch):
    import emurl.envs.opponents as opponents

    probe = make(0)
    space = probe.observation_space  # the learner's (seat 0's) space: the opponent's has the same keys
    probe.close()
    recorder = _Recorder(space, seat=1)
    monkeypatch.setattr(opponents, "_load", lambda cls, path: recorder)
    zip_path = tmp_path / "opponent.zip"
    zip_path.write_bytes(b"")  # only its name matters: _load is the recorder
    env = make(0, opponent=str(zip_path), max_episode_steps=6)
    recorder.env = env
    try:
        env.reset(seed=3)
        for _ in range(6):
            env.step(int(np.flatnonzero(env.get_wrapper_attr("action_masks")())[0]))
    finally:
        env.close()
    assert len(recorder.seen) >= 4
    for shown, own in recorder.seen:
        np.testing.assert_array_equal(shown, own)


def test_with_placements_adds_the_rows_only_for_a_policy_trained_with_them():
    values = {"playfield_p2": bytes([0xFF] * 120 + [0xD0] * 8), "capsule_left_p2": 0, "capsule_right_p2": 1}
    obs = {"vector": np.zeros(3, np.float32)}
    plain = gym.spaces.Dict({"vector": gym.spaces.Box(0, 1, (3,), np.float32)})
    scorer = gym.spaces.Dict({**plain.spaces, KEY: placements_space()})
    assert with_placements(plain, obs, values, 1) is obs
    shown = with_placements(scorer, obs, values, 1)
    np.testing.assert_array_equal(shown[KEY], placement_features(values["playfield_p2"], 0, 1))
    assert KEY not in obs  # the caller's observation is not changed


def test_the_setting_is_off_by_default_and_checked():
    assert emurl.EnvSpec().placement_features is False
    with pytest.raises(ConfigError, match="placement_features"):
        emurl.EnvSpec(GAME, placement_features=True, obs_type="ram", action_set="placement")
    with pytest.raises(ConfigError, match="placement_features"):
        emurl.EnvSpec(GAME, placement_features=True, obs_type="features")
