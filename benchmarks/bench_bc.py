"""Behaviour cloning, then PPO: does starting from demonstrations reach a score sooner?

On Breakout-Atari2600 (ROM from ale-py: ``emurl roms import --from ale-py``):

1. **Demonstrations**: a scripted player reads Breakout's RAM (ball x at 0x63, ball y at
   0x65, 0 while no ball is in play; paddle x at 0x48: seen changing with the inputs in
   emurl's own RAM observations), fires when no ball is in play and keeps the paddle under
   the ball; 5% of its actions are random, and it waits 0-30 steps before starting, so
   that games differ. Each game is recorded as an input movie (``.emv``) with
   :func:`emurl.imitation.datasets.rollout_movie`: movies of a scripted agent's rollouts, not of a
   person's play (``emurl play --record`` makes those).
2. **Dataset**: ``emurl dataset record`` of the movies, 2 processes, the ``atari`` pipeline.
3. **Behaviour cloning**: ``emurl bc`` (float32, whose policy has the Nature network's
   heads: see :mod:`emurl.train.bc` on the bfloat16 policy's), evaluated on whole games.
4. **PPO** for the same number of agent steps from the cloned policy
   (``emurl train --init-from``) and from scratch, same config and seed; each evaluated
   every ``--eval-every`` steps on whole games (unclipped score). Reported: the steps at
   which each first reaches a mean evaluation return of ``--target``.

Sized for ~20 minutes on 2 idle cores with the defaults (8 games of demonstrations,
~10k steps; 12 epochs of cloning; 80k PPO steps per run, 8 envs). ``--quick`` runs every
stage tiny (a smoke test, ~3 min).

Usage::

    .venv/bin/python benchmarks/bench_bc.py                   # writes docs/bc.md, bc.json, bc.png
    .venv/bin/python benchmarks/bench_bc.py --quick --out bc-quick

The equivalent commands are in the report it writes.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

import emurl
from emurl.fileio import atomic_write
from emurl.games import load_integration
from emurl.imitation import record_dataset, rollout_movie
from emurl.train.bc import _spaces_env, behaviour_clone
from emurl.train.config import build_config
from emurl.train.evaluate import evaluate, run_episodes
from emurl.train.model import build_model
from emurl.train.run import make_env, train

ROOT = Path(__file__).resolve().parent.parent
GAME = "Breakout-Atari2600"
NOOP, FIRE, LEFT, RIGHT = 0, 1, 6, 12  # the demonstrator plays Breakout's "discrete" action set
# (18 combos); its movies record buttons, which the dataset maps to the preset's action set
EVAL_MAX_STEPS = 2000
"""Step cap of an evaluation game: on 2 loaded cores a batch-1 policy step took ~25 ms, so
a policy that never fires would cost minutes per evaluation at the preset's 27,000."""


class ScriptedBreakout:
    """The demonstrator: ``policy(ram, info) → action`` (see the module doc)."""

    def __init__(self, seed: int, epsilon: float = 0.05):
        self.rng = np.random.default_rng(seed)
        self.epsilon = epsilon
        self.wait = int(self.rng.integers(0, 31))

    def __call__(self, ram, info) -> int:
        if self.wait > 0:
            self.wait -= 1
            return NOOP
        if self.rng.random() < self.epsilon:
            return int(self.rng.choice([NOOP, FIRE, LEFT, RIGHT]))
        if ram[101] == 0:
            return FIRE
        d = int(ram[99]) - (int(ram[72]) + 12)
        return RIGHT if d > 3 else (LEFT if d < -3 else NOOP)


