"""Datasets for imitation: input movies replayed through an env pipeline, as (observation, action) steps.

:func:`record_dataset` replays movies (``.emv``, ``.bk2``, ``.dsm``) in parallel worker
processes, one emulator each, through the env a training run would see
(:func:`emurl.make` with the game's preset config: frame skip, max-pool, crop, 84×84
gray, 4-frame stack) and writes, atomically (a temporary folder, then a rename)::

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
    DIR/meta.json  game, action set and its combos, env settings, source movies,
                   counts (steps, frames, unmatched frames, ...)

NPZ rather than Minari: Minari keeps datasets under its own root by dataset id (not at
an arbitrary ``--out DIR``), has no place for the action set's combos or the per-movie
match counts, and would add h5py, pydantic and typer for what two files hold.

Frame alignment. A movie's ``buttons[i]`` is held during frame ``i`` after its start
state is loaded (:mod:`emurl.movies.movie`). The env's ``reset()`` loads the start state
and runs one frame, and each step runs ``frame_skip`` frames. So frame 0 is the reset
frame, and agent step ``k`` covers movie frames ``1 + k*skip`` to ``(k + 1)*skip``;
leftover frames at the end (fewer than ``skip``) are dropped. The movie drives the
emulator itself (:class:`MovieInput`): every frame, the reset frame included, runs with
the buttons the movie holds on it, so the dataset's observations are made from exactly
the screens :func:`emurl.movies.replay.replay` yields (observation ``k`` ends on
replay's frame ``k*skip``), even where a step's frames press different buttons.

Labels. Each step's action is the combo of the chosen action set (a ``Discrete`` one:
``"discrete"`` or a named set of the integration) nearest to the buttons held on at
least half of the step's frames: most buttons in common, ties to the combo with fewer
extra buttons, then the lower index. A frame whose buttons equal no combo is an
*unmatched frame*; a step whose frames don't all press its label's buttons is a *mixed
step*. Both are counted per movie and in total in ``meta.json`` and printed.
"""

from __future__ import annotations

import json
import os
import queue as queue_mod
import shutil
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, NamedTuple, Sequence

import numpy as np

from emurl.errors import EmurlError
from emurl.movies.replay import MovieInput

FORMAT = "emurl-dataset"
FORMAT_VERSION = 1
PIPELINES = ("atari", "none")
ENV_FIELDS = ("game", "scenario", "obs_type", "action_set", "frame_skip", "max_pool", "backend", "screens",
              "screen_size", "frame_stack", "crop")
"""The :class:`~emurl.train.config.TrainConfig` fields that define a dataset's env (kept in meta.json)."""


class DatasetError(EmurlError, ValueError):
    """A dataset or one of its source movies is missing or malformed (names the file and what was expected)."""


