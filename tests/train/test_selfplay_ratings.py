"""League statistics on scripted results, against values computed by hand."""

from __future__ import annotations

import math

import pytest

from emurl.train.selfplay.ratings import bradley_terry, wilson


@pytest.mark.parametrize("wins, games, low, high", [
    # Wilson 95 %: (p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n), z = 1.96, by hand
    (8, 10, 0.4902, 0.9433), (0, 10, 0.0, 0.2775), (10, 10, 0.7225, 1.0), (200, 400, 0.4512, 0.5488),
    (398, 400, 0.9820, 0.9986),
])
def test_wilson_intervals(wins, games, low, high):
    lo, hi = wilson(wins, games)
    assert lo == pytest.approx(low, abs=1e-4) and hi == pytest.approx(high, abs=1e-4)


def test_no_games_is_the_whole_interval():
    assert wilson(0, 0) == (0.0, 1.0)


def test_two_players_rating_gap_is_the_log_odds_of_the_score():
    results = [("a", "b", 1), ("a", "b", 1), ("b", "a", 0), ("a", "b", 0)]  # a: 3 of 4
    r = bradley_terry(results, prior=1.0, anchor="b")
    # with one virtual draw: a scores 3.5 of 5 = 0.7, so r_a - r_b = 400 log10(0.7 / 0.3)
    assert r["b"] == 0.0
    assert r["a"] == pytest.approx(400 * math.log10(0.7 / 0.3), abs=0.01)


def test_draws_count_half_and_ratings_center_without_anchor():
    r = bradley_terry([("a", "b", 0.5)] * 6 + [("a", "b", 1)] * 2, prior=0.0)
    # a scores 5 of 8: gap 400 log10(5/3); no anchor: the two average 0
    assert r["a"] - r["b"] == pytest.approx(400 * math.log10(5 / 3), abs=0.01)
    assert r["a"] + r["b"] == pytest.approx(0.0, abs=1e-6)


def test_three_players_in_a_consistent_ladder():
    # a beats b 3:1, b beats c 3:1, a beats c 9:1: exactly Bradley-Terry with odds 3, 3, 9
    results = [("a", "b", 1)] * 3 + [("a", "b", 0)] + [("b", "c", 1)] * 3 + [("b", "c", 0)] \
        + [("a", "c", 1)] * 9 + [("a", "c", 0)]
    r = bradley_terry(results, prior=0.0, anchor="c")
    assert r["b"] == pytest.approx(400 * math.log10(3), abs=0.05)
    assert r["a"] == pytest.approx(400 * math.log10(9), abs=0.05)


def test_a_player_who_always_wins_has_a_finite_rating():
    r = bradley_terry([("strong", "random", 1)] * 50, prior=1.0, anchor="random")
    assert r["strong"] == pytest.approx(400 * math.log10(50.5 / 0.5), abs=0.01)


def test_players_without_games_are_listed():
    r = bradley_terry([("a", "b", 1)], players=["a", "b", "c"], anchor="b")
    assert r["c"] == 0.0 and set(r) == {"a", "b", "c"}
