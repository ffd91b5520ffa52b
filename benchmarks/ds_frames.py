"""Write sample frames of the DS pixel pipeline to docs/ as PNG, so anyone can see it is right.

    python benchmarks/ds_frames.py [--game MiniKart-NintendoDs] [--steps 40]

From the game's default start state, drive ``--steps`` agent steps holding A (frame
skip 4; after 40 the kart is on the top straight, past GO), then write: both raw
screens (desmume), the top screen as the env crops it (MiniKart: the chase view), and
the 84x84 gray frame the policy sees (scaled up 4x, nearest, to be visible), plus the
melonDS top screen for comparison. Files: docs/ds_<name>.png.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import imageio.v3 as iio
import numpy as np

import emurl
from emurl.emulators.process import mp_context

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _frames(game: str, backend: str, steps: int) -> dict:
    env = emurl.make(game, backend=backend, pipeline="atari", max_pool=False)
    try:
        env.reset(seed=0)
        for _ in range(steps):
            obs, *_ = env.step(1)
        base = env.unwrapped
        return {"raw": base.emulator.screen(), "obs": np.asarray(obs)}
    finally:
        env.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--game", default="MiniKart-NintendoDs")
    ap.add_argument("--steps", type=int, default=40)
    args = ap.parse_args()
    with mp_context().Pool(1, maxtasksperchild=1) as pool:  # one emulator per process
        d = pool.apply(_frames, (args.game, "desmume", args.steps))
        m = pool.apply(_frames, (args.game, "melonds", args.steps))
    DOCS.mkdir(exist_ok=True)
    out = {
        "ds_raw_both_screens_desmume.png": d["raw"],
        "ds_top_screen_desmume.png": d["raw"][:192],
        "ds_top_screen_melonds.png": m["raw"],
        "ds_obs_84x84_x4.png": np.kron(d["obs"][-1], np.ones((4, 4), np.uint8)),
    }
    for name, img in out.items():
        iio.imwrite(DOCS / name, img)
        print(DOCS / name, img.shape)


if __name__ == "__main__":
    main()
