"""PPO training speed: emurl's loop against plain Stable-Baselines3 + stable-retro's RetroEnv.

Same game, same PPO hyperparameters (Nature CNN, n_steps 128, batch 256, 4 epochs),
same number of envs, same 84×84×4 gray observations with frame skip 4; measured in one
run, one after the other, each for ``--steps`` agent steps after a warm-up rollout.

- peer: ``stable_retro.RetroEnv`` (DISCRETE actions) → SB3 ``AtariWrapper`` (no-op
  reset, max-and-skip 4, 84×84 gray, reward clip) in ``SubprocVecEnv`` → ``VecFrameStack(4)``;
- emurl fp32: ``emurl.train`` 's env and vector env, float32 learner;
- emurl: the same with the Nature CNN trunk in bfloat16 (``precision: auto``).

Usage::

    .venv/bin/python benchmarks/bench_train.py --game Breakout-Atari2600 --steps 8192

Writes ``docs/training-speed.md`` and ``docs/training-speed.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import stable_retro
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.atari_wrappers import AtariWrapper
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import SubprocVecEnv, VecFrameStack

from emurl.games import load_integration
from emurl.train.config import TrainConfig, train_env_defaults
from emurl.train.model import build_model
from emurl.train.run import make_vec

ROOT = Path(__file__).resolve().parent.parent


class PeerEnvFactory:
    """Builds RetroEnv + SB3's AtariWrapper in a worker (picklable)."""

    def __init__(self, game: str, custom_dir: str):
        self.game, self.custom_dir = game, custom_dir

    def __call__(self):
        stable_retro.data.Integrations.add_custom_path(self.custom_dir)
        env = stable_retro.RetroEnv(
            self.game + "-v0",
            inttype=stable_retro.data.Integrations.CUSTOM_ONLY,
            render_mode="rgb_array",
            use_restricted_actions=stable_retro.Actions.DISCRETE,
        )
        # AtariWrapper asks the env for ALE's action meanings; action 0 is "no buttons".
        env.get_action_meanings = lambda: ["NOOP"] * env.action_space.n
        env = Monitor(env)
        return AtariWrapper(env, noop_max=30, frame_skip=4, screen_size=84, terminal_on_life_loss=False, clip_reward=True)


def peer_integration_dir(game: str) -> str:
    """A temporary stable-retro custom integration folder holding the game and our imported ROM
    (RetroEnv only looks for ROMs beside its integration)."""
    integ = load_integration(game)
    rom = integ.require_rom()
    root = tempfile.mkdtemp(prefix="emurl-peer-")
    dest = Path(root) / (integ.name + "-v0")
    shutil.copytree(integ.folder, dest)
    shutil.copy(rom, dest / ("rom" + Path(rom).suffix))
    return root


PPO_ARGS = dict(n_steps=128, batch_size=256, n_epochs=4, learning_rate=2.5e-4, clip_range=0.1, ent_coef=0.01, vf_coef=0.5)


def time_learn(model, steps: int) -> float:
    """Agent steps per second of ``model.learn(steps)`` after one warm-up rollout + update."""
    warm = model.n_steps * model.n_envs
    model.learn(warm)
    t = time.perf_counter()
    model.learn(steps, reset_num_timesteps=False)
    return steps / (time.perf_counter() - t)


def bench_peer(game: str, num_envs: int, steps: int, seed: int) -> float:
    custom = peer_integration_dir(game)
    try:
        venv = VecFrameStack(SubprocVecEnv([PeerEnvFactory(game, custom) for _ in range(num_envs)], start_method="forkserver"), 4)
        try:
            model = PPO("CnnPolicy", venv, seed=seed, verbose=0, **PPO_ARGS)
            return time_learn(model, steps)
        finally:
            venv.close()
    finally:
        shutil.rmtree(custom, ignore_errors=True)


def bench_emurl(game: str, num_envs: int, steps: int, seed: int, precision: str) -> float:
    env = train_env_defaults().replace(game=game, max_episode_steps=None, terminal_on_life_loss=False)
    cfg = TrainConfig(env=env, num_envs=num_envs, seed=seed, precision=precision, lr_schedule="constant", **PPO_ARGS)
    venv = make_vec(cfg)
    try:
        model = build_model(cfg, venv, None)
        return time_learn(model, steps)
    finally:
        venv.close()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--game", default="Breakout-Atari2600")
    p.add_argument("--num-envs", type=int, default=8)
    p.add_argument("--steps", type=int, default=8192)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(ROOT / "docs"))
    args = p.parse_args(argv)
    torch.set_num_threads(os.cpu_count() or 1)

    res = {
        "game": args.game, "num_envs": args.num_envs, "steps": args.steps, "cpus": os.cpu_count(),
        "date": datetime.date.today().isoformat(), "torch": torch.__version__,
    }
    res["peer_sb3_retroenv_steps_per_s"] = round(bench_peer(args.game, args.num_envs, args.steps, args.seed), 1)
    print("peer", res["peer_sb3_retroenv_steps_per_s"], flush=True)
    res["emurl_fp32_steps_per_s"] = round(bench_emurl(args.game, args.num_envs, args.steps, args.seed, "fp32"), 1)
    print("emurl fp32", res["emurl_fp32_steps_per_s"], flush=True)
    res["emurl_steps_per_s"] = round(bench_emurl(args.game, args.num_envs, args.steps, args.seed, "auto"), 1)
    print("emurl", res["emurl_steps_per_s"], flush=True)
    res["speedup_fp32"] = round(res["emurl_fp32_steps_per_s"] / res["peer_sb3_retroenv_steps_per_s"], 2)
    res["speedup"] = round(res["emurl_steps_per_s"] / res["peer_sb3_retroenv_steps_per_s"], 2)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "training-speed.json").write_text(json.dumps(res, indent=2) + "\n")
    (out / "training-speed.md").write_text(
        f"""# PPO training speed

`.venv/bin/python benchmarks/bench_train.py --game {args.game} --num-envs {args.num_envs} --steps {args.steps}`
on {res['date']}, {res['cpus']} cores, torch {res['torch']}. PPO with the Nature CNN, n_steps 128,
batch 256, 4 epochs, {args.num_envs} envs, 84×84×4 gray, frame skip 4; agent steps per second
over {args.steps} steps after one warm-up rollout and update. One run, one after the other.

| stack | agent steps/s | × peer |
|---|---|---|
| plain SB3 PPO + stable-retro RetroEnv + SB3 AtariWrapper (SubprocVecEnv) | {res['peer_sb3_retroenv_steps_per_s']} | 1.00 |
| emurl (its env, shared-memory vector env), float32 learner | {res['emurl_fp32_steps_per_s']} | {res['speedup_fp32']} |
| emurl, CNN trunk in bfloat16 (`precision: auto`, the default) | {res['emurl_steps_per_s']} | {res['speedup']} |

Target: at least 1.3× the peer. On 2 cores the learner, not the emulator, bounds
training: most of the gain is the bfloat16 trunk (AVX512-BF16 on this CPU), the rest the
cheaper env (no RAM copy per frame, two screens read per agent step).
"""
    )
    print(json.dumps(res))


if __name__ == "__main__":
    main()
