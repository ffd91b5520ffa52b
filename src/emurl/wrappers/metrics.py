"""Per-episode metrics a scenario declares, in the info of an episode's last step.

A scenario may declare metrics (``"metrics": "file.py:ClassName"`` in its file; the racing
games' are :mod:`emurl.games.metrics`): an object with ``reset(variables)``,
``update(variables)`` and ``result() -> dict[str, float]``. :class:`RecordEpisodeMetrics`
feeds it the step infos and puts its result in ``info["metrics"]`` when an episode ends;
:func:`summarize_episode_metrics` turns several episodes' results into one dict (what an
evaluation reports).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import gymnasium as gym
import numpy as np


class RecordEpisodeMetrics(gym.Wrapper):
    """Feeds the env's step infos to a metrics object; the info of an episode's last step
    (terminated or truncated) gains ``"metrics"``: a dict str → float.

    Args:
        env: an env whose reset and step infos hold the variables the metrics read (an
            :class:`~emurl.envs.EmulatorEnv` puts every variable a Python scenario reads
            there). Place it outside ``TimeLimit`` so that a truncated episode ends it too.
        metrics: the scenario's metrics object (:meth:`emurl.games.scenario.Scenario.load_metrics`).

    The variables are the ones at the end of each agent step (see :mod:`emurl.games.metrics`
    on what that sampling means). Cost: one call per step, a few µs.
    """

    def __init__(self, env: gym.Env, metrics):
        super().__init__(env)
        self.metrics = metrics

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        self.metrics.reset(info)
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.metrics.update(info)
        if terminated or truncated:
            info["metrics"] = self.metrics.result()
        return obs, reward, terminated, truncated, info


def summarize_episode_metrics(episodes: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """One dict for several episodes' ``info["metrics"]``: each key's mean over the episodes
    that report it (``race_time_s``: over the finished races), except ``finished``, whose
    mean becomes ``finish_rate``, and ``best_*`` keys, whose minimum is kept (the best lap
    of the evaluation). Keys in sorted order; {} for no episodes.

    >>> summarize_episode_metrics([{"finished": 1.0, "race_time_s": 32.0, "best_lap_time_s": 10.5},
    ...                            {"finished": 0.0, "best_lap_time_s": 11.0}])
    {'best_lap_time_s': 10.5, 'finish_rate': 0.5, 'race_time_s': 32.0}
    """
    values: dict[str, list[float]] = {}
    for ep in episodes:
        for key, value in ep.items():
            values.setdefault(key, []).append(float(value))
    out = {}
    for key in sorted(values):
        vals = values[key]
        if key == "finished":
            out["finish_rate"] = float(np.mean(vals))
        elif key.startswith("best_"):
            out[key] = float(min(vals))
        else:
            out[key] = float(np.mean(vals))
    return dict(sorted(out.items()))


__all__ = ["RecordEpisodeMetrics", "summarize_episode_metrics"]
