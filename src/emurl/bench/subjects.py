"""The benchmark's subjects, each living in its own process (:mod:`emurl.bench.runner`):
the raw emulator (:class:`_Raw`), emurl's env (:class:`_Env`), the stable-retro + SB3
peer (:class:`_Peer`) and the vector env (:class:`_Vec`). Each has ``run(seconds)``,
returning ``{"units", "wall_s", "cpu_s"}`` (:func:`_timed`), and ``close()``.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

from emurl.bench.tracer import compile_trace, trace_emulator_calls
from emurl.emulators import EmulatorWrapper
from emurl.envs import EnvSpec, build_env
from emurl.games.integration import load_integration
from emurl.wrappers import fastops

FRAME_SKIP = 4
_N_ACTIONS = 1 << 19


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
        # the env's emulator, action table and start state; the env itself is not stepped
        self.base = build_env(EnvSpec(game, frame_skip=FRAME_SKIP)).unwrapped
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


class _StepTimer(EmulatorWrapper):
    """Adds the seconds spent in the emulator's ``step`` to ``seconds[0]`` (two clock
    reads a call, ~1 µs an agent step)."""

    def __init__(self, inner, seconds: list):
        super().__init__(inner)
        self.seconds = seconds
        self._step, self._clock = inner.step, time.perf_counter  # bound once: called every frame

    def __getattr__(self, name: str):
        # the env calls screen, set_buttons and its variable reads every step: bind the
        # inner's methods once, so that the timed env pays no attribute miss for them
        value = getattr(self.inner, name)
        if callable(value):
            setattr(self, name, value)
        return value

    def step(self, frames: int = 1) -> None:
        t = self._clock()
        self._step(frames)
        self.seconds[0] += self._clock() - t


class _Env:
    """``emurl.make(game, pipeline="atari")`` with random actions, reset at episode ends.

    A :class:`_StepTimer` between the env and its emulator splits the time between the
    emulator's frames, resets and everything else."""

    def __init__(self, game: str, seed: int, trace_steps: int = 2000):
        self.env = build_env(EnvSpec(game, pipeline="atari"))
        self.actions = _actions(self.env.action_space.n, seed)
        self._trace = self._record(seed, trace_steps)
        self.i = 0
        self.env.reset(seed=seed)
        acc = [0.0]
        self.env.unwrapped.wrap_emulator(lambda emulator: _StepTimer(emulator, acc))
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
        # lazy: SB3 (with torch) costs ~1.75 s of CPU and ~230 MB (measured: `import
        # emurl.envs, stable_baselines3.common.atari_wrappers` 2.05 s / 283 MB against
        # 0.25 s / 53 MB), which the raw and env subjects' processes need not pay
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
        from emurl.vector import make_vec_env  # lazy: SB3 and torch, as _Peer's

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


SUBJECTS = {"raw": _Raw, "env": _Env, "peer": _Peer, "vec": _Vec}
"""Subject kinds, by the name :class:`~emurl.bench.runner._Subject` starts them with."""
