"""Env throughput benchmark: the raw emulator, emurl's env, the stable-retro + SB3 peer, vector envs.

:func:`run_bench` measures, in one run, each subject in its own spawned process (stable-retro
allows one emulator per process):

- ``emulator_fps``: frames/s of the bare emulator (:class:`RetroBackend`) replaying, in a
  loop, the calls the env made on it in an untimed recorded pass of whole episodes
  (``trace``: its agent steps, frames and resets): the same frames, buttons and savestate
  loads (resets, which on Stella reload the whole core) as inside the env, with no screen
  or memory reads, which count as the env's work; ``emulator_fps_play``: the env's random
  buttons from the default state with no reload within a turn (resets left out of the
  time); ``emulator_fps_idle``: no buttons and no reloads (the game soon idles on its
  game-over or attract screen, which may emulate faster or slower);
- ``env_steps_per_s``: ``emurl.make(game, pipeline="atari")`` (frame skip 4, max of the
  last two frames, 84×84 gray, stack of 4, reward clip) with pre-generated random actions,
  reset at each episode end; ``env_frames_per_s`` = ×4; ``overhead_ratio`` =
  ``env_steps_per_s / emulator_steps_per_s``, where ``emulator_steps_per_s`` is the env's
  agent steps per second of replay (``emulator_fps`` × the trace's steps ÷ its frames,
  which include the resets' no-op frames) (1.0: nothing costs anything but the emulator);
- ``peer_steps_per_s``: the same pipeline as people build it from stable-retro and SB3:
  ``stable_retro.make(game + "-v0", render_mode="rgb_array", use_restricted_actions=DISCRETE)``
  → SB3 ``AtariWrapper(noop_max=0, frame_skip=4, screen_size=84, terminal_on_life_loss=False,
  clip_reward=True)`` → Gymnasium ``FrameStackObservation(4)``; ``speedup_vs_peer``;
  ``emulator_vs_peer`` = ``emulator_steps_per_s / peer_steps_per_s``, the most that any env
  around this emulator could gain on the peer (what it would reach if nothing but the
  emulator cost anything);
- ``vec1_steps_per_s`` / ``vec2_steps_per_s``: :func:`emurl.vector.make_vec_env` with 1 and
  2 envs, env steps/s summed over the envs; ``vec2_scaling`` = vec2 / vec1.

The subjects' processes live side by side but take turns: after a warm-up, each runs a
chunk of about 0.25 s in turn, round after round, until each has run ``seconds``; so a
machine whose speed drifts (shared, throttled) weighs on all of them alike. ``rounds`` keeps
each subject's per-round rates, whose spread shows the noise.

Also: the µs of the fused gray + resize of one screen to 84×84 (``emurl._fastops``) and of
cv2's ``cvtColor`` + ``resize`` (``gray_resize_us``); and, timed inside the env's own runs
(``env_detail``), the share of time spent in the emulator's frames, the non-emulator µs
per step (resets excluded) and the cost of a reset: they come from one process and the
same time windows, so they hardly depend on what else the machine runs.

Rates are rounded to 0.1, ratios to 0.001. Every process sets ``cv2.setNumThreads(1)``
(the peer is the only cv2 user in the loop; threads on tiny images only add overhead).

>>> r = run_bench("Breakout-Atari2600", seconds=5)   # doctest: +SKIP
>>> print(format_table(r))                            # doctest: +SKIP
"""

from __future__ import annotations

import datetime
import hashlib
import multiprocessing as mp
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

