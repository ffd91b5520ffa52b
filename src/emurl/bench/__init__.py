"""Env throughput benchmark: the raw emulator, emurl's env, the stable-retro + SB3 peer, vector envs.

:func:`run_bench` measures, in one run, each subject in its own process (stable-retro
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

Rates are rounded to 0.1, ratios to 0.001. Every process runs
:func:`~emurl.emulators.process.setup_worker_process` (``cv2.setNumThreads(1)``: the peer is
the only cv2 user in the loop; threads on tiny images only add overhead).

The parts: :mod:`~emurl.bench.tracer` (the env's emulator calls, recorded and replayed),
:mod:`~emurl.bench.subjects`, :mod:`~emurl.bench.runner` (:func:`run_bench`),
:mod:`~emurl.bench.report` (:func:`format_table`, :data:`TARGETS`).

For example (seven processes, ~5 s each)::

    r = run_bench("Breakout-Atari2600", seconds=5)
    print(format_table(r))
"""

from __future__ import annotations

import argparse
import json

from emurl.bench.report import TARGETS, format_table
from emurl.bench.runner import _Subject, run_bench  # noqa: F401 - _Subject: tests drive one subject
from emurl.bench.tracer import TRACEABLE, EmulatorTracer, compile_trace, trace_emulator_calls


def main(argv=None) -> int:
    """``python -m emurl.bench GAME... [--seconds S] [--seed N] [--json]``: the table (or JSON) of each game."""
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


__all__ = ["TARGETS", "TRACEABLE", "EmulatorTracer", "compile_trace", "format_table", "main", "run_bench",
           "trace_emulator_calls"]
