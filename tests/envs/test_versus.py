"""Two players on one emulator: stable-retro's two-player Pong through EmulatorEnv(players=2),
the PettingZoo ParallelEnv and the one-agent view with an opponent."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

import emurl
from emurl.envs import EmulatorEnv, EnvSpec, build_env
from emurl.errors import ConfigError

PONG = "Pong-Atari2600"


@pytest.fixture
def pong2(atari_roms):
    env = emurl.make_parallel(PONG, state="Start.2P", max_episode_steps=400)
    yield env
    env.close()


def play(env, steps: int, seed: int = 0):
    """Seeded random play of both seats; (observation hash, rewards) per step."""
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    out = []
    for _ in range(steps):
        acts = {a: int(rng.integers(env.action_space(a).n)) for a in env.agents}
        obs, rew, term, trunc, _ = env.step(acts)
        out.append((hash(obs["player_0"].tobytes()), rew["player_0"], rew["player_1"]))
        if not env.agents:
            break
    return out


def test_parallel_api(pong2):
    assert pong2.possible_agents == ["player_0", "player_1"]
    assert pong2.action_space("player_0") == pong2.action_space("player_1") == gym.spaces.Discrete(18)
    parallel_api_test(pong2, num_cycles=300)


def test_each_seat_is_paid_by_its_own_reward(pong2):
    """Pong's scenario pays seat 0 +1 when player 2 scores... as stable-retro's rewards[0] and
    rewards[1] say: every point is +1 for one seat and -1 for the other."""
    steps = play(pong2, 400, seed=1)
    points = [(r0, r1) for _, r0, r1 in steps if r0 or r1]
    assert points, "no point scored in 400 steps"
    assert all(r0 == -r1 and abs(r0) == 1 for r0, r1 in points)


def test_same_seed_same_game(pong2):
    assert play(pong2, 120, seed=3) == play(pong2, 120, seed=3)
    assert play(pong2, 120, seed=3) != play(pong2, 120, seed=4)


def test_savestate_round_trip_with_two_players(atari_roms):
    env = EmulatorEnv(PONG, state="Start.2P", players=2, frame_skip=4)
    try:
        env.reset(seed=0)
        rng = np.random.default_rng(0)
        actions = [(int(rng.integers(18)), int(rng.integers(18))) for _ in range(80)]
        state = env.get_state()

        def roll():
            out = []
            for a in actions:
                obs, _, _, _, info = env.step(a)
                out.append((obs.tobytes(), tuple(info["rewards"])))
            return out

        first = roll()
        env.set_state(state)
        assert roll() == first
    finally:
        env.close()


def test_a_second_player_where_there_is_none(atari_roms):
    with pytest.raises(ValueError, match="Airstriker-Genesis is a 1-player game; players=2"):
        emurl.make_parallel("Airstriker-Genesis")
    with pytest.raises(ValueError, match="Breakout-Atari2600 is a 1-player game"):
        EmulatorEnv("Breakout-Atari2600", players=2)
    with pytest.raises(ConfigError, match="use make_parallel.*or opponent="):
        build_env(EnvSpec(PONG, players=2))
    with pytest.raises(ConfigError, match="make_parallel takes no pipeline"):
        emurl.make_parallel(PONG, pipeline="atari")
    with pytest.raises(ConfigError, match="opponent must be one of none, random"):
        EnvSpec(PONG, opponent="greedy-ish")


def test_one_agent_view_with_a_random_opponent(atari_roms):
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = emurl.make(PONG, state="Start.2P", opponent="random", pipeline="atari", max_episode_steps=50)
    try:
        assert env.action_space == gym.spaces.Discrete(18)
        assert env.observation_space.shape == (4, 84, 84)
        check_env(env, skip_render_check=True)
        sb3_check_env(env, warn=False)
        env.reset(seed=0)
        _, r, _, _, info = env.step(0)
        assert info["rewards"][0] == r and info["opponent_reward"] == info["rewards"][1]
    finally:
        env.close()
