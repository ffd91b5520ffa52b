"""Game integrations: every stable-retro integration loads, scenario semantics, error
messages and the search path's precedence (ROM import: tests/states/test_roms.py)."""

from __future__ import annotations

import json
import re

import gymnasium as gym
import pytest
import stable_retro

import emurl
from emurl.fileio import BACKENDS
from emurl.errors import (
    EmulatorError,
    IntegrationError,
    RomNotFoundError,
    UnknownGameError,
    UnknownStateError,
)
from emurl.games import integration_folders, list_games, load_integration
from emurl.games.integration import rom_extensions
from emurl.games.scenario import OPS, ScenarioState, load_scenario

GENESIS = "Airstriker-Genesis"
BREAKOUT = "Breakout-Atari2600"


# -- every integration -----------------------------------------------------------------------


def _specs(node, key):
    """Every value of ``key`` in the variable specs of a raw scenario (reward and done trees)."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key and isinstance(v, str):
                yield v
            else:
                yield from _specs(v, key)
    elif isinstance(node, list):
        for v in node:
            yield from _specs(v, key)


def test_every_stable_retro_integration_loads():
    games = list_games()
    assert len(games) >= 1000
    assert GENESIS in games and "SuperMarioBros-Nes" in games
    n_scenarios = 0
    for game in games:
        integ = load_integration(game)
        assert integ.name == game and integ.system == game.rsplit("-", 1)[1]
        assert integ.variables or integ.scenario().lua, game
        assert rom_extensions(integ.system), f"{game}: no core for {integ.system}"
        if integ.default_state is not None:
            assert any(integ.default_state in integ.states(b) for b in (None, *BACKENDS)), game
        integ.scenario()
        for name in integ.scenarios():
            scen = integ.scenario(name)
            n_scenarios += 1
            undefined = set(scen.needed_variables()) - set(integ.variables)
            assert not undefined, f"{game}/{name}.json names undefined variables {undefined}"
            assert set(_specs(scen.raw.get("reward", {}), "op")) <= set(OPS), game
            assert set(_specs(scen.raw.get("done", {}), "op")) <= set(OPS), game
            assert set(_specs(scen.raw, "measurement")) <= {"delta", "absolute"}, game
    assert n_scenarios >= len(games)


def test_names_and_registration():
    assert load_integration("Airstriker-Genesis-v0").name == GENESIS
    assert load_integration("emurl/Airstriker-Genesis-v0").name == GENESIS
    assert f"emurl/{GENESIS}-v0" in gym.registry
    env = gym.make(f"emurl/{GENESIS}-v0")
    try:
        assert env.unwrapped.game == GENESIS
        obs, _ = env.reset(seed=0)
        assert obs.shape == (224, 320, 3)
        gym_space, gym_skip = env.observation_space, env.unwrapped.frame_skip
    finally:
        env.close()
    # one road: the registered id and emurl.make build the same env (the settings V0 pins)
    env = emurl.make(GENESIS)
    try:
        assert (env.observation_space, env.unwrapped.frame_skip) == (gym_space, gym_skip) == (gym_space, 4)
    finally:
        env.close()
    env = gym.make(f"emurl/{GENESIS}-v0", pipeline="atari")
    try:
        assert env.observation_space.shape == (4, 84, 84)
    finally:
        env.close()


# -- scenario semantics on scripted variables ----------------------------------------------------


@pytest.fixture
def scenario(tmp_path):
    """``scenario(spec, variables="xyz")`` → a Scenario loaded from a JSON file."""

    def factory(spec: dict, variables: str = "xyz"):
        path = tmp_path / "scenario.json"
        path.write_text(json.dumps(spec))
        return load_scenario(str(path), set(variables))

    return factory


def play(scen, sequence, player: int = 0):
    """Reset on the first values, then (reward, done) for each later one.

    Values are dicts or, for one variable ``x``, plain numbers."""
    rows = [v if isinstance(v, dict) else {"x": v} for v in sequence]
    state = ScenarioState(scen, player)
    state.reset(rows[0])
    return [state.update(v) for v in rows[1:]]


def rewards(scen, sequence, player=0):
    return [r for r, _ in play(scen, sequence, player)]


def dones(scen, sequence):
    return [d for _, d in play(scen, sequence)]


def test_reward_only_on_increase_without_penalty(scenario):
    scen = scenario({"reward": {"variables": {"x": {"reward": 2.0}}}})
    assert rewards(scen, [0, 5, 3, 3, 10]) == [10.0, 0.0, 0.0, 14.0]


def test_penalty_on_decrease(scenario):
    scen = scenario({"reward": {"variables": {"x": {"reward": 1.0, "penalty": 0.5}}}})
    assert rewards(scen, [0, 5, 3, 3]) == [5.0, -1.0, 0.0]


def test_first_delta_is_from_the_reset_values(scenario):
    scen = scenario({"reward": {"variables": {"x": {"reward": 1.0}}}})
    assert rewards(scen, [100, 101]) == [1.0]


def test_absolute_measurement(scenario):
    scen = scenario({"reward": {"variables": {"x": {"measurement": "absolute", "reward": 1.0}}}})
    assert rewards(scen, [0, 3, 3, -2]) == [3.0, 3.0, 0.0]
    scen = scenario({"reward": {"variables": {"x": {"measurement": "absolute", "reward": 1.0, "penalty": 1.0}}}})
    assert rewards(scen, [0, -2]) == [-2.0]


def test_op_against_reference(scenario):
    spec = {"measurement": "absolute", "op": "greater-than", "reference": 2, "reward": 5.0}
    scen = scenario({"reward": {"variables": {"x": spec}}})
    assert rewards(scen, [0, 1, 3, 7, 2]) == [0.0, 5.0, 5.0, 0.0]
    # an op on the delta: 1 whenever x decreases
    scen = scenario({"reward": {"variables": {"x": {"op": "negative", "reward": 3.0}}}})
    assert rewards(scen, [5, 4, 4, 6, 1]) == [3.0, 0.0, 0.0, 3.0]


def test_time_reward(scenario):
    scen = scenario({"reward": {"time": {"reward": -0.5}}})
    assert rewards(scen, [0, 0, 7, 7]) == [-0.5, -0.5, -0.5]
    # stable-retro measures time as +1 per frame, so a "penalty" alone never applies
    scen = scenario({"reward": {"time": {"penalty": 1.0}}})
    assert rewards(scen, [0, 0, 0]) == [0.0, 0.0]


def test_rewards_add_up(scenario):
    scen = scenario(
        {"reward": {"variables": {"x": {"reward": 1.0}, "y": {"reward": 10.0, "penalty": 1.0}}, "time": {"reward": -0.25}}}
    )
    seq = [{"x": 0, "y": 0}, {"x": 2, "y": 1}, {"x": 2, "y": -1}]
    assert rewards(scen, seq) == [11.75, -2.25]


def test_one_reward_per_player(scenario):
    pong = {
        "rewards": [
            {"variables": {"x": {"reward": -1.0}, "y": {"reward": 1.0}}},
            {"variables": {"x": {"reward": 1.0}, "y": {"reward": -1.0}}},
        ]
    }
    scen = scenario(pong)
    seq = [{"x": 0, "y": 0}, {"x": 1, "y": 0}, {"x": 1, "y": 1}]
    assert rewards(scen, seq, player=0) == [-1.0, 1.0]
    assert rewards(scen, seq, player=1) == [1.0, -1.0]


@pytest.mark.parametrize(
    "op, reference, values, expected",
    [
        ("zero", 0, [0, 3, 0, -1], [True, False, True, False]),
        ("nonzero", 0, [0, 3, -1], [False, True, True]),
        ("equal", 3, [3, 2, -3], [True, False, False]),
        ("not-equal", 3, [3, 2], [False, True]),
        ("negative-equal", 3, [3, -3, 0], [False, True, False]),
        ("less-than", 2, [1, 2, 3], [True, False, False]),
        ("greater-than", 2, [1, 2, 3], [False, False, True]),
        ("less-or-equal", 2, [1, 2, 3], [True, True, False]),
        ("greater-or-equal", 2, [1, 2, 3], [False, True, True]),
        ("negative", 0, [-1, 0, 1], [True, False, False]),
        ("positive", 0, [-1, 0, 1], [False, False, True]),
        ("sign", 0, [-5, 0, 5], [False, False, True]),
    ],
)
def test_done_ops(scenario, op, reference, values, expected):
    assert set(OPS) >= {op}
    scen = scenario({"done": {"variables": {"x": {"op": op, "reference": reference}}}})
    assert dones(scen, [values[0]] + values) == expected


def test_done_on_delta_measurement(scenario):
    scen = scenario({"done": {"variables": {"x": {"measurement": "delta", "op": "negative"}}}})
    assert dones(scen, [3, 3, 4, 2, 2]) == [False, False, True, False]


def test_done_condition_any_and_all(scenario):
    tests = {"x": {"op": "zero"}, "y": {"op": "equal", "reference": 1}}
    seq = [{"x": 5, "y": 0}, {"x": 0, "y": 0}, {"x": 0, "y": 1}, {"x": 5, "y": 1}, {"x": 5, "y": 0}]
    assert dones(scenario({"done": {"variables": tests}}), seq) == [True, True, True, False]
    assert dones(scenario({"done": {"condition": "all", "variables": tests}}), seq) == [False, True, False, False]


def test_done_nested_nodes(scenario):
    # done when x == 0 and (y == 3 or z < 0)
    spec = {
        "done": {
            "condition": "all",
            "variables": {"x": {"op": "zero"}},
            "nodes": {"inner": {"variables": {"y": {"op": "equal", "reference": 3}, "z": {"op": "negative"}}}},
        }
    }
    scen = scenario(spec)
    seq = [{"x": 1, "y": 0, "z": 0}, {"x": 0, "y": 0, "z": 0}, {"x": 0, "y": 3, "z": 0}, {"x": 0, "y": 0, "z": -1}, {"x": 1, "y": 3, "z": -1}]
    assert dones(scen, seq) == [False, True, True, False]
    assert set(scen.needed_variables()) == {"x", "y", "z"}


def test_no_done_never_ends(scenario):
    scen = scenario({"reward": {"variables": {"x": {"reward": 1.0}}}})
    assert dones(scen, [0, 0, -100, 100]) == [False, False, False]


# -- error messages ---------------------------------------------------------------------------


def test_unknown_game_lists_close_names():
    with pytest.raises(UnknownGameError) as exc:
        emurl.EmulatorEnv("Breakout-Atari")
    message = str(exc.value)
    assert "'Breakout-Atari'" in message and "Breakout-Atari2600" in message
    assert isinstance(exc.value, KeyError) and not message.startswith('"')


def test_missing_rom_says_sha_and_import_command(tmp_path, monkeypatch):
    empty = tmp_path / "empty-data"
    monkeypatch.setenv("EMURL_DATA_DIR", str(empty))
    shas = load_integration("Pong-Atari2600").rom_shas
    assert shas
    with pytest.raises(RomNotFoundError) as exc:
        emurl.EmulatorEnv("Pong-Atari2600")
    message = str(exc.value)
    assert "Pong-Atari2600" in message and "emurl roms import" in message
    assert all(sha in message for sha in shas)
    assert str(empty / "roms" / "Pong-Atari2600") in message
    assert isinstance(exc.value, FileNotFoundError)


DATA_ERRORS = {
    "bad-json": ('{"info": {"score": ', r"data\.json: not valid JSON \(line \d+, column \d+"),
    "no-info": ({"variables": {}}, r'data\.json: missing key "info" \(expected \{"info"'),
    "info-not-object": ({"info": [1]}, r"data\.json: info: expected an object name → variable, got list"),
    "no-type": ({"info": {"score": {"address": 16712270}}}, r'data\.json: info\.score: missing "type" \(expected e\.g\.'),
    "bad-type": (
        {"info": {"score": {"address": 16712270, "type": "u32"}}},
        r"data\.json: info\.score\.type: expected a stable-retro type like '>u2'.*got 'u32'",
    ),
    "bad-address": (
        {"info": {"score": {"address": "0xFFZZ", "type": ">u4"}}},
        r"data\.json: info\.score\.address: expected an integer or a hex string.*got '0xFFZZ'",
    ),
    "bad-scale": (
        {"info": {"score": {"address": 1, "type": ">u4", "scale": "fx99"}}},
        r"data\.json: info\.score\.scale: expected a number or one of \[.*'fx32'.*got 'fx99'",
    ),
    "bad-action-set": (
        {"info": {}, "action_sets": {"fire": ["B"]}},
        r"data\.json: action_sets: expected name → list of button combos",
    ),
}


@pytest.mark.parametrize("case", list(DATA_ERRORS))
def test_malformed_data_json(case, user_game):
    data, pattern = DATA_ERRORS[case]
    root = user_game(name="Broken-Genesis", data=data)
    path = re.escape(str(root / "Broken-Genesis"))
    with pytest.raises(IntegrationError, match=path + "/" + pattern):
        load_integration("Broken-Genesis", game_path=str(root))
    with pytest.raises(IntegrationError, match=path):  # the env says the same, before any emulator
        emurl.EmulatorEnv("Broken-Genesis", game_path=str(root))


SCENARIO_ERRORS = {
    "bad-json": ("{", r"scenario\.json: not valid JSON \(line \d+"),
    "bad-op": (
        {"reward": {"variables": {"score": {"reward": 1.0, "op": "bigger"}}}},
        r"scenario\.json: reward\.variables\.score\.op: expected one of \[.*'greater-than'.*got 'bigger'",
    ),
    "reward-not-object": ({"reward": [1.0]}, r'scenario\.json: reward: expected an object with "variables", got \[1\.0\]'),
    "reward-not-number": (
        {"reward": {"variables": {"score": {"reward": "lots"}}}},
        r"scenario\.json: reward\.variables\.score\.reward: expected a number, got 'lots'",
    ),
    "bad-measurement": (
        {"done": {"variables": {"lives": {"op": "zero", "measurement": "relative"}}}},
        r'scenario\.json: done\.variables\.lives\.measurement: expected "delta" or "absolute", got \'relative\'',
    ),
    "bad-condition": ({"done": {"condition": "most"}}, r'scenario\.json: done\.condition: expected "any" or "all", got \'most\''),
    "unknown-variable": (
        {"reward": {"variables": {"points": {"reward": 1.0}}}},
        r"scenario\.json: names variable 'points', which data\.json does not define \(defined: gameover, lives, score\)",
    ),
    "unknown-variable-nested": (
        {"done": {"nodes": {"n": {"variables": {"hp": {"op": "zero"}}}}}},
        r"scenario\.json: names variable 'hp', which data\.json does not define",
    ),
}


@pytest.mark.parametrize("case", list(SCENARIO_ERRORS))
def test_malformed_scenario_json(case, user_game):
    scenario, pattern = SCENARIO_ERRORS[case]
    root = user_game(name="Broken-Genesis", scenario=scenario)
    integ = load_integration("Broken-Genesis", game_path=str(root))  # data.json is fine
    path = re.escape(str(root / "Broken-Genesis"))
    with pytest.raises(IntegrationError, match=path + "/" + pattern):
        integ.scenario()
    with pytest.raises(IntegrationError, match=path):
        emurl.EmulatorEnv("Broken-Genesis", game_path=str(root))


def test_unknown_scenario_lists_scenarios():
    with pytest.raises(IntegrationError, match=r"Airstriker-Genesis: no scenario 'hard' in .* \(scenarios: scenario\)"):
        emurl.EmulatorEnv(GENESIS, scenario="hard")


def test_unknown_state_lists_states(make_env):
    with pytest.raises(UnknownStateError, match=r"Airstriker-Genesis: no state 'Level2'\. Did you mean Level1\? States: Level1 \(in "):
        emurl.EmulatorEnv(GENESIS, state="Level2")
    env = make_env(GENESIS)  # the failed env opened no emulator
    with pytest.raises(UnknownStateError, match="States: Level1"):
        env.reset(options={"state": "Level9"})
    env.reset(options={"state": "Level1"})


def test_second_emulator_in_a_process(make_env, atari_roms):
    first = make_env(GENESIS)
    first.reset(seed=0)
    with pytest.raises(EmulatorError, match=r"a retro emulator is already open in this process .* Close the first one"):
        emurl.EmulatorEnv(BREAKOUT)
    first.step(0)  # the first one is unharmed
    first.close()
    second = make_env(BREAKOUT)
    second.reset(seed=0)
    second.step(0)


def test_emulator_held_by_stable_retro_itself(make_env):
    import gc

    retro_env = stable_retro.make(f"{GENESIS}-v0", render_mode="rgb_array")
    try:
        with pytest.raises(EmulatorError, match="stable-retro could not open it"):
            emurl.EmulatorEnv(GENESIS)
    finally:
        retro_env.close()
        del retro_env
        gc.collect()
    make_env(GENESIS).reset(seed=0)  # the failed attempt released emurl's slot


# -- user integrations --------------------------------------------------------------------------


def test_user_integration_never_shadows_a_builtin(user_game):
    user_game(name=GENESIS, data=lambda d: {"info": {**d["info"], "extra": {"address": 1, "type": "|u1"}}})
    root = user_game(name="MyAir-Genesis")
    builtin = load_integration(GENESIS)
    with pytest.warns(UserWarning, match=rf"{re.escape(str(root / GENESIS))}: integration {GENESIS} is ignored: .* Rename the folder"):
        integ = load_integration(GENESIS, game_path=str(root))
    assert integ.source == "stable-retro" and integ.folder == builtin.folder
    assert "extra" not in integ.variables
    with pytest.warns(UserWarning):
        folders = integration_folders(str(root))
    assert folders["MyAir-Genesis"] == (root / "MyAir-Genesis", "user")


def test_game_path_from_environment(user_game, monkeypatch):
    root = user_game(name="MyAir-Genesis")
    with pytest.raises(UnknownGameError):
        load_integration("MyAir-Genesis")
    monkeypatch.setenv("EMURL_GAME_PATH", str(root))
    assert load_integration("MyAir-Genesis").source == "user"


def test_missing_game_path_is_an_error(tmp_path):
    with pytest.raises(IntegrationError, match=re.escape(str(tmp_path / "nope")) + ": game path does not exist"):
        load_integration(GENESIS, game_path=str(tmp_path / "nope"))


def test_players_of_an_integration(user_game):
    """Ours say it in metadata.json; stable-retro's two-player ones list a state per player count."""
    assert load_integration("Pong-Atari2600").players == 2  # default_player_state: Start, Start.2P
    assert load_integration(GENESIS).players == 1
    root = user_game(files={"metadata.json": '{"default_state": "Level1", "players": 2}'})
    assert load_integration("MyAir-Genesis", root).players == 2
    root = user_game(name="BadAir-Genesis", files={"metadata.json": '{"players": "two"}'})
    with pytest.raises(IntegrationError, match=r"BadAir-Genesis/metadata.json: players: expected a whole number"):
        load_integration("BadAir-Genesis", root).players
