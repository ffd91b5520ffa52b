"""A training run end to end from the command line, on a tiny budget."""

from __future__ import annotations

import yaml

from emurl.cli import main
from emurl.train.evaluate import load_run_config


def test_train_with_a_registered_id_makes_a_flat_run_folder(tmp_path, atari_roms, capsys):
    """`emurl train --game emurl/Pong-Atari2600-v0` names its run by the canonical game, so
    the run folder is runs/Pong-Atari2600__ppo__... and not runs/emurl/Pong-..."""
    runs = tmp_path / "runs"
    rc = main(["train", "--game", "emurl/Pong-Atari2600-v0", "--total-steps", "256", "--num-envs", "2",
               "--n-steps", "128", "--batch-size", "128", "--n-epochs", "1", "--eval-every", "0",
               "--eval-max-steps", "20", "--video", "no", "--runs-dir", str(runs), "--no-progress"])
    assert rc == 0
    (run,) = list(runs.iterdir())
    assert run.name.startswith("Pong-Atari2600__ppo__0__"), run.name
    assert (run / "checkpoints" / "latest.zip").is_file() and (run / "checkpoints" / "model_256.zip").is_file()
    frozen = yaml.safe_load((run / "config.yaml").read_text())
    assert frozen["env"]["game"] == "Pong-Atari2600" and frozen["env"]["action_set"] == "minimal"  # the preset's
    assert load_run_config(run).total_steps == 256
    lines = [line for line in (run / "evaluations.jsonl").read_text().splitlines() if line]
    assert len(lines) == 1  # the evaluation at the end
