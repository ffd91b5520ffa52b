"""Self-play learning on MiniDoc-Nes (two real worker processes): the learner plays both
seats against the pool; the pool gains its current weights, snapshots and game results."""

from __future__ import annotations

from sb3_contrib import MaskablePPO

from emurl.envs import EnvSpec
from emurl.train.selfplay import Pool
from emurl.train.selfplay.learner import PoolCallback, SelfPlayEnvFactory
from emurl.vector import subprocess_vec_env


def test_a_short_self_play_run_keeps_the_pool(tmp_path):
    spec = EnvSpec("MiniDoc-Nes", state="2P_L0_Low", action_set="placement", obs_type="features",
                   scenario="sparse", render_mode=None, max_episode_steps=3, frame_skip=1, max_pool=False)
    pool = Pool(tmp_path / "pool", size=2, self_play=0.5)
    factories = [SelfPlayEnvFactory(spec, pool.folder, rank) for rank in range(2)]
    assert [f.spec.seat for f in factories] == [0, 1]
    venv = subprocess_vec_env(factories)
    try:
        model = MaskablePPO("MultiInputPolicy", venv, n_steps=6, batch_size=12, n_epochs=1, device="cpu", seed=0)
        callback = PoolCallback(pool, snapshot_every=12)
        callback.prime(model)
        model.learn(total_timesteps=36, callback=callback)
    finally:
        venv.close()
    again = Pool.load(pool.folder)
    snapshots = sorted(e.steps for e in again.entries.values() if e.kind == "snapshot")
    assert snapshots == [24, 36]  # one each time 12 steps pass (rollouts of 12), capped at 2: 12 dropped
    assert (pool.folder / "current.zip").is_file()
    assert all((pool.folder / f"snapshot_{s:09d}.zip").is_file() for s in snapshots)
    games = sum(e.games for e in again.entries.values())
    assert games >= 6  # 36 steps of 3-placement games on 2 envs: 12 games ended (truncated count too)
    assert all(e.wins <= e.games for e in again.entries.values())
