"""The distillation's report: closed-loop win rates of the tree and of its teacher against the
fixed anchors (Wilson 95 % intervals), the tree's fraction of the teacher's, and
``distill.json`` beside the exports.

Games are played on :class:`~emurl.train.selfplay.match.Match`'s two-seat env, the tree in
seat 0 or 1 (swapped every other game, each layout from both sides, as the league does).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Sequence

from emurl.envs import EnvSpec
from emurl.fileio import atomic_write
from emurl.train.distill.tree import Tree
from emurl.train.selfplay.match import RESULT, Match
from emurl.train.selfplay.ratings import wilson
from emurl.wrappers.placement import PlacementOpponent
from emurl.wrappers.tree_features import seat_tree_features

TREE = "tree"
"""The distilled tree as a :class:`TreeMatch` player."""


class TreeMatch(Match):
    """A :class:`Match` that also knows the player :data:`TREE` (``tree.act`` on the seat's
    tree features, the mask fallback included)."""

    def __init__(self, spec: EnvSpec, tree: Tree, pool_dir: str | os.PathLike | None = None):
        super().__init__(spec, pool_dir)
        self.tree = tree

    def _player(self, name: str, seat: int) -> PlacementOpponent:
        if name != TREE:
            return super()._player(name, seat)

        def choose(obs, mask, values):
            return self.tree.act(seat_tree_features(values, seat), mask)
        return PlacementOpponent(self.env, seat, choose)


def win_rate(match: Match, player: str, opponent: str, games: int, seed: int = 0,
             progress: Callable[[], None] | None = None) -> dict:
    """``player``'s score over ``games`` games against ``opponent`` (a draw is half a win),
    seats swapped every other game, seeds ``seed + game // 2``: ``{"games", "wins", "losses",
    "draws", "rate", "wilson95": [low, high]}``."""
    wins = losses = draws = 0
    score = 0.0
    for g in range(games):
        s = seed + g // 2
        if g % 2:
            result = 1.0 - RESULT[match.play(opponent, player, s)]
        else:
            result = RESULT[match.play(player, opponent, s)]
        score += result
        wins += result == 1.0
        losses += result == 0.0
        draws += result == 0.5
        if progress:
            progress()
    low, high = wilson(score, games)
    return {"games": games, "wins": wins, "losses": losses, "draws": draws, "rate": score / max(games, 1),
            "wilson95": [low, high]}


def closed_loop(spec: EnvSpec, tree: Tree, teacher: str, games: int, opponents: Sequence[str] = ("random", "greedy"),
                seed: int = 0, progress: Callable[[], None] | None = None) -> dict:
    """Win rates of the tree and of ``teacher`` (``"greedy"`` or a policy zip) against each
    of ``opponents``, and the tree's as a fraction of the teacher's (with the fraction of the
    interval ends: low/high over high/low, a conservative range)."""
    match = TreeMatch(spec, tree)
    out: dict = {}
    try:
        for opp in opponents:
            t = win_rate(match, TREE, opp, games, seed, progress)
            te = win_rate(match, teacher, opp, games, seed, progress)
            frac = t["rate"] / te["rate"] if te["rate"] > 0 else None
            lo = t["wilson95"][0] / te["wilson95"][1] if te["wilson95"][1] > 0 else None
            hi = min(1e9, t["wilson95"][1] / te["wilson95"][0]) if te["wilson95"][0] > 0 else None
            out[opp] = {"tree": t, "teacher": te, "fraction_of_teacher": frac, "fraction_range": [lo, hi]}
    finally:
        match.close()
    return out


def write_report(run_dir: str | os.PathLike, report: dict) -> Path:
    """Write ``distill.json`` (atomically) in ``run_dir``; returns its path."""
    path = Path(run_dir) / "distill.json"
    atomic_write(path, (json.dumps(report, indent=2) + "\n").encode())
    return path


__all__ = ["TREE", "TreeMatch", "closed_loop", "win_rate", "write_report"]
