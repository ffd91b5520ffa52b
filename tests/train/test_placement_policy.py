"""The placement scorer (``policy: placement_scorer``): each placement's logit comes from its
own row and the board's context only; checkpoints round-trip; a self-play run with it trains,
keeps snapshots its pool opponents play from their own seat's rows, and resumes."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
import torch
from sb3_contrib import MaskablePPO

from emurl.cli import main
from emurl.envs import EnvSpec, build_env
from emurl.errors import ConfigError
from emurl.train.config import build_config
from emurl.train.placement_policy import KEY, PlacementScorerPolicy, count_parameters
from emurl.train.selfplay import Pool
from emurl.train.selfplay.match import Match
from emurl.train.selfplay.opponent import PoolOpponent

SPACE = gym.spaces.Dict({
    KEY: gym.spaces.Box(0, 255, (32, 23), np.uint8),
    "planes": gym.spaces.Box(0, 1, (12, 16, 8), np.uint8),
    "vector": gym.spaces.Box(0, 1, (46,), np.float32),
})
"""MiniDoc-Nes's observation with placement_features (its planes, vector and placement rows)."""


class SpacesOnly(gym.Env):
    """An env that only declares MiniDoc-Nes's spaces (the learner needs them to build its policy)."""

    observation_space, action_space = SPACE, gym.spaces.Discrete(32)

    def reset(self, *, seed=None, options=None):
        return SPACE.sample(), {}

    def step(self, action):
        return SPACE.sample(), 0.0, True, False, {}

    def action_masks(self):
        return np.ones(32, bool)


def batch(n: int, seed: int = 0) -> dict:
    SPACE.seed(seed)
    samples = [SPACE.sample() for _ in range(n)]
    return {k: np.stack([s[k] for s in samples]) for k in SPACE}


