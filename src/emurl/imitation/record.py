"""Recording a dataset: movies replayed in worker processes, one emulator each, merged into one folder.

:func:`record_dataset` replays movies (``.emv``, ``.bk2``, ``.dsm``) through the env a
training run would see (:func:`~emurl.imitation.movie_env.make_movie_env` with the
game's preset: frame skip, max-pool, crop, 84×84 gray, 4-frame stack), labels each step
(:mod:`emurl.imitation.labels`; unmatched frames and mixed steps are counted per movie
and in total, and printed), and writes the folder :mod:`emurl.imitation.datasets`
describes. Each worker writes one shard (an .npz) per movie; the parent streams them
into one ``data.npz`` (never all observations in memory).
"""

from __future__ import annotations

import json
import os
import queue as queue_mod
import shutil
import time
import zipfile
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Sequence

import numpy as np
from tqdm import tqdm

from emurl.envs import EnvSpec
from emurl.envs.settings import env_settings, spec_from_dict
from emurl.errors import EmurlError
from emurl.games import load_integration
from emurl.imitation.datasets import COLUMNS, FORMAT, FORMAT_VERSION, DatasetError
from emurl.imitation.labels import action_table
from emurl.imitation.movie_env import PIPELINES, make_movie_env, movie_env_spec, movie_steps
from emurl.movies import EXTENSIONS, load_movie
from emurl.emulators.process import mp_context, setup_worker_process


def dataset_spec(game: str, config: str | os.PathLike | EnvSpec | None = None,
                 overrides: dict | None = None) -> EnvSpec:
    """The env settings a dataset of ``game`` is recorded with: the game's preset ←
    ``config`` (a YAML path: its env settings; or an :class:`~emurl.envs.EnvSpec`, used
    instead of the preset) ← ``overrides`` (None values are skipped).

    Raises:
        ConfigError: an unknown setting or a bad value (names the file or "dataset settings").
    """
    if isinstance(config, EnvSpec):
        overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        return spec_from_dict(overrides, "dataset settings", base=config.replace(game=game))
    return env_settings(game, config, overrides)


# -- in the worker processes ------------------------------------------------------------------
_progress = None  # the worker's queue of step counts for the parent's progress bar


def _init_worker(progress_queue) -> None:
    global _progress
    _progress = progress_queue
    setup_worker_process()


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
    path = task["path"]
    movie = load_movie(path)
    env = make_movie_env(movie, task["spec"], task["pipeline"], task["backend"], task["game_path"])
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
    columns = list(COLUMNS) + [(f"info_{k}", np.float64) for k in keys]
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


def _run_workers(tasks: list[dict], results: list, num_proc: int, ctx, progress_queue, bar) -> None:
    """Run :func:`_record_movie` on every task in ``num_proc`` processes, updating ``bar``.

    A worker that dies (an emulator crash) is reported as a DatasetError, not a hang."""

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
    config: str | os.PathLike | EnvSpec | None = None,
    game_path=None,
    progress: bool = True,
    compress: bool = True,
) -> dict:
    """Replay ``movies`` through an env and write a dataset folder ``out`` (see the module doc).

    Args:
        movies: movie files (``.emv``, ``.bk2``, ``.dsm``) or folders of them, all of one game.
        out: the dataset folder to create; it must not exist (nothing is overwritten).
            Written to ``.<name>.tmp-<pid>`` beside it, then renamed.
        num_proc: worker processes (each runs one emulator; :func:`emurl.emulators.process.mp_context`).
        action_set: ``"discrete"`` or a named action set of the integration (default:
            the config's, else the scenario's, else ``"discrete"``). Must be ``Discrete``.
        frame_skip: emulator frames per agent step (default: the config's, 4).
        pipeline: ``"atari"``: observations uint8 (frame_stack, screen_size, screen_size),
            (4, 84, 84) by default, as ``emurl train`` sees them; ``"none"``: the
            EmulatorEnv's (max-pooled) screens, uint8 (H, W, 3).
        backend: emulator backend (default: each movie's, else the system's).
        config: the env settings (crop, screen size, frame stack, scenario, ...): a
            config YAML path (its env settings over the game's preset) or an
            :class:`~emurl.envs.EnvSpec`; default: the game's preset.
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
    spec = dataset_spec(game, config, {"action_set": action_set, "frame_skip": frame_skip, "game_path": game_path})
    skip = spec.frame_skip
    expected = sum(max(0, (m.frames - 1) // skip) for m in loaded)
    starts = {m.start_state for m in loaded if isinstance(m.start_state, str)}
    first_movie = loaded[0]
    del loaded

    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    ctx = mp_context()
    progress_queue = ctx.Queue()
    tasks = [dict(index=i, path=str(p), shard=str(tmp / f"shard_{i:05d}.npz"), spec=spec, pipeline=pipeline,
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
        state = next(iter(starts)) if len(starts) == 1 else None
        # the env the steps came through; its backend is the one the frames came from (a
        # movie's own), so that `emurl bc`'s config trains on it
        recorded = movie_env_spec(first_movie, spec, pipeline, first_r["backend"], game_path)
        recorded = recorded.replace(game=integ.name, action_set=first_r["action_set"],
                                    state=state or spec.state)
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
            "config": recorded.to_dict(),
            "state": state,
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


__all__ = ["dataset_spec", "record_dataset"]
