"""The dataset format: a folder of (observation, action) steps for imitation, and reading it.

:func:`~emurl.imitation.record.record_dataset` writes, atomically (a temporary folder,
then a rename)::

    DIR/data.npz   obs           (N, 4, 84, 84) uint8   the observation before each step
                   actions       (N,) int64             index into meta.json's "combos"
                   rewards       (N,) float32           the scenario's reward over the step's
                                                        frames, raw (not clipped)
                   terminations  (N,) bool              the scenario ended the episode
                   truncations   (N,) bool              the movie ended first
                   episode_starts (N,) bool             first step of an episode (of a movie)
                   episode       (N,) int32             index of the source movie in meta["movies"]
                   frames        (N,) int64             the movie frame on which the step starts
                   info_<name>   (N,) float64           each scenario variable after the step
    DIR/meta.json  game, action set and its combos, "config": the env's settings (an
                   EnvSpec's ``to_dict()``; datasets before it hold a flat subset of them),
                   source movies, counts (steps, frames, unmatched frames, ...)

NPZ rather than Minari: Minari keeps datasets under its own root by dataset id (not at
an arbitrary ``--out DIR``), has no place for the action set's combos or the per-movie
match counts, and would add h5py, pydantic and typer for what two files hold.
"""

from __future__ import annotations

import collections
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emurl.errors import EmurlError
from emurl.fileio import ZIP_ERRORS

FORMAT = "emurl-dataset"
FORMAT_VERSION = 1
COLUMNS = (("obs", None), ("actions", np.int64), ("rewards", np.float32), ("terminations", np.bool_),
           ("truncations", np.bool_), ("episode_starts", np.bool_), ("episode", np.int32), ("frames", np.int64))
"""The arrays of ``data.npz`` and their dtypes (``obs``: the observation space's), then ``info_<name>`` float64."""


class DatasetError(EmurlError, ValueError):
    """A dataset or one of its source movies is missing or malformed (names the file and what was expected)."""


REQUIRED = {"obs": np.uint8, "actions": np.int64, "rewards": np.float32, "terminations": np.bool_,
            "truncations": np.bool_, "episode_starts": np.bool_}


@dataclass
class Dataset:
    """A dataset folder, loaded (see the module doc for each array).

    Attributes:
        obs: uint8 (N, *meta["observation"]["shape"]), e.g. (N, 4, 84, 84).
        actions: int64 (N,), in ``range(len(meta["combos"]))``.
        rewards: float32 (N,). terminations, truncations, episode_starts: bool (N,).
        episode: int32 (N,) source movie index; frames: int64 (N,) first movie frame of each step.
        infos: variable name → float64 (N,).
        meta: the ``meta.json`` object.
        path: the folder.
    """

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    terminations: np.ndarray
    truncations: np.ndarray
    episode_starts: np.ndarray
    episode: np.ndarray
    frames: np.ndarray
    infos: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    path: Path | None = None

    def __len__(self) -> int:
        return int(self.actions.shape[0])

    def episodes(self) -> list[slice]:
        """One slice of step indices per episode, in order."""
        starts = list(np.flatnonzero(self.episode_starts)) + [len(self)]
        return [slice(int(a), int(b)) for a, b in zip(starts, starts[1:])]