FRAME_SKIP = 4
_N_ACTIONS = 1 << 19


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for dist in ("emurl", "stable-retro", "gymnasium", "stable-baselines3", "numpy", "opencv-python-headless"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _setup_child() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import cv2

        cv2.setNumThreads(1)
    except ImportError:  # pragma: no cover
        pass


def _actions(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, _N_ACTIONS).astype(np.int64)


def _timed(step, seconds: float) -> dict:
    """Call ``step()`` (returns how many units it made) for ``seconds``."""
    units = 0
    cpu0, t0 = time.process_time(), time.perf_counter()
    t_end = t0 + seconds
    while True:
        for _ in range(8):
            units += step()
        now = time.perf_counter()
        if now >= t_end:
            break
    return {"units": units, "wall_s": now - t0, "cpu_s": time.process_time() - cpu0}


# -- emulator call traces (also used by benchmarks/bench_ds.py) ------------------------------
TRACEABLE = ("load_state", "set_buttons", "set_touch", "step", "skip_render", "screen")
"""The emulator methods :func:`trace_emulator_calls` can record."""


def trace_emulator_calls(env, methods: tuple[str, ...] = TRACEABLE):
    """Record the calls ``env`` makes on its emulator, then forward them.

    Instance attributes shadow the emulator's methods named in ``methods`` (those it has).
    Trace entries: ``("load", key)`` with the state bytes in ``states[key]`` (kept once,
    however many resets load them), ``("buttons", mask bytes, player)``, ``("touch", x, y,
    pressed)``, ``("step", frames)``, ``("skip",)``, ``("screen",)``. An env that holds its
    own handle on ``skip_render`` (``_skip_render``) gets the traced one too.

    Returns:
        ``(trace, states, untrace)``: the list and dict that fill as the env plays, and a
        function that removes the tracing (the emulator's own methods again).

    Raises:
        ValueError: a method name not in :data:`TRACEABLE`.
    """
    unknown = set(methods) - set(TRACEABLE)
    if unknown:
        raise ValueError(f"cannot trace {sorted(unknown)}; traceable: {', '.join(TRACEABLE)}")
    emu = env.unwrapped.emulator
    real = {name: getattr(emu, name) for name in methods if hasattr(emu, name)}
    trace: list = []
    states: dict = {}

    def load_state(state):
        key = id(state)
        states.setdefault(key, state)  # holding it keeps its id from being reused
        trace.append(("load", key))
        real["load_state"](state)

    def set_buttons(pressed, player=0):
        trace.append(("buttons", np.ascontiguousarray(pressed, np.uint8).tobytes(), player))
        real["set_buttons"](pressed, player)

    def set_touch(x, y, pressed):
        trace.append(("touch", x, y, pressed))
        real["set_touch"](x, y, pressed)

    def step(frames=1):
        trace.append(("step", int(frames)))
        real["step"](frames)

    def skip_render():
        trace.append(("skip",))
        real["skip_render"]()

    def screen():
        trace.append(("screen",))
        return real["screen"]()

    traced = {"load_state": load_state, "set_buttons": set_buttons, "set_touch": set_touch,
              "step": step, "skip_render": skip_render, "screen": screen}
    for name in real:
        setattr(emu, name, traced[name])
    inner = env.unwrapped
    env_skip = getattr(inner, "_skip_render", None) if "skip_render" in real else None
    if env_skip is not None:
        inner._skip_render = skip_render

    def untrace() -> None:
        for name in real:
            delattr(emu, name)
        if env_skip is not None:
            inner._skip_render = env_skip

    return trace, states, untrace


def compile_trace(emu, trace: list, states: dict) -> list[tuple]:
    """The calls of a :func:`trace_emulator_calls` trace on ``emu``, resolved before timing.

    Returns:
        A list of ``(bound method, args, frames)``, ``frames`` > 0 for ``step`` calls only.

    Raises:
        ValueError: an entry of an unknown kind.
    """
    masks: dict[bytes, np.ndarray] = {}
    calls = []
    for entry in trace:
        kind = entry[0]
        if kind == "load":
            calls.append((emu.load_state, (states[entry[1]],), 0))
        elif kind == "buttons":
            mask = masks.setdefault(entry[1], np.frombuffer(entry[1], np.uint8))
            calls.append((emu.set_buttons, (mask, entry[2]), 0))
        elif kind == "touch":
            calls.append((emu.set_touch, tuple(entry[1:]), 0))
        elif kind == "step":
            calls.append((emu.step, (entry[1],), entry[1]))
        elif kind == "skip":
            calls.append((emu.skip_render, (), 0))
        elif kind == "screen":
            calls.append((emu.screen, (), 0))
        else:
            raise ValueError(f"unknown trace entry {entry!r}")
    return calls


# -- the subjects, each living in its own process --------------------------------------------


class _Raw:
    """The bare emulator: frames, nothing else (no screen, no memory reads).

    ``mode="replay"``: it replays, in a loop, the emulator calls that the env made in a
    recorded pass (``load_state``, ``set_buttons``, ``step``; see :meth:`_Env.trace`): the
    same game, frames, buttons and resets as inside the env, with nothing around them.
    ``mode="play"``: each turn starts (untimed) from the game's default state and the
    buttons of the env's random actions are set every 4 frames, with no resets within a
    turn. ``mode="idle"``: no buttons and no reloads; the game soon sits on its game-over
    or attract screen."""

    def __init__(self, game: str, seed: int, mode: str = "replay"):
        from emurl.envs import EmulatorEnv

        # the env's emulator, action table and start state; the env itself is not stepped
        self.base = EmulatorEnv(game, frame_skip=FRAME_SKIP)
        self.emu = self.base.emulator
        self.mode = mode
        self.actions = _actions(self.base.action_space.n, seed)
        self.i = 0
        self.calls: list = []
        self.j = 0
        self.emu.set_buttons(np.zeros(len(self.emu.buttons), np.uint8), 0)

    def set_trace(self, trace: dict) -> None:
        """Take the env's recorded calls (:meth:`_Env.trace`: ``ops`` and ``states``); the
        replay starts at the first (a reset)."""
        self.calls, self.j = compile_trace(self.emu, trace["ops"], trace["states"]), 0

    def replay_once(self, _=None) -> str:
        """Replay the whole trace once from its start; the SHA-1 of the RAM at its end
        (equal to the env's :meth:`_Env.trace` ``ram`` when the replay redoes its work)."""
        for call, args, _frames in self.calls:
            call(*args)
        self.j = 0
        return hashlib.sha1(np.ascontiguousarray(self.emu.ram()).tobytes()).hexdigest()

    def run(self, seconds: float) -> dict:
        emu, base, actions = self.emu, self.base, self.actions
        if self.mode == "replay":
            if not self.calls:
                raise RuntimeError("replay: no trace was set (call set_trace first)")
            calls, n = self.calls, len(self.calls)

            def step():
                while True:  # up to and including the next step call: its frames are the units
                    call, args, frames = calls[self.j]
                    self.j = (self.j + 1) % n
                    call(*args)
                    if frames:
                        return frames

        elif self.mode == "play":
            emu.load_state(base._initial_state)

            def step():
                emu.set_buttons(base.buttons_for(actions[self.i % _N_ACTIONS]), 0)
                self.i += 1
                emu.step(FRAME_SKIP)
                return FRAME_SKIP

        else:

            def step():
                emu.step(FRAME_SKIP)
                return FRAME_SKIP

        return _timed(step, seconds)

    def close(self) -> None:
        self.base.close()


class _Env:
    """``emurl.make(game, pipeline="atari")`` with random actions, reset at episode ends.

    Its emulator's ``step`` is wrapped in a timer (two clock reads a frame, ~1 µs a step)
    to split the time between the emulator's frames, resets and everything else."""

    def __init__(self, game: str, seed: int, trace_steps: int = 2000):
        import emurl

        self.env = emurl.make(game, pipeline="atari")
        self.actions = _actions(self.env.action_space.n, seed)
        self._trace = self._record(seed, trace_steps)
        self.i = 0
        self.env.reset(seed=seed)
        emu = self.env.unwrapped.emulator
        raw_step, clock, acc = emu.step, time.perf_counter, [0.0]

        def timed_step(frames=1):
            t = clock()
            raw_step(frames)
            acc[0] += clock() - t

        emu.step = timed_step
        self._emu_time = acc
        self._stats = dict.fromkeys(("wall", "frames", "reset", "steps", "resets"), 0)

    def run(self, seconds: float) -> dict:
        env, actions, acc, clock = self.env, self.actions, self._emu_time, time.perf_counter
        st = {"frames": 0.0, "reset": 0.0, "resets": 0}
        e_start = acc[0]

        def step():
            _, _, terminated, truncated, _ = env.step(actions[self.i % _N_ACTIONS])
            self.i += 1
            if terminated or truncated:
                e0, r0 = acc[0], clock()
                env.reset()
                st["reset"] += clock() - r0
                st["frames"] -= acc[0] - e0  # a reset's frames count as reset time
                st["resets"] += 1
            return 1

        out = _timed(step, seconds)
        st["frames"] += acc[0] - e_start
        self._stats["wall"] += out["wall_s"]
        self._stats["steps"] += out["units"]
        for k in ("frames", "reset", "resets"):
            self._stats[k] += st[k]
        return out

    def _record(self, seed: int, steps: int, cap: int = 20_000) -> tuple[list, dict]:
        """Play (untimed) whole episodes, at least ``steps`` agent steps (at most ``cap``),
        with the env's random actions from its first reset, recording the emulator calls
        that play the game (:func:`trace_emulator_calls`: ``load_state``, ``set_buttons``,
        ``step``). Screen and memory reads are left out (they are the env's).

        Returns:
            ``(trace, states)``.
        """
        emu = self.env.unwrapped.emulator
        trace, states, untrace = trace_emulator_calls(self.env, ("load_state", "set_buttons", "step"))
        try:
            self.env.reset(seed=seed)
            i = 0
            while i < cap:
                _, _, terminated, truncated, _ = self.env.step(self.actions[i % _N_ACTIONS])
                i += 1
                if terminated or truncated:
                    if i >= steps:
                        break
                    self.env.reset()
        finally:
            untrace()
        self._trace_steps = i
        self._trace_ram = hashlib.sha1(np.ascontiguousarray(emu.ram()).tobytes()).hexdigest()
        return trace, states

    def trace(self, _=None) -> dict:
        """The recorded emulator calls (:meth:`_record`: ``ops`` and the ``states`` they
        load), their agent steps, frames and resets, and the RAM digest at their end."""
        ops, states = self._trace
        frames = sum(entry[1] for entry in ops if entry[0] == "step")
        resets = sum(1 for entry in ops if entry[0] == "load")
        return {"ops": ops, "states": states, "steps": self._trace_steps, "frames": frames, "resets": resets,
                "ram": self._trace_ram}

    def detail(self, _=None) -> dict:
        """Where the timed runs' time went: the emulator's frames, resets, the rest."""
        s = self._stats
        total, frames, reset, steps, resets = s["wall"], s["frames"], s["reset"], s["steps"], s["resets"]
        return {
            "emulator_share": frames / total,
            "emulator_share_without_resets": frames / (total - reset),
            "overhead_us_per_step": (total - reset - frames) / steps * 1e6,
            "emulator_us_per_step": frames / steps * 1e6,
            "reset_ms": reset / resets * 1e3 if resets else None,
            "steps_per_episode": steps / resets if resets else None,
            "reset_share": reset / total,
        }

    def reset_stats(self, _=None) -> None:
        self._stats = dict.fromkeys(self._stats, 0)

    def kernel(self, seed: int) -> dict:
        """µs of the fused gray+resize to 84×84 and of cv2's cvtColor + resize, on one screen."""
        from emurl.wrappers import fastops

        screen = tuple(self.env.unwrapped.observation_space.shape)
        img = np.random.default_rng(seed).integers(0, 256, screen, dtype=np.uint8)
        out = {"screen": list(screen), "cv2": _best_us(lambda: fastops.gray_resize_cv2(img, (84, 84))), "fastops": None}
        if fastops.HAVE_FASTOPS:
            dst = np.empty((84, 84), np.uint8)
            plan = fastops.area_plan(screen[0], screen[1], 84, 84)
            out["fastops"] = _best_us(lambda: fastops._fastops.gray_resize_area(img, dst, plan))
        return out

    def close(self) -> None:
        self.env.close()


class _Peer:
    """stable-retro's RetroEnv → SB3's AtariWrapper → Gymnasium's FrameStackObservation."""

    def __init__(self, game: str, seed: int):
        import gymnasium as gym
        import stable_retro
        from stable_baselines3.common.atari_wrappers import AtariWrapper

        self.root = _peer_integration_dir(game)
        stable_retro.data.Integrations.add_custom_path(self.root)
        env = stable_retro.make(
            game + "-v0",
            inttype=stable_retro.data.Integrations.CUSTOM_ONLY,
            render_mode="rgb_array",
            use_restricted_actions=stable_retro.Actions.DISCRETE,
        )
        # AtariWrapper asks ALE's action meanings whether to add FireResetEnv; RetroEnv has
        # none: without a "FIRE" meaning it adds no fire-reset (ALE-specific), and
        # noop_max=0 no no-op resets.
        env.unwrapped.get_action_meanings = lambda: ["NOOP"] * env.action_space.n
        env = AtariWrapper(env, noop_max=0, frame_skip=FRAME_SKIP, screen_size=84, terminal_on_life_loss=False, clip_reward=True)
        self.env = gym.wrappers.FrameStackObservation(env, 4)
        self.actions = _actions(self.env.action_space.n, seed)
        self.i = 0
        self.env.reset(seed=seed)

    def run(self, seconds: float) -> dict:
        env, actions = self.env, self.actions

        def step():
            _, _, terminated, truncated, _ = env.step(int(actions[self.i % _N_ACTIONS]))
            self.i += 1
            if terminated or truncated:
                env.reset()
            return 1

        return _timed(step, seconds)

    def close(self) -> None:
        self.env.close()
        shutil.rmtree(self.root, ignore_errors=True)


class _Vec:
    """``emurl.vector.make_vec_env(game, n)`` stepped with random actions (auto-reset)."""

    def __init__(self, game: str, seed: int, num_envs: int):
        from emurl.vector import make_vec_env

        self.n = num_envs
        self.venv = make_vec_env(game, num_envs, seed=seed, pipeline="atari")
        self.actions = np.random.default_rng(seed).integers(0, self.venv.action_space.n, (4096, num_envs))
        self.i = 0
        self.venv.reset()

    def run(self, seconds: float) -> dict:
        def step():
            self.venv.step(self.actions[self.i % 4096])
            self.i += 1
            return self.n

        return _timed(step, seconds)

    def close(self) -> None:
        self.venv.close()


def _peer_integration_dir(game: str) -> str:
    """A temporary stable-retro custom integration folder with the game and emurl's ROM
    (stable-retro looks for ROMs only in its own package folder)."""
    from emurl.games.integration import load_integration

    integ = load_integration(game)
    root = tempfile.mkdtemp(prefix="emurl-bench-retro-")
    folder = Path(root) / f"{integ.name}-v0"
    shutil.copytree(integ.folder, folder, ignore=shutil.ignore_patterns("rom.*"))
    rom = Path(integ.require_rom())
    shutil.copy(rom, folder / f"rom{rom.suffix}")
    for sha in integ.folder.glob("rom.sha"):
        shutil.copy(sha, folder / sha.name)
    return root


def _best_us(fn, reps: int = 7, n: int = 200) -> float:
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t) / n)
    return best * 1e6


