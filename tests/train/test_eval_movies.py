"""Every evaluation episode is kept as an input movie, and the movie plays the episode again
bit for bit: the same observation at every agent step, the same return and length, the same
last screen and RAM (issue 19, item 4).

Real emulators on ROMs that ship: Airstriker-Genesis (stable-retro), MiniKart-NintendoDs
(DeSmuME), MiniDoc-Nes with an opponent on the second controller and a seeded episode
start. Each env is closed before the next opens (one emulator per process).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np

from emurl.cli import main
from emurl.emulators import open_emulator
from emurl.envs import EnvSpec, build_env
from emurl.games import load_integration
from emurl.imitation.episodes import EpisodeReplay, mismatches, replay_episode
from emurl.movies import Movie, load_movie
from emurl.movies.record import state_digest
from emurl.movies.replay import replay
from emurl.train.evaluate import EvalMovies, evaluate, run_episodes


def sha(a) -> str:
    return hashlib.sha1(np.ascontiguousarray(a).tobytes()).hexdigest()


class RandomPolicy:
    """Seeded random actions through SB3's ``predict``; remembers the hash of every observation it saw."""

    def __init__(self, space, seed: int = 1):
        self.space = space
        space.seed(seed)
        self.seen: list[str] = []

    def predict(self, obs, state=None, episode_start=None, deterministic=False, action_masks=None):
        self.seen.append(sha(obs))
        return self.space.sample(), None


def record(spec: EnvSpec, tmp_path, episodes: int = 2, seed: int = 7) -> tuple[dict, list[list[str]]]:
    """Evaluate a random policy on ``spec`` keeping movies; the result and each episode's observation hashes."""
    env = build_env(spec)
    try:
        policy = RandomPolicy(env.action_space)
        res = run_episodes(policy, env, episodes, True, movies=EvalMovies(tmp_path / "movies" / "eval_0", spec, {}),
                           seed=seed)
    finally:
        env.close()
    seen, start = [], 0
    for length in res["lengths"]:
        seen.append(policy.seen[start:start + length])
        start += length
    return res, seen


def assert_replays_exactly(res: dict, seen: list[list[str]]) -> list[Movie]:
    """Each episode's movie, through its env: the same observations, return, length, last screen and RAM."""
    movies = []
    for ep, (entry, observed) in enumerate(zip(res["per_episode"], seen)):
        movie = load_movie(entry["movie"])
        assert entry["movie"].endswith(f"eval_0_{ep}.emv")
        assert movie.metadata["return"] == entry["return"] and movie.metadata["length"] == entry["length"]
        with EpisodeReplay(movie) as rep:
            replayed = [sha(obs) for obs, _ in rep]
        assert replayed[:-1] == observed  # the observation before every agent step, bit for bit
        assert rep.result.episode_return == entry["return"] and rep.result.length == entry["length"]
        assert mismatches(movie, rep.result) == []
        movies.append(movie)
    return movies


def bare_replay_digest(movie: Movie) -> dict:
    """Screen and RAM digests after the movie's frames on a bare emulator (no env, no scenario)."""
    emu = open_emulator(load_integration(movie.game).require_rom(), movie.system, movie.backend)
    try:
        for _ in replay(movie, emu):
            pass
        return state_digest(emu)
    finally:
        emu.close()


def test_airstriker_evaluation_movies_replay_bit_for_bit(tmp_path):
    spec = EnvSpec("Airstriker-Genesis", pipeline="atari", noop_max=30).for_evaluation(120)
    res, seen = record(spec, tmp_path)
    movies = assert_replays_exactly(res, seen)
    m = movies[0]
    assert (m.game, m.system, m.backend) == ("Airstriker-Genesis", "Genesis", "retro")
    assert m.rom_sha1 == load_integration(m.game).rom_shas[0] and isinstance(m.start_state, bytes)
    assert m.metadata["env"] == spec.to_dict() and m.metadata["seed"] == res["per_episode"][0]["seed"]
    assert m.buttons[:, 0].any()  # the policy's buttons are there
    # the frames alone (every one, random no-ops included) end on the same screen and RAM
    final = m.metadata["final"]
    assert final["frames"] == m.frames
    assert bare_replay_digest(m) == {k: final[k] for k in ("screen_sha1", "ram_sha1")}

    # the movie, not the env's own actions, drives the replay: without the agent's buttons it differs
    idle = Movie(**{**vars(m), "buttons": np.zeros_like(m.buttons)})
    assert mismatches(idle, replay_episode(idle))


PLAY_BK2_WITH_STABLE_RETRO = r"""
import hashlib, sys
import numpy as np, stable_retro
movie = stable_retro.Movie(sys.argv[1])   # as stable_retro/scripts/playback_movie.py
movie.step()
env = stable_retro.make(game=movie.get_game(), state=stable_retro.State.NONE,
                        use_restricted_actions=stable_retro.Actions.ALL, players=movie.players, render_mode=None)
env.initial_state = movie.get_state()
obs, _ = env.reset()
while movie.step():
    obs, *_ = env.step([int(movie.get_key(i, p)) for p in range(movie.players) for i in range(env.num_buttons)])
print("SCREEN" + hashlib.sha1(np.ascontiguousarray(obs).tobytes()).hexdigest())
env.close()
"""


