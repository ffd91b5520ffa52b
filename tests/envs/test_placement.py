"""Placement actions and the greedy opponent on MiniDoc-Nes (the real emulator): the planner
lands every placement its mask allows, exactly; the checkers; MaskablePPO; the greedy
opponent. Pure logic on hand-built boards: tests/games/test_drmario_placement.py."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import emurl
from emurl.errors import ConfigError
from emurl.games.drmario.board import board, capsule_cells
from emurl.games.drmario.placement import VALID, placement_index, placement_of
from emurl.wrappers.placement import PlacementActions

GAME = "MiniDoc-Nes"


class FrameLog(gym.Wrapper):
    """Keeps every frame's info (the placement wrapper steps its env once a frame)."""

    def __init__(self, env):
        super().__init__(env)
        self.infos: list[dict] = []

    def step(self, action):
        out = self.env.step(action)
        self.infos.append(out[4])
        return out


def lock_frame(infos, before: np.ndarray):
    """The playfield of the frame the capsule locked (the first whose cells filled), or None."""
    prev = before
    for info in infos:
        tiles = board(info["playfield_p1"])
        if ((prev == 0xFF) & (tiles != 0xFF)).any():
            return prev, tiles
        prev = tiles
    return None


@pytest.mark.parametrize("state, opponent", [("2P_L0_Low", "random"), ("2P_L5_Med", "greedy")])
def test_the_planner_lands_every_placement_the_mask_allows(state, opponent):
    """Over seeded games, from a savestate at each new capsule, every placement the mask
    allows is pressed out and must lock exactly there: the capsule's colours in the cells
    of that column, rotation and landing row (flashing if it cleared), and nothing else
    filled below the top row (garbage falls there). The game skips frames now and then
    (a long frame of the other seat): the wrapper plans again from where the piece is."""
    log = FrameLog(emurl.make(GAME, state=state, action_set="frame", frame_skip=1, opponent=opponent,
                              obs_type="ram", render_mode=None))
    env = PlacementActions(log)
    rng = np.random.default_rng(0)
    checked, wrong = 0, []
    try:
        for seed in range(3):
            env.reset(seed=seed)
            for piece in range(5):
                saved = env.get_state()
                mask = env.set_state(saved)
                assert mask.any() and not mask[~VALID].any()
                values, found = env._values, env.placements.search(env._values, 0)
                assert (found.mask == mask).all()
                colours = (values["capsule_left_p1"], values["capsule_right_p1"])
                before = board(values["playfield_p1"]).copy()
                for p in np.flatnonzero(mask):
                    env.set_state(saved)
                    log.infos = []
                    _, _, terminated, _, info = env.step(p)
                    landing = found.landings[p]
                    cap = capsule_cells(landing.column, landing.y, landing.rotation, *colours)
                    frame = lock_frame(log.infos, before)
                    checked += 1
                    if frame is None:
                        wrong.append((seed, piece, placement_of(p), "no lock", terminated))
                        continue
                    prev, tiles = frame
                    filled = {tuple(c) for c in np.argwhere((prev == 0xFF) & (tiles != 0xFF))}
                    cells = [(c, k) for c, k in ((cap.first, colours[0]), (cap.second, colours[1])) if c is not None]
                    ok = all(c in filled and int(tiles[c]) & 0x0F == k for c, k in cells)
                    ok = ok and {c for c in filled if c[0] > 0} <= {c for c, _ in cells}
                    if not ok:
                        wrong.append((seed, piece, placement_of(p), sorted(filled), cells))
                env.set_state(saved)
                _, _, terminated, truncated, _ = env.step(rng.choice(np.flatnonzero(mask)))
                if terminated or truncated:
                    break
    finally:
        env.close()
    assert checked > 200 and not wrong, wrong[:5]


def test_a_forbidden_placement_drops_the_capsule_where_it_is():
    env = emurl.make(GAME, action_set="placement", opponent="random", obs_type="ram", render_mode=None)
    try:
        _, info = env.reset(seed=3)
        assert not info["action_mask"][placement_index(7, 0)]  # horizontal in column 7: never
        _, _, _, _, info = env.step(placement_index(7, 0))
        tiles = board(info["playfield_p1"])
        # the capsule spawned at column 3, rotation 0: it lies there now, on the bottom or the stack
        row = int(np.flatnonzero(tiles[:, 3] != 0xFF)[0])
        assert tiles[row, 3] >> 4 in (0x6, 0xB) and tiles[row, 4] >> 4 in (0x7, 0xB)
    finally:
        env.close()


def test_the_placement_env_passes_the_checkers_and_masks():
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = emurl.make(GAME, action_set="placement", opponent="greedy", obs_type="features", max_episode_steps=15)
    try:
        assert env.action_space == gym.spaces.Discrete(32)
        _, info = env.reset(seed=0)
        mask = env.get_wrapper_attr("action_masks")()
        assert mask.dtype == bool and mask.shape == (32,) and (mask == info["action_mask"]).all()
        check_env(env, skip_render_check=True)
        sb3_check_env(env, warn=False)
    finally:
        env.close()


def test_maskable_ppo_trains_on_placements():
    from sb3_contrib import MaskablePPO
    from sb3_contrib.common.maskable.utils import get_action_masks

    env = emurl.make(GAME, action_set="placement", opponent="random", obs_type="features", max_episode_steps=30)
    try:
        model = MaskablePPO("MultiInputPolicy", env, n_steps=64, batch_size=32, n_epochs=1, seed=0, device="cpu")
        model.learn(192)
        obs, _ = env.reset(seed=1)
        masks = get_action_masks(model.get_env())
        assert masks.shape == (1, 32)
        action, _ = model.predict(obs, action_masks=env.get_wrapper_attr("action_masks")(), deterministic=True)
        assert env.get_wrapper_attr("action_masks")()[int(action)]
    finally:
        env.close()


def test_the_greedy_opponent_beats_a_random_player():
    wins = 0
    for seed in range(3):
        env = emurl.make(GAME, action_set="frame", frame_skip=1, opponent="greedy", obs_type="ram", render_mode=None)
        try:
            env.reset(seed=seed)
            rng = np.random.default_rng(seed)
            for _ in range(30_000):
                _, _, terminated, truncated, info = env.step(int(rng.integers(12)))
                if terminated or truncated:
                    break
            wins += info["end"] in ("loss", "top-out")
        finally:
            env.close()
    assert wins == 3


def test_placement_and_greedy_need_a_game_that_declares_them():
    with pytest.raises(ConfigError, match="frame_skip=1"):
        emurl.make(GAME, opponent="greedy", action_set="frame")  # frame_skip 4
    with pytest.raises(ConfigError, match="Airstriker-Genesis.*placement"):
        emurl.make("Airstriker-Genesis", action_set="placement")