def make_demos(out: Path, games: int, max_steps: int, seed: int) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    env = emurl.make(GAME, obs_type="ram", frame_skip=4)
    returns, steps = [], []
    t = time.time()
    try:
        for g in range(games):
            movie, ret = rollout_movie(env, ScriptedBreakout(seed + g), max_steps)
            movie.save(out / f"demo_{g:02d}.emv")
            returns.append(ret)
            steps.append((movie.frames - 1) // 4)
            print(f"demo {g}: return {ret:g}, {steps[-1]} steps", flush=True)
    finally:
        env.close()
    return {"games": games, "returns": returns, "mean_return": float(np.mean(returns)), "steps": steps,
            "seconds": round(time.time() - t, 1),
            "source": "scripted RAM-reading Breakout player (5% random actions, 0-30 no-op steps at start), "
                      "recorded as .emv movies by emurl.imitation.rollout_movie"}


def evaluations(run_dir: Path) -> list[dict]:
    path = run_dir / "evaluations.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def first_reaching(curve: list[tuple[int, float]], target: float) -> int | None:
    for steps, ret in curve:
        if ret >= target:
            return steps
    return None


def run_ppo(name: str, cfg, init_from: str | None, start_return: float) -> dict:
    t = time.time()
    run_dir = train(cfg, init_from=init_from, progress_bar=False)
    seconds = time.time() - t
    evals = evaluations(run_dir)
    curve = [(0, start_return)] + [(int(e["steps"]), float(e["mean_return"])) for e in evals]
    print(f"PPO {name}: {[(s, round(r, 1)) for s, r in curve]} in {seconds:.0f} s", flush=True)
    return {"run_dir": str(run_dir), "curve": curve, "seconds": round(seconds, 1),
            "steps_per_s": round(cfg.total_steps / seconds, 1)}


def plot(path: Path, result: dict) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(7, 4))
    for key, label in (("bc", "PPO from behaviour cloning"), ("scratch", "PPO from scratch")):
        xs, ys = zip(*result["ppo"][key]["curve"])
        ax.plot(xs, ys, marker="o", label=label)
    ax.axhline(result["target"], color="gray", linestyle="--", label=f"target {result['target']:g}")
    ax.axhline(result["demos"]["mean_return"], color="green", linestyle=":", label="demonstrator")
    ax.set_xlabel("PPO agent steps")
    ax.set_ylabel("evaluation return (whole games)")
    ax.set_title(f"{GAME}: PPO from behaviour cloning vs from scratch")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def report(result: dict, png: str | None) -> str:
    r = result
    d, ds, bc, ppo = r["demos"], r["dataset"], r["bc"], r["ppo"]

    def reached(key):
        s = ppo[key]["steps_to_target"]
        return f"{s:,} steps" if s is not None else f"not within {r['ppo_steps']:,} steps"

    lines = [
        "# Behaviour cloning, then PPO, on Breakout",
        "",
        f"`{r['command']}` on {r['date']} ({r['machine']}). Generated by `benchmarks/bench_bc.py`; "
        "numbers in `bc.json`.",
        "",
        "## What ran",
        "",
        f"1. **Demonstrations** ({d['seconds']:.0f} s): {d['source']}; {d['games']} games, "
        f"mean score {d['mean_return']:.1f} (min {min(d['returns']):g}, max {max(d['returns']):g}), "
        f"{sum(d['steps']):,} agent steps.",
        f"2. **Dataset** ({ds['seconds']:.0f} s, 2 processes): {ds['counts']['steps']:,} steps "
        f"(observations (4, 84, 84) uint8, action set `{ds['action_set']}`, {len(ds['combos'])} actions), "
        f"{ds['counts']['unmatched_frames']} unmatched frames, {ds['counts']['mixed_steps']} mixed steps.",
        f"3. **Behaviour cloning** ({bc['seconds']:.0f} s, {bc['epochs']} epochs): training accuracy "
        f"{bc['train_accuracy']:.3f}, validation accuracy "
        + (f"{bc['val_accuracy']:.3f}" if bc["val_accuracy"] is not None else "n/a")
        + f" (last 10% of each game held out); the cloned policy scores {bc['eval_return']:.1f} "
        f"± {bc['eval_std']:.1f} over {bc['eval_episodes']} whole games.",
        f"4. **PPO**, {r['ppo_steps']:,} agent steps each, {r['ppo_config']['num_envs']} envs, same seed and config "
        "(the game's preset: rl-baselines3-zoo's Atari PPO settings, float32):",
        "",
        "| start | steps to a mean evaluation return of "
        f"{r['target']:g} | return at 0 | last evaluation | best evaluation | wall time |",
        "|---|---|---|---|---|---|",
    ]
    for key, label in (("bc", "behaviour cloning"), ("scratch", "scratch")):
        c = ppo[key]["curve"]
        lines.append(f"| {label} | {reached(key)} | {c[0][1]:.1f} | {c[-1][1]:.1f} | {max(v for _, v in c):.1f} | "
                     f"{ppo[key]['seconds']:.0f} s |")
    lines += ["", f"Evaluations: whole games of at most {EVAL_MAX_STEPS} steps (no life-loss termination, "
              "unclipped score), "
              f"{r['ppo_config']['eval_episodes']} per point, sampled actions; the point at 0 steps is the "
              "starting policy (the cloned one, or a fresh network).", ""]
    if png:
        lines += [f"![evaluation return against PPO steps]({png})", ""]
    lines += ["## Commands", "", "```bash"] + r["commands"] + ["```", ""]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=None, help="work folder (default: a temporary one) for movies, dataset, runs")
    ap.add_argument("--docs", default=str(ROOT / "docs"), help="where bc.md, bc.json and bc.png go")
    ap.add_argument("--games", type=int, default=8, help="demonstration games")
    ap.add_argument("--demo-steps", type=int, default=2500, help="agent steps per demonstration game at most")
    ap.add_argument("--epochs", type=int, default=12, help="behaviour cloning epochs")
    ap.add_argument("--ppo-steps", type=int, default=80_000, help="PPO agent steps per run")
    ap.add_argument("--num-envs", type=int, default=8)
    ap.add_argument("--eval-every", type=int, default=16_000)
    ap.add_argument("--eval-episodes", type=int, default=2)
    ap.add_argument("--target", type=float, default=5.0, help="mean evaluation return to reach")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="tiny everything: checks the pipeline, not the result")
    args = ap.parse_args()
    if args.quick:
        args.games, args.demo_steps, args.epochs, args.ppo_steps = 2, 300, 1, 1024
        args.num_envs, args.eval_every, args.eval_episodes = 2, 512, 1

    load_integration(GAME).require_rom()  # RomNotFoundError says: emurl roms import --from ale-py
    work = Path(args.out) if args.out else Path(tempfile.gettempdir()) / f"emurl-bench-bc-{int(time.time())}"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    t_all = time.time()
    result: dict = {
        "command": "python benchmarks/bench_bc.py " + " ".join(sys.argv[1:]),
        "date": datetime.date.today().isoformat(),
        "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, torch {torch.__version__}",
        "game": GAME, "target": args.target, "ppo_steps": args.ppo_steps, "seed": args.seed,
    }

    print("== demonstrations", flush=True)
    result["demos"] = make_demos(work / "movies", args.games, args.demo_steps, args.seed)

    print("== dataset", flush=True)
    meta = record_dataset([work / "movies"], work / "dataset", num_proc=2)
    result["dataset"] = {"counts": meta["counts"], "seconds": meta["seconds"]}

    print("== behaviour cloning", flush=True)
    t = time.time()
    bc = behaviour_clone(work / "dataset", work / "bc", epochs=args.epochs, batch_size=64, learning_rate=1e-3,
                         seed=args.seed, overrides={"precision": "fp32", "eval_max_steps": EVAL_MAX_STEPS})
    bc_seconds = time.time() - t
    ev = evaluate(bc.run_dir, episodes=max(3, args.eval_episodes))
    result["bc"] = {"train_accuracy": bc.train_accuracy, "val_accuracy": bc.val_accuracy, "epochs": args.epochs,
                    "seconds": round(bc_seconds, 1), "eval_return": ev["mean_return"], "eval_std": ev["std_return"],
                    "eval_episodes": ev["episodes"], "history": bc.history}

    overrides = dict(total_steps=args.ppo_steps, num_envs=args.num_envs, eval_every=args.eval_every,
                     eval_episodes=args.eval_episodes, eval_max_steps=EVAL_MAX_STEPS, checkpoint_every=10**9,
                     video=False,
                     precision="fp32", seed=args.seed, runs_dir=str(work / "runs"))
    scratch_cfg = build_config(GAME, None, overrides)
    bc_cfg = build_config(GAME, str(bc.run_dir / "config.yaml"), overrides)
    result["ppo_config"] = {k: getattr(scratch_cfg, k) for k in (
        "num_envs", "n_steps", "batch_size", "n_epochs", "learning_rate", "clip_range", "ent_coef",
        "eval_episodes", "eval_max_steps", "precision")}
    result["ppo_config"]["terminal_on_life_loss"] = scratch_cfg.env.terminal_on_life_loss
    print("== PPO from behaviour cloning", flush=True)
    from_bc = run_ppo("from BC", bc_cfg, str(bc.checkpoint), ev["mean_return"])
    print("== PPO from scratch", flush=True)
    fresh = run_ppo("from scratch", scratch_cfg, None, _fresh_return(scratch_cfg, args.eval_episodes))
    result["ppo"] = {"bc": from_bc, "scratch": fresh}
    for key in ("bc", "scratch"):
        result["ppo"][key]["steps_to_target"] = first_reaching(result["ppo"][key]["curve"], args.target)
    result["commands"] = [
        "WORK=$(mktemp -d)   # the benchmark's work folder: movies, dataset, runs",
        "emurl roms import --from ale-py",
        f"# demonstrations: {result['demos']['source']} (this script)",
        f"emurl dataset record {work / 'movies'} --out {work / 'dataset'} --num-proc 2",
        f"emurl bc {work / 'dataset'} --epochs {args.epochs} --batch-size 64 --lr 1e-3 --set precision=fp32 "
        f"--set eval_max_steps={EVAL_MAX_STEPS} "
        f"--out {work / 'bc'}",
        f"emurl eval {work / 'bc'} --episodes {max(3, args.eval_episodes)}",
        f"emurl train --config {work / 'bc' / 'config.yaml'} --init-from {bc.checkpoint} "
        + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in overrides.items()),
        f"emurl train --game {GAME} " + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in overrides.items()),
    ]
    result["total_seconds"] = round(time.time() - t_all, 1)
    result = portable(result, work)

    docs = Path(args.docs)
    docs.mkdir(parents=True, exist_ok=True)
    png = "bc.png" if plot(docs / "bc.png", result) else None
    atomic_write(docs / "bc.json", json.dumps(result, indent=1, default=str).encode())
    atomic_write(docs / "bc.md", report(result, png).encode())
    print(f"wrote {docs / 'bc.md'}, {docs / 'bc.json'}" + (f", {docs / 'bc.png'}" if png else "")
          + f" in {result['total_seconds']:.0f} s", flush=True)
    return 0


def portable(obj, work: Path):
    """``obj`` with the work folder's path written as ``$WORK``: the report is committed,
    and this machine's temporary folders mean nothing elsewhere."""
    if isinstance(obj, str):
        return obj.replace(str(work), "$WORK")
    if isinstance(obj, dict):
        return {k: portable(v, work) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [portable(v, work) for v in obj]
    return obj


def _fresh_return(cfg, episodes: int) -> float:
    """Mean evaluation return of the untrained PPO policy that a scratch run starts from."""
    env = make_env(cfg, evaluation=True)
    try:
        with warnings.catch_warnings():  # SB3: batch_size > n_steps × 1 env; this model never learns
            warnings.simplefilter("ignore", UserWarning)
            model = build_model(cfg, _spaces_env(env.observation_space, env.action_space), None)
        return float(run_episodes(model, env, episodes, cfg.eval_deterministic)["mean_return"])
    finally:
        env.close()


if __name__ == "__main__":
    sys.exit(main())
