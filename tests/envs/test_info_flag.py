"""``info=`` / ``--info FILE``: a variables file instead of the integration's ``data.json``,
as stable-retro's ``info=`` (a JSON file's path, or a name in the integration's folder)."""

from __future__ import annotations

import argparse
import json
import shutil

import pytest

import emurl
from emurl.envs import EnvSpec
from emurl.envs.settings import spec_from_dict
from emurl.errors import IntegrationError
from emurl.games import load_integration

GAME = "MiniDoc-Nes"


def _renamed(path, old: str = "frame", new: str = "game_frame"):
    """MiniDoc's data.json with variable ``old`` renamed ``new``, written to ``path``."""
    data = json.loads((load_integration(GAME).folder / "data.json").read_text())
    data["info"] = {(new if k == old else k): v for k, v in data["info"].items()}
    path.write_text(json.dumps(data, indent=1))
    return path


def _first_info(**kwargs) -> dict:
    env = emurl.make(GAME, render_mode=None, **kwargs)
    try:
        env.reset(seed=0)
        return env.step(0)[4]
    finally:
        env.close()


def test_info_file_replaces_data_json(tmp_path):
    theirs = _first_info(info=str(_renamed(tmp_path / "vars.json")))
    ours = _first_info()
    assert "game_frame" in theirs and "frame" not in theirs
    assert theirs["game_frame"] == ours["frame"]
    assert {k: v for k, v in theirs.items() if k not in ("game_frame", "playfield_p1", "playfield_p2")} == \
        {k: v for k, v in ours.items() if k not in ("frame", "playfield_p1", "playfield_p2")}


def test_info_by_name_in_the_integration_folder(tmp_path):
    root = tmp_path / "games"
    folder = root / "MyDoc-Nes"
    shutil.copytree(load_integration(GAME).folder, folder)
    _renamed(folder / "data_alt.json", "winner", "who_won")
    integ = load_integration("MyDoc-Nes", game_path=str(root), info="data_alt")
    assert "who_won" in integ.variables and "winner" not in integ.variables
    assert integ.data_file == folder / "data_alt.json"
    assert "data_alt" not in integ.scenarios()  # a variables file is not a scenario
    with pytest.raises(IntegrationError, match=r"data_nope\.json: no such variables file"):
        load_integration("MyDoc-Nes", game_path=str(root), info="data_nope")


def test_info_is_an_env_setting_and_a_flag(tmp_path, monkeypatch):
    from emurl.cli.common import add_config_flags, config_overrides

    monkeypatch.chdir(tmp_path)
    _renamed(tmp_path / "vars.json")
    spec = spec_from_dict({"info": "vars.json"}, "command line", EnvSpec(GAME))
    assert spec.info == str(tmp_path / "vars.json")  # made absolute: a run's frozen config finds it anywhere
    assert spec_from_dict({"info": "data_alt"}, "command line").info == "data_alt"  # a name stays a name
    p = argparse.ArgumentParser()
    p.add_argument("--set", action="append")
    add_config_flags(p)
    assert config_overrides(p.parse_args(["--info", "vars.json"]))["info"] == "vars.json"
