"""Imitation: datasets of (observation, action) steps from input movies, and rollouts as movies.

- :mod:`emurl.imitation.datasets`: the dataset folder's format; :func:`load_dataset`,
  :class:`Dataset`, :func:`summary`.
- :mod:`emurl.imitation.labels`: a step's action from the buttons its frames hold.
- :mod:`emurl.imitation.movie_env`: the env that replays a movie, its steps
  (:func:`movie_steps`), and a policy's rollout as a movie (:func:`rollout_movie`).
- :mod:`emurl.imitation.record`: :func:`record_dataset`, movies replayed in worker
  processes and merged into one dataset folder.

For example, with two movies of yours::

    meta = record_dataset(["run1.emv", "run2.emv"], "ds", num_proc=2)
    load_dataset("ds").obs.shape   # (1520, 4, 84, 84)
"""

from __future__ import annotations

from emurl.imitation.datasets import FORMAT, FORMAT_VERSION, Dataset, DatasetError, load_dataset, summary
from emurl.imitation.labels import action_table, nearest_combos, step_action
from emurl.imitation.movie_env import PIPELINES, Step, make_movie_env, movie_env_spec, movie_steps, rollout_movie
from emurl.imitation.record import dataset_spec, record_dataset

__all__ = [
    "FORMAT", "FORMAT_VERSION", "PIPELINES", "Dataset", "DatasetError", "Step", "action_table", "dataset_spec",
    "load_dataset", "make_movie_env", "movie_env_spec", "movie_steps", "nearest_combos", "record_dataset",
    "rollout_movie", "step_action", "summary",
]
