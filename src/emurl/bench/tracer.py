"""Emulator call traces: what an env asks of its emulator, recorded, and replayed on a bare one.

The benchmark (:mod:`emurl.bench.subjects`) and ``benchmarks/bench_ds.py`` time the bare
emulator doing exactly the env's emulator work: a first, untimed pass records the calls
(:func:`trace_emulator_calls`, an :class:`~emurl.emulators.EmulatorWrapper` put between
the env and its emulator with :meth:`~emurl.envs.EmulatorEnv.wrap_emulator`), and
:func:`compile_trace` turns them into bound calls on another emulator, resolved before
timing.
"""

from __future__ import annotations

import numpy as np

from emurl.emulators import EmulatorWrapper

TRACEABLE = ("load_state", "set_buttons", "set_touch", "step", "skip_render", "screen")
"""The emulator methods :func:`trace_emulator_calls` can record."""


class EmulatorTracer(EmulatorWrapper):
    """Records the calls named in ``methods`` (see :func:`trace_emulator_calls` for the
    entries) into ``trace``, then forwards every call to the inner emulator."""

    def __init__(self, inner, methods, trace: list, states: dict):
        super().__init__(inner)
        self.methods = frozenset(methods)
        self.trace = trace
        self.states = states

    def load_state(self, state) -> None:
        if "load_state" in self.methods:
            key = id(state)
            self.states.setdefault(key, state)  # holding it keeps its id from being reused
            self.trace.append(("load", key))
        self.inner.load_state(state)

    def set_buttons(self, pressed, player: int = 0) -> None:
        if "set_buttons" in self.methods:
            self.trace.append(("buttons", np.ascontiguousarray(pressed, np.uint8).tobytes(), player))
        self.inner.set_buttons(pressed, player)

    def set_touch(self, x: int, y: int, pressed: bool) -> None:
        if "set_touch" in self.methods:
            self.trace.append(("touch", x, y, pressed))
        self.inner.set_touch(x, y, pressed)

    def step(self, frames: int = 1) -> None:
        if "step" in self.methods:
            self.trace.append(("step", int(frames)))
        self.inner.step(frames)

    def skip_render(self) -> None:
        if "skip_render" in self.methods:
            self.trace.append(("skip",))
        self.inner.skip_render()

    def screen(self) -> np.ndarray:
        if "screen" in self.methods:
            self.trace.append(("screen",))
        return self.inner.screen()


def trace_emulator_calls(env, methods: tuple[str, ...] = TRACEABLE):
    """Record the calls ``env`` makes on its emulator, then forward them.

    An :class:`EmulatorTracer` goes between ``env.unwrapped`` and its emulator
    (:meth:`~emurl.envs.EmulatorEnv.wrap_emulator`; the env's own handle on
    ``skip_render`` follows it). Trace entries: ``("load", key)`` with the state bytes in
    ``states[key]`` (kept once, however many resets load them), ``("buttons", mask bytes,
    player)``, ``("touch", x, y, pressed)``, ``("step", frames)``, ``("skip",)``,
    ``("screen",)``.

    Returns:
        ``(trace, states, untrace)``: the list and dict that fill as the env plays, and a
        function that takes the tracer out again (the env talks to its emulator directly).

    Raises:
        ValueError: a method name not in :data:`TRACEABLE`.
    """
    unknown = set(methods) - set(TRACEABLE)
    if unknown:
        raise ValueError(f"cannot trace {sorted(unknown)}; traceable: {', '.join(TRACEABLE)}")
    trace: list = []
    states: dict = {}
    base = env.unwrapped
    tracer = base.wrap_emulator(lambda emulator: EmulatorTracer(emulator, methods, trace, states))

    def untrace() -> None:
        if base.emulator is tracer:
            base.unwrap_emulator()

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


__all__ = ["TRACEABLE", "EmulatorTracer", "compile_trace", "trace_emulator_calls"]
