"""A scenario inside the env, on the fake emulator (``tests/fakes.py``): rewards and done are
evaluated on every emulated frame and summed over a step, only the variables the scenario
needs are read, and a Python scenario module decides once a step.

The pure reward/done logic (each op, penalty, nodes) is tested frame by frame in
``tests/games/test_games.py``; here the env's use of it. After a reset: frame 1, ``x`` 64,
``score`` 0, ``lives`` 3, ``bcd`` 0.
"""

from __future__ import annotations

import pytest

from fakes import ADDR

COMBOS = [[], ["A"], ["RIGHT"], ["B"], ["LEFT"], ["UP"]]
NOOP, A, RIGHT, B, LEFT, UP = range(6)


def reward_of(spec):
    return {"reward": {"variables": {"x": spec}}}


@pytest.mark.parametrize(
    "scenario, action, expected",
    [
        (reward_of({"reward": 1.0, "penalty": 2.0}), RIGHT, 4.0),  # delta +1 a frame
        (reward_of({"reward": 1.0, "penalty": 2.0}), LEFT, -8.0),  # delta -1 a frame × penalty 2
        (reward_of({"reward": 1.0}), LEFT, 0.0),  # no penalty: decreases ignored
        (reward_of({"measurement": "absolute", "reward": 1.0}), NOOP, 4 * 64.0),  # the value, each frame
        (reward_of({"measurement": "absolute", "reward": 1.0}), RIGHT, 65.0 + 66 + 67 + 68),
        (reward_of({"measurement": "absolute", "op": "greater-than", "reference": 66, "reward": 5.0}), RIGHT, 10.0),
        ({"reward": {"time": {"reward": -0.5}}}, NOOP, -2.0),  # per frame, not per step
        ({"reward": {"time": {"reward": -0.5}, "variables": {"score": {"reward": 1.0}}}}, A, 2.0),
    ],
)
def test_rewards_are_per_frame_and_summed_over_the_step(fake_env, scenario, action, expected):
    env, _ = fake_env(scenario=scenario, action_set=COMBOS, frame_skip=4)
    env.reset()
    assert env.step(action)[1] == expected


@pytest.mark.parametrize(
    "done, action, frames",
    [
        ({"x": {"op": "greater-or-equal", "reference": 66}}, RIGHT, 2),  # threshold on the value
        ({"x": {"op": "equal", "reference": 62}}, LEFT, 2),
        ({"score": {"measurement": "delta", "op": "positive"}}, A, 1),  # on the change
        ({"lives": {"op": "less-than", "reference": 2}}, B, 2),
    ],
)
def test_done_is_checked_on_every_frame(fake_env, done, action, frames):
    env, emu = fake_env(scenario={"done": {"variables": done}}, action_set=COMBOS, frame_skip=4)
    env.reset()
    before = emu.frames_run
    _, _, terminated, truncated, _ = env.step(action)
    assert (terminated, truncated) == (True, False)
    assert emu.frames_run - before == frames


def test_done_all_needs_every_test(fake_env):
    done = {"condition": "all", "variables": {"x": {"op": "greater-than", "reference": 64}, "score": {"op": "positive"}}}
    env, _ = fake_env(scenario={"done": done}, action_set=COMBOS, frame_skip=2)
    env.reset()
    assert not env.step(RIGHT)[2]  # x > 64 but no score
    assert not env.step(LEFT)[2]
    assert not env.step(A)[2]  # score but x == 64
    assert env.step(RIGHT)[2]


def test_no_done_never_terminates(fake_env):
    env, emu = fake_env(scenario={"reward": {"variables": {"score": {"reward": 1.0}}}}, action_set=COMBOS, frame_skip=4)
    env.reset()
    assert not any(env.step(B)[2] for _ in range(5))
    assert emu.peek("lives") == 0


def test_bcd_variable_counts_in_decimal(fake_env):
    env, emu = fake_env(scenario={"reward": {"variables": {"bcd": {"reward": 1.0}}}}, action_set=COMBOS, frame_skip=6)
    env.reset()
    rewards = [env.step(UP)[1] for _ in range(2)]
    assert rewards == [6.0, 6.0]  # 0..6, 6..12: a binary read would jump from 0x09 to 0x10 (+7)
    assert emu.ram()[ADDR["bcd"] + 1] == 0x12 and env.step(NOOP)[4] == {"bcd": 12}


def test_only_the_variables_the_scenario_needs_are_read(fake_env):
    env, emu = fake_env(action_set=COMBOS, frame_skip=4)  # reward: score; done: lives
    env.reset()
    emu.reads.clear()
    _, _, _, _, info = env.step(A)
    assert emu.reads == {ADDR["score"]: 4, ADDR["lives"]: 4}  # once a frame each, nothing else
    assert info == {"score": 4, "lives": 3}


def test_info_adds_variables_to_the_step_info(fake_env):
    scenario = {"reward": {"variables": {"score": {"reward": 1.0}}}, "info": ["x", "frame"]}
    env, emu = fake_env(scenario=scenario, action_set=COMBOS, frame_skip=4)
    assert env.info_type.__annotations__ == {"score": int, "x": int, "frame": int}
    _, info = env.reset()
    assert info == {"score": 0, "x": 64, "frame": 1}
    assert env.step(RIGHT)[4] == {"score": 0, "x": 68, "frame": 5}
    assert set(emu.reads) == {ADDR["score"], ADDR["x"], ADDR["frame"]}


def test_variables_observation_reads_every_variable_once_a_step(fake_env):
    env, emu = fake_env(obs_type="variables", action_set=COMBOS, frame_skip=4)
    env.reset()
    emu.reads.clear()
    env.step(NOOP)
    assert emu.reads == {ADDR["score"]: 5, ADDR["lives"]: 5, ADDR["frame"]: 1, ADDR["x"]: 1, ADDR["bcd"]: 1}


DOT_PY = '''
class Dot:
    """Reward: how far x is from where the episode started; ends at x >= 70."""

    def reset(self, variables):
        self.start = variables["x"]

    def reward(self, variables):
        return variables["x"] - self.start

    def terminated(self, variables):
        return variables["x"] >= 70

    def info(self, variables):
        return {"moved": variables["x"] - self.start}
'''


def test_python_scenario_decides_once_a_step(fake_env):
    scenario = {"python": "dot.py:Dot"}
    env, emu = fake_env(scenario=scenario, files={"dot.py": DOT_PY}, action_set=COMBOS, frame_skip=4)
    env.reset()
    before = emu.frames_run
    steps = [env.step(RIGHT) for _ in range(2)]
    assert [s[1] for s in steps] == [4.0, 8.0]  # its reward at the step's end, not a per-frame sum
    assert [s[2] for s in steps] == [False, True] and emu.frames_run - before == 8  # no early end
    assert steps[1][4]["moved"] == 8 and steps[1][4]["lives"] == 3  # it reads every variable
    env.reset()
    assert env.step(LEFT)[1] == -4.0  # reset() restarted it
