"""Print a trained policy's action probabilities along one rollout: does it read the picture?

Usage::

    .venv/bin/python benchmarks/action_probs.py RUN_DIR [--state NAME] [--deterministic] [--every 3] [--steps 300]

Loads the run's frozen ``config.yaml`` and latest checkpoint, plays one evaluation
episode (``--state`` overrides the start state, no-ops off) and prints, every ``--every``
steps: step, action taken, the policy's probability of each action, and the variables
``x``, ``y``, ``angle`` (degrees), ``floor`` and ``race_progress`` where the game has them.
A policy whose probabilities hardly change along the track has not learned to use its
observation.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from emurl.train.evaluate import load_run_config
from emurl.train.model import latest_checkpoint, load_model
from emurl.train.run import make_env


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("--state")
    ap.add_argument("--deterministic", action="store_true")
    ap.add_argument("--every", type=int, default=3)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    run = Path(a.run)
    cfg = load_run_config(run)
    cfg.env = cfg.env.replace(noop_max=0, **({"state": a.state} if a.state else {}))
    ckpt = latest_checkpoint(run)
    if ckpt is None:
        raise SystemExit(f"{run}: no checkpoints/latest.zip")
    env = make_env(cfg, evaluation=True)
    model = load_model(cfg, str(ckpt))
    try:
        obs, info = env.reset(seed=a.seed)
        for t in range(a.steps):
            o, _ = model.policy.obs_to_tensor(obs)
            with torch.no_grad():
                probs = model.policy.get_distribution(o).distribution.probs[0].numpy()
            action, _ = model.predict(obs, deterministic=a.deterministic)
            obs, _, terminated, truncated, info = env.step(action)
            if t % a.every == 0:
                shown = {k: round(float(info[k]), 3) for k in ("x", "y", "floor", "race_progress") if k in info}
                if "angle" in info:
                    shown["angle_deg"] = round(float(info["angle"]) * 360 / 65536)
                print(t, int(action), np.round(probs, 2), shown)
            if terminated or truncated:
                print(f"end at step {t + 1}: terminated={terminated} truncated={truncated} stuck={info.get('stuck')}")
                break
    finally:
        env.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
