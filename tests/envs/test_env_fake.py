"""EmulatorEnv's own logic on the in-memory fake emulator (``tests/fakes.py``): no ROM, fast.

Frame skip, early end of a step, max-pool, terminated vs truncated, observation types,
action sets, start states, savestates, seams. Every expected number follows from the fake
game's rules (fakes.py's docstring): after a reset the frame counter is 1, ``x`` 64,
``score`` 0, ``lives`` 3; A adds 1 to ``score`` per frame, B takes a life per frame, RIGHT /
LEFT move ``x`` by 1 per frame, and the green sprite flickers between rows 10 and 20.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import emurl
from emurl.emulators import EmulatorWrapper
from emurl.errors import IntegrationError, UnknownStateError
from fakes import ADDR, FLICKER_ROWS, GAME, FakeEmulator, write_integration

COMBOS = [[], ["A"], ["RIGHT"], ["B"], ["A", "B"], ["LEFT"]]
NOOP, A, RIGHT, B, AB, LEFT = range(6)


def green_rows(obs) -> list[int]:
    return [int(r) for r in np.flatnonzero(obs[:, :, 1].max(axis=1) == 255)]


def red_columns(obs) -> list[int]:
    return [int(c) for c in np.flatnonzero(obs[:, :, 0].max(axis=0) == 255)]


# -- frame skip -----------------------------------------------------------------------------


@pytest.mark.parametrize("frame_skip", [1, 4])
def test_frame_skip_holds_the_action_and_sums_the_rewards(fake_env, frame_skip):
    env, emu = fake_env(action_set=COMBOS, frame_skip=frame_skip)
    _, info = env.reset(seed=0)
    assert info == {"score": 0, "lives": 3} and emu.peek("frame") == 1
    before = emu.frames_run
    _, reward, terminated, truncated, info = env.step(A)
    assert emu.frames_run - before == frame_skip
    assert reward == float(frame_skip) and info["score"] == frame_skip  # +1 per frame, summed
    assert (terminated, truncated) == (False, False)
    env.step(RIGHT)
    assert emu.peek("x") == 64 + frame_skip and emu.peek("frame") == 1 + 2 * frame_skip
    _, reward, *_ = env.step(RIGHT)
    assert reward == 0.0


def test_step_ends_early_on_the_frame_the_episode_ends(fake_env):
    env, emu = fake_env(action_set=COMBOS, frame_skip=4)
    env.reset()
    before = emu.frames_run
    _, reward, terminated, truncated, info = env.step(AB)  # lives 3 → 0 on the 3rd frame
    assert (terminated, truncated) == (True, False)
    assert emu.frames_run - before == 3 and info == {"score": 3, "lives": 0}
    assert reward == 3.0  # the 4th frame's point is not played
    with pytest.raises(gym.error.ResetNeeded):
        env.step(NOOP)
    _, info = env.reset(options={"state": "LastLife"})
    assert info["lives"] == 1
    before = emu.frames_run
    _, reward, terminated, *_ = env.step(AB)
    assert terminated and reward == 1.0 and emu.frames_run - before == 1


def test_step_before_reset_is_refused(fake_env):
    env, _ = fake_env()
    with pytest.raises(gym.error.ResetNeeded):
        env.step(0)


# -- max-pool ---------------------------------------------------------------------------------


def test_max_pool_is_the_max_of_the_last_two_frames(fake_env):
    env, emu = fake_env(action_set=COMBOS, frame_skip=4)
    obs, _ = env.reset()
    assert green_rows(obs) == [FLICKER_ROWS[1]]  # frame 1: one screen, no pooling at reset
    taken = emu.screens_taken
    obs, *_ = env.step(RIGHT)  # frames 2..5: x 65..68; pooled: frames 4 and 5
    assert emu.screens_taken - taken == 2  # only those two screens are read
    assert green_rows(obs) == sorted(FLICKER_ROWS)
    assert red_columns(obs) == [67, 68]
    np.testing.assert_array_equal(env.render(), emu.screen())  # render: the last frame, not the pool


def test_without_max_pool_the_observation_is_the_last_frame(fake_env):
    env, emu = fake_env(action_set=COMBOS, frame_skip=4, max_pool=False)
    env.reset()
    taken = emu.screens_taken
    obs, *_ = env.step(RIGHT)
    assert emu.screens_taken - taken == 1
    assert green_rows(obs) == [FLICKER_ROWS[5 % 2]] and red_columns(obs) == [68]


def test_no_max_pool_on_a_step_cut_short(fake_env):
    env, _ = fake_env(action_set=COMBOS, frame_skip=4)
    env.reset()
    obs, _, terminated, *_ = env.step(B)  # ends on frame 4 (the step's 3rd): nothing to pool with
    assert terminated and green_rows(obs) == [FLICKER_ROWS[4 % 2]]


def test_no_screen_is_read_for_memory_observations(fake_env):
    env, emu = fake_env(obs_type="ram", frame_skip=4, render_mode=None)
    env.reset()
    taken = emu.screens_taken
    for _ in range(3):
        env.step(0)
    assert emu.screens_taken == taken


# -- terminated vs truncated ----------------------------------------------------------------


def test_time_limit_truncates_and_the_scenario_terminates(tmp_path):
    root = str(write_integration(tmp_path))
    env = emurl.make(GAME, emulator=FakeEmulator(), game_path=root, frame_skip=1, max_episode_steps=3, action_set=COMBOS)
    try:
        env.reset()
        flags = [env.step(NOOP)[2:4] for _ in range(3)]
        assert flags == [(False, False), (False, False), (False, True)]
        env.reset()
        flags = [env.step(B)[2:4] for _ in range(3)]  # 3 lives, one a step: ends as the limit hits
        assert flags[-1] == (True, True) and flags[:2] == [(False, False)] * 2
    finally:
        env.close()
    env = emurl.make(GAME, emulator=FakeEmulator(), game_path=root, frame_skip=1, max_episode_steps=5, action_set=COMBOS)
    try:
        env.reset()
        assert [env.step(B)[2:4] for _ in range(3)][-1] == (True, False)
    finally:
        env.close()


def test_env_spec_builds_the_time_limit_around_the_given_emulator(tmp_path):
    from emurl.envs.spec import EnvSpec, build_env

    emu = FakeEmulator()
    spec = EnvSpec(GAME, game_path=str(write_integration(tmp_path)), frame_skip=2, max_episode_steps=2)
    env = build_env(spec, emulator=emu)
    try:
        assert env.unwrapped.emulator is emu
        env.reset()
        assert [env.step(0)[3] for _ in range(2)] == [False, True]
        assert emu.peek("frame") == 1 + 2 * 2
    finally:
        env.close()
    assert emu.closed


# -- observations -----------------------------------------------------------------------------


def test_observation_types(fake_env):
    env, emu = fake_env(obs_type="variables", action_set=COMBOS, frame_skip=2)
    assert env.observation_space == gym.spaces.Box(-np.inf, np.inf, (5,), np.float32)
    env.reset()
    obs, *_ = env.step(A)
    assert obs.dtype == np.float32
    assert obs.tolist() == [3, 64, 2, 3, 0]  # frame, x, score, lives, bcd: data.json's order
    env, emu = fake_env(obs_type="ram", action_set=COMBOS, frame_skip=2)
    assert env.observation_space == gym.spaces.Box(0, 255, (64,), np.uint8)
    env.reset()
    obs, *_ = env.step(RIGHT)
    np.testing.assert_array_equal(obs, emu.ram())
    assert obs[ADDR["x"]] == 66


def test_scenario_crop(fake_env):
    env, emu = fake_env(scenario={"done": {"variables": {"lives": {"op": "zero"}}}, "crop": [8, 4, 64, 32]}, frame_skip=1)
    assert env.observation_space.shape == (32, 64, 3)
    obs, _ = env.reset()
    np.testing.assert_array_equal(obs, emu.screen()[4:36, 8:72])


def test_render_without_render_mode_is_none(fake_env):
    env, _ = fake_env(render_mode=None)
    env.reset()
    assert env.render() is None


def test_gymnasium_and_sb3_check_the_env(fake_env):
    env, _ = fake_env(frame_skip=4)
    gym_check_env(env, skip_render_check=True)
    sb3_check_env(env, warn=False)


# -- action sets ------------------------------------------------------------------------------


def test_discrete_is_every_combination_of_the_core_groups_in_stable_retro_order(fake_env):
    env, emu = fake_env(action_set="discrete", frame_skip=1)
    # groups ordered by the union of their masks (B=bit 0 ... RIGHT=bit 7): A/B, UP/DOWN, LEFT/RIGHT
    assert env.action_space == gym.spaces.Discrete(4 * 3 * 3)
    assert env.combos[:5] == [[], ["B"], ["A"], ["B", "A"], ["UP"]]
    assert env.combos[12] == ["LEFT"] and env.combos[35] == ["B", "A", "DOWN", "RIGHT"]
    assert env.action_table.shape == (36, 8) and env.action_table.dtype == np.uint8
    assert not env.action_table[:, 2:4].any()  # SELECT and START are in no group
    env.reset()
    env.step(12)
    assert emu.peek("x") == 63


def test_multi_discrete_picks_one_combo_per_group(fake_env):
    env, _ = fake_env(action_set="multi_discrete")
    assert env.action_space == gym.spaces.MultiDiscrete([4, 3, 3])
    assert env.action_meaning(np.array([2, 1, 2])) == ["A", "UP", "RIGHT"]
    assert env.action_meaning(np.array([3, 0, 1])) == ["B", "A", "LEFT"]


def test_filtered_drops_combos_outside_the_groups(fake_env):
    env, _ = fake_env(action_set="filtered")
    assert env.action_space == gym.spaces.MultiBinary(8)
    pressed = np.array([0, 1, 1, 0, 1, 1, 0, 1], np.int8)  # A, SELECT, UP+DOWN, RIGHT
    assert env.action_meaning(pressed) == ["A", "RIGHT"]
    env, _ = fake_env(action_set="all")
    assert env.action_meaning(pressed) == ["A", "SELECT", "UP", "DOWN", "RIGHT"]


def test_named_action_set_and_the_scenarios_default(fake_env):
    env, emu = fake_env(action_set="steer", frame_skip=4)
    assert env.action_space == gym.spaces.Discrete(4)
    assert [env.action_meaning(a) for a in range(4)] == [[], ["LEFT"], ["RIGHT"], ["A", "RIGHT"]]
    env.reset()
    _, reward, *_ = env.step(3)
    assert reward == 4.0 and emu.peek("x") == 68
    scenario = {"reward": {"variables": {"score": {"reward": 1.0}}}, "action_set": "steer"}
    env, _ = fake_env(scenario=scenario)
    assert env.action_set == "steer" and env.action_space == gym.spaces.Discrete(4)


def test_scenario_actions_replace_the_core_groups(fake_env):
    env, _ = fake_env(scenario={"actions": [[[], ["LEFT"], ["RIGHT"]]]}, action_set="discrete")
    assert env.combos == [[], ["LEFT"], ["RIGHT"]]


def test_action_set_errors_close_the_emulator(fake_env):
    emu = FakeEmulator()
    with pytest.raises(IntegrationError, match="unknown action set 'steeer'"):
        fake_env(action_set="steeer", emulator=emu)
    assert emu.closed
    with pytest.raises(IntegrationError, match="unknown button 'C'"):
        fake_env(action_set=[["A"], ["C"]])
    with pytest.raises(IntegrationError, match="Atari2600 games only"):
        fake_env(action_set="minimal")


# -- start states and savestates --------------------------------------------------------------


def test_named_start_state_for_one_episode(fake_env):
    env, _ = fake_env()
    assert env.reset(options={"state": "LastLife"})[1]["lives"] == 1
    assert env.reset()[1]["lives"] == 3  # the default state again
    with pytest.raises(UnknownStateError, match="LastLife"):
        env.reset(options={"state": "LastLif"})


def test_power_on_without_a_default_state(fake_env):
    env, emu = fake_env(metadata={}, emulator=FakeEmulator(lives=9))
    assert env.state_name is None
    assert env.reset()[1]["lives"] == 9  # the emulator's own power-on RAM


def test_noop_max_is_seeded(fake_env):
    env, emu = fake_env(noop_max=5)

    def start_frame(seed):
        env.reset(seed=seed)
        return emu.peek("frame")

    frames = [start_frame(s) for s in range(20)]
    assert set(frames) <= set(range(1, 7)) and len(set(frames)) > 2
    assert frames == [start_frame(s) for s in range(20)]


def rollout(env, actions):
    out = []
    for a in actions:
        obs, reward, terminated, truncated, info = env.step(a)
        out.append((obs.copy(), reward, terminated, truncated, info))
    return out


def test_get_state_set_state_replays_the_same_trajectory(fake_env):
    env, emu = fake_env(action_set=COMBOS, frame_skip=2)
    env.reset(seed=0)
    rollout(env, [RIGHT, A, RIGHT])
    saved = env.get_state()
    actions = [A, LEFT, LEFT, A, RIGHT, NOOP]
    first = rollout(env, actions)
    assert emu.peek("score") == 6 and emu.peek("x") == 66
    env.set_state(saved)
    second = rollout(env, actions)
    for (o1, *rest1), (o2, *rest2) in zip(first, second):
        np.testing.assert_array_equal(o1, o2)
        assert rest1 == rest2
    assert [r for _, r, *_ in first] == [2.0, 0.0, 0.0, 2.0, 0.0, 0.0]


def test_scenario_deltas_restart_at_reset_and_set_state(fake_env):
    penalised = {"reward": {"variables": {"score": {"reward": 1.0, "penalty": 1.0}}}}
    env, _ = fake_env(scenario=penalised, action_set=COMBOS, frame_skip=2)
    env.reset()
    saved = env.get_state()
    assert env.step(A)[1] == 2.0
    env.reset()  # score back to 0: no -2 on the next step
    assert env.step(NOOP)[1] == 0.0
    env.step(A)
    env.set_state(saved)
    assert env.step(NOOP)[1] == 0.0


def test_set_state_after_the_episode_ended_allows_stepping(fake_env):
    env, _ = fake_env(action_set=COMBOS, frame_skip=4)
    env.reset()
    saved = env.get_state()
    assert env.step(B)[2]
    env.set_state(saved)
    _, reward, terminated, _, info = env.step(A)
    assert (reward, terminated, info["lives"]) == (4.0, False, 3)


# -- seams -------------------------------------------------------------------------------------


class CountButtons(EmulatorWrapper):
    def __init__(self, inner):
        super().__init__(inner)
        self.pressed = []

    def set_buttons(self, pressed, player=0):
        self.pressed.append([int(p) for p in pressed])
        self.inner.set_buttons(pressed, player)


def test_wrap_emulator_sees_every_call_and_unwraps(fake_env):
    env, emu = fake_env(action_set=COMBOS, frame_skip=4)
    env.reset()
    spy = env.wrap_emulator(CountButtons)
    assert env.emulator is spy and spy.unwrapped is emu
    env.step(A)
    assert spy.pressed == [[0, 1, 0, 0, 0, 0, 0, 0]]
    assert emu.peek("score") == 4  # the calls still reach the emulator
    env.unwrap_emulator()
    env.step(A)
    assert env.emulator is emu and len(spy.pressed) == 1
    with pytest.raises(TypeError, match="EmulatorWrapper"):
        env.wrap_emulator(lambda e: e)


class CountScreens(EmulatorWrapper):
    def __init__(self, inner):
        super().__init__(inner)
        self.screens = 0

    def screen(self):
        self.screens += 1
        return self.inner.screen()


def test_observations_go_through_the_wrapper_too(fake_env):
    """The observation reads the screen through whatever wrap_emulator installed (a tracer
    that recorded calls would otherwise miss the screen reads)."""
    env, emu = fake_env(action_set=COMBOS, frame_skip=4, max_pool=True)
    env.reset()
    spy = env.wrap_emulator(CountScreens)
    taken = emu.screens_taken
    env.step(A)
    assert spy.screens == emu.screens_taken - taken == 2  # the last two frames, max-pooled


def test_the_given_emulator_must_run_the_games_system(fake_env):
    emu = FakeEmulator()
    emu.system = "Genesis"
    with pytest.raises(ValueError, match="'Genesis' games; Dot-Fake is a Fake game"):
        fake_env(emulator=emu)


def test_close_closes_the_emulator(fake_env):
    env, emu = fake_env()
    env.close()
    assert emu.closed and env.emulator is None