def load_dataset(path: str | os.PathLike) -> Dataset:
    """Read a dataset folder written by :func:`~emurl.imitation.record.record_dataset`.

    Raises:
        DatasetError: the folder, ``meta.json`` or ``data.npz`` is missing or malformed, or
            an array has the wrong dtype or length (names the file and the array).
    """
    path = Path(path)
    meta_file, data_file = path / "meta.json", path / "data.npz"
    if not path.is_dir():
        raise DatasetError(f"{path}: no such dataset folder")
    try:
        meta = json.loads(meta_file.read_bytes())
    except FileNotFoundError:
        raise DatasetError(f"{meta_file}: missing (not a dataset folder made by `emurl dataset record`?)") from None
    except (OSError, ValueError) as exc:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise DatasetError(f"{meta_file}: not readable JSON ({exc})") from None
    _check_meta(meta, meta_file)
    try:
        npz = np.load(data_file, allow_pickle=False)
    except FileNotFoundError:
        raise DatasetError(f"{data_file}: missing") from None
    except ZIP_ERRORS as exc:
        raise DatasetError(f"{data_file}: not a readable .npz ({exc})") from None
    if not isinstance(npz, np.lib.npyio.NpzFile):  # np.load reads a plain .npy too
        raise DatasetError(f"{data_file}: expected an .npz archive of arrays, got a single array")
    with npz:
        arrays = {}
        for name in list(REQUIRED) + ["episode", "frames"] + [n for n in npz.files if n.startswith("info_")]:
            if name not in npz.files:
                raise DatasetError(f"{data_file}: {name}: missing (it holds {', '.join(npz.files)})")
            try:
                arrays[name] = npz[name]
            except ZIP_ERRORS as exc:
                raise DatasetError(f"{data_file}: {name}: damaged: cannot be read ({exc})") from None
            if not isinstance(arrays[name], np.ndarray):  # NpzFile gives a member without the .npy magic as bytes
                raise DatasetError(f"{data_file}: {name}: damaged: expected a .npy array")
    n = len(arrays["actions"]) if arrays["actions"].ndim else 0
    shape = tuple(meta["observation"]["shape"])
    for name, dtype in REQUIRED.items():
        a = arrays[name]
        want = (n,) + (shape if name == "obs" else ())
        if a.dtype != np.dtype(dtype) or a.shape != want:
            raise DatasetError(f"{data_file}: {name}: expected {np.dtype(dtype)} of shape {want}, "
                               f"got {a.dtype} {a.shape}")
    for name, a in arrays.items():
        if name not in REQUIRED and (a.shape != (n,) or a.dtype.kind not in "iuf"):
            raise DatasetError(f"{data_file}: {name}: expected numbers of shape ({n},), got {a.dtype} {a.shape}")
    if n and (arrays["actions"].min() < 0 or arrays["actions"].max() >= len(meta["combos"])):
        raise DatasetError(f"{data_file}: actions: expected values in 0..{len(meta['combos']) - 1}")
    return Dataset(
        obs=arrays["obs"], actions=arrays["actions"], rewards=arrays["rewards"],
        terminations=arrays["terminations"], truncations=arrays["truncations"],
        episode_starts=arrays["episode_starts"], episode=arrays["episode"], frames=arrays["frames"],
        infos={k[5:]: v for k, v in arrays.items() if k.startswith("info_")}, meta=meta, path=path,
    )


