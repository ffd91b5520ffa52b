"""The league on MiniDoc-Nes (real emulators in two worker processes): a round robin of
anchors and a pool snapshot writes league.json and league.png; seats alternate."""

from __future__ import annotations

import io
import json

import pytest
from sb3_contrib import MaskablePPO

from emurl.envs import EnvSpec, build_env
from emurl.errors import ConfigError
from emurl.train.selfplay import Pool
from emurl.train.selfplay.league import players_of, run_league, summarise
from emurl.train.selfplay.ratings import wilson

SPEC = EnvSpec("MiniDoc-Nes", state="2P_L0_Low", action_set="placement", obs_type="features", scenario="sparse",
               opponent="random", render_mode=None)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    run = tmp_path_factory.mktemp("selfplay-run")
    env = build_env(SPEC)
    try:
        buf = io.BytesIO()
        MaskablePPO("MultiInputPolicy", env, n_steps=8, batch_size=8, device="cpu", seed=0).save(buf)
    finally:
        env.close()
    pool = Pool(run / "pool")
    pool.add_snapshot(buf.getvalue(), 1000)
    pool.save()
    return run


def test_a_round_robin_writes_the_league(run_dir):
    assert list(players_of(run_dir)) == ["random", "greedy", "snapshot_000001000"]
    done = []
    table = run_league(run_dir, SPEC.replace(opponent=None), games=2, num_proc=2,
                       progress=lambda i, n: done.append((i, n)))
    assert done[-1] == (6, 6)
    assert json.loads((run_dir / "league.json").read_text()) == table
    assert (run_dir / "league.png").stat().st_size > 1000
    pairs = {(p["a"], p["b"]): p for p in table["pairs"]}
    greedy = pairs[("random", "greedy")]
    assert greedy["games"] == 2 and greedy["losses"] == 2  # the rule-based player beats random from both seats
    for p in table["pairs"]:
        assert p["wins"] + p["losses"] + p["draws"] == 2
        assert sum(p["layouts"].values()) == 1  # one seed, from both seats
        assert p["wilson95"] == pytest.approx(list(wilson(p["wins"] + p["draws"] / 2, 2)))
    ratings = {p["id"]: p["rating"] for p in table["players"]}
    assert ratings["random"] == 0.0 and ratings["greedy"] > 0.0


def test_a_checkpoint_of_another_run_plays_head_to_head(run_dir, tmp_path):
    """A player given as a checkpoint file (an agent from another run) plays the run's own
    players; league.json marks it as from outside, and names not found say what would do."""
    other = tmp_path / "other-run" / "latest.zip"
    other.parent.mkdir()
    other.write_bytes((run_dir / "pool" / "snapshot_000001000.zip").read_bytes())
    table = run_league(run_dir, SPEC.replace(opponent=None), games=2, num_proc=1, players=["greedy", str(other)])
    entry = {p["id"]: p for p in table["players"]}[str(other)]
    assert entry["kind"] == "outside" and entry["steps"] == 0  # an unlearnt MaskablePPO's num_timesteps
    (pair,) = table["pairs"]
    assert (pair["a"], pair["b"], pair["games"]) == ("greedy", str(other), 2)
    assert pair["wins"] + pair["losses"] + pair["draws"] == 2
    with pytest.raises(ConfigError, match=r"or name a policy checkpoint file \(\.zip\)"):
        run_league(run_dir, SPEC, players=["greedy", str(tmp_path / "missing.zip")])


def test_summarise_counts_each_pair_from_the_first_players_side():
    results = [("a", "b", 1.0), ("b", "a", 1.0), ("a", "b", 0.5), ("a", "c", 0.0)]
    t = summarise(results, ["a", "b", "c"], {"a": 0, "b": 10, "c": 20}, 3)
    ab = t["pairs"][0]
    assert (ab["a"], ab["b"], ab["wins"], ab["losses"], ab["draws"]) == ("a", "b", 1, 1, 1)
    assert ab["score_rate"] == pytest.approx(0.5)
    assert [p["steps"] for p in t["players"]] == [0, 10, 20]
    assert "layouts" not in ab  # no seeds given


def test_layouts_count_which_player_won_a_seed_from_both_seats():
    """Seeds 1 and 2: a won from both seats; seed 3: each won once (the seat decided); seed 4:
    b won twice; seed 5 was played once only and is not counted."""
    results = [("a", "b", 1.0, 1), ("b", "a", 0.0, 1), ("a", "b", 1.0, 2), ("a", "b", 1.0, 2),
               ("a", "b", 1.0, 3), ("b", "a", 1.0, 3), ("b", "a", 1.0, 4), ("a", "b", 0.0, 4), ("a", "b", 1.0, 5)]
    (pair,) = summarise(results, ["a", "b"], {}, 9)["pairs"]
    assert pair["layouts"] == {"a_twice": 2, "b_twice": 1, "split": 1}
    assert (pair["wins"], pair["losses"]) == (6, 3)


def test_bad_league_requests_are_config_errors(run_dir, tmp_path):
    with pytest.raises(ConfigError, match="no league player"):
        run_league(run_dir, SPEC, players=["random", "nobody"])
    with pytest.raises(ConfigError, match="two players"):
        run_league(run_dir, SPEC, players=["random"])
    with pytest.raises(ConfigError, match="no opponent pool"):
        players_of(tmp_path)
