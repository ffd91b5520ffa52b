"""Statistics of a league: win rates with Wilson intervals and Bradley–Terry ratings.

- Wilson score interval (Wilson 1927, JASA 22:209) of a win rate: for ``k`` wins in ``n``
  games and ``z`` = 1.96, the 95 % interval that stays inside [0, 1] and is honest for
  small ``n`` and for rates near 0 or 1 (where the normal approximation is not). A draw
  counts as half a win.
- Bradley–Terry ratings (Bradley & Terry 1952, Biometrika 39:324): P(a beats b) =
  1 / (1 + 10^((r_b - r_a) / 400)), on the Elo scale, fitted by maximum likelihood with
  scikit-learn's logistic regression (no penalty, no intercept: one coefficient per
  player, features +1 for a, -1 for b). ``prior`` virtual draws are added to every pair
  that played (as BayesElo does), so that a player who won or lost every game still gets a
  finite rating. Ratings are relative: the ``anchor`` player (e.g. ``"random"``) is put at
  0, else their mean is.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression

ELO = 400.0 / math.log(10.0)
"""Rating points per unit of log-odds (the Elo scale)."""


def wilson(wins: float, games: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a win rate: ``(low, high)`` in [0, 1]; ``(0, 1)`` for no games.

    >>> [round(x, 4) for x in wilson(8, 10)]
    [0.4902, 0.9433]
    """
    if games <= 0:
        return 0.0, 1.0
    p = wins / games
    denom = 1.0 + z * z / games
    centre = (p + z * z / (2 * games)) / denom
    half = z * math.sqrt(p * (1 - p) / games + z * z / (4 * games * games)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def bradley_terry(results: Iterable[tuple[str, str, float]], players: Sequence[str] | None = None,
                  prior: float = 1.0, anchor: str | None = None) -> dict[str, float]:
    """Ratings (Elo scale) from game results.

    Args:
        results: ``(a, b, score of a)`` per game: 1 a win of ``a``, 0 a loss, 0.5 a draw.
        players: every player to rate (default: those in ``results``).
        prior: virtual draws added to each pair that played (0: plain maximum likelihood,
            which diverges for a player who won or lost all its games).
        anchor: the player rated 0 (default: ratings average 0).

    Returns:
        player → rating; a player with no games gets the anchor's (or 0).
    """
    score: dict[tuple[str, str], float] = {}
    count: dict[tuple[str, str], float] = {}
    names = list(players or [])
    for a, b, s in results:
        for n in (a, b):
            if n not in names:
                names.append(n)
        key, s = ((a, b), float(s)) if a < b else ((b, a), 1.0 - float(s))
        score[key] = score.get(key, 0.0) + s
        count[key] = count.get(key, 0.0) + 1.0
    index = {n: i for i, n in enumerate(names)}
    if len(names) < 2 or not count:
        return {n: 0.0 for n in names}
    rows, ys, weights = [], [], []
    for (a, b), n in count.items():
        wins = score[(a, b)] + prior / 2
        losses = n - score[(a, b)] + prior / 2
        x = np.zeros(len(names))
        x[index[a]], x[index[b]] = 1.0, -1.0
        for y, w in ((1, wins), (0, losses)):
            if w > 0:
                rows.append(x if y else -x)  # a loss of a is a win of b: keep one class per row, mirrored
                ys.append(1)
                weights.append(w)
                rows.append(-x if y else x)
                ys.append(0)
                weights.append(w)
    fit = LogisticRegression(C=np.inf, fit_intercept=False, tol=1e-10, max_iter=10_000)  # C=inf: no penalty (sklearn >= 1.8)
    fit.fit(np.array(rows), np.array(ys), sample_weight=np.array(weights))
    beta = fit.coef_[0] * ELO
    played = {n for pair in count for n in pair}
    base = beta[index[anchor]] if anchor in index else float(np.mean([beta[index[n]] for n in played]))
    return {n: float(beta[index[n]] - base) if n in played else 0.0 for n in names}


__all__ = ["ELO", "bradley_terry", "wilson"]