def test_an_evaluation_movie_as_bk2_plays_in_stable_retro_to_the_same_screen(tmp_path, capsys):
    res, _ = record(EnvSpec("Airstriker-Genesis", pipeline="atari").for_evaluation(60), tmp_path, episodes=1)
    path = res["per_episode"][0]["movie"]
    assert main(["convert", path, str(tmp_path / "best.bk2")]) == 0
    proc = subprocess.run([sys.executable, "-c", PLAY_BK2_WITH_STABLE_RETRO, str(tmp_path / "best.bk2")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    screen = proc.stdout.split("SCREEN")[-1].strip()
    assert screen == load_movie(path).metadata["final"]["screen_sha1"]


def test_minikart_evaluation_movies_replay_bit_for_bit_on_desmume(tmp_path):
    spec = EnvSpec("MiniKart-NintendoDs", state="Track0", frame_skip=8, max_pool=False, action_set="steer",
                   noop_max=30, pipeline="atari").for_evaluation(60)
    res, seen = record(spec, tmp_path)
    movies = assert_replays_exactly(res, seen)
    m = movies[0]
    assert (m.system, m.backend, m.players) == ("NintendoDs", "desmume", 1)
    final = m.metadata["final"]
    assert bare_replay_digest(m) == {k: final[k] for k in ("screen_sha1", "ram_sha1")}

    # as a .dsm (from power-on: Track0's input script first), DeSmuME's own movie player ends
    # on the same screen and RAM
    dsm = tmp_path / "race.dsm"
    assert main(["convert", res["per_episode"][0]["movie"], str(dsm)]) == 0
    played = load_movie(dsm)
    script = load_integration(m.game).states("desmume")["Track0"].with_suffix(".json")
    assert played.frames == m.frames + json.loads(script.read_text())["frames_from_power_on"]
    out = subprocess.run([sys.executable, "-c", DESMUME_PLAYS, str(load_integration(m.game).require_rom()), str(dsm),
                          str(played.frames)], capture_output=True, text=True, timeout=240,
                         env=dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy"))
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.splitlines()[-1]) == {k: final[k] for k in ("screen_sha1", "ram_sha1")}


DESMUME_PLAYS = """
import json, sys
from emurl.emulators import open_emulator
from emurl.movies.record import state_digest
emu = open_emulator(sys.argv[1], "NintendoDs", "desmume")
emu._emu.movie.play(sys.argv[2])  # DeSmuME's player: a reset, then the .dsm's inputs frame by frame
emu.step(int(sys.argv[3]))
print(json.dumps(state_digest(emu)))
"""


def test_minidoc_two_players_and_a_seeded_start_replay_bit_for_bit(tmp_path):
    """Both controllers are kept (the opponent's too), and the start state is taken after the
    reset wrote the episode's virus seed (MiniDoc-Nes/metadata.json "episode_start")."""
    spec = EnvSpec("MiniDoc-Nes", opponent="random", frame_skip=4).for_evaluation(150)
    res, seen = record(spec, tmp_path)
    movies = assert_replays_exactly(res, seen)
    assert all(m.players == 2 and m.buttons[:, 1].any() for m in movies)  # seat 1 played
    assert movies[0].start_state != movies[1].start_state  # two seeds, two virus layouts
    loaded = load_integration("MiniDoc-Nes").load_state_bytes("2P_L0_Low", "retro")
    assert movies[0].start_state != loaded  # not the file's bytes: the seed written into them


def test_training_and_emurl_eval_keep_every_episode_and_replay_checks_it(run_copy, capsys):
    """The run's last evaluation (training) and `emurl eval` write movies/eval_<steps>_<k>.emv and
    movies/eval_final_<k>.emv; `emurl replay` says the episode is the same, and exits 1 when not."""
    line = json.loads((run_copy / "evaluations.jsonl").read_text().splitlines()[-1])
    assert [e["movie"] for e in line["per_episode"]] == ["movies/eval_96_0.emv"]  # relative: the run folder may move
    res = evaluate(run_copy, episodes=2)
    assert sorted(p.name for p in (run_copy / "movies").iterdir()) == ["eval_96_0.emv", "eval_final_0.emv",
                                                                         "eval_final_1.emv"]
    assert json.loads((run_copy / "eval.json").read_text())["per_episode"][1]["movie"] == res["per_episode"][1]["movie"]
    path = str(run_copy / res["per_episode"][1]["movie"])
    movie = load_movie(path)
    assert movie.metadata["steps"] == 96 and movie.metadata["checkpoint"].endswith("latest.zip")

    capsys.readouterr()
    assert main(["replay", path]) == 0
    assert "same as the recorded episode" in capsys.readouterr().out
    movie.metadata["return"] += 1.0
    movie.save(run_copy / "wrong.emv")
    assert main(["replay", str(run_copy / "wrong.emv")]) == 1
    assert "differs from the recorded episode:\n  return" in capsys.readouterr().out
