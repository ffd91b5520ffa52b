"""Running the benchmark: each subject in its own process, taking turns, and the result.

:func:`run_bench` starts one process per subject (:class:`_Subject`, serving
:func:`_serve`), warms them up, then has them run chunks of about 0.25 s in turn,
round after round, and turns their counts into the rates and ratios of the result (see
:mod:`emurl.bench` for each number).
"""

from __future__ import annotations

import datetime
import os
import platform
import time
import traceback
from importlib import metadata
from pathlib import Path

from emurl.bench.subjects import FRAME_SKIP, SUBJECTS
from emurl.envs import EnvSpec
from emurl.games.integration import load_integration
from emurl.emulators.process import mp_context, setup_worker_process
from emurl.wrappers import fastops


def _versions() -> dict[str, str]:
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


def _serve(conn, kind: str, args: tuple) -> None:
    """A subject's process: build it, then run the parent's commands until "close"."""
    try:
        setup_worker_process()
        subject = SUBJECTS[kind](*args)
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
        ctx = mp_context()
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

    Each subject runs in its own process (:func:`~emurl.emulators.process.mp_context`); after a warm-up of ``min(1, seconds / 5)``
    s each, they take turns in chunks of about 0.25 s until each has run ``seconds``.
    See the module docstring for each number.

    Returns:
        A dict of the numbers (rates rounded to 0.1, ratios to 0.001), ``rounds`` (each
        subject's per-round rates), ``env_detail``, ``gray_resize_us`` and ``meta`` (game,
        system, CPU, versions, date, load average).

    Raises:
        RuntimeError: a measurement failed (the message holds its traceback).
    """
    game = EnvSpec(game).game
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


__all__ = ["run_bench"]
