"""The pool opponent on MiniDoc-Nes (the real emulator): each episode draws who plays the
other seat, policies act from their own seat's observation and load once per file version."""

from __future__ import annotations

import io
from collections import Counter

import numpy as np
import pytest
from sb3_contrib import MaskablePPO

from emurl.envs import EnvSpec, build_env
from emurl.train.selfplay import Pool
from emurl.train.selfplay.opponent import PoolOpponent

GAME = "MiniDoc-Nes"


def _spec(seat=0):
    return EnvSpec(GAME, state="2P_L0_Low", action_set="placement", obs_type="features", seat=seat,
                   render_mode=None, max_episode_steps=4)


def _policy_zip(env) -> bytes:
    buf = io.BytesIO()
    MaskablePPO("MultiInputPolicy", env, n_steps=8, batch_size=8, device="cpu", seed=0).save(buf)
    return buf.getvalue()


@pytest.fixture
def pool_env(tmp_path):
    made = []

    def make(seat=0, **pool_kw):
        opponents = []

        def make_opponent(env, opp_seat):
            opponents.append(PoolOpponent(env, opp_seat, tmp_path / "pool", seed=1))
            return opponents[-1]

        env = build_env(_spec(seat), make_opponent=make_opponent)
        made.append(env)
        pool = Pool(tmp_path / "pool", **pool_kw)
        pool.set_current(_policy_zip(env))
        pool.save()
        return env, pool, opponents[0]

    yield make
    for env in made:
        env.close()


def test_every_episode_draws_an_opponent_from_the_pool(pool_env):
    env, pool, opponent = pool_env(self_play=0.5, sampling="uniform")
    seen = Counter()
    for episode in range(12):
        _, info = env.reset(seed=episode)
        seen[info["opponent"]] += 1
        for _ in range(2):
            mask = env.get_wrapper_attr("action_masks")()
            _, _, terminated, truncated, info = env.step(int(np.flatnonzero(mask)[0]))
            assert info["opponent"] == opponent.name
            if terminated or truncated:
                break
    assert set(seen) <= {"current", "random", "greedy"} and seen["current"] >= 2 and len(seen) == 3
    assert len(opponent._policies._loaded) == 1  # current.zip loaded once, for all its episodes


def test_the_policy_plays_from_its_own_seat_and_reloads_a_new_current(pool_env):
    env, pool, opponent = pool_env(seat=1, self_play=1.0)
    calls = []
    _, info = env.reset(seed=0)
    model = opponent._model
    real = model.predict

    def spy(obs, **kw):
        calls.append((obs, kw["action_masks"]))
        return real(obs, **kw)

    model.predict = spy
    env.step(int(np.flatnonzero(env.get_wrapper_attr("action_masks")())[0]))
    assert calls, "the opponent's policy never chose"
    obs, mask = calls[0]
    assert obs["planes"].shape == (12, 16, 8) and mask.dtype == bool and mask.any()
    pool.set_current(_policy_zip(env))  # the learner writes new weights: the next episode loads them
    env.reset(seed=1)
    assert opponent._model is not model

