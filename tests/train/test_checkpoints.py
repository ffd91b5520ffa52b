"""Checkpoints fail over: a damaged file is a CheckpointError naming it, a run folder's newest
intact checkpoint is found past damaged ones, and old numbered checkpoints are pruned."""

from __future__ import annotations

import dataclasses
import json
import random
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emurl.errors import CheckpointError, ConfigError
from emurl.train.evaluate import evaluate, load_run_config
from emurl.train.model import checkpoint_steps, load_model, newest_intact_checkpoint, prune_checkpoints


def fake_checkpoint(path: Path, steps: int) -> Path:
    """A zip holding what checkpoint_steps reads: Stable-Baselines3's ``data`` entry."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("data", json.dumps({"num_timesteps": steps, "padding": "x" * 2000}))
        z.writestr("policy.pth", bytes(range(256)) * 8)
    return path


def damage(path: Path) -> Path:
    path.write_bytes(path.read_bytes()[:150])
    return path


def test_newest_intact_checkpoint_order(tmp_path):
    ck = tmp_path / "checkpoints"
    for n in (32, 64, 96):
        fake_checkpoint(ck / f"model_{n}.zip", n)
    fake_checkpoint(ck / "latest.zip", 96)
    lines: list[str] = []
    assert newest_intact_checkpoint(tmp_path, lines.append) == (ck / "latest.zip", 96) and lines == []
    fake_checkpoint(ck / "model_128.zip", 128)  # killed between model_128.zip and latest.zip
    assert newest_intact_checkpoint(tmp_path, lines.append) == (ck / "model_128.zip", 128) and lines == []
    damage(ck / "model_128.zip")
    assert newest_intact_checkpoint(tmp_path, lines.append) == (ck / "latest.zip", 96)
    assert "model_128.zip: damaged" in lines[0]
    lines.clear()
    damage(ck / "latest.zip")
    damage(ck / "model_96.zip")
    assert newest_intact_checkpoint(tmp_path, lines.append) == (ck / "model_64.zip", 64)
    assert [Path(line.split(":")[0]).name for line in lines[:3]] == ["latest.zip", "model_128.zip", "model_96.zip"]
    assert "using" in lines[-1] and "model_64.zip (64 agent steps)" in lines[-1]
    for p in ck.iterdir():
        damage(p)
    with pytest.raises(CheckpointError, match="no intact checkpoint"):
        newest_intact_checkpoint(tmp_path, lines.append)
    with pytest.raises(CheckpointError, match="no checkpoint in"):
        newest_intact_checkpoint(tmp_path / "empty", lines.append)


def test_prune_keeps_the_newest_and_never_latest_or_best(tmp_path):
    ck = tmp_path / "checkpoints"
    for n in (8, 16, 24, 32, 100):
        fake_checkpoint(ck / f"model_{n}.zip", n)
    fake_checkpoint(ck / "latest.zip", 100)
    fake_checkpoint(ck / "best.zip", 16)
    (ck / "model_x.zip").write_text("not ours")
    assert prune_checkpoints(tmp_path, 0) == []
    deleted = prune_checkpoints(tmp_path, 2)
    assert sorted(p.name for p in deleted) == ["model_16.zip", "model_24.zip", "model_8.zip"]
    assert sorted(p.name for p in ck.iterdir()) == ["best.zip", "latest.zip", "model_100.zip", "model_32.zip",
                                                     "model_x.zip"]


DAMAGES = {
    "empty": lambda b: b"",
    "one byte": lambda b: b[:1],
    "header only": lambda b: b[:30],
    "cut at a tenth": lambda b: b[: len(b) // 10],
    "cut in half": lambda b: b[: len(b) // 2],
    "last byte gone": lambda b: b[:-1],
    "no central directory": lambda b: b[: b.rfind(b"PK\x01\x02")],
    "random bytes": lambda b: random.Random(0).randbytes(len(b)),
    "text": lambda b: b"this is not a checkpoint\n",
    "flip in the first entry": lambda b: b[:200] + bytes([b[200] ^ 0xFF]) + b[201:],
    "flip in the middle": lambda b: b[: len(b) // 2] + bytes([b[len(b) // 2] ^ 0x01]) + b[len(b) // 2 + 1:],
    "zeros in the middle": lambda b: b[: len(b) // 2] + bytes(64) + b[len(b) // 2 + 64:],
    "end record's offset": lambda b: b[:-6] + b"\xff\xff\xff\x7f" + b[-2:],
}


@pytest.mark.parametrize("kind", DAMAGES)
def test_a_damaged_checkpoint_is_a_checkpoint_error_naming_it(trained_run, tmp_path, kind):
    cfg = load_run_config(trained_run)
    bad = tmp_path / "model_64.zip"
    bad.write_bytes(DAMAGES[kind]((trained_run / "checkpoints" / "model_64.zip").read_bytes()))
    with pytest.raises(CheckpointError, match=str(bad)):
        load_model(cfg, bad)


def test_a_checkpoint_of_another_algorithm_or_nothing(trained_run, tmp_path):
    cfg = load_run_config(trained_run)
    with pytest.raises(CheckpointError, match="cannot load as a dqn checkpoint"):
        load_model(dataclasses.replace(cfg, algo="dqn"), trained_run / "checkpoints" / "latest.zip")
    with pytest.raises(CheckpointError, match="no such checkpoint file"):
        load_model(cfg, tmp_path / "missing.zip")
    with pytest.raises(CheckpointError, match="no such checkpoint file"):
        load_model(cfg, tmp_path)  # a folder


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_truncations_and_flips_end_in_checkpoint_error_or_a_model(trained_run, tmp_path, data):
    """Random cuts and byte changes of a real checkpoint: a CheckpointError or a model, nothing else."""
    cfg = load_run_config(trained_run)
    good = (trained_run / "checkpoints" / "model_32.zip").read_bytes()
    raw = bytearray(good[: data.draw(st.integers(0, len(good)), label="cut")])
    for _ in range(data.draw(st.integers(0 if len(raw) < len(good) else 1, 4), label="flips")):
        if raw:
            raw[data.draw(st.integers(0, len(raw) - 1), label="at")] ^= data.draw(st.integers(1, 255), label="xor")
    path = tmp_path / "fuzzed.zip"
    path.write_bytes(bytes(raw))
    try:
        model = load_model(cfg, path)
    except CheckpointError as exc:
        assert str(path) in str(exc)
    else:
        assert model.num_timesteps == 32


def test_eval_falls_back_past_a_damaged_latest_and_refuses_a_damaged_file(run_copy, capsys):
    ck = run_copy / "checkpoints"
    damage(ck / "latest.zip")
    res = evaluate(run_copy, episodes=1)
    assert res["checkpoint"] == str(ck / "model_96.zip") and res["steps"] == 96
    err = capsys.readouterr().err
    assert "emurl: warning:" in err and "latest.zip: damaged checkpoint" in err and "model_96.zip" in err
    (run_copy / "eval.json").unlink()
    with pytest.raises(CheckpointError, match=str(ck / "latest.zip")):
        evaluate(ck / "latest.zip", episodes=1)  # asked for by name: no fallback
    with pytest.raises(ConfigError, match="episodes = 0"):
        evaluate(run_copy, episodes=0)  # a mean of nothing would be NaN
    assert not (run_copy / "eval.json").exists()
    assert checkpoint_steps(ck / "model_64.zip") == 64
