"""DAgger (Ross et al. 2011, https://arxiv.org/abs/1011.0686) with a decision-tree student, as
VIPER (Bastani et al. 2018, https://arxiv.org/abs/1805.08328) does it: roll out, label every
visited state with the teacher, add the states to one growing dataset, refit the tree.

Round 0 rolls out the teacher (its own state distribution); round ``k`` rolls out the
student, so the tree learns what the teacher would do in the states *its own* mistakes
lead to. VIPER's Q-gap weighting needs the teacher's Q-values: the rule-based teacher has
none, so every state weighs the same here (plain DAgger).

States are the decision points of a placement env (one per capsule) of seat 0, against the
env's opponent; the features are ``info["tree_features"]``
(:class:`~emurl.wrappers.tree_features.TreeFeaturesInfo`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from emurl.envs import EnvSpec, make
from emurl.train.distill.tree import Tree, fit_tree
from emurl.wrappers.tree_features import TreeFeaturesInfo

GREEDY = "greedy"


@dataclass
class Dataset:
    """Labelled states: features uint8 (N, 32, F), teacher placements int64 (N,), masks bool (N, 32),
    the rollout's episode seed per state (N,)."""

    X: list = field(default_factory=list)
    y: list = field(default_factory=list)
    mask: list = field(default_factory=list)
    seed: list = field(default_factory=list)

    def add(self, x, label: int, mask, seed: int) -> None:
        self.X.append(np.asarray(x, np.uint8))
        self.y.append(int(label))
        self.mask.append(np.asarray(mask, bool))
        self.seed.append(int(seed))

    def __len__(self) -> int:
        return len(self.y)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = len(self.y)
        return (np.array(self.X, np.uint8), np.array(self.y, np.int64), np.array(self.mask, bool).reshape(n, -1))

    def save(self, path) -> None:
        X, y, mask = self.arrays()
        np.savez_compressed(path, X=X, y=y, mask=mask, seed=np.array(self.seed, np.int64))


class Teacher:
    """The policy to distil: ``"greedy"`` (the integration's rule-based player) or a
    MaskablePPO zip (deterministic). :meth:`__call__` ``(env, obs, mask) -> placement`` or
    None while no piece is under control."""

    def __init__(self, what: str):
        self.name = str(what)
        self.model = None
        if self.name != GREEDY:
            from sb3_contrib import MaskablePPO  # lazy: PyTorch, ~1.5 s, only for a policy teacher
            self.model = MaskablePPO.load(self.name, device="cpu")

    def __call__(self, env: TreeFeaturesInfo, obs, mask: np.ndarray) -> int | None:
        if self.model is None:
            return env.greedy()
        return int(self.model.predict(obs, action_masks=mask, deterministic=True)[0])


def make_env(spec: EnvSpec, opponent: str = GREEDY) -> TreeFeaturesInfo:
    """Seat 0's placement env of ``spec``'s game against ``opponent`` (``"greedy"``/``"random"``),
    with the tree features in its info (and in the observation when ``spec.placement_features``:
    a placement-scorer teacher reads them there)."""
    env = make(spec.game, state=spec.state, scenario=spec.scenario, obs_type="features", action_set="placement",
               opponent=opponent, backend=spec.backend, game_path=spec.game_path, render_mode=None,
               max_episode_steps=spec.max_episode_steps, placement_features=spec.placement_features)
    return TreeFeaturesInfo(env)


def rollout(env: TreeFeaturesInfo, teacher: Teacher, student: Tree | None, states: int, seed: int,
            data: Dataset) -> int:
    """Play until ``states`` more states are labelled; the student acts (the teacher when
    ``student`` is None), the teacher labels. Episodes are seeded ``seed``, ``seed + 1``, ...;
    returns the next unused seed."""
    goal = len(data) + states
    while len(data) < goal:
        obs, info = env.reset(seed=seed)
        done = False
        while not done and len(data) < goal:
            mask = env.get_wrapper_attr("action_masks")()
            label = teacher(env, obs, mask)
            if label is None:  # no piece under control (the episode ended while waiting for one)
                break
            data.add(info["tree_features"], label, mask, seed)
            action = label if student is None else student.act(info["tree_features"], mask)
            obs, _, terminated, truncated, info = env.step(action)
            done = terminated or truncated
        seed += 1
    return seed


def dagger(spec: EnvSpec, teacher: Teacher, rounds: int = 4, states_per_round: int = 400, max_depth: int | None = 8,
           max_leaf_nodes: int | None = None, opponent: str = GREEDY, seed: int = 0,
           progress: Callable[[str], None] | None = None) -> tuple[Tree, Dataset]:
    """The DAgger loop: round 0 the teacher's rollouts, then ``rounds - 1`` of the student's;
    the tree refitted on everything after each. Returns the last tree and the dataset.
    Episode seeds start at ``seed * 100_000`` (held-out states use other seeds)."""
    env = make_env(spec, opponent)
    data = Dataset()
    tree = None
    next_seed = seed * 100_000
    try:
        for r in range(max(1, rounds)):
            next_seed = rollout(env, teacher, tree, states_per_round, next_seed, data)
            X, y, mask = data.arrays()
            _, tree = fit_tree(X, y, mask, max_depth, max_leaf_nodes, seed)
            if progress:
                train_acc = float(np.mean([tree.act(x, m) == a for x, m, a in zip(X, mask, y)]))
                progress(f"round {r}: {len(data)} states, {tree.n_nodes} nodes, training agreement {train_acc:.3f}")
    finally:
        env.close()
    return tree, data


def held_out(spec: EnvSpec, teacher: Teacher, student: Tree, states: int, opponent: str = GREEDY,
             seed: int = 10_000_000) -> Dataset:
    """States the student visits (seeds never used for training), labelled by the teacher."""
    env = make_env(spec, opponent)
    data = Dataset()
    try:
        rollout(env, teacher, student, states, seed, data)
    finally:
        env.close()
    return data


def agreement(tree: Tree, data: Dataset) -> dict:
    """Agreement of the tree's placement with the teacher's on ``data``, the majority-class
    baseline (always the teacher's most frequent placement), and recall per teacher placement
    (``{placement: [recall, states]}``)."""
    X, y, mask = data.arrays()
    acted = np.array([tree.act(x, m) for x, m in zip(X, mask)], np.int64)
    labels, counts = np.unique(y, return_counts=True)
    recall = {int(a): [float((acted[y == a] == a).mean()), int(n)] for a, n in zip(labels, counts)}
    return {"states": int(len(y)), "agreement": float((acted == y).mean()),
            "majority_class": int(labels[np.argmax(counts)]), "majority_baseline": float(counts.max() / len(y)),
            "recall": recall}


def save_data(data: Dataset, path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    data.save(path)


__all__ = ["Dataset", "GREEDY", "Teacher", "agreement", "dagger", "held_out", "make_env", "rollout", "save_data"]
