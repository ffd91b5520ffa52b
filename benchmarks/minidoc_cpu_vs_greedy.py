"""MiniDoc-Nes's in-ROM CPU player 2 (the distilled tree in 6502 code, menu "P2 CPU") against
the greedy Python player on P1, next to the Python tree player in the same seat.

Usage::

    .venv/bin/python benchmarks/minidoc_cpu_vs_greedy.py [--games 100] [--seed 0]

Each game g starts from seed ``seed + g`` (the virus layout and capsules, MiniDoc's RNG
bytes), P1 the greedy player (``emurl.games.drmario.greedy``) through
:class:`~emurl.wrappers.placement.PlacementOpponent` on the frame-level two-seat env:

- **ROM CPU**: start state ``2PCPU_L0_Low``: P2 is played by the ROM itself (its controller
  port is ignored; Python presses nothing there).
- **Python tree**: start state ``2P_L0_Low`` (the same menus with P2 human), P2 the Python
  tree player (``emurl.train.distill.tree.Tree.act`` on the seat's tree features, the
  shipped ``homebrew/minidoc/tree/tree.json``), pressing P2's buttons.

The seats cannot swap: the ROM's CPU only plays P2, so both are measured as P2 against a
greedy P1 on the same seeds. Prints P2's wins / losses / draws and win rate (a draw counts
half) with a Wilson 95 % interval, for each, and the wall time; and, for the ROM, how many of
its decisions differed from the Python tree player's on the same board and capsule (read
from RAM on the capsule's first frame under control; 0 expected).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from emurl.envs import EnvSpec
from emurl.games.drmario.placement import Falling, search
from emurl.games.drmario.tree_features import placement_features
from emurl.train.distill.report import TreeMatch
from emurl.train.distill.tree import Tree
from emurl.train.selfplay.match import MAX_FRAMES, RESULT
from emurl.train.selfplay.ratings import wilson
from emurl.wrappers.placement import PlacementOpponent

TREE = Path(__file__).resolve().parents[1] / "homebrew" / "minidoc" / "tree" / "tree.json"


class RomCheck:
    """The ROM CPU's decisions (0x03A8-0x03AD, MiniDoc-Nes's MEMORY.md) against the Python tree
    player's on the same board and capsule, read from RAM on each P2 capsule's first frame."""

    def __init__(self, emu, tree: Tree):
        self.emu, self.tree = emu, tree
        self.want: dict = {}
        self.count = self.piece = None
        self.decisions = self.mismatches = 0

    def rd(self, address: int) -> int:
        return self.emu.read_bytes(address, 1)[0]

    def frame(self) -> None:
        rd = self.rd
        placed = rd(0x03A7)
        if rd(0x0387) == 0 and placed != self.piece:
            self.piece = placed
            tiles = np.frombuffer(self.emu.read_bytes(0x0500, 128), np.uint8).copy()
            falling = Falling(rd(0x0385), rd(0x0386), rd(0x03A5) & 3, rd(0x0392), rd(0x038F), rd(0x00F8), rd(0x038C))
            x = placement_features(tiles, rd(0x0381), rd(0x0382))
            best = self.tree.act(x, search(tiles, falling).mask)
            self.want[placed] = (best, self.tree.score_one(x[best]))
        if self.count is None:
            self.count = rd(0x03AB)
        elif rd(0x03AB) != self.count:
            self.count = rd(0x03AB)
            self.decisions += 1
            self.mismatches += (rd(0x03A8) * 4 + rd(0x03A9), rd(0x03AA)) != self.want.get(rd(0x03AD))


def play(match: TreeMatch, p2: str, seed: int, check: RomCheck | None = None) -> float:
    """P2's score in one game (1 win, 0 loss, 0.5 draw); ``p2``: ``"rom"`` or ``"tree"``."""
    env = match.env
    p1 = PlacementOpponent(env, 0)
    if p2 == "rom":
        noop = next(i for i, c in enumerate(env.unwrapped.combos) if not c)

        def second(obs, info):
            return noop
    else:
        second = match._player("tree", 1)
    _, info = env.reset(seed=seed)
    if check is not None:
        check.count = check.piece = None
    for _ in range(MAX_FRAMES):
        if check is not None:
            check.frame()
        _, _, terminated, _, info = env.step((p1(None, info), second(None, info)))
        if terminated:
            return 1.0 - RESULT[info["seats"][0].get("end") or "draw"]
    return 0.5


def run(state: str, p2: str, games: int, seed: int) -> dict:
    spec = EnvSpec(game="MiniDoc-Nes", state=state, action_set="placement", obs_type="features")
    tree = Tree.load(TREE)
    match = TreeMatch(spec, tree)
    check = RomCheck(match.env.unwrapped.emulator, tree) if p2 == "rom" else None
    t0 = time.perf_counter()
    scores = []
    try:
        for g in range(games):
            scores.append(play(match, p2, seed + g, check))
    finally:
        match.close()
    wins, losses = scores.count(1.0), scores.count(0.0)
    rate = sum(scores) / len(scores)
    return {"p2": p2, "games": games, "wins": wins, "losses": losses, "draws": games - wins - losses, "rate": rate,
            "wilson95": list(wilson(sum(scores), games)), "wall_s": time.perf_counter() - t0,
            "decisions": check.decisions if check else None, "mismatches": check.mismatches if check else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--games", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    for state, p2 in (("2PCPU_L0_Low", "rom"), ("2P_L0_Low", "tree")):
        r = run(state, p2, a.games, a.seed)
        lo, hi = r["wilson95"]
        name = "ROM CPU (6502)" if p2 == "rom" else "Python tree"
        print(f"{name:15s} as P2 vs greedy P1: {r['wins']} wins, {r['losses']} losses, {r['draws']} draws of "
              f"{r['games']}: {r['rate']:.3f} [{lo:.3f}, {hi:.3f}]  ({r['wall_s']:.0f} s)")
        if r["decisions"] is not None:
            print(f"  ROM decisions checked against the Python tree player: {r['decisions']}, "
                  f"{r['mismatches']} different")


if __name__ == "__main__":
    main()
