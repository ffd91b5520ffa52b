"""emurl selfplay → league → match on MiniDoc-Nes, end to end with tiny budgets (real
emulators in worker processes): the run folder holds the pool, the league its table, the
match its video; a resume keeps the pool's results."""

from __future__ import annotations

import json

from emurl.cli import main


def test_selfplay_league_and_match(tmp_path, capsys, monkeypatch):
    runs = tmp_path / "runs"
    assert main(["selfplay", "--game", "MiniDoc-Nes", "--total-steps", "64", "--num-envs", "2", "--n-steps", "16",
                 "--batch-size", "32", "--snapshot-every", "32", "--eval-every", "0", "--max-episode-steps", "6",
                 "--runs-dir", str(runs), "--no-progress"]) == 0
    (run,) = runs.iterdir()
    pool = json.loads((run / "pool" / "pool.json").read_text())
    ids = {e["id"] for e in pool["entries"]}
    assert {"current", "random", "greedy", "snapshot_000000032", "snapshot_000000064"} <= ids
    games = sum(e["games"] for e in pool["entries"])
    assert games > 0

    assert main(["selfplay", "--resume", str(run), "--total-steps", "96", "--no-progress"]) == 0
    pool = json.loads((run / "pool" / "pool.json").read_text())
    assert sum(e["games"] for e in pool["entries"]) > games  # the resumed run adds to the pool's record

    monkeypatch.chdir(run.parent)  # a run folder named relative to the working folder
    assert main(["league", run.name, "--games", "2", "--players", "random", "greedy", "snapshot_000000032", "final",
                 "--no-progress"]) == 0
    table = json.loads((run / "league.json").read_text())
    assert {p["id"] for p in table["players"]} == {"random", "greedy", "snapshot_000000032", "final"}
    assert (run / "league.png").is_file()

    video = tmp_path / "match.mp4"
    assert main(["match", str(run), "greedy", "random", "--video", str(video)]) == 0
    assert video.stat().st_size > 10_000
    assert "player 1's win" in capsys.readouterr().out