_SUBJECTS = {"raw": _Raw, "env": _Env, "peer": _Peer, "vec": _Vec}


def _serve(conn, kind: str, args: tuple) -> None:
    """A subject's process: build it, then run the parent's commands until "close"."""
    try:
        _setup_child()
        subject = _SUBJECTS[kind](*args)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
        conn.close()
        return
    conn.send(("ok", None))
    try:
        while True:
            cmd, arg = conn.recv()
            if cmd == "close":
                break
            try:
                conn.send(("ok", getattr(subject, cmd)(arg)))
            except BaseException as exc:  # noqa: BLE001
                conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
    finally:
        subject.close()
        conn.close()


class _Subject:
    """The parent's handle on a subject's process."""

    def __init__(self, name: str, kind: str, *args):
        ctx = mp.get_context("spawn")
        self.name = name
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, kind, args), name=f"emurl-bench-{name}")
        self.proc.start()
        child.close()

    def _answer(self, timeout: float):
        try:
            if not self.conn.poll(timeout):
                raise RuntimeError(f"benchmark {self.name!r} gave no answer within {timeout:.0f} s")
            status, payload = self.conn.recv()
        except (EOFError, ConnectionError):
            raise RuntimeError(f"benchmark {self.name!r}: its process died (exit code {self.proc.exitcode})") from None
        if status != "ok":
            raise RuntimeError(f"benchmark {self.name!r} failed:\n{payload}")
        return payload

    def ready(self, timeout: float = 300.0) -> None:
        self._answer(timeout)

    def call(self, cmd: str, arg, timeout: float = 300.0):
        self.conn.send((cmd, arg))
        return self._answer(timeout + (arg if isinstance(arg, (int, float)) else 0))

    def close(self) -> None:
        try:
            if self.proc.is_alive():
                self.conn.send(("close", None))
        except (OSError, ValueError):
            pass
        self.proc.join(30)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join()
        self.conn.close()