# -- labels ----------------------------------------------------------------------------------
def nearest_combos(rows: np.ndarray, table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The action whose combo is nearest to each row of held buttons.

    Args:
        rows: uint8 (F, B), 1 = held, one row per frame, columns in the emulator's button order.
        table: uint8 (A, B), the buttons each action presses.

    Returns:
        ``(actions, exact)``: int64 (F,) nearest actions (most buttons in common, ties to
        fewer extra buttons, then the lower action), and bool (F,) True where the row
        equals its action's combo.
    """
    rows = np.asarray(rows, np.int64).reshape(-1, table.shape[1])
    t = np.asarray(table, np.int64)
    shared = rows @ t.T
    extra = t.sum(1)[None, :] - shared
    best = np.argmax(shared * (t.shape[1] + 1) - extra, axis=1)
    exact = (t[best] == rows).all(1)
    return best.astype(np.int64), exact


def step_action(rows: np.ndarray, table: np.ndarray) -> tuple[int, int, bool]:
    """The label of one agent step from its frames' buttons.

    Args:
        rows: uint8 (frame_skip, B), the buttons held on each frame of the step.
        table: uint8 (A, B), the action set's combos.

    Returns:
        ``(action, unmatched_frames, mixed)``: the combo nearest to the buttons held on at
        least half of the frames; how many frames equal no combo; whether some frame
        presses other buttons than the action's.
    """
    rows = np.asarray(rows, np.uint8)
    majority = (rows.sum(0).astype(np.int64) * 2 >= len(rows)).astype(np.uint8)
    action, _ = nearest_combos(majority[None], table)
    _, exact = nearest_combos(rows, table)
    a = int(action[0])
    mixed = bool((rows != table[a][None, :]).any())
    return a, int((~exact).sum()), mixed


def action_table(env) -> np.ndarray:
    """uint8 (A, B): the buttons each action of ``env``'s ``Discrete`` action space presses.

    Raises:
        DatasetError: the action space is not ``Discrete`` (datasets label steps with one
            combo: use ``"discrete"`` or a named action set).
    """
    import gymnasium as gym

    base = env.unwrapped
    space = getattr(base, "button_space", base.action_space)
    if not isinstance(space, gym.spaces.Discrete):
        raise DatasetError(
            f"{base.game}: action set {base.action_set!r} gives {space}; a dataset needs a Discrete one "
            f"('discrete' or a named action set: {', '.join(base.integration.action_sets) or 'none'})"
        )
    return np.stack([np.asarray(base.buttons_for(a), np.uint8) for a in range(int(space.n))])


# -- driving the emulator from a movie ------------------------------------------------------------
class Step(NamedTuple):
    """One agent step of a movie replayed through an env (see :func:`movie_steps`)."""

    obs: np.ndarray
    """the observation before the step (the pipeline's, e.g. uint8 (4, 84, 84))"""
    action: int
    """the label: index of the nearest combo"""
    reward: float
    """the env's reward for the step (raw scenario reward when built by :func:`make_movie_env`)"""
    terminated: bool
    truncated: bool
    """True on the last step of the movie when the scenario did not end it"""
    info: dict
    """the scenario's variables after the step"""
    frame: int
    """movie frame on which the step starts"""
    unmatched_frames: int
    mixed: bool


def env_config(game: str, config=None, overrides: dict | None = None):
    """The :class:`~emurl.train.config.TrainConfig` whose env fields a dataset uses: the
    game's preset ← ``config`` (a YAML path or a TrainConfig) ← ``overrides`` (None values
    are skipped).

    Raises:
        ConfigError: an unknown setting or a bad value (names the file or "dataset settings").
    """
    from emurl.train.config import TrainConfig, apply, build_config

    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    if isinstance(config, TrainConfig):
        return apply(config, overrides, "dataset settings")
    return build_config(game, config, overrides)


def make_movie_env(movie, cfg, pipeline: str = "atari", backend: str | None = None, game_path=None):
    """The env that replays ``movie``: :func:`emurl.make` with ``cfg``'s env settings,
    ``state`` = the movie's (named) start state, no no-ops, no time limit, raw rewards,
    and a :class:`MovieInput` as its emulator.

    Args:
        movie: a :class:`~emurl.movies.Movie` with ``game`` set.
        cfg: a :class:`~emurl.train.config.TrainConfig` (see :func:`env_config`).
        pipeline: ``"atari"`` (cfg's screen size, frame stack, crop) or ``"none"`` (the
            EmulatorEnv's own observations).
        backend: emulator backend (default: the movie's, else cfg's, else the system's).

    Raises:
        DatasetError: the movie names no game, or an unknown pipeline.
    """
    import emurl
    from emurl.emulators import BACKENDS
    from emurl.movies.replay import start_state_bytes

    if not movie.game:
        raise DatasetError("the movie names no game integration (emurl needs one to build its env)")
    if pipeline not in PIPELINES:
        raise DatasetError(f"pipeline must be one of {', '.join(PIPELINES)}, got {pipeline!r}")
    backend = backend or (movie.backend if movie.backend in BACKENDS else None) or cfg.backend
    game_path = game_path or cfg.game_path
    atari = pipeline == "atari"
    env = emurl.make(
        movie.game,
        state=movie.start_state if isinstance(movie.start_state, str) else None,
        scenario=cfg.scenario,
        obs_type=cfg.obs_type,
        action_set=cfg.action_set,
        frame_skip=cfg.frame_skip,
        max_pool=cfg.max_pool,
        noop_max=0,
        game_path=game_path,
        pipeline="atari" if atari else None,
        pipeline_kwargs=dict(screen_size=cfg.screen_size, frame_stack=cfg.frame_stack, clip_reward=False,
                             crop=tuple(cfg.crop) if cfg.crop else None) if atari else None,
        **({"backend": backend} if backend else {}),
        **({"screens": cfg.screens} if cfg.screens else {}),
    )
    try:
        base = env.unwrapped
        start = start_state_bytes(movie, base.emulator.backend, game_path)
        base.emulator = MovieInput(base.emulator, movie, start)
    except BaseException:
        env.close()
        raise
    return env


def movie_steps(env, movie) -> Iterator[Step]:
    """Replay ``movie`` through ``env`` (made by :func:`make_movie_env`), one :class:`Step`
    per agent step, until the movie's frames run out or the scenario ends the episode.

    ``(movie.frames - 1) // frame_skip`` steps at most (see the module doc on alignment).

    Raises:
        DatasetError: ``env``'s emulator is not a :class:`MovieInput`, or its action set is
            not ``Discrete``.
    """
    base = env.unwrapped
    drive = base.emulator
    if not isinstance(drive, MovieInput):
        raise DatasetError("movie_steps needs an env made by make_movie_env (its emulator follows the movie)")
    table = action_table(env)
    skip = base.frame_skip
    n = max(0, (movie.frames - 1) // skip)
    obs, _ = env.reset()
    for k in range(n):
        f0 = 1 + k * skip
        action, unmatched, mixed = step_action(drive.pads[f0:f0 + skip, 0], table)
        nxt, reward, terminated, truncated, info = env.step(action)
        last = k == n - 1
        yield Step(obs, action, float(reward), bool(terminated), bool(truncated or (last and not terminated)),
                   info, f0, unmatched, mixed)
        if terminated or truncated:
            break
        obs = nxt


def rollout_movie(env, policy, max_steps: int, *, seed: int | None = None) -> tuple[object, float]:
    """Run ``policy`` for one episode in ``env`` and return the movie of its inputs.

    This turns a scripted or trained agent's rollout into demonstrations: the movie
    starts from the env's start state, holds nothing on the reset frame (as ``reset()``
    does) and then each action's buttons for ``frame_skip`` frames, so that
    :func:`record_dataset` gives back the same observations and actions.

    Args:
        env: an :class:`~emurl.envs.EmulatorEnv`, possibly wrapped, with ``noop_max=0``
            and a ``Discrete`` action set; its own observations go to ``policy``.
        policy: ``policy(observation, info) → action`` (an int).
        max_steps: agent steps at most; the episode also ends when the scenario ends it.
        seed: passed to ``env.reset``.

    Returns:
        ``(movie, episode_return)``: a :class:`~emurl.movies.Movie` with the game, ROM
        SHA-1, backend and start state (by name when the env has one, else its bytes),
        and the sum of the env's rewards.

    Raises:
        DatasetError: the env adds no-op frames at reset (the movie could not say how many).
    """
    from emurl.games.integration import sha1_of_rom
    from emurl.movies import Movie

    base = env.unwrapped
    if base.noop_max:
        raise DatasetError("rollout_movie needs an env with noop_max=0 (random no-op frames at reset are not recorded)")
    skip = base.frame_skip
    obs, info = env.reset(seed=seed)
    rows = [np.zeros(len(base.buttons), np.uint8)]
    total = 0.0
    for _ in range(int(max_steps)):
        action = policy(obs, info)
        rows += [np.asarray(base.buttons_for(action), np.uint8)] * skip
        obs, reward, terminated, truncated, info = env.step(action)
        total += float(reward)
        if terminated or truncated:
            break
    emu = base.emulator
    movie = Movie(
        game=base.game, system=base.integration.system, button_names=[b or "" for b in base.buttons],
        buttons=np.stack(rows)[:, None, :], rom_sha1=sha1_of_rom(base.integration.require_rom()),
        backend=emu.backend, core=getattr(emu, "core", None),
        start_state=base.state_name if base.state_name else None, frame_rate=float(emu.frame_rate),
        metadata={"recorded_by": "emurl.imitation.datasets.rollout_movie", "return": total},
    )
    return movie, total


# -- recording, in worker processes ----------------------------------------------------------
_progress = None


def _init_worker(progress_queue) -> None:
    global _progress
    _progress = progress_queue
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    os.environ["OMP_NUM_THREADS"] = "1"


def _is_number(v) -> bool:
    return isinstance(v, (int, float, bool, np.integer, np.floating, np.bool_))


def _record_movie(task: dict) -> dict:
    """Worker: replay one movie and write its steps to ``task["shard"]`` (an .npz).

    Errors become DatasetErrors that begin with the movie's path."""
    path = task["path"]
    try:
        return _record_movie_steps(task)
    except (EmurlError, OSError, ValueError) as exc:
        msg = str(exc)
        raise DatasetError(msg if msg.startswith(path) else f"{path}: {msg}") from None


def _record_movie_steps(task: dict) -> dict:
    from emurl.movies import load_movie

    path = task["path"]
    movie = load_movie(path)
    env = make_movie_env(movie, task["cfg"], task["pipeline"], task["backend"], task["game_path"])
    try:
        base = env.unwrapped
        table = action_table(env)
        skip = base.frame_skip
        n = max(0, (movie.frames - 1) // skip)
        obs = np.empty((n,) + env.observation_space.shape, env.observation_space.dtype)
        actions = np.empty(n, np.int64)
        rewards = np.empty(n, np.float32)
        term = np.zeros(n, bool)
        trunc = np.zeros(n, bool)
        frames = np.empty(n, np.int64)
        info_keys: list[str] | None = None
        infos: dict[str, np.ndarray] = {}
        unmatched = mixed = 0
        count = 0
        reported = 0
        try:
            for s in movie_steps(env, movie):
                i = count
                obs[i] = s.obs
                actions[i], rewards[i], frames[i] = s.action, s.reward, s.frame
                term[i], trunc[i] = s.terminated, s.truncated
                if info_keys is None:
                    info_keys = [k for k, v in s.info.items() if _is_number(v)]
                    infos = {k: np.zeros(n, np.float64) for k in info_keys}
                for k in info_keys:
                    infos[k][i] = float(s.info.get(k, np.nan))
                unmatched += s.unmatched_frames
                mixed += s.mixed
                count += 1
                if _progress is not None and count - reported >= 64:
                    _progress.put(count - reported)
                    reported = count
        except (EmurlError, ValueError) as exc:
            raise DatasetError(f"{path}: frame {base.emulator.frame}: {exc}") from None
        if _progress is not None and count > reported:
            _progress.put(count - reported)
        used = base.emulator.frame
        reset_pressed = bool(movie.frames and base.emulator.pads[0].any())
        arrays = dict(obs=obs[:count], actions=actions[:count], rewards=rewards[:count], terminations=term[:count],
                      truncations=trunc[:count], frames=frames[:count],
                      **{f"info_{k}": v[:count] for k, v in infos.items()})
        np.savez(task["shard"], **arrays)
        start = movie.start_state
        return {
            "index": task["index"],
            "path": str(path),
            "sha1": movie.sha1(),
            "start_state": start if isinstance(start, str) else ("embedded" if start else None),
            "backend": base.emulator.backend,
            "frames": movie.frames,
            "steps": count,
            "frames_used": int(used),
            "frames_dropped": int(movie.frames - used),
            "unmatched_frames": int(unmatched),
            "mixed_steps": int(mixed),
            "reset_frame_pressed": reset_pressed,
            "terminated": bool(count and term[count - 1]),
            "info_keys": info_keys or [],
            "obs_shape": list(env.observation_space.shape),
            "obs_dtype": str(env.observation_space.dtype),
            "action_set": base.action_set,
            "combos": [[b for b, p in zip(base.buttons, row) if p and b] for row in table],
            "buttons": [b or "" for b in base.buttons],
        }
    finally:
        env.close()


def _npy_header(f, dtype: np.dtype, shape: tuple) -> None:
    np.lib.format.write_array_header_2_0(f, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                                             "fortran_order": False, "shape": tuple(int(s) for s in shape)})


def _merge(shards: list[Path], results: list[dict], out_file: Path, compress: bool) -> dict[str, int]:
    """Concatenate the shards into one .npz, streaming each array (never all of obs in memory)."""
    total = sum(r["steps"] for r in results)
    keys = [k for k in results[0]["info_keys"]]
    for r in results[1:]:
        keys = [k for k in keys if k in r["info_keys"]]
    mode = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    columns = [("obs", None), ("actions", np.int64), ("rewards", np.float32), ("terminations", bool),
               ("truncations", bool), ("episode_starts", bool), ("episode", np.int32), ("frames", np.int64)]
    columns += [(f"info_{k}", np.float64) for k in keys]
    obs_shape = tuple(results[0]["obs_shape"])
    obs_dtype = np.dtype(results[0]["obs_dtype"])
    with zipfile.ZipFile(out_file, "w", mode, allowZip64=True, compresslevel=1 if compress else None) as z:
        for name, dtype in columns:
            shape = (total,) + (obs_shape if name == "obs" else ())
            dt = obs_dtype if name == "obs" else np.dtype(dtype)
            with z.open(f"{name}.npy", "w", force_zip64=True) as f:
                _npy_header(f, dt, shape)
                for ep, (shard, r) in enumerate(zip(shards, results)):
                    if r["steps"] == 0:
                        continue
                    if name == "episode_starts":
                        a = np.zeros(r["steps"], bool)
                        a[0] = True
                    elif name == "episode":
                        a = np.full(r["steps"], ep, np.int32)
                    else:
                        with np.load(shard) as d:
                            a = d[name]
                    f.write(np.ascontiguousarray(a, dt).tobytes())
    return {"steps": total}


def _expand(paths: Sequence[str | os.PathLike]) -> list[Path]:
    from emurl.movies import EXTENSIONS

    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.suffix.lower() in EXTENSIONS)
            if not found:
                raise DatasetError(f"{p}: no movie files ({', '.join(EXTENSIONS)}) in this folder")
            out += found
        elif not p.exists():
            raise DatasetError(f"{p}: no such movie file")
        else:
            out.append(p)
    return out


def _context():
    import multiprocessing as mp

    methods = mp.get_all_start_methods()
    return mp.get_context("forkserver" if "forkserver" in methods else "spawn")


def _run_workers(tasks: list[dict], results: list, num_proc: int, ctx, progress_queue, bar) -> None:
    """Run :func:`_record_movie` on every task in ``num_proc`` processes, updating ``bar``.

    A worker that dies (an emulator crash) is reported as a DatasetError, not a hang."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    def drain():
        while True:
            try:
                bar.update(progress_queue.get_nowait())
            except queue_mod.Empty:
                return

    ex = ProcessPoolExecutor(max_workers=min(num_proc, len(tasks)), mp_context=ctx,
                             initializer=_init_worker, initargs=(progress_queue,))
    futures = {ex.submit(_record_movie, t): t for t in tasks}
    remaining = set(futures)
    try:
        while remaining:
            done, remaining = wait(remaining, timeout=0.2, return_when=FIRST_COMPLETED)
            drain()
            for fut in done:
                try:
                    r = fut.result()
                except BrokenProcessPool:
                    raise DatasetError(f"{futures[fut]['path']}: the worker process replaying it died "
                                       "(the emulator crashed?)") from None
                results[r["index"]] = r
        drain()
    finally:
        ex.shutdown(wait=True, cancel_futures=True)


def record_dataset(
    movies: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    num_proc: int = 1,
    action_set: str | None = None,
    frame_skip: int | None = None,
    pipeline: str = "atari",
    backend: str | None = None,
    config=None,
    game_path=None,
    progress: bool = True,
    compress: bool = True,
) -> dict:
    """Replay ``movies`` through an env and write a dataset folder ``out`` (see the module doc).

    Args:
        movies: movie files (``.emv``, ``.bk2``, ``.dsm``) or folders of them, all of one game.
        out: the dataset folder to create; it must not exist (nothing is overwritten).
            Written to ``.<name>.tmp-<pid>`` beside it, then renamed.
        num_proc: worker processes (each runs one emulator; forkserver, else spawn).
        action_set: ``"discrete"`` or a named action set of the integration (default:
            the config's, else the scenario's, else ``"discrete"``). Must be ``Discrete``.
        frame_skip: emulator frames per agent step (default: the config's, 4).
        pipeline: ``"atari"``: observations uint8 (frame_stack, screen_size, screen_size),
            (4, 84, 84) by default, as ``emurl train`` sees them; ``"none"``: the
            EmulatorEnv's (max-pooled) screens, uint8 (H, W, 3).
        backend: emulator backend (default: each movie's, else the system's).
        config: a training config (YAML path or TrainConfig) for the env settings (crop,
            screen size, frame stack, scenario, ...); default: the game's preset.
        game_path: extra integration folders.
        progress: show a tqdm progress bar (agent steps) on stderr.
        compress: deflate ``data.npz`` (Atari frames shrink ~20×; slower to write).

    Returns:
        The ``meta.json`` contents (``counts``: steps, episodes, frames, unmatched frames,
        mixed steps, action histogram).

    Raises:
        DatasetError: no movies, a movie that can't be read (names the file), movies of
            different games, a movie without game, ``out`` exists, a non-Discrete action set.
        MovieError, UnknownGameError, RomNotFoundError: from the movies and the integration.
    """
    from tqdm import tqdm

    from emurl.games import load_integration
    from emurl.movies import load_movie

    out = Path(out)
    if out.exists():
        raise DatasetError(f"{out}: already exists; choose a new dataset folder (nothing is overwritten)")
    if not out.parent.is_dir():
        raise DatasetError(f"{out}: no such folder {out.parent}")
    if pipeline not in PIPELINES:
        raise DatasetError(f"--pipeline {pipeline!r}: expected one of {', '.join(PIPELINES)}")
    if int(num_proc) < 1:
        raise DatasetError(f"--num-proc {num_proc}: expected at least 1")
    paths = _expand(movies)
    if not paths:
        raise DatasetError("no movies given")
    loaded = []
    game = None
    for p in paths:
        m = load_movie(p)  # MovieError names the file
        if not m.game:
            raise DatasetError(f"{p}: the movie names no game integration (a dataset needs one to build its env)")
        if game is None:
            game, first = m.game, p
        elif m.game != game:
            raise DatasetError(f"{p}: movie of {m.game}, but {first} is of {game}; a dataset holds one game")
        if m.frames < 2:
            raise DatasetError(f"{p}: {m.frames} frame(s): too short for one agent step")
        loaded.append(m)
    integ = load_integration(game, game_path)
    integ.require_rom()
    cfg = env_config(game, config, {"action_set": action_set, "frame_skip": frame_skip, "game_path": game_path})
    skip = cfg.frame_skip
    expected = sum(max(0, (m.frames - 1) // skip) for m in loaded)
    starts = {m.start_state for m in loaded if isinstance(m.start_state, str)}
    del loaded

    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    ctx = _context()
    progress_queue = ctx.Queue()
    tasks = [dict(index=i, path=str(p), shard=str(tmp / f"shard_{i:05d}.npz"), cfg=cfg, pipeline=pipeline,
                  backend=backend, game_path=game_path) for i, p in enumerate(paths)]
    results: list[dict | None] = [None] * len(tasks)
    t0 = time.time()
    try:
        with tqdm(total=expected, unit="step", desc=f"recording {len(paths)} movie(s)", disable=not progress) as bar:
            _run_workers(tasks, results, int(num_proc), ctx, progress_queue, bar)
        done = [r for r in results if r is not None]
        first_r = done[0]
        for r in done[1:]:
            if r["obs_shape"] != first_r["obs_shape"] or r["combos"] != first_r["combos"]:
                raise DatasetError(f"{r['path']}: observations {r['obs_shape']} / actions differ from "
                                   f"{first_r['path']}'s ({first_r['obs_shape']}); record them separately")
            if r["backend"] != first_r["backend"]:
                raise DatasetError(f"{r['path']}: replayed on the {r['backend']} backend, {first_r['path']} on "
                                   f"{first_r['backend']}: their screens differ; record them separately")
        if not any(r["steps"] for r in done):
            raise DatasetError("the movies gave no agent steps")
        counts = _merge([Path(t["shard"]) for t in tasks], done, tmp / "data.npz", compress)
        for t in tasks:
            Path(t["shard"]).unlink(missing_ok=True)
        hist = np.zeros(len(first_r["combos"]), np.int64)
        with np.load(tmp / "data.npz") as d:
            np.add.at(hist, d["actions"], 1)
        env_fields = {k: getattr(cfg, k) for k in ENV_FIELDS}
        # the backend the frames came from (a movie's own), so that `emurl bc`'s config trains on it
        env_fields.update(game=integ.name, action_set=first_r["action_set"], backend=first_r["backend"])
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "game": integ.name,
            "system": integ.system,
            "backend": first_r["backend"],
            "action_set": first_r["action_set"],
            "combos": first_r["combos"],
            "buttons": first_r["buttons"],
            "pipeline": pipeline,
            "frame_skip": skip,
            "observation": {"shape": first_r["obs_shape"], "dtype": first_r["obs_dtype"]},
            "config": env_fields,
            "state": next(iter(starts)) if len(starts) == 1 else None,
            "rewards": "raw scenario reward summed over each step's frames (not clipped)",
            "alignment": "frame 0 of each movie is the env's reset frame (run with the movie's buttons); "
                         "step k covers movie frames 1+k*frame_skip .. (k+1)*frame_skip",
            "labels": "nearest combo to the buttons held on at least half of the step's frames",
            "info_keys": [k[5:] for k in _info_columns(tmp / "data.npz")],
            "movies": [{k: v for k, v in r.items() if k not in ("index", "info_keys", "obs_shape", "obs_dtype",
                                                               "combos", "buttons", "action_set")} for r in done],
            "counts": {
                "steps": counts["steps"],
                "episodes": sum(1 for r in done if r["steps"]),
                "frames": sum(r["frames"] for r in done),
                "frames_used": sum(r["frames_used"] for r in done),
                "frames_dropped": sum(r["frames_dropped"] for r in done),
                "unmatched_frames": sum(r["unmatched_frames"] for r in done),
                "mixed_steps": sum(r["mixed_steps"] for r in done),
                "action_histogram": hist.tolist(),
            },
            "seconds": round(time.time() - t0, 2),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        progress_queue.close()
    return meta


def _info_columns(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return [n[:-4] for n in z.namelist() if n.startswith("info_") and n.endswith(".npy")]


# -- reading --------------------------------------------------------------------------------
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
    """Read a dataset folder written by :func:`record_dataset`.

    Raises:
        DatasetError: the folder, ``meta.json`` or ``data.npz`` is missing or malformed, or
            an array has the wrong dtype or length (names the file and the array).
    """
    path = Path(path)
    meta_file, data_file = path / "meta.json", path / "data.npz"
    if not path.is_dir():
        raise DatasetError(f"{path}: no such dataset folder")
    try:
        meta = json.loads(meta_file.read_text())
    except FileNotFoundError:
        raise DatasetError(f"{meta_file}: missing (not a dataset folder made by `emurl dataset record`?)") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{meta_file}: not readable JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise DatasetError(f"{meta_file}: format: expected {FORMAT!r}")
    if int(meta.get("format_version", 0)) > FORMAT_VERSION:
        raise DatasetError(f"{meta_file}: format_version {meta.get('format_version')} is newer than this emurl reads")
    for key in ("game", "combos", "observation", "config"):
        if key not in meta:
            raise DatasetError(f"{meta_file}: {key}: missing")
    try:
        npz = np.load(data_file, allow_pickle=False)
    except FileNotFoundError:
        raise DatasetError(f"{data_file}: missing") from None
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"{data_file}: not a readable .npz ({exc})") from None
    with npz:
        arrays = {}
        for name in list(REQUIRED) + ["episode", "frames"] + [n for n in npz.files if n.startswith("info_")]:
            if name not in npz.files:
                raise DatasetError(f"{data_file}: {name}: missing (it holds {', '.join(npz.files)})")
            try:
                arrays[name] = npz[name]
            except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
                raise DatasetError(f"{data_file}: {name}: cannot be read ({exc})") from None
    n = len(arrays["actions"])
    shape = tuple(meta["observation"]["shape"])
    for name, dtype in REQUIRED.items():
        a = arrays[name]
        want = (n,) + (shape if name == "obs" else ())
        if a.dtype != np.dtype(dtype) or a.shape != want:
            raise DatasetError(f"{data_file}: {name}: expected {np.dtype(dtype)} of shape {want}, "
                               f"got {a.dtype} {a.shape}")
    if n and (arrays["actions"].min() < 0 or arrays["actions"].max() >= len(meta["combos"])):
        raise DatasetError(f"{data_file}: actions: expected values in 0..{len(meta['combos']) - 1}")
    return Dataset(
        obs=arrays["obs"], actions=arrays["actions"], rewards=arrays["rewards"],
        terminations=arrays["terminations"], truncations=arrays["truncations"],
        episode_starts=arrays["episode_starts"], episode=arrays["episode"], frames=arrays["frames"],
        infos={k[5:]: v for k, v in arrays.items() if k.startswith("info_")}, meta=meta, path=path,
    )


def summary(meta: dict) -> str:
    """A few lines on a dataset's contents and match counts (what the CLI prints)."""
    c = meta["counts"]
    frames_in_steps = max(1, c["steps"] * meta["frame_skip"])
    lines = [
        f"{meta['game']}: {c['steps']} steps in {c['episodes']} episode(s) from {len(meta['movies'])} movie(s), "
        f"action set {meta['action_set']!r} ({len(meta['combos'])} actions), frame skip {meta['frame_skip']}, "
        f"observations {tuple(meta['observation']['shape'])} {meta['observation']['dtype']}",
        f"frames: {c['frames']} in movies, {c['frames_used']} replayed, {c['frames_dropped']} dropped "
        f"(past the end of an episode or the last whole step)",
        f"unmatched frames (buttons equal to no combo, mapped to the nearest): {c['unmatched_frames']} "
        f"({100 * c['unmatched_frames'] / frames_in_steps:.1f}% of the steps' frames); "
        f"mixed steps: {c['mixed_steps']}",
    ]
    top = sorted(enumerate(c["action_histogram"]), key=lambda t: -t[1])[:5]
    lines.append("most frequent actions: " + ", ".join(
        f"{'+'.join(meta['combos'][a]) or 'none'} {n}" for a, n in top if n))
    return "\n".join(lines)


__all__ = [
    "Dataset", "DatasetError", "MovieInput", "Step", "action_table", "env_config", "load_dataset",
    "make_movie_env", "movie_steps", "nearest_combos", "record_dataset", "rollout_movie", "step_action", "summary",
]
