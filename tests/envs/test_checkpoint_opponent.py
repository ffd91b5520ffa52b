"""A policy checkpoint as the other seat's player, by file name (MiniDoc-Nes, real emulator):
on placement actions it chooses placements from its own seat's observation."""

from __future__ import annotations

import numpy as np
import pytest
from sb3_contrib import MaskablePPO

import emurl
from emurl.errors import ConfigError


def test_a_checkpoint_plays_the_other_seat(tmp_path):
    settings = dict(state="2P_L0_Low", action_set="placement", obs_type="features", render_mode=None,
                    max_episode_steps=4)
    env = emurl.make("MiniDoc-Nes", opponent="random", **settings)
    try:
        MaskablePPO("MultiInputPolicy", env, n_steps=8, batch_size=8, device="cpu", seed=0).save(tmp_path / "p.zip")
    finally:
        env.close()
    env = emurl.make("MiniDoc-Nes", opponent=str(tmp_path / "p.zip"), **settings)
    try:
        player2 = env.get_wrapper_attr("_opponent")  # the policy is asked once per capsule of player 2
        calls = []
        real = player2.choose
        player2.choose = lambda obs, mask, values: calls.append(obs["planes"].shape) or real(obs, mask, values)
        env.reset(seed=0)
        for _ in range(4):
            _, _, terminated, truncated, _ = env.step(int(np.flatnonzero(env.get_wrapper_attr("action_masks")())[0]))
            if terminated or truncated:
                break
        assert calls and calls[0] == (12, 16, 8)  # from its own seat's planes
    finally:
        env.close()


@pytest.mark.parametrize("opponent, match", [("missing.zip", "no such checkpoint"), ("best", "opponent must be one of")])
def test_bad_checkpoint_opponents_are_config_errors(tmp_path, opponent, match):
    with pytest.raises(ConfigError, match=match):
        emurl.make("MiniDoc-Nes", opponent=str(tmp_path / opponent) if opponent.endswith(".zip") else opponent,
                   action_set="placement", obs_type="features")


def test_a_damaged_checkpoint_names_the_file(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ConfigError, match="bad.zip: not a MaskablePPO checkpoint"):
        emurl.make("MiniDoc-Nes", opponent=str(bad), action_set="placement", obs_type="features")
