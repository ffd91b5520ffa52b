"""MaskablePPO on placement actions, trained and evaluated through the run folder."""

from __future__ import annotations

import json

from emurl.cli import main


def test_minidoc_preset_trains_and_evaluates_with_masks(tmp_path):
    """The MiniDoc-Nes preset: MaskablePPO, seat 0 vs a random opponent, placement actions
    and Dict observations (SubprocVecEnv); eval picks only allowed placements and counts wins."""
    runs = tmp_path / "runs"
    assert main(["train", "--game", "MiniDoc-Nes", "--total-steps", "256", "--num-envs", "2", "--n-steps", "64",
                 "--batch-size", "64", "--eval-every", "0", "--eval-episodes", "1", "--runs-dir", str(runs),
                 "--no-progress"]) == 0
    (run,) = runs.iterdir()
    assert run.name.startswith("MiniDoc-Nes__maskable_ppo__0__")
    assert main(["eval", str(run), "--episodes", "3"]) == 0
    res = json.loads((run / "eval.json").read_text())
    assert len(res["wins"]) == 3 and 0.0 <= res["win_rate"] <= 1.0
    assert all(1 <= n <= 200 for n in res["lengths"])  # placements per game, capped by the preset
    assert res["opponent"] == "random"
    assert main(["eval", str(run), "--episodes", "1", "--opponent", "greedy"]) == 0  # another opponent for seat 1
    assert json.loads((run / "eval.json").read_text())["opponent"] == "greedy"