def run_bench(game: str, seconds: float = 5.0, seed: int = 0) -> dict:
    """Measure the raw emulator, emurl's env, the peer stack and vector envs on ``game``.

    Each subject runs in its own spawned process; after a warm-up of ``min(1, seconds / 5)``
    s each, they take turns in chunks of about 0.25 s until each has run ``seconds``.
    See the module docstring for each number.

    Returns:
        A dict of the numbers (rates rounded to 0.1, ratios to 0.001), ``rounds`` (each
        subject's per-round rates), ``env_detail``, ``gray_resize_us`` and ``meta`` (game,
        system, CPU, versions, date, load average).

    Raises:
        RuntimeError: a measurement failed (the message holds its traceback).
    """
    from emurl.wrappers import fastops
    from emurl.games.integration import canonical_name, load_integration

    game = canonical_name(game)
    system = load_integration(game).system
    warmup = min(1.0, seconds / 5)
    n_rounds = max(3, int(round(seconds / 0.25)))
    chunk = seconds / n_rounds
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.perf_counter()

    specs = {
        "emulator": ("raw", "replay"),
        "emulator_play": ("raw", "play"),
        "emulator_idle": ("raw", "idle"),
        "env": ("env",),
        "peer": ("peer",),
        "vec1": ("vec", 1),
        "vec2": ("vec", 2),
    }
    subjects: dict[str, _Subject] = {}
    try:
        for name, (kind, *extra) in specs.items():
            subjects[name] = _Subject(name, kind, game, seed, *extra)
        for sub in subjects.values():
            sub.ready()
        trace = subjects["env"].call("trace", None)
        subjects["emulator"].call("set_trace", trace)
        for sub in subjects.values():
            sub.call("run", warmup)
        subjects["env"].call("reset_stats", None)
        totals = {name: [0, 0.0, 0.0] for name in subjects}
        rounds: dict[str, list[float]] = {name: [] for name in subjects}
        for _ in range(n_rounds):
            for name, sub in subjects.items():
                out = sub.call("run", chunk)
                totals[name][0] += out["units"]
                totals[name][1] += out["wall_s"]
                totals[name][2] += out["cpu_s"]
                rounds[name].append(out["units"] / out["wall_s"])
        detail = subjects["env"].call("detail", None)
        kernel = subjects["env"].call("kernel", seed)
    finally:
        for sub in subjects.values():
            sub.close()

    rate = {name: u / w for name, (u, w, _) in totals.items()}
    replay_steps = rate["emulator"] * trace["steps"] / trace["frames"]  # the env's agent steps per second of replay
    r1, r3 = (lambda v: round(float(v), 1)), (lambda v: round(float(v), 3))
    return {
        "game": game,
        "system": system,
        "emulator_fps": r1(rate["emulator"]),
        "emulator_fps_play": r1(rate["emulator_play"]),
        "emulator_fps_idle": r1(rate["emulator_idle"]),
        "trace": {k: trace[k] for k in ("steps", "frames", "resets")},
        "env_steps_per_s": r1(rate["env"]),
        "env_frames_per_s": r1(rate["env"] * FRAME_SKIP),
        # the replay's frames include the resets' no-op frames: compare time per agent step
        "emulator_steps_per_s": r1(replay_steps),
        "overhead_ratio": r3(rate["env"] / replay_steps),
        "peer_steps_per_s": r1(rate["peer"]),
        "speedup_vs_peer": r3(rate["env"] / rate["peer"]),
        "emulator_vs_peer": r3(replay_steps / rate["peer"]),
        "vec1_steps_per_s": r1(rate["vec1"]),
        "vec2_steps_per_s": r1(rate["vec2"]),
        "vec2_scaling": r3(rate["vec2"] / rate["vec1"]),
        "rounds": {name: [r1(x) for x in v] for name, v in rounds.items()},
        "cpu_share": {name: r3(c / w) for name, (_, w, c) in totals.items()},
        "env_detail": {k: (None if v is None else r3(v) if "share" in k else r1(v)) for k, v in detail.items()},
        "screen": kernel["screen"],
        "gray_resize_us": {"fastops": None if kernel["fastops"] is None else r1(kernel["fastops"]), "cv2": r1(kernel["cv2"])},
        "meta": {
            "game": game,
            "system": system,
            "seconds": seconds,
            "rounds": n_rounds,
            "seed": seed,
            "cpu_count": os.cpu_count(),
            "cpu": _cpu_model(),
            "platform": platform.platform(),
            "versions": _versions(),
            "fastops": fastops._fastops.isa() if fastops.HAVE_FASTOPS else "not built (cv2 fallback)",
            "date": started.isoformat(timespec="seconds"),
            "duration_s": r1(time.perf_counter() - t0),
            "loadavg_before": [round(x, 2) for x in load_before] if load_before else None,
            "loadavg_after": [round(x, 2) for x in os.getloadavg()] if load_before else None,
        },
    }


