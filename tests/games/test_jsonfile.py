"""The one JSON loader of integrations: every malformed file is named, with what is wrong."""

from __future__ import annotations

import pytest

from emurl.errors import IntegrationError
from emurl.games.jsonfile import read_json_object
from emurl.games.integration import load_integration


@pytest.mark.parametrize("text, words", [
    ('{"a": 1,\n "b": }', r"not valid JSON \(line 2, column 7"),
    ("[1, 2]", "expected a JSON object at the top level, got list"),
    (b"\xff\xfe{", "cannot read"),
])
def test_errors_name_the_file_and_the_fault(tmp_path, text, words):
    path = tmp_path / "data.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(IntegrationError, match=f"{path}: {words}"):
        read_json_object(path)
    with pytest.raises(IntegrationError, match="missing.json: cannot read"):
        read_json_object(tmp_path / "missing.json")


@pytest.mark.parametrize("name", ["data.json", "scenario.json", "metadata.json", "start_states.json"])
def test_every_integration_file_goes_through_it(user_game, name):
    from emurl.states.scripts import load_scripts

    root = user_game(files={name: "[]"})
    with pytest.raises(IntegrationError, match=f"{name}: expected a JSON object at the top level, got list"):
        integ = load_integration("MyAir-Genesis", root)
        integ.scenario()
        load_scripts(integ)
