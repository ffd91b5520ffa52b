"""The self-play opponent pool: draw frequencies match its weights, snapshots round-trip
through pool.json, the oldest are dropped at the cap, and bad pools are clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emurl.errors import ConfigError
from emurl.train.selfplay import Pool


def _filled(tmp_path, sampling):
    pool = Pool(tmp_path / "pool", size=3, self_play=0.4, sampling=sampling)
    for steps in (1000, 2000, 3000):
        pool.add_snapshot(b"zip" + bytes([steps // 1000]), steps)
    # scripted records: the learner beats random always, greedy never, snapshots 50% / 90% / untried
    for _ in range(20):
        pool.record("random", True)
        pool.record("greedy", False)
    for i in range(10):
        pool.record("snapshot_000001000", i % 2 == 0)
        pool.record("snapshot_000002000", i != 0)
    return pool


@pytest.mark.parametrize("sampling", ["uniform", "pfsp", "pfsp_hard"])
def test_draw_frequencies_match_the_weights(tmp_path, sampling):
    pool = _filled(tmp_path, sampling)
    weights = pool.weights()
    assert sum(weights.values()) == pytest.approx(1.0)
    assert weights["current"] == pytest.approx(0.4)
    rng = np.random.default_rng(0)
    n = 20_000
    counts = {k: 0 for k in weights}
    for _ in range(n):
        counts[pool.draw(rng).id] += 1
    for k, w in weights.items():  # within 4 standard deviations of the binomial count
        assert abs(counts[k] - n * w) <= 4 * np.sqrt(n * w * (1 - w)) + 1, (k, counts[k], n * w)


def test_pfsp_prefers_opponents_beaten_about_half_the_time(tmp_path):
    w = _filled(tmp_path, "pfsp").weights()
    # p = (wins+1)/(games+2): random 21/22, greedy 1/22, snapshot 1000: 6/12, 2000: 10/12, 3000: 1/2
    p = {"random": 21 / 22, "greedy": 1 / 22, "snapshot_000001000": 0.5, "snapshot_000002000": 10 / 12,
         "snapshot_000003000": 0.5}
    raw = {k: v * (1 - v) for k, v in p.items()}
    total = sum(raw.values())
    for k, v in raw.items():
        assert w[k] == pytest.approx(0.6 * v / total)
    assert w["snapshot_000001000"] > w["snapshot_000002000"] > w["random"]


def test_pfsp_hard_prefers_the_opponents_it_loses_to(tmp_path):
    w = _filled(tmp_path, "pfsp_hard").weights()
    p = {"random": 21 / 22, "greedy": 1 / 22, "snapshot_000001000": 0.5, "snapshot_000002000": 10 / 12,
         "snapshot_000003000": 0.5}
    raw = {k: (1 - v) ** 2 for k, v in p.items()}
    total = sum(raw.values())
    for k, v in raw.items():
        assert w[k] == pytest.approx(0.6 * v / total)
    assert w["greedy"] > w["snapshot_000001000"] > w["snapshot_000002000"] > w["random"]


def test_uniform_weights_are_equal(tmp_path):
    w = _filled(tmp_path, "uniform").weights()
    others = [v for k, v in w.items() if k != "current"]
    assert len(others) == 5 and all(v == pytest.approx(0.6 / 5) for v in others)


def test_snapshots_round_trip_and_the_oldest_go_at_the_cap(tmp_path):
    pool = _filled(tmp_path, "pfsp")
    pool.add_snapshot(b"newest", 4000)  # size 3: snapshot 1000 goes, with its file
    pool.save()
    again = Pool.load(tmp_path / "pool")
    assert again.weights() == pytest.approx(pool.weights())
    assert {e.id for e in again.entries.values() if e.kind == "snapshot"} == {
        "snapshot_000002000", "snapshot_000003000", "snapshot_000004000"}
    assert not (tmp_path / "pool" / "snapshot_000001000.zip").exists()
    assert (tmp_path / "pool" / "snapshot_000004000.zip").read_bytes() == b"newest"
    assert again.entries["snapshot_000002000"].games == 10 and again.entries["snapshot_000002000"].wins == 9


def test_a_pool_of_nothing_but_current_plays_itself(tmp_path):
    pool = Pool(tmp_path, anchors=())
    assert pool.weights() == {"current": 1.0}


@pytest.mark.parametrize("kwargs, match", [
    ({"size": 0}, "pool size"), ({"self_play": 1.5}, "self_play"), ({"sampling": "elo"}, "sampling"),
    ({"anchors": ("random", "expert")}, "anchors"),
])
def test_bad_settings_are_config_errors(tmp_path, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        Pool(tmp_path, **kwargs)


@pytest.mark.parametrize("content", ["", "{", "[]", json.dumps({"entries": [{"id": 1}]})])
def test_a_damaged_pool_index_names_the_file(tmp_path, content):
    (tmp_path / "pool.json").write_text(content)
    with pytest.raises(ConfigError, match="pool.json"):
        Pool.load(tmp_path)
    with pytest.raises(ConfigError, match="no opponent pool"):
        Pool.load(tmp_path / "elsewhere")
