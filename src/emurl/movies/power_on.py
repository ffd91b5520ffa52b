"""A movie from a start state turned into one from power-on, for emulators that only play
those (DeSmuME's ``.dsm``): the input script that made the state, then the movie's frames.

emurl's start states are made from power-on by an input script (:mod:`emurl.states.scripts`),
and each state's record (``<name>.<backend>.json`` beside it) keeps the script and
``frames_from_power_on``, the frames the script took (its ``until`` steps wait on the game,
so only a run tells their length). A movie that starts from such a state (an evaluation
episode: :mod:`emurl.movies.record`) then replays from power-on as the script's buttons for
those frames followed by the movie's own. A DeSmuME savestate holds the whole machine, so
the game is in the same state either way; ``tests/train/test_eval_movies.py`` checks that
DeSmuME's own movie player ends such a ``.dsm`` on the evaluation's last screen and RAM.
"""

from __future__ import annotations

import json

import numpy as np

from emurl.errors import EmurlError, MovieError
from emurl.games.integration import load_integration
from emurl.movies.movie import Movie
from emurl.states.input_script import StartStateError, script_frames


def _record(path) -> dict:
    try:
        return json.loads(path.with_suffix(".json").read_text())
    except (OSError, ValueError):
        return {}


def state_script_frames(record: dict, where: str) -> list[tuple[str, ...]]:
    """The buttons held on each frame from power-on to a state, from its record (``script``
    and ``frames_from_power_on``); a script's one ``until`` step lasts what the others leave.

    Raises:
        MovieError: the record has no script or frame count, more than one ``until`` step,
            or a count the script's fixed steps exceed.
    """
    script, total = record.get("script"), record.get("frames_from_power_on")
    if not isinstance(script, list) or not isinstance(total, int):
        raise MovieError(f"{where}: the state's record has no input script and frames_from_power_on "
                         "(made by an older emurl, or not from power-on)")
    untils = [i for i, step in enumerate(script) if isinstance(step, dict) and "until" in step]
    if len(untils) > 1:
        raise MovieError(f"{where}: the state's script has {len(untils)} until steps; their lengths can't be told apart")
    try:
        if not untils:
            frames = script_frames(script, where=where)
        else:
            i = untils[0]
            before, after = script_frames(script[:i], where=where), script_frames(script[i + 1:], where=where)
            wait = total - len(before) - len(after)
            if wait < 0:
                raise MovieError(f"{where}: frames_from_power_on {total} is fewer than the script's fixed steps")
            frames = before + [()] * wait + after
    except StartStateError as exc:
        raise MovieError(str(exc)) from None
    if len(frames) != total:
        raise MovieError(f"{where}: the script takes {len(frames)} frames, its record says {total}")
    return frames


def power_on_movie(movie: Movie, game_path=None) -> Movie:
    """``movie`` from power-on: the frames of the input script that made its start state
    (one of its integration's states for its backend; found by name or by its bytes), then
    its own. A movie from power-on is returned as it is.

    Raises:
        MovieError: no game named; a start state that is none of the integration's (e.g.
            taken after a reset wrote RAM, as MiniDoc's seeded starts are), or whose record
            has no script (:func:`state_script_frames`).
        UnknownGameError: the movie's game is not found.
    """
    if movie.start_state is None:
        return movie
    if not movie.game:
        raise MovieError("the movie names no game: its start state's input script can't be found")
    integ = load_integration(movie.game, game_path)
    states = integ.states(movie.backend)
    if isinstance(movie.start_state, str):
        name = movie.start_state if movie.start_state in states else None
    else:
        name = next((n for n in states if _state_bytes(integ, n, movie.backend) == movie.start_state), None)
    if name is None:
        raise MovieError(f"the movie's start state is none of {movie.game}'s states for {movie.backend}: only a state "
                         "made from power-on by an input script (and loaded as it is) converts to a movie from power-on")
    record = _record(states[name])
    where = f"{states[name].with_suffix('.json')}"
    if record.get("rom_sha1") and movie.rom_sha1 and record["rom_sha1"] != movie.rom_sha1:
        raise MovieError(f"{where}: made on ROM {record['rom_sha1']}, the movie on {movie.rom_sha1}")
    prefix = state_script_frames(record, where)
    names = list(movie.button_names)
    missing = sorted({b for f in prefix for b in f} - set(names))
    if missing:
        raise MovieError(f"{where}: the script presses {', '.join(missing)}, which the movie has no column for")
    head = np.zeros((len(prefix), movie.players, len(names)), np.uint8)
    for f, held in enumerate(prefix):
        for b in held:
            head[f, 0, names.index(b)] = 1
    touch = None if movie.touch is None else np.concatenate([np.zeros((len(prefix), 3), movie.touch.dtype), movie.touch])
    metadata = {**movie.metadata, "power_on": {"state": name, "script_frames": len(prefix)}}
    return Movie(game=movie.game, system=movie.system, button_names=names, buttons=np.concatenate([head, movie.buttons]),
                 rom_sha1=movie.rom_sha1, backend=movie.backend, core=movie.core, start_state=None, touch=touch,
                 frame_rate=movie.frame_rate, metadata=metadata)


def _state_bytes(integ, name: str, backend: str | None) -> bytes | None:
    try:
        return integ.load_state_bytes(name, backend)
    except (EmurlError, OSError):
        return None


__all__ = ["power_on_movie", "state_script_frames"]
