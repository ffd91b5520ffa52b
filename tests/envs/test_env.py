"""EmulatorEnv on real emulators: API checks, determinism, savestates, alignment with
stable-retro's RetroEnv, observation types, action sets and emurl's integration extensions.

Games: Airstriker-Genesis (its ROM ships with stable-retro) and the Atari 2600 games whose
ROMs ale-py bundles (imported once per session by the ``atari_roms`` fixture).
"""

from __future__ import annotations

import gc
import json
import math
import shutil
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import stable_retro
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import emurl
from emurl.games import load_integration
from emurl.games.scenario import OPS, ScenarioState, load_scenario
from emurl.games.variables import Variable

GENESIS = "Airstriker-Genesis"
BREAKOUT = "Breakout-Atari2600"
FIRE = {"Genesis": "B", "Atari2600": "BUTTON"}


@pytest.fixture(autouse=True)
def _roms(atari_roms):
    """Every test here may run an Atari game."""


def fire_biased_actions(combos: list[list[str]], fire: str, n: int, seed: int) -> np.ndarray:
    """``n`` seeded random discrete actions, half of them pressing ``fire`` (so games score)."""
    rng = np.random.default_rng(seed)
    with_fire = np.array([a for a, c in enumerate(combos) if fire in c])
    assert len(with_fire), f"no action presses {fire}: {combos}"
    return np.where(rng.random(n) < 0.5, rng.choice(with_fire, n), rng.integers(0, len(combos), n))


def actions_for(env, n: int, seed: int = 0) -> np.ndarray:
    u = env.unwrapped
    return fire_biased_actions(u.combos, FIRE[u.integration.system], n, seed)


def rollout(env, actions) -> list[tuple]:
    """(observation, reward, terminated, info) per step until the episode ends."""
    out = []
    for a in actions:
        obs, reward, terminated, truncated, info = env.step(int(a))
        out.append((obs.copy(), reward, terminated, info))
        if terminated or truncated:
            break
    return out


def assert_same_rollout(a, b):
    assert len(a) == len(b)
    for i, ((o1, r1, t1, i1), (o2, r2, t2, i2)) in enumerate(zip(a, b)):
        assert np.array_equal(o1, o2), f"step {i}: observations differ"
        assert (r1, t1, i1) == (r2, t2, i2), f"step {i}"


# -- Gymnasium / SB3 API checks -----------------------------------------------------------

_EXPECTED_CHECKER_WARNINGS = (
    "not having a spec",  # EmulatorEnv directly: no gym.make, so no alternative render modes
    "infinity",  # obs_type="variables" has unbounded values
)


