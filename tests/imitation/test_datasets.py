"""Datasets from input movies: recorded in worker processes on real emulators (Breakout from
ale-py's ROM), loaded back, aligned frame for frame with emurl.movies.replay, labelled with
the nearest combo, and bad input named."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

import emurl
from emurl.envs import EnvSpec
from emurl.envs.settings import env_settings
from emurl.games import load_integration
from emurl.imitation import (
    DatasetError,
    load_dataset,
    make_movie_env,
    movie_steps,
    nearest_combos,
    record_dataset,
    rollout_movie,
    step_action,
)
from emurl.movies import Movie, MovieError
from emurl.movies.replay import replay
from emurl.wrappers import GrayResizeObservation

GAME = "Breakout-Atari2600"
NOOP, FIRE, LEFT, RIGHT = 0, 1, 6, 12  # Breakout's "discrete" action set (18 combos)
# the movies are played on "discrete"; datasets take the preset's action set, ALE's minimal one
MINIMAL = {NOOP: 0, FIRE: 1, RIGHT: 2, LEFT: 3}


def as_minimal(seq):
    return [MINIMAL[a] for a in seq]


def scripted(actions):
    it = iter(actions)
    return lambda obs, info: next(it)


@pytest.fixture(scope="module")
def movies(atari_roms, tmp_path_factory):
    """Two movies from fixed action sequences, made by rollout_movie on the real env, and a
    third with odd inputs: buttons on the reset frame, SELECT (in no combo), and a step whose
    frames press different buttons."""
    d = tmp_path_factory.mktemp("movies")
    rng = np.random.default_rng(0)
    seqs = [[FIRE] * 3 + [int(a) for a in rng.choice([NOOP, LEFT, RIGHT], 60)],
            [FIRE] * 2 + [RIGHT] * 30 + [LEFT] * 30 + [NOOP] * 7]
    env = emurl.make(GAME, obs_type="ram", frame_skip=4)
    try:
        paths = []
        for i, seq in enumerate(seqs):
            movie, _ = rollout_movie(env, scripted(seq), len(seq))
            assert movie.frames == 1 + 4 * len(seq) and not movie.buttons[0].any()
            paths.append(d / f"m{i}.emv")
            movie.save(paths[-1])
        odd, _ = rollout_movie(env, scripted(seqs[1]), len(seqs[1]))
    finally:
        env.close()
    b = odd.buttons
    names = odd.button_names
    b[0, 0, names.index("RIGHT")] = 1                 # reset frame: RIGHT held
    b[9:11, 0, names.index("SELECT")] = 1             # step 2, frames 9-10: SELECT too (in no combo)
    b[13, 0, names.index("RIGHT")] = 0                # step 3: RIGHT on 3 of 4 frames → still RIGHT, mixed
    b[17:19, 0, :] = 0                                # step 4: RIGHT on 2 of 4 frames → RIGHT (ties go to held)
    odd.save(d / "odd.emv")
    return {"paths": paths, "seqs": seqs, "odd": d / "odd.emv"}


def test_dataset_from_movies_with_two_processes_loads_back(movies, tmp_path):
    out = tmp_path / "ds"
    meta = record_dataset(movies["paths"] + [movies["odd"]], out, num_proc=2, progress=False)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # temp folder renamed away
    ds = load_dataset(out)
    seqs = movies["seqs"]
    n = sum(len(s) for s in seqs) + len(seqs[1])
    assert len(ds) == n == meta["counts"]["steps"]
    assert ds.obs.shape == (n, 4, 84, 84) and ds.obs.dtype == np.uint8
    assert ds.actions.dtype == np.int64 and ds.rewards.dtype == np.float32
    for a in (ds.terminations, ds.truncations, ds.episode_starts):
        assert a.dtype == np.bool_ and a.shape == (n,)
    assert ds.episode_starts.nonzero()[0].tolist() == [0, len(seqs[0]), len(seqs[0]) + len(seqs[1])]
    assert ds.truncations.sum() == 3 and not ds.terminations.any()
    assert set(ds.infos) == {"score", "lives"} and ds.infos["lives"].dtype == np.float64

    # the actions are what the movies pressed
    first, second = ds.episodes()[:2]
    assert ds.actions[first].tolist() == as_minimal(seqs[0])
    assert ds.actions[second].tolist() == as_minimal(seqs[1])
    assert ds.frames[first][:3].tolist() == [1, 5, 9]
    combos = meta["combos"]
    assert combos == [[], ["BUTTON"], ["RIGHT"], ["LEFT"]]
    assert meta["action_set"] == "minimal" and meta["frame_skip"] == 4 and meta["pipeline"] == "atari"

    # the odd movie: SELECT frames are unmatched (mapped to RIGHT), step 3 and 4 are mixed
    odd = ds.episodes()[2]
    assert ds.actions[odd].tolist() == as_minimal(seqs[1])
    m = meta["movies"][2]
    assert m["unmatched_frames"] == 2 and m["mixed_steps"] == 3 and m["reset_frame_pressed"]
    assert meta["counts"]["unmatched_frames"] == 2 and meta["counts"]["mixed_steps"] == 3
    assert meta["movies"][0]["unmatched_frames"] == 0 and meta["movies"][0]["mixed_steps"] == 0
    assert sum(meta["counts"]["action_histogram"]) == n
    assert json.loads((out / "meta.json").read_text())["game"] == GAME

    # meta["config"] is the EnvSpec the steps were recorded through: the preset's
    # observations and actions, the movies' backend, no no-ops, raw rewards
    spec = EnvSpec(**ds.meta["config"])
    assert spec == EnvSpec(**meta["config"])
    assert (spec.game, spec.action_set, spec.backend, spec.pipeline) == (GAME, "minimal", "retro", "atari")
    assert (spec.frame_skip, spec.noop_max, spec.clip_reward, spec.max_episode_steps) == (4, 0, False, None)


def _gray(screen):
    class Screens(gym.Env):
        observation_space = gym.spaces.Box(0, 255, screen.shape, np.uint8)
        action_space = gym.spaces.Discrete(1)

    return GrayResizeObservation(Screens(), (84, 84)).observation(screen)


def test_dataset_sees_the_frames_replay_sees(movies, tmp_path):
    """Frame 0 is the env's reset frame, run with the movie's buttons (here RIGHT); step k
    covers frames 1+4k..4k+4; observation k ends on replay's frame 4k."""
    movie = Movie.load(movies["odd"])
    screens = [s for _, s in replay(movie, load_integration(GAME).require_rom())]
    meta = record_dataset([movies["odd"]], tmp_path / "ds", num_proc=1, progress=False)
    ds = load_dataset(tmp_path / "ds")
    assert meta["movies"][0]["frames_used"] == movie.frames
    assert np.array_equal(ds.obs[0][-1], _gray(screens[0]))
    for k in range(1, len(ds)):
        assert np.array_equal(ds.obs[k][-1], _gray(np.maximum(screens[4 * k - 1], screens[4 * k]))), k

    # without the pipeline or max-pooling: each observation *is* replay's screen
    spec = env_settings(GAME, overrides={"max_pool": False})
    env = make_movie_env(movie, spec, pipeline="none")
    try:
        steps = list(movie_steps(env, movie))
    finally:
        env.close()
    assert len(steps) == (movie.frames - 1) // 4
    assert all(np.array_equal(s.obs, screens[4 * k]) for k, s in enumerate(steps))