def _whole(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


_COUNTS = ("steps", "episodes", "frames", "frames_used", "frames_dropped", "unmatched_frames", "mixed_steps")
_MOVIE_KEYS = {"path": str, "steps": int, "unmatched_frames": int, "mixed_steps": int, "terminated": bool}


def _check_meta(meta, meta_file: Path) -> None:
    """``meta.json``'s fields: those loading needs (``game``, ``combos``, ``observation``,
    ``config``) must be there; those :func:`summary` and ``emurl dataset info`` show
    (``action_set``, ``frame_skip``, ``counts``, ``movies``) may be missing, but if there
    they are of the type :func:`~emurl.imitation.record.record_dataset` writes.

    Raises:
        DatasetError: naming the file, the field and what was expected.
    """
    def bad(key: str, expected: str):
        raise DatasetError(f"{meta_file}: {key}: expected {expected}")

    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        bad("format", repr(FORMAT))
    version = meta.get("format_version", 0)
    if not _whole(version):
        bad("format_version", f"a whole number, got {version!r}")
    if version > FORMAT_VERSION:
        raise DatasetError(f"{meta_file}: format_version {version} is newer than this emurl reads")
    for key in ("game", "combos", "observation", "config"):
        if key not in meta:
            raise DatasetError(f"{meta_file}: {key}: missing")
    if not isinstance(meta["game"], str):
        bad("game", f"a game name, got {meta['game']!r}")
    combos = meta["combos"]
    if not (isinstance(combos, list) and combos and all(isinstance(c, list) and all(isinstance(b, str) for b in c)
                                                         for c in combos)):
        bad("combos", "a list of button combos (lists of button names)")
    obs = meta["observation"]
    if not (isinstance(obs, dict) and isinstance(obs.get("shape"), list) and all(_whole(d) for d in obs["shape"])
            and isinstance(obs.get("dtype", ""), str)):
        bad("observation", '{"shape": [whole numbers], "dtype": NAME}')
    if not isinstance(meta["config"], dict):
        bad("config", "an object of env settings")
    if not isinstance(meta.get("action_set", ""), str):
        bad("action_set", f"an action set's name, got {meta['action_set']!r}")
    if not (_whole(meta.get("frame_skip", 1)) and meta.get("frame_skip", 1) >= 1):
        bad("frame_skip", f"a whole number >= 1, got {meta['frame_skip']!r}")
    counts = meta.get("counts", {})
    if not isinstance(counts, dict):
        bad("counts", "an object")
    for key in _COUNTS:
        if not _whole(counts.get(key, 0)):
            bad(f"counts.{key}", f"a whole number, got {counts[key]!r}")
    hist = counts.get("action_histogram", [0] * len(combos))
    if not (isinstance(hist, list) and len(hist) == len(combos) and all(_whole(h) for h in hist)):
        bad("counts.action_histogram", f"a list of {len(combos)} whole numbers, one per combo")
    movies = meta.get("movies", [])
    if not (isinstance(movies, list) and all(isinstance(m, dict) for m in movies)):
        bad("movies", "a list of objects, one per source movie")
    for i, m in enumerate(movies):
        for key, t in _MOVIE_KEYS.items():
            if key in m and not (isinstance(m[key], t) and (t is bool or not isinstance(m[key], bool))):
                bad(f"movies[{i}].{key}", f"a {t.__name__}, got {m[key]!r}")


def summary(meta: dict) -> str:
    """A few lines on a dataset's contents and match counts (what the CLI prints); a count
    a minimal ``meta.json`` lacks shows as ``?``."""
    c = collections.defaultdict(lambda: "?", meta.get("counts") or {})
    skip = meta.get("frame_skip", "?")
    obs = meta["observation"]
    lines = [
        f"{meta['game']}: {c['steps']} steps in {c['episodes']} episode(s) from {len(meta.get('movies', []))} movie(s), "
        f"action set {meta.get('action_set', '?')!r} ({len(meta['combos'])} actions), frame skip {skip}, "
        f"observations {tuple(obs['shape'])} {obs.get('dtype', '?')}",
        f"frames: {c['frames']} in movies, {c['frames_used']} replayed, {c['frames_dropped']} dropped "
        f"(past the end of an episode or the last whole step)",
    ]
    if isinstance(c["unmatched_frames"], int) and isinstance(c["steps"], int) and isinstance(skip, int):
        share = f"{100 * c['unmatched_frames'] / max(1, c['steps'] * skip):.1f}%"
    else:
        share = "?"
    lines.append(f"unmatched frames (buttons equal to no combo, mapped to the nearest): {c['unmatched_frames']} "
                 f"({share} of the steps' frames); mixed steps: {c['mixed_steps']}")
    top = sorted(enumerate(c.get("action_histogram") or []), key=lambda t: -t[1])[:5]
    lines.append("most frequent actions: " + ", ".join(
        f"{'+'.join(meta['combos'][a]) or 'none'} {n}" for a, n in top if n))
    return "\n".join(lines)


__all__ = ["COLUMNS", "FORMAT", "FORMAT_VERSION", "Dataset", "DatasetError", "load_dataset", "summary"]
