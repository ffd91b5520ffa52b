"""Two agents choosing placements on MiniDoc-Nes (the real emulator), each when its own
capsule needs a decision: PettingZoo's AEC API, masks, both seats' games to the end."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import api_test

import emurl
from emurl.errors import ConfigError


def _play(env, seed, rng, limit=400):
    env.reset(seed=seed)
    turns, totals = [], {a: 0.0 for a in env.possible_agents}
    env.ends = {}
    for agent in env.agent_iter(max_iter=limit):
        obs, reward, terminated, truncated, info = env.last()
        totals[agent] += reward
        if terminated or truncated:
            env.ends[agent] = info.get("end")
            env.step(None)
            continue
        mask = obs["action_mask"].astype(bool)
        assert mask.any() and env.observation_space(agent)["action_mask"].contains(obs["action_mask"])
        turns.append(agent)
        env.step(int(rng.choice(np.flatnonzero(mask))))
    return turns, totals


def test_the_aec_api():
    env = emurl.make_aec("MiniDoc-Nes", state="2P_L0_Low", max_episode_steps=30)
    try:
        api_test(env, num_cycles=20)
    finally:
        env.close()


def test_each_seat_decides_for_its_own_capsules_until_the_game_ends():
    env = emurl.make_aec("MiniDoc-Nes", state="2P_L0_Low", scenario="sparse")
    try:
        turns, totals = _play(env, 0, np.random.default_rng(0), limit=2000)
        assert set(turns) == {"player_0", "player_1"}
        # each agent acts once per capsule of its own: the counts differ by the capsules in flight
        counts = {a: turns.count(a) for a in env.possible_agents}
        assert abs(counts["player_0"] - counts["player_1"]) <= 6, counts
        assert not env.agents  # the game ended and both agents were stepped out
        ends = env.ends
        assert set(ends.values()) & {"win", "loss", "topout", "draw"}, ends
        # sparse rewards: +-1 at the end (+0.01 a virus): the winner's total is the larger
        if ends["player_0"] == "win":
            assert totals["player_0"] > totals["player_1"]
    finally:
        env.close()


def test_same_seed_same_game():
    env = emurl.make_aec("MiniDoc-Nes", state="2P_L0_Low", max_episode_steps=20)
    try:
        first = _play(env, 5, np.random.default_rng(1))
        again = _play(env, 5, np.random.default_rng(1))
        assert first == again
    finally:
        env.close()


def test_a_game_without_placements_is_refused():
    with pytest.raises(ConfigError, match="placement"):
        emurl.make_aec("Pong-Atari2600")