@pytest.mark.parametrize("game", [GENESIS, BREAKOUT])
@pytest.mark.parametrize(
    "kwargs",
    [{"obs_type": "rgb"}, {"obs_type": "ram"}, {"obs_type": "variables"}, {"pipeline": "atari"}],
    ids=["rgb", "ram", "variables", "atari-pipeline"],
)
def test_env_checkers(game, kwargs, make_env):
    env = make_env(game, **kwargs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gym_check_env(env.unwrapped, skip_render_check=False)
        sb3_check_env(env)
    unexpected = [str(w.message) for w in caught if not any(s in str(w.message) for s in _EXPECTED_CHECKER_WARNINGS)]
    assert not unexpected
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    if kwargs.get("pipeline") == "atari":
        assert env.observation_space.shape == (4, 84, 84)
    elif kwargs["obs_type"] == "ram":
        assert obs.shape == ((65536,) if game == GENESIS else (128,))


# -- determinism ----------------------------------------------------------------------------


@pytest.mark.parametrize("game", [GENESIS, BREAKOUT])
def test_same_state_and_actions_give_same_trajectory(game, make_env):
    env = make_env(game, frame_skip=4)
    actions = actions_for(env, 200, seed=1)

    def run(e):
        obs, info = e.reset(seed=123)
        return [(obs.copy(), 0.0, False, info)] + rollout(e, actions)

    first = run(env)
    second = run(env)  # same env, reset again
    env.close()
    third = run(make_env(game, frame_skip=4))  # a fresh emulator
    assert_same_rollout(first, second)
    assert_same_rollout(first, third)
    assert any(not np.array_equal(first[0][0], step[0]) for step in first[1:]), "the screen never changed"


PADDLE_XFAIL = pytest.mark.xfail(
    strict=True,
    reason="stable-retro's Stella drives Breakout's and Pong's paddles from LEFT/RIGHT (UP/DOWN) with a "
    "key-repeat acceleration that its savestates do not hold: going on live after a held direction "
    "differs from going on after restoring the state saved there (restored runs agree with each "
    "other, and reset() is deterministic). Upstream limitation",
)


@pytest.mark.parametrize("game", [GENESIS, "Seaquest-Atari2600", pytest.param(BREAKOUT, marks=PADDLE_XFAIL)])
def test_clone_roll_restore_roll_again(game, make_env):
    """ALE's test: clone the state, roll out, restore, roll out the same actions again."""
    env = make_env(game, frame_skip=4)
    u = env.unwrapped
    env.reset(seed=0)
    rollout(env, actions_for(env, 20, seed=2))
    state = u.get_state()
    actions = actions_for(env, 100, seed=3)
    first = rollout(env, actions)
    u.set_state(state)
    second = rollout(env, actions)
    assert_same_rollout(first, second)
    assert not np.array_equal(first[0][0], first[-1][0])


@pytest.mark.parametrize("game", [GENESIS, BREAKOUT, "Pong-Atari2600"])
def test_restore_roll_twice(game, make_env):
    env = make_env(game, frame_skip=4)
    u = env.unwrapped
    env.reset(seed=0)
    rollout(env, actions_for(env, 20, seed=2))
    state = u.get_state()
    rollout(env, actions_for(env, 30, seed=12))  # some other history in between
    actions = actions_for(env, 100, seed=3)
    u.set_state(state)
    first = rollout(env, actions)
    rollout(env, [0] * 10)
    u.set_state(state)
    second = rollout(env, actions)
    assert_same_rollout(first, second)
    assert not np.array_equal(first[0][0], first[-1][0])


def test_set_state_after_episode_end_allows_stepping(make_env):
    env = make_env(BREAKOUT, frame_skip=4)
    u = env.unwrapped
    env.reset(seed=0)
    early = u.get_state()
    serve = u.combos.index(["BUTTON"])
    steps = rollout(env, [serve] * 2000)  # serve and never move: Breakout ends by itself
    assert steps[-1][2], "Breakout did not end"
    with pytest.raises(gym.error.ResetNeeded):
        env.step(0)
    u.set_state(early)
    _, reward, terminated, _, info = env.step(0)
    assert (reward, terminated) == (0.0, False)
    assert info["lives"] == 5


# -- savestates -------------------------------------------------------------------------------


def _screen_after_one_frame(u) -> np.ndarray:
    u.emulator.set_buttons(u._zero)
    u.emulator.step()
    return u.emulator.screen()


@pytest.mark.parametrize("game", [GENESIS, BREAKOUT])
def test_savestate_round_trip(game, make_env):
    env = make_env(game, frame_skip=4)
    u, emu = env.unwrapped, env.unwrapped.emulator
    env.reset(seed=0)
    rollout(env, actions_for(env, 30, seed=4))
    state = u.get_state()
    assert isinstance(state, bytes) and len(state) > 0
    ram = emu.ram().copy()
    rollout(env, actions_for(env, 30, seed=5))
    assert not np.array_equal(emu.ram(), ram), "RAM did not change: the round trip would prove nothing"

    u.set_state(state)
    assert np.array_equal(emu.ram(), ram)
    again = u.get_state()
    if game == BREAKOUT:
        assert again == state
    # Whatever the bytes, both states continue identically.
    u.set_state(state)
    from_first = _screen_after_one_frame(u)
    u.set_state(again)
    assert np.array_equal(_screen_after_one_frame(u), from_first)


@pytest.mark.xfail(
    strict=False,
    reason="stable-retro's Genesis Plus GX savestates are padded to 1036288 bytes with memory it "
    "does not initialise (the core writes ~145 KB), so get_state() after load_state() may differ "
    "in those trailing bytes; the state itself (first test) round-trips",
)
def test_genesis_savestate_bytes_round_trip(make_env):
    env = make_env(GENESIS, frame_skip=4)
    u = env.unwrapped
    env.reset(seed=0)
    state = u.get_state()
    for seed in range(6):
        rollout(env, actions_for(env, 10, seed=seed))
        u.set_state(state)
        assert u.get_state() == state


@pytest.mark.xfail(
    strict=True,
    reason="libretro savestates do not hold the frame buffer: after load_state() the emulator's "
    "screen (and EmulatorEnv.render()) still shows the last frame drawn before the load, until the "
    "next emulated frame. Design question: keep the screen with emurl's savestates?",
)
@pytest.mark.parametrize("game", [GENESIS, BREAKOUT])
def test_screen_after_restore_is_the_saved_screen(game, make_env):
    env = make_env(game, frame_skip=4)
    u, emu = env.unwrapped, env.unwrapped.emulator
    env.reset(seed=0)
    rollout(env, actions_for(env, 30, seed=6))
    saved_screen, state = emu.screen().copy(), u.get_state()
    rollout(env, actions_for(env, 30, seed=7))
    assert not np.array_equal(emu.screen(), saved_screen)
    u.set_state(state)
    assert np.array_equal(emu.screen(), saved_screen)


# -- alignment with stable-retro's RetroEnv ------------------------------------------------------

ALIGN_GAMES = [GENESIS, BREAKOUT, "Pong-Atari2600", "Seaquest-Atari2600"]
ALIGN_FRAMES = 600


@pytest.fixture
def retro_custom_path(tmp_path):
    """A stable-retro custom integration folder, so RetroEnv finds the ROMs emurl imported
    (stable-retro itself looks only in site-packages, where emurl never writes)."""
    root = tmp_path / "retro-custom"
    root.mkdir()
    stable_retro.data.Integrations.add_custom_path(str(root))
    yield root
    stable_retro.data.Integrations.CUSTOM_PATHS.remove(str(root))


def record_retro_env(game: str, root: Path, frame_skip: int, seed: int):
    """Play ``game`` in stable-retro's RetroEnv with fire-biased random discrete actions
    (each held ``frame_skip`` frames), then close it. Returns the frame actions, the reset
    observation and per-frame (observation, reward, terminated, info)."""
    integ = load_integration(game)
    folder = root / f"{game}-v0"
    shutil.copytree(integ.folder, folder)
    rom = Path(integ.require_rom())
    shutil.copy(rom, folder / rom.name)
    env = stable_retro.RetroEnv(
        f"{game}-v0",
        render_mode="rgb_array",
        use_restricted_actions=stable_retro.Actions.DISCRETE,
        inttype=stable_retro.data.Integrations.CUSTOM_ONLY,
    )
    try:
        combos = [
            [b for b, pressed in zip(env.buttons, env.action_to_array(a)[0]) if pressed]
            for a in range(env.action_space.n)
        ]
        agent_actions = fire_biased_actions(combos, FIRE[integ.system], ALIGN_FRAMES // frame_skip, seed)
        actions = np.repeat(agent_actions, frame_skip)
        obs0, _ = env.reset(seed=0)
        frames = []
        for a in actions:
            obs, reward, terminated, truncated, info = env.step(int(a))
            frames.append((obs.copy(), float(reward), bool(terminated), dict(info)))
            if terminated:
                break
    finally:
        env.close()
        del env
        gc.collect()
    return agent_actions, obs0, frames


@pytest.mark.parametrize("frame_skip", [1, 4])
@pytest.mark.parametrize("game", ALIGN_GAMES)
def test_aligned_with_retro_env(game, frame_skip, retro_custom_path, make_env):
    # seed 19: every game here scores (or concedes) within 600 frames, at both frame skips
    agent_actions, ref_obs0, ref = record_retro_env(game, retro_custom_path, frame_skip, seed=19)
    assert any(r != 0 for _, r, _, _ in ref), "no reward happened: pick another seed or policy"

    env = make_env(game, frame_skip=frame_skip, action_set="discrete")
    assert env.action_space.n == len(set(map(tuple, env.unwrapped.combos)))
    obs, info = env.reset(seed=0)
    assert np.array_equal(obs, ref_obs0)

    t = 0  # index into the reference frames
    for step, a in enumerate(agent_actions):
        chunk = ref[t : t + frame_skip]
        t += frame_skip
        if frame_skip > 1:  # the env ends a step early when the episode does
            ends = [i for i, (_, _, done, _) in enumerate(chunk) if done]
            chunk = chunk[: ends[0] + 1] if ends else chunk
        obs, reward, terminated, _, info = env.step(int(a))
        ref_obs = chunk[-1][0]
        if len(chunk) == frame_skip > 1:  # max of the last two frames (max_pool)
            ref_obs = np.maximum(chunk[-2][0], chunk[-1][0])
        where = f"{game} step {step} (frame {t})"
        assert np.array_equal(obs, ref_obs), f"{where}: observation differs"
        assert math.isclose(reward, sum(r for _, r, _, _ in chunk), rel_tol=1e-6, abs_tol=1e-6), where
        assert terminated == chunk[-1][2], where
        ref_info = chunk[-1][3]
        assert info and set(info) <= set(ref_info)
        assert {k: ref_info[k] for k in info} == info, where
        if terminated:
            break
    assert t >= len(ref), "our env stopped before RetroEnv did"


# -- scenario semantics against stable-retro's own C++ scenario ------------------------------------

SCENARIOS = {
    "delta-reward-penalty-time": {
        "reward": {
            "variables": {
                "a": {"reward": 2.0, "penalty": 0.5},
                "b": {"measurement": "absolute", "op": "greater-than", "reference": 2, "reward": 3.0},
            },
            "time": {"reward": -0.25},
        },
        "done": {"variables": {"a": {"op": "greater-or-equal", "reference": 10}}},
    },
    "nested-all-any": {
        "reward": {"variables": {"c": {"op": "sign", "reward": 1.5, "penalty": 4.0}}},
        "done": {
            "condition": "all",
            "variables": {"a": {"op": "positive"}},
            "nodes": {
                "n": {
                    "variables": {
                        "b": {"op": "equal", "reference": 3},
                        "c": {"measurement": "delta", "op": "negative"},
                    }
                }
            },
        },
    },
}
# Every op once, as a reward and as an "any" done test.
for _op in OPS:
    SCENARIOS[f"op-{_op}"] = {
        "reward": {"variables": {"a": {"op": _op, "reference": 2, "reward": 1.0, "penalty": 2.0, "measurement": "absolute"}}},
        "done": {"variables": {"b": {"op": _op, "reference": -1}}},
    }


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario_matches_stable_retro(name, make_env, tmp_path):
    """Script variable values into RAM and compare ScenarioState with stable-retro's GameData."""
    env = make_env(GENESIS)
    env.reset(seed=0)
    emu = env.unwrapped.emulator
    gd = emu.game_data
    address = {"a": 0xFFE000, "b": 0xFFE002, "c": 0xFFE004}
    data_file, scen_file = tmp_path / "data.json", tmp_path / "scenario.json"
    data_file.write_text(json.dumps({"info": {k: {"address": v, "type": ">i2"} for k, v in address.items()}}))
    scen_file.write_text(json.dumps(SCENARIOS[name]))
    assert gd.load(str(data_file), str(scen_file))
    ours = ScenarioState(load_scenario(str(scen_file), set(address)))

    rng = np.random.default_rng(0)
    sequence = rng.integers(-4, 12, size=(60, 3))
    sequence[10:20] = [3, 3, 3]  # some repeats: zero deltas, equal ops

    def write(values):
        for k, v in zip("abc", values):
            emu.write(address[k], ">i2", int(v))
        return dict(zip("abc", map(int, values)))

    values = write(sequence[0])
    gd.reset()
    gd.update_ram()
    ours.reset(values)
    rewards = dones = 0
    for i, row in enumerate(sequence[1:]):
        values = write(row)
        gd.update_ram()
        assert gd.lookup_all() == values
        reward, done = ours.update(values)
        assert reward == pytest.approx(gd.current_reward(), rel=1e-6, abs=1e-6), f"frame {i}: {values}"
        assert done == gd.is_done(), f"frame {i}: {values}"
        rewards += reward != 0
        dones += done
    assert rewards or dones  # the scenario did something on this sequence


# -- observation types -------------------------------------------------------------------------


@pytest.mark.parametrize("game", [GENESIS, "Pong-Atari2600"])
def test_variables_observation(game, make_env):
    env = make_env(game, obs_type="variables", frame_skip=4)
    u = env.unwrapped
    names = list(json.loads((u.integration.folder / "data.json").read_text())["info"])
    assert env.observation_space.shape == (len(names),)
    assert env.observation_space.dtype == np.float32
    obs, info = env.reset(seed=0)
    for obs, _, _, info in [(obs, 0, False, info)] + rollout(env, actions_for(env, 100, seed=8)):
        assert obs.dtype == np.float32 and obs.shape == (len(names),)
        assert info and set(info) <= set(names)
        for k, v in info.items():
            assert obs[names.index(k)] == np.float32(v), k
    # every variable, not only those in info, is the live value in data.json order
    expected = [u.integration.variables[n].read(u.emulator) for n in names]
    assert np.array_equal(obs, np.array(expected, np.float32))
    assert np.any(obs != 0)


# -- action sets --------------------------------------------------------------------------------


@pytest.mark.parametrize("game", [GENESIS, BREAKOUT])
def test_discrete_actions_cover_the_core_groups(game, make_env):
    env = make_env(game, action_set="discrete")
    u = env.unwrapped
    groups = stable_retro.get_system_info(u.integration.system)["actions"]
    assert env.action_space.n == math.prod(len(g) for g in groups)
    assert len({tuple(sorted(c)) for c in u.combos}) == env.action_space.n
    assert u.action_meaning(0) == []
    for a in range(env.action_space.n):
        assert u.action_meaning(a) == u.combos[a]


def test_named_action_set(user_game, make_env):
    root = user_game(data=lambda d: {**d, "action_sets": {"fire": [[], ["B"], ["B", "LEFT"]]}})
    env = make_env("MyAir-Genesis", game_path=str(root), action_set="fire", frame_skip=4)
    u = env.unwrapped
    assert env.action_space == gym.spaces.Discrete(3)
    assert [u.action_meaning(a) for a in range(3)] == [[], ["B"], ["B", "LEFT"]]

    def frames(action):
        env.reset(seed=0)
        return [o for o, *_ in rollout(env, [action] * 40)]

    idle, fire, fire_left = frames(0), frames(1), frames(2)
    assert not all(np.array_equal(x, y) for x, y in zip(idle, fire)), "pressing B changed nothing"
    assert not all(np.array_equal(x, y) for x, y in zip(fire, fire_left)), "LEFT changed nothing"


def test_scenario_picks_default_action_set(user_game, make_env):
    root = user_game(
        data=lambda d: {**d, "action_sets": {"fire": [[], ["B"]]}},
        scenario=lambda s: {**s, "action_set": "fire"},
    )
    env = make_env("MyAir-Genesis", game_path=str(root))
    assert env.action_space == gym.spaces.Discrete(2)
    assert env.unwrapped.action_meaning(1) == ["B"]


# -- emurl's variable extensions on the real emulator ---------------------------------------------

EXTENDED_VARIABLES = {
    "score_hex": {"address": "0xFF024E", "type": ">u4"},
    "chained": {"address": "0xFFE000", "type": ">u2", "pointer": ["0x20", "0x10"], "pointer_type": ">u4"},
    "speed": {"address": "0xFFE300", "type": ">i4", "scale": "fx32"},
    "masked": {"address": "0xFFE400", "type": ">u2", "mask": "0x0FF0"},
}


def test_variable_extensions(user_game, make_env, tmp_path):
    root = user_game(data=lambda d: {"info": {**d["info"], **EXTENDED_VARIABLES}})
    env = make_env("MyAir-Genesis", game_path=str(root), frame_skip=4)
    u = env.unwrapped
    emu, var = u.emulator, u.integration.variables
    env.reset(seed=0)
    rollout(env, actions_for(env, 150, seed=9))

    # hex string address == the int address stable-retro's data.json uses
    assert var["score"].address == var["score_hex"].address == 0xFF024E
    assert var["score_hex"].read(emu) == var["score"].read(emu) > 0
    emu.write(0xFF024E, ">u4", 123456)
    assert var["score_hex"].read(emu) == var["score"].read(emu) == 123456

    # pointer chain with big-endian 32-bit pointers: *(*(P) + 0x20) + 0x10
    p, a, b = 0xFFE000, 0xFFE100, 0xFFE200
    emu.write(p, ">u4", a)
    emu.write(a + 0x20, ">u4", b)
    emu.write(b + 0x10, ">u2", 0xBEEF)
    assert var["chained"].read(emu) == 0xBEEF
    emu.write(b + 0x10, ">u2", 0x1234)
    assert var["chained"].read(emu) == 0x1234
    emu.write(a + 0x20, ">u4", 0)  # a null pointer reads as 0
    assert var["chained"].read(emu) == 0

    # fx32: 20.12 fixed point
    emu.write(0xFFE300, ">i4", -3 * 4096 - 2048)
    assert var["speed"].read(emu) == -3.5
    assert isinstance(var["speed"].read(emu), float)

    # mask, as stable-retro's GameData applies it on the same emulator
    emu.write(0xFFE400, ">u2", 0xABCD)
    assert var["masked"].read(emu) == 0xABCD & 0x0FF0
    data_file, scen_file = tmp_path / "mask-data.json", tmp_path / "mask-scenario.json"
    data_file.write_text(json.dumps({"info": {"masked": {"address": 0xFFE400, "type": ">u2", "mask": 0x0FF0}}}))
    scen_file.write_text("{}")
    gd = emu.game_data
    assert gd.load(str(data_file), str(scen_file))
    assert gd.lookup_value("masked") == var["masked"].read(emu)


def test_variable_from_json_is_a_pure_reader():
    """Variable.read needs only ``read(address, dtype)``: a dict-backed fake memory here."""

    class Memory:
        def __init__(self, cells):
            self.cells = cells

        def read(self, address, dtype):
            return self.cells.get((address, dtype), 0)

    v = Variable.from_json("x", {"address": "0x10", "type": "<u2", "pointer": [4, 8]}, "data.json")
    mem = Memory({(0x10, "<u4"): 0x100, (0x104, "<u4"): 0x200, (0x208, "<u2"): 77})
    assert v.read(mem) == 77


# -- Python scenario modules --------------------------------------------------------------------

RACE_PY = '''
class Race:
    """Reward: 2 per point of score, plus 0.25 per step; the episode ends at 30 points."""

    def reset(self, variables):
        self.previous = variables["score"]
        self.steps = 0

    def reward(self, variables):
        gained = variables["score"] - self.previous
        self.previous = variables["score"]
        self.steps += 1
        return 2.0 * gained + 0.25

    def terminated(self, variables):
        return variables["score"] >= 30

    def info(self, variables):
        return {"race_steps": self.steps}
'''


def test_python_scenario_module(user_game, make_env):
    root = user_game(scenario={"python": "race.py:Race"}, files={"race.py": RACE_PY})
    env = make_env("MyAir-Genesis", game_path=str(root), frame_skip=4)
    _, info = env.reset(seed=0)
    start, start_score = env.unwrapped.get_state(), info["score"]
    previous = info["score"]
    steps = rollout(env, actions_for(env, 500, seed=10))
    for i, (_, reward, terminated, info) in enumerate(steps):
        assert reward == 2.0 * (info["score"] - previous) + 0.25, f"step {i}"
        assert terminated == (info["score"] >= 30)
        assert info["race_steps"] == i + 1
        assert set(info) >= {"score", "lives", "gameover"}  # a module may read any variable
        previous = info["score"]
    assert steps[-1][2], "never reached 30 points"
    assert any(r > 0.25 for _, r, _, _ in steps)
    # set_state restarts the module from the restored variables (and the ended episode goes on)
    env.unwrapped.set_state(start)
    _, reward, _, _, info = env.step(0)
    assert reward == 2.0 * (info["score"] - start_score) + 0.25
    assert info["race_steps"] == 1


def test_python_scenario_missing_class_is_an_error(user_game, make_env):
    root = user_game(scenario={"python": "race.py:Nope"}, files={"race.py": RACE_PY})
    with pytest.raises(emurl.IntegrationError, match=r"scenario\.json: python: .*race\.py defines no class 'Nope'"):
        emurl.EmulatorEnv("MyAir-Genesis", game_path=str(root))
    make_env(GENESIS)  # the failed env gave its emulator back


# -- ALE's minimal action sets ----------------------------------------------------------------


def test_ale_action_names_map_to_retro_buttons():
    from emurl.games.ale_actions import ale_action_combo

    assert ale_action_combo("NOOP") == []
    assert ale_action_combo("DOWNLEFTFIRE") == ["DOWN", "LEFT", "BUTTON"]
    with pytest.raises(ValueError, match="SIDEWAYS"):
        ale_action_combo("SIDEWAYS")


def test_minimal_action_set_is_ales_and_plays_breakout(make_env):
    env = make_env(BREAKOUT, action_set="minimal", frame_skip=4)
    u = env.unwrapped
    assert env.action_space == gym.spaces.Discrete(4)
    assert u.combos == [[], ["BUTTON"], ["RIGHT"], ["LEFT"]]  # ale-py: NOOP, FIRE, RIGHT, LEFT
    env.reset(seed=0)
    # serve (FIRE) and never move: the balls go by and Breakout ends after its 5 lives
    steps = rollout(env, [1] * 2000)
    assert steps[-1][2] and steps[-1][3]["lives"] == 0
    # pressing nothing never serves: no life is lost
    env.reset(seed=0)
    assert all(info["lives"] == 5 for *_, info in rollout(env, [0] * 300))


def test_minimal_action_set_is_for_atari_games_only(make_env):
    with pytest.raises(emurl.errors.IntegrationError, match="Atari2600 games only"):
        make_env(GENESIS, action_set="minimal")


@pytest.mark.parametrize("game", [BREAKOUT, "Pong-Atari2600"])
def test_every_direction_of_the_minimal_action_set_moves(game, make_env):
    """ALE's directions reach the game in stable-retro's Stella (Pong's paddle reads UP/DOWN)."""
    env = make_env(game, action_set="minimal", frame_skip=4)
    combos = env.unwrapped.combos

    def frames(a):
        env.reset(seed=0)
        return np.array([s[0] for s in rollout(env, [1 if i % 2 == 0 else a for i in range(60)])])

    still = frames(0)
    for a, combo in enumerate(combos):
        if set(combo) - {"BUTTON"}:
            moved = frames(a)
            n = min(len(moved), len(still))
            assert (moved[:n] != still[:n]).any(-1).sum() > 1000, f"{game}: action {a} {combo} changes nothing"
