"""The agent in seat 1 (player 2) of a two-seat env, on MiniDoc-Nes (the real emulator):
its buttons reach port 2, its reward, observation and info are player 2's, and placement
actions place player 2's capsules while the opponent plays player 1."""

from __future__ import annotations

import numpy as np
import pytest

import emurl
from emurl.envs import build_env, EnvSpec
from emurl.wrappers.placement import PlacementOpponent

GAME = "MiniDoc-Nes"


def test_seat_1_presses_port_2_and_is_paid_as_player_2():
    idle = lambda obs, info: 0  # noqa: E731  (action 0 of the frame set presses nothing)
    spec = EnvSpec(GAME, state="2P_L0_Low", action_set="frame", frame_skip=1, obs_type="features", seat=1)
    env = build_env(spec, make_opponent=lambda env, seat: idle)
    try:
        left = next(i for i, c in enumerate(env.unwrapped.combos) if list(c) == ["LEFT"])
        obs, info = env.reset(seed=3)
        x1, x2 = info["capsule_x_p1"], info["capsule_x_p2"]
        assert x1 == x2 == 3
        for _ in range(40):
            obs, reward, terminated, truncated, info = env.step(left)
            assert reward == info["rewards"][1] and info["opponent_reward"] == info["rewards"][0]
        assert info["capsule_x_p2"] == 0 and info["capsule_x_p1"] == x1
        # the observation is player 2's side: its own viruses first in the vector
        assert obs["vector"][0] == pytest.approx(int(info["viruses_p2"]) / 84)
        assert obs["vector"][23] == pytest.approx(int(info["viruses_p1"]) / 84)
    finally:
        env.close()


def test_placements_for_seat_1_against_a_chosen_opponent():
    picks = []

    def choose(observation, mask, values):  # the opponent (player 1) picks its first allowed placement
        picks.append(int(np.flatnonzero(mask)[0]))
        return picks[-1]

    spec = EnvSpec(GAME, state="2P_L0_Low", action_set="placement", obs_type="features", seat=1, render_mode=None)
    env = build_env(spec, make_opponent=lambda env, seat: PlacementOpponent(env, seat, choose))
    try:
        _, info = env.reset(seed=0)
        emu = env.unwrapped.emulator
        placed = emu.read(0x03A7, "|u1")  # capsules_p2: MiniDoc's count of player 2's locked capsules
        steps = 0
        for _ in range(6):
            mask = env.action_masks()
            action = int(np.flatnonzero(mask)[-1])
            _, _, terminated, truncated, info = env.step(action)
            assert info["placement"] == action
            steps += 1
            if terminated or truncated:
                break
            assert emu.read(0x03A7, "|u1") == placed + steps  # one of player 2's capsules per step
        assert picks, "the opponent in seat 0 never chose a placement"
    finally:
        env.close()


def test_seat_must_be_0_or_1():
    with pytest.raises(emurl.errors.ConfigError, match="seat"):
        EnvSpec(GAME, seat=2)
