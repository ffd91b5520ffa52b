"""Plot a run's learning curve from its TensorBoard logs and evaluations.

Usage::

    .venv/bin/python benchmarks/plot_run.py runs/Breakout-Atari2600__ppo__0__<time> docs/breakout_ppo.png

Plots ``rollout/ep_rew_mean`` (raw game score of training episodes, mean of the last
100) and the periodic evaluation returns against agent steps; prints the last values
and the run's wall time.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def read_scalars(run_dir: Path, tag: str) -> list[tuple[int, float, float]]:
    """(step, value, wall time) of ``tag`` over all TensorBoard event files of a run, in step order."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = {}
    for d in sorted((run_dir / "tb").glob("*")):
        ea = EventAccumulator(str(d), size_guidance={"scalars": 0})
        ea.Reload()
        if tag in ea.Tags()["scalars"]:
            for e in ea.Scalars(tag):
                out[e.step] = (e.step, e.value, e.wall_time)
    return [out[k] for k in sorted(out)]


def main(argv=None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    argv = argv or sys.argv[1:]
    run_dir, png = Path(argv[0]), Path(argv[1])
    train = read_scalars(run_dir, "rollout/ep_rew_mean")
    evals = []
    ev_file = run_dir / "evaluations.jsonl"
    if ev_file.is_file():
        evals = [json.loads(line) for line in ev_file.read_text().splitlines() if line.strip()]
    fig, ax = plt.subplots(figsize=(7, 4))
    if train:
        ax.plot([s for s, _, _ in train], [v for _, v, _ in train], label="training episodes (mean of last 100)")
    if evals:
        ax.plot([e["steps"] for e in evals], [e["mean_return"] for e in evals], "o-", label="evaluation")
    ax.set_xlabel("agent steps")
    ax.set_ylabel("game score per episode")
    ax.set_title(run_dir.name)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=100)
    fps = read_scalars(run_dir, "time/fps")
    if train:
        print(f"last training mean score {train[-1][1]:.2f} at {train[-1][0]} steps")
    if fps:
        print(f"agent steps {fps[-1][0]}, wall time of the logged part {fps[-1][2] - fps[0][2]:.0f} s")
    if evals:
        print(f"last evaluation {evals[-1]['mean_return']:.2f} at {evals[-1]['steps']} steps")


if __name__ == "__main__":
    main()
