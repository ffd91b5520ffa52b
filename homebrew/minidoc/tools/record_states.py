"""Record real MiniDoc-Nes decision states for tests/games/test_minidoc_cpu.py: the seat-0 board,
capsule colours and falling capsule (x, y, rotation, speed counter, gravity, held, das) at each
capsule of placement-env games (greedy against greedy, the start states given), saved as an
.npz (``tiles`` uint8 (N, 128), ``capsule`` uint8 (N, 2), ``falling`` uint8 (N, 7)).

    .venv/bin/python homebrew/minidoc/tools/record_states.py OUT.npz [--states N]
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import emurl
from emurl.wrappers.tree_features import TreeFeaturesInfo

FALLING = ("capsule_x", "capsule_y", "rotation", "speed_counter", "gravity", "held", "das")


def record(n: int, start_states=("2P_L0_Low", "2P_L5_Med"), seed: int = 0) -> dict:
    tiles, capsule, falling = [], [], []
    per = -(-n // len(start_states))
    for state in start_states:
        env = TreeFeaturesInfo(emurl.make("MiniDoc-Nes", state=state, obs_type="features", action_set="placement",
                                          opponent="greedy", render_mode=None))
        got = 0
        try:
            while got < per:
                env.reset(seed=seed)
                seed += 1
                done = False
                while not done and got < per:
                    values = env._values  # the seat's variables at this decision (the wrapper's reader)
                    if int(values["state_p1"]) == 0 and int(values["mode"]) == 4:
                        tiles.append(np.asarray(values["playfield_p1"], np.uint8).reshape(-1))
                        capsule.append([int(values["capsule_left_p1"]), int(values["capsule_right_p1"])])
                        falling.append([int(values[f"{name}_p1"]) for name in FALLING])
                        got += 1
                    action = env.greedy()
                    if action is None:
                        break
                    _, _, terminated, truncated, _ = env.step(action)
                    done = terminated or truncated
        finally:
            env.close()
    return {"tiles": np.array(tiles, np.uint8), "capsule": np.array(capsule, np.uint8),
            "falling": np.array(falling, np.uint8)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--states", type=int, default=1200)
    args = ap.parse_args()
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    data = record(args.states)
    np.savez_compressed(args.out, **data)
    print(f"{args.out}: {len(data['tiles'])} states")


if __name__ == "__main__":
    main()