def test_nearest_combo_rule():
    # combos: none, A, B, A+B, C ; buttons A B C D
    table = np.array([[0, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0]], np.uint8)
    rows = np.array([[1, 1, 0, 0],   # exact A+B
                     [1, 0, 0, 1],   # A+D: D in no combo → A (shares A, no extra)
                     [1, 1, 1, 0],   # A+B+C → A+B (2 shared)
                     [0, 0, 0, 1],   # D alone → none (0 shared, fewest extra)
                     [1, 0, 1, 0]],  # A+C → A (ties on shared, both no extra → lower index)
                    np.uint8)
    actions, exact = nearest_combos(rows, table)
    assert actions.tolist() == [3, 1, 3, 0, 1] and exact.tolist() == [True, False, False, False, False]
    assert step_action(np.array([[1, 0, 0, 0]] * 2 + [[0, 0, 0, 0]] * 2, np.uint8), table) == (1, 0, True)
    assert step_action(np.array([[0, 1, 0, 1]] * 4, np.uint8), table) == (2, 4, True)


def test_bad_inputs_are_named(movies, tmp_path):
    out = tmp_path / "ds"
    with pytest.raises(DatasetError, match="nothing.emv: no such movie"):
        record_dataset([tmp_path / "nothing.emv"], out, progress=False)
    (tmp_path / "junk.emv").write_bytes(b"not a zip")
    with pytest.raises(MovieError, match="junk.emv"):
        record_dataset([tmp_path / "junk.emv"], out, progress=False)
    nogame = Movie(None, "Atari2600", ["BUTTON"], np.zeros((9, 1, 1), np.uint8))
    nogame.save(tmp_path / "nogame.emv")
    with pytest.raises(DatasetError, match="nogame.emv: the movie names no game"):
        record_dataset([tmp_path / "nogame.emv"], out, progress=False)
    other = Movie("Pong-Atari2600", "Atari2600", ["BUTTON"], np.zeros((9, 1, 1), np.uint8), start_state="Start")
    other.save(tmp_path / "pong.emv")
    with pytest.raises(DatasetError, match="pong.emv: movie of Pong-Atari2600"):
        record_dataset([movies["paths"][0], tmp_path / "pong.emv"], out, progress=False)
    with pytest.raises(DatasetError, match="m0.emv: .*Discrete"):
        record_dataset([movies["paths"][0]], out, action_set="multi_discrete", progress=False)
    nostate = Movie(GAME, "Atari2600", ["BUTTON"], np.zeros((9, 1, 1), np.uint8), start_state="Level9")
    nostate.save(tmp_path / "nostate.emv")
    with pytest.raises(DatasetError, match="nostate.emv: .*Level9"):
        record_dataset([tmp_path / "nostate.emv"], out, progress=False)
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".ds")]
    out.mkdir()
    with pytest.raises(DatasetError, match="already exists"):
        record_dataset([movies["paths"][0]], out, progress=False)

    with pytest.raises(DatasetError, match="meta.json: missing"):
        load_dataset(out)
    (out / "meta.json").write_text(json.dumps({"format": "emurl-dataset", "game": GAME, "combos": [[]],
                                               "observation": {"shape": [4, 84, 84]}, "config": {}}))
    with pytest.raises(DatasetError, match="data.npz: missing"):
        load_dataset(out)
    np.savez(out / "data.npz", obs=np.zeros((2, 4, 84, 84), np.uint8), actions=np.zeros(2, np.int32))
    with pytest.raises(DatasetError, match="data.npz: rewards: missing"):
        load_dataset(out)


def test_cli_dataset_record_and_info(movies, tmp_path, capsys):
    from emurl.cli.learn import register

    parser = argparse.ArgumentParser(prog="emurl")
    register(parser.add_subparsers(dest="verb"))
    out = tmp_path / "ds"
    args = parser.parse_args(["dataset", "record", str(movies["paths"][1]), "--out", str(out), "--num-proc", "1",
                              "--frame-skip", "4", "--no-progress"])
    assert args.func(args) == 0
    text = capsys.readouterr().out
    assert f"{len(movies['seqs'][1])} steps in 1 episode(s)" in text and "unmatched frames" in text
    args = parser.parse_args(["dataset", "info", str(out)])
    assert args.func(args) == 0
    assert "m1.emv" in capsys.readouterr().out


def test_imitation_does_not_import_training():
    """imitation sits above train in the layer order: recording a dataset needs no learner."""
    code = ("import sys, emurl.imitation; "
            "print(sorted(m for m in sys.modules if m.startswith('emurl.train') or m == 'torch'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