TARGETS = {"overhead_ratio": 0.9, "speedup_vs_peer": 1.3, "vec2_scaling": 1.7}


def _spread(result: dict, name: str) -> str:
    v = result.get("rounds", {}).get(name)
    return f"rounds {min(v):.1f}–{max(v):.1f}" if v else ""


def format_table(result: dict) -> str:
    """A Markdown table of one :func:`run_bench` result."""
    r, d = result, result.get("env_detail", {})

    def target(key):
        if key not in TARGETS:
            return ""
        return f"≥ {TARGETS[key]} — {'met' if r[key] >= TARGETS[key] else '**not met**'}"

    rows = [
        ("raw emulator, frames/s", f"{r['emulator_fps']:.1f}",
         "replaying the env's own emulator calls (frames, buttons, resets: "
         + (f"{r['trace']['steps']} steps, {r['trace']['resets']} resets); " if "trace" in r else "); ")
         + _spread(r, "emulator")),
        ("raw emulator without resets, frames/s", f"{r.get('emulator_fps_play', float('nan')):.1f}",
         "the env's random buttons, no reload within a turn; " + _spread(r, "emulator_play")),
        ("raw emulator left idle, frames/s", f"{r['emulator_fps_idle']:.1f}", "no buttons, no reloads; " + _spread(r, "emulator_idle")),
        ("emurl env (atari pipeline), steps/s", f"{r['env_steps_per_s']:.1f}",
         f"= {r['env_frames_per_s']:.1f} frames/s; {_spread(r, 'env')}"),
        ("overhead ratio (env steps/s ÷ raw replay's)", f"{r['overhead_ratio']:.3f}",
         target("overhead_ratio")
         + (f"; the replay runs the env's agent steps at {r['emulator_steps_per_s']:.1f}/s "
            "(its frames include the resets' no-op frames)" if "emulator_steps_per_s" in r else "")),
        ("peer (stable-retro + SB3 AtariWrapper), steps/s", f"{r['peer_steps_per_s']:.1f}", _spread(r, "peer")),
        ("speedup vs peer", f"{r['speedup_vs_peer']:.3f}", target("speedup_vs_peer")),
        ("raw emulator ÷ peer", f"{r.get('emulator_vs_peer', float('nan')):.3f}",
         "the most any env around this emulator could gain on the peer (raw replay's steps/s ÷ peer steps/s)"),
        ("vector env, 1 process, steps/s", f"{r['vec1_steps_per_s']:.1f}", _spread(r, "vec1")),
        ("vector env, 2 processes, steps/s", f"{r['vec2_steps_per_s']:.1f}", "summed over the envs; " + _spread(r, "vec2")),
        ("vec2 scaling", f"{r['vec2_scaling']:.3f}", target("vec2_scaling")),
    ]
    if d:
        rows += [
            ("env: time in emulator frames", f"{d['emulator_share']:.3f}",
             f"{d['emulator_share_without_resets']:.3f} leaving resets out"),
            ("env: µs per step outside the emulator", f"{d['overhead_us_per_step']:.1f}",
             f"emulator {d['emulator_us_per_step']:.1f} µs per step (4 frames); resets excluded"),
            ("env: reset, ms", "n/a" if d["reset_ms"] is None else f"{d['reset_ms']:.1f}",
             "n/a" if d["steps_per_episode"] is None
             else f"{d['steps_per_episode']:.0f} steps per episode; resets take {d['reset_share']:.1%} of the time"),
        ]
    k = r.get("gray_resize_us")
    if k:
        shape = "×".join(str(x) for x in r.get("screen", [])[:2])
        rows.append(("gray + resize of one screen to 84×84, µs", "n/a" if k["fastops"] is None else f"{k['fastops']:.1f}",
                     f"`emurl._fastops`, {shape} RGB; cv2 `cvtColor` + `resize`: {k['cv2']:.1f} µs"))
    lines = ["| measure | value | note |", "|---|---:|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def main(argv=None) -> int:
    import argparse
    import json

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("games", nargs="+")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    a = p.parse_args(argv)
    results = [run_bench(g, a.seconds, a.seed) for g in a.games]
    if a.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            print(f"\n## {r['game']}\n\n{format_table(r)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
