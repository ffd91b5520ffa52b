"""MiniDoc-Nes (our NES versus game) through the envs: seeded layouts, each seat's own
planes, the PettingZoo env and the one-agent view with an opponent."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

import emurl
from emurl.envs import EmulatorEnv
from emurl.errors import IntegrationError
from emurl.games.drmario.board import board, classify
from emurl.games.drmario.observation import planes_and_vector

GAME = "MiniDoc-Nes"


@pytest.fixture
def versus():
    env = emurl.make_parallel(GAME, obs_type="features", max_episode_steps=200)
    yield env
    env.close()


def test_the_seed_picks_the_layout(versus):
    """reset(seed=s) writes the RNG bytes the game draws its viruses from: the same seed, the
    same layout; 100 seeds, at least 90 layouts (here: all 100)."""
    layouts = []
    for s in range(100):
        _, infos = versus.reset(seed=s)
        info = infos["player_0"]
        assert info["mode"] == 4 and info["viruses_p1"] == info["viruses_p2"] == 4  # level 0, drawn
        layouts.append(info["playfield_p1"].tobytes() + info["playfield_p2"].tobytes())
    assert len(set(layouts)) >= 90
    _, again = versus.reset(seed=42)
    assert again["player_0"]["playfield_p1"].tobytes() + again["player_0"]["playfield_p2"].tobytes() == layouts[42]


def test_each_seat_sees_its_own_side(versus):
    obs, infos = versus.reset(seed=5)
    info = infos["player_0"]
    for seat, agent in enumerate(versus.possible_agents):
        own, other = (info["playfield_p1"], info["playfield_p2"])[::1 if seat == 0 else -1]
        planes = obs[agent]["planes"]
        assert planes.shape == (12, 16, 8) and planes.dtype == np.uint8
        # planes 1-3: own yellow/red/blue cells; 7-9: the opponent's (the layout's viruses here)
        for colour in range(3):
            for offset, field in ((1, own), (7, other)):
                tiles = board(field)
                want = (classify(tiles) > 0) & ((tiles & 0x0F) == colour) & (tiles != 0xFF)
                assert (planes[offset + colour] == want).all(), (agent, colour, offset)
        ref_planes, ref_vector = planes_and_vector(info, seat + 1)
        assert (planes == ref_planes).all() and np.allclose(obs[agent]["vector"], ref_vector)
    assert not (obs["player_0"]["planes"] == obs["player_1"]["planes"]).all()


def test_parallel_api_with_planes(versus):
    assert versus.observation_space("player_1")["planes"] == gym.spaces.Box(0, 1, (12, 16, 8), np.uint8)
    parallel_api_test(versus, num_cycles=150)


@pytest.mark.parametrize("obs_type, action_set", [("features", "frame"), ("rgb", "frame"), ("features", None)])
def test_one_agent_view_passes_the_checkers(obs_type, action_set):
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = emurl.make(GAME, obs_type=obs_type, action_set=action_set, opponent="random", max_episode_steps=60)
    try:
        if action_set == "frame":
            assert env.action_space == gym.spaces.Discrete(12)
            assert env.unwrapped.combos[6] == ["LEFT", "A"] and env.unwrapped.combos[11] == ["DOWN", "RIGHT"]
        check_env(env, skip_render_check=True)
        sb3_check_env(env, warn=False)
    finally:
        env.close()


def test_a_malformed_episode_start_names_the_file(user_game):
    root = user_game(files={"metadata.json": '{"default_state": "Level1", "episode_start": {"seed": {"address": 23}}}'})
    with pytest.raises(IntegrationError, match=r"MyAir-Genesis/metadata.json: episode_start.seed: expected"):
        EmulatorEnv("MyAir-Genesis", game_path=root)


def test_the_agents_seat_learns_who_won():
    """The one-agent view lifts seat 0's scenario info (win, end) to the top of info, which
    emurl eval counts; the episode ends when a bottle tops out or is cleared."""
    env = emurl.make(GAME, action_set="frame", opponent="random", frame_skip=4)
    try:
        env.reset(seed=0)
        rng = np.random.default_rng(0)
        for _ in range(2000):
            _, reward, terminated, truncated, info = env.step(int(rng.integers(12)))
            if terminated:
                break
        assert terminated and isinstance(info["win"], bool) and info["end"] in ("win", "loss", "top-out", "draw")
        assert info["win"] == (info["end"] == "win") and info["rewards"][0] == reward
    finally:
        env.close()