def distribution(model, obs: dict, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(action probabilities (N, 32), values (N,)) of ``model`` on ``obs`` under ``masks``."""
    policy = model.policy
    tensor, _ = policy.obs_to_tensor(obs)
    with torch.no_grad():
        probs = policy.get_distribution(tensor, masks).distribution.probs.numpy()
        values = policy.predict_values(tensor).squeeze(-1).numpy()
    return probs, values


def scorer(seed: int = 0) -> MaskablePPO:
    return MaskablePPO(PlacementScorerPolicy, SpacesOnly(), n_steps=8, batch_size=8, n_epochs=2, device="cpu",
                       seed=seed)


def test_a_placement_s_logit_depends_only_on_its_row_and_the_context():
    model = scorer()
    with torch.no_grad():  # away from the near-uniform start, so that a mix-up of rows would show
        model.policy.features_extractor.score.weight.mul_(100.0)
    obs = batch(6)
    masks = np.ones((6, 32), bool)
    probs, values = distribution(model, obs, masks)
    assert probs.std(axis=1).min() > 1e-4  # the rows' scores differ
    perm = np.random.default_rng(1).permutation(32)
    shuffled = {**obs, KEY: obs[KEY][:, perm]}
    probs2, values2 = distribution(model, shuffled, masks)
    np.testing.assert_allclose(probs2, probs[:, perm], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(values2, values, rtol=1e-5, atol=1e-6)
    # one row changed: only its placement's logit moves (the others' probabilities keep their ratios)
    changed = {**obs, KEY: obs[KEY].copy()}
    changed[KEY][:, 5] = 255 - changed[KEY][:, 5]
    probs3, _ = distribution(model, changed, masks)
    others = np.arange(32) != 5
    np.testing.assert_allclose(probs3[:, others] / probs3[:, others].sum(1, keepdims=True),
                               probs[:, others] / probs[:, others].sum(1, keepdims=True), rtol=1e-5)
    # the mask applies: a placement it forbids has probability 0
    masks[:, 7] = False
    assert (distribution(model, obs, masks)[0][:, 7] == 0).all()


def test_a_new_scorer_is_near_uniform_and_small():
    model = scorer()
    probs, _ = distribution(model, batch(4), np.ones((4, 32), bool))
    np.testing.assert_allclose(probs, 1 / 32, rtol=0.05)
    assert 50_000 < count_parameters(model.policy) < 150_000


def test_a_saved_scorer_loads_with_the_same_action_probabilities(tmp_path):
    model = scorer(seed=3)
    model.learn(16)  # a few updates: not the initial weights
    model.save(tmp_path / "m.zip")
    loaded = MaskablePPO.load(tmp_path / "m.zip", device="cpu")
    assert type(loaded.policy) is PlacementScorerPolicy
    obs = batch(5, seed=2)
    masks = np.random.default_rng(0).random((5, 32)) < 0.6
    for a, b in zip(distribution(model, obs, masks), distribution(loaded, obs, masks)):
        np.testing.assert_array_equal(a, b)


def test_the_setting_needs_maskable_ppo_and_placement_features():
    with pytest.raises(ConfigError, match="placement_scorer"):
        build_config("MiniDoc-Nes", overrides={"policy": "placement_scorer"}, kind="selfplay")
    with pytest.raises(ConfigError, match="policy"):
        build_config("MiniDoc-Nes", overrides={"policy": "scorer"}, kind="selfplay")
    cfg = build_config("MiniDoc-Nes", overrides={"policy": "placement_scorer", "placement_features": "true"},
                       kind="selfplay")
    assert cfg.policy == "placement_scorer" and cfg.env.placement_features is True
    assert build_config("MiniDoc-Nes", kind="selfplay").policy == "auto"  # the preset is unchanged


def test_a_pool_opponent_plays_a_scorer_snapshot_from_its_own_seat(tmp_path, monkeypatch):
    """The self-play worker's opponent (seat 1 here) is shown its own seat's rows."""
    from emurl.wrappers.tree_features import seat_tree_features

    seen = []
    model = scorer()
    original = model.predict

    def predict(observation, **kwargs):
        seen.append((observation[KEY].copy(), seat_tree_features(opponent.player._reader({}), 1)))
        return original(observation, **kwargs)

    monkeypatch.setattr(model, "predict", predict)
    pool = Pool(tmp_path / "pool", size=1, self_play=1.0, anchors=())
    pool.set_current(b"unused: the policy cache is the model above")
    pool.save()
    monkeypatch.setattr("emurl.train.selfplay.opponent._Policies.get", lambda self, path: model)
    spec = EnvSpec("MiniDoc-Nes", state="2P_L0_Low", action_set="placement", obs_type="features", scenario="sparse",
                   render_mode=None, max_episode_steps=5, frame_skip=1, max_pool=False, placement_features=True)
    opponent = None

    def make_opponent(env, seat):
        nonlocal opponent
        opponent = PoolOpponent(env, seat, pool.folder, seed=0)
        return opponent

    env = build_env(spec, make_opponent=make_opponent)
    try:
        obs, _ = env.reset(seed=0)
        for _ in range(5):
            obs, *_ = env.step(int(np.flatnonzero(env.get_wrapper_attr("action_masks")())[0]))
    finally:
        env.close()
    assert len(seen) >= 3
    for shown, own in seen:
        np.testing.assert_array_equal(shown, own)


def test_a_scorer_self_play_run_resumes_and_its_snapshots_play_a_match(tmp_path):
    runs = tmp_path / "runs"
    assert main(["selfplay", "--game", "MiniDoc-Nes", "--total-steps", "32", "--num-envs", "2", "--n-steps", "8",
                 "--batch-size", "16", "--n-epochs", "1", "--snapshot-every", "16", "--eval-every", "0",
                 "--eval-episodes", "1", "--eval-max-steps", "4", "--max-episode-steps", "4",
                 "--set", "policy=placement_scorer", "--set", "placement_features=true", "--runs-dir", str(runs),
                 "--no-progress"]) == 0
    (run,) = runs.iterdir()
    latest = MaskablePPO.load(run / "checkpoints" / "latest.zip", device="cpu")
    assert type(latest.policy) is PlacementScorerPolicy and KEY in latest.observation_space.spaces
    games = sum(e["games"] for e in json.loads((run / "pool" / "pool.json").read_text())["entries"])
    assert main(["selfplay", "--resume", str(run), "--total-steps", "48", "--no-progress"]) == 0
    pool = json.loads((run / "pool" / "pool.json").read_text())
    assert sum(e["games"] for e in pool["entries"]) > games
    assert MaskablePPO.load(run / "checkpoints" / "latest.zip", device="cpu").num_timesteps == 48

    match = Match(EnvSpec("MiniDoc-Nes", state="2P_L0_Low", action_set="placement", obs_type="features",
                          scenario="sparse"), pool_dir=run / "pool")
    try:  # the league's and `emurl match`'s games: a snapshot in either seat, shown its own seat's rows
        assert match.play("snapshot_000000016", "greedy", seed=0, max_frames=1500) in ("win", "loss", "topout", "draw")
        assert match.play("random", "snapshot_000000048", seed=1, max_frames=1500) in ("win", "loss", "topout", "draw")
    finally:
        match.close()
