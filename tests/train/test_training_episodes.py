"""Training episodes are logged: each one's end is a line of ``episodes.jsonl`` with the
scenario's racing metrics (MiniKart on DeSmuME), TensorBoard gets ``rollout/<metric>``, and
a resumed run appends to the same file."""

from __future__ import annotations

import json

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from emurl.train.callbacks import first_episode
from emurl.train.run import train
from tiny_run import tiny_config

LENGTH = 24  # agent steps an episode, 192 frames: past the 121-frame countdown, far from a lap


def test_every_training_episode_is_a_line_with_its_metrics(tmp_path):
    cfg = tiny_config(tmp_path, game="MiniKart-NintendoDs", obs_type="variables", action_set="steer",
                      frame_skip=8, noop_max=0, max_episode_steps=LENGTH, n_steps=16, batch_size=16,
                      total_steps=48, checkpoint_every=16)
    run = train(cfg, progress_bar=False)
    train(resume=run, overrides={"total_steps": 72}, progress_bar=False)
    rows = [json.loads(line) for line in (run / "episodes.jsonl").read_text().splitlines()]
    # one env: episodes of 24 agent steps, each logged at its last step; the resumed run
    # (its envs reset at step 48) appends its own
    assert [r["steps"] for r in rows] == [24, 48, 72]
    assert all(r["length"] == LENGTH and r["env"] == 0 for r in rows)
    for r in rows:
        m = r["metrics"]
        assert m["finished"] == 0.0 and m["laps_completed"] == 0.0 and "race_time_s" not in m
        assert 0.0 < m["lap_completion"] < 1 / 3  # it drove (A is held), less than a lap
        assert 0.0 <= m["offroad_fraction"] <= 1.0 and m["wall_hits"] >= 0 and m["average_speed"] > 0
    assert first_episode(run) is None
    tb = EventAccumulator(str(next((run / "tb").iterdir())))
    tb.Reload()
    finish = [s.value for s in tb.Scalars("rollout/finish_rate")]
    assert finish and all(v == 0.0 for v in finish)


def test_first_episode_finds_the_first_finished_race_and_skips_damaged_lines(tmp_path):
    lines = [{"steps": 100, "metrics": {"finished": 0.0}}, "{damaged", {"steps": 150},
             {"steps": 300, "metrics": {"finished": 1.0}}, {"steps": 420, "metrics": {"finished": 1.0, "race_time_s": 33.0}}]
    (tmp_path / "episodes.jsonl").write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    assert first_episode(tmp_path)["steps"] == 300
    assert first_episode(tmp_path, "race_time_s")["steps"] == 420
    assert first_episode(tmp_path / "missing") is None
