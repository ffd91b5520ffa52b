"""Input movies of a MiniKart autopilot driving through the training env: the demonstrations
for ``emurl bc --seq-len`` (issue 20: "BC with --seq-len on autopilot movies then
RecurrentPPO, against RecurrentPPO from scratch").

The autopilot is ``homebrew/minikart/tools/drive.py``'s, adapted to the env's agent steps:
each step it aims at the centre line ``--ahead`` checkpoints past the nearest one (the
checkpoints' centres lie ~32 px apart along the centre line, ``tracks.json``) and picks one
of the preset's ``steer`` actions (A; A+LEFT; A+RIGHT) by the heading error, as drive.py
does per frame (there it also drifts on sharp turns; the steer set has no drift). It reads
the kart's ``x``, ``y`` and ``angle`` (u16, 65536 a turn, 0 = +x, clockwise on screen) from
the step info, as any agent could.

Every episode runs through :func:`emurl.train.evaluate.run_episodes` on the preset's env
(``src/emurl/configs/MiniKart-NintendoDs.yaml``: frame skip 8, the top screen), started in
turn from each of the preset's start states with no random no-ops (so the movie's agent
steps are a dataset's steps: ``emurl.imitation.movie_env``), so each ``.emv`` replays through
``emurl dataset record`` to the same frames. Prints each episode's return, length and
racing metrics.

Usage::

    .venv/bin/python benchmarks/minikart_autopilot.py --out autopilot --episodes 8
    .venv/bin/emurl dataset record autopilot --out autopilot_ds
    .venv/bin/emurl bc autopilot_ds --seq-len 32 --config src/emurl/configs/MiniKart-NintendoDs.recurrent_ppo.yaml --out runs/bc_seq
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from pathlib import Path

import gymnasium as gym
import numpy as np

from emurl.envs import build_env
from emurl.games.integration import load_integration
from emurl.train.config import build_config
from emurl.train.evaluate import EvalMovies, run_episodes

GAME = "MiniKart-NintendoDs"
STEER = {"straight": 0, "left": 1, "right": 2}  # the preset's "steer" set: A, A+LEFT, A+RIGHT


class KeepInfo(gym.Wrapper):
    """Keeps the last reset or step info where the autopilot reads it."""

    info: dict = {}

    def reset(self, **kwargs):
        obs, self.info = self.env.reset(**kwargs)
        return obs, self.info

    def step(self, action):
        obs, reward, terminated, truncated, self.info = self.env.step(action)
        return obs, reward, terminated, truncated, self.info


class Autopilot:
    """Steers at the centre line ``ahead`` checkpoints past the nearest; ``predict`` as an SB3
    model's, so :func:`run_episodes` plays it (the observation is not used)."""

    def __init__(self, env: KeepInfo, checkpoints: np.ndarray, ahead: int, dead_zone: float):
        self.env, self.cp, self.ahead, self.dead_zone = env, checkpoints[:, :2], ahead, dead_zone

    def predict(self, obs, state=None, episode_start=None, deterministic=True):
        info = self.env.info
        x, y = float(info["x"]), float(info["y"])
        nearest = int(np.argmin(((self.cp - (x, y)) ** 2).sum(axis=1)))
        tx, ty = self.cp[(nearest + self.ahead) % len(self.cp)]
        want = math.atan2(ty - y, tx - x)
        have = float(info["angle"]) * 2 * math.pi / 65536
        err = (want - have + math.pi) % (2 * math.pi) - math.pi
        action = STEER["right"] if err > self.dead_zone else STEER["left"] if err < -self.dead_zone else STEER["straight"]
        return np.int64(action), None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="folder for the movies (autopilot_<k>.emv) and summary.json")
    ap.add_argument("--episodes", type=int, default=16)
    ap.add_argument("--ahead", type=int, default=1, help="checkpoints past the nearest to aim at")
    ap.add_argument("--dead-zone", type=float, default=0.25, help="heading error (radians) steered out of")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = build_config(GAME)
    tracks = json.loads((load_integration(GAME).folder / "tracks.json").read_text())
    checkpoints = np.asarray(tracks["tracks"][0]["checkpoints"], dtype=np.float64)
    starts = list(cfg.env.start_states or [cfg.env.state])
    results = []
    for k in range(a.episodes):
        spec = dataclasses.replace(cfg.eval_env(), state=starts[k % len(starts)], start_states=None,
                                   noop_max=0)  # no random no-op frames: the movie's steps align with a dataset's
        env = KeepInfo(build_env(spec))
        try:
            pilot = Autopilot(env, checkpoints, a.ahead, a.dead_zone)
            res = run_episodes(pilot, env, 1, True, movies=EvalMovies(out / f"autopilot_{k}", spec, {"autopilot": vars(a)}, out),
                               seed=a.seed + k)
        finally:
            env.close()
        ep = res["per_episode"][0]
        results.append({"start": spec.state, **{key: ep[key] for key in ("return", "length", "movie")},
                        "metrics": ep.get("metrics", {})})
        m = ep.get("metrics", {})
        print(f"{k:3d} {spec.state:14s} return {ep['return']:7.2f} length {ep['length']:4d} "
              f"finished {m.get('finished')} laps {m.get('laps_completed')} best lap ratio {m.get('best_lap_ratio')} "
              f"race time ratio {m.get('race_time_ratio')}", flush=True)
    (out / "summary.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
