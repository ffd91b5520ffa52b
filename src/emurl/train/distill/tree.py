"""The distilled student: a scikit-learn decision tree that scores one placement from its
row of 6502 features (:mod:`emurl.games.drmario.tree_features`), kept as its node arrays
(what the C and ca65 exports walk) and saved as ``tree.json``.

Each leaf holds a score byte: 255 x the fraction of the training placements in it that
the teacher chose, floored. The player (:meth:`Tree.act`) scores every reachable placement
and takes the best (the lowest index among equals): a loop of 32 calls on a 6502.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.tree import DecisionTreeClassifier

from emurl.errors import ConfigError
from emurl.fileio import atomic_write

LEAF = -1
"""``left``/``right`` of a leaf (scikit-learn's ``TREE_LEAF``)."""


@dataclass
class Tree:
    """A binary decision tree over integer features, as arrays (node 0 the root).

    Node ``i`` is a leaf when ``left[i] == -1``; then ``score[i]`` (0-255) is its score. Else it
    tests ``x[feature[i]] <= threshold[i]`` (an integer: scikit-learn's ``t + 0.5`` cut on
    whole numbers, floored) and goes to ``left[i]`` if true, ``right[i]`` if not.
    """

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    score: np.ndarray
    names: tuple[str, ...] = ()

    @classmethod
    def from_sklearn(cls, clf: DecisionTreeClassifier, names=()) -> "Tree":
        t = clf.tree_
        value = t.value[:, 0, :] / np.maximum(t.value[:, 0, :].sum(axis=1, keepdims=True), 1e-12)
        chosen = list(clf.classes_).index(1) if 1 in clf.classes_ else None
        score = np.floor(255 * value[:, chosen]).astype(np.int64) if chosen is not None else np.zeros(t.node_count, np.int64)
        thr = np.where(t.children_left == LEAF, 0, np.floor(t.threshold)).astype(np.int64)
        return cls(t.feature.astype(np.int64).clip(min=0), thr, t.children_left.astype(np.int64),
                   t.children_right.astype(np.int64), score, tuple(names))

    @property
    def n_nodes(self) -> int:
        return int(len(self.left))

    @property
    def n_leaves(self) -> int:
        return int((self.left == LEAF).sum())

    @property
    def depth(self) -> int:
        def d(i):
            return 0 if self.left[i] == LEAF else 1 + max(d(self.left[i]), d(self.right[i]))
        return d(0)

    def score_one(self, x) -> int:
        """The score (0-255) of one placement's features (uint8 (F,))."""
        i = 0
        while self.left[i] != LEAF:
            i = self.left[i] if int(x[self.feature[i]]) <= self.threshold[i] else self.right[i]
        return int(self.score[i])

    def scores(self, X) -> np.ndarray:
        """int64 (N,): the scores of feature rows ``X`` (N, F)."""
        return np.array([self.score_one(x) for x in np.asarray(X)], np.int64)

    def act(self, X, mask: np.ndarray) -> int:
        """The placement to play: of the placements ``mask`` allows (bool (32,); all of them
        if it allows none), the best-scored by its row of ``X`` (uint8 (32, F)), the lowest
        index among equals."""
        allowed = np.flatnonzero(mask)
        if allowed.size == 0:
            allowed = np.arange(len(mask))
        s = self.scores(np.asarray(X)[allowed])
        return int(allowed[int(np.argmax(s))])

    def to_dict(self) -> dict:
        return {"feature": self.feature.tolist(), "threshold": self.threshold.tolist(), "left": self.left.tolist(),
                "right": self.right.tolist(), "score": self.score.tolist(), "names": list(self.names)}

    def save(self, path: str | os.PathLike) -> None:
        """Write ``path`` (JSON, atomically)."""
        atomic_write(path, json.dumps(self.to_dict()).encode())

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Tree":
        """Read a :meth:`save` file.

        Raises:
            ConfigError: not a tree file (unreadable JSON or missing arrays).
        """
        try:
            d = json.loads(Path(path).read_text())
            arrays = [np.asarray(d[k], np.int64) for k in ("feature", "threshold", "left", "right", "score")]
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{path}: not a distilled tree file ({exc})") from None
        return cls(*arrays, names=tuple(d.get("names", ())))


def placement_rows(X: np.ndarray, y: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One row per reachable placement of each state: features (M, F) and 1 where it is the
    teacher's choice (M,), from states' features (N, 32, F), choices (N,), masks (N, 32)."""
    state, placement = np.nonzero(mask)
    return X[state, placement], (placement == y[state]).astype(np.int64)


def fit_tree(X: np.ndarray, y: np.ndarray, mask: np.ndarray, max_depth: int | None = 8,
             max_leaf_nodes: int | None = None, seed: int = 0, min_samples_leaf: int = 5) -> tuple[DecisionTreeClassifier, Tree]:
    """Fit scikit-learn's tree on :func:`placement_rows` of states ``X`` (N, 32, F) uint8,
    teacher placements ``y`` (N,) and masks ``mask`` (N, 32); the fitted classifier and its
    :class:`Tree`."""
    rows, chosen = placement_rows(X, y, mask)
    clf = DecisionTreeClassifier(max_depth=max_depth, max_leaf_nodes=max_leaf_nodes, random_state=seed,
                                 min_samples_leaf=min_samples_leaf)
    clf.fit(rows.astype(np.float32), chosen)
    return clf, Tree.from_sklearn(clf)


__all__ = ["LEAF", "Tree", "fit_tree", "placement_rows"]
