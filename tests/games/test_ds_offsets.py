"""stable-retro's DS integrations (addresses as offsets from main RAM) load unchanged, and
every system's variables are held to its memory (:mod:`emurl.games.memory`).

The DS half runs a stable-retro-style copy of MiniKart's integration (every address minus
0x02000000) on both DS backends, one emulator open at a time, against ours.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest

import emurl
from emurl.errors import IntegrationError
from emurl.games import load_integration
from emurl.games.integration import load_integration_folder
from emurl.games.memory import DS_MAIN_RAM, MEMORY, OFFSETS, addressing, ds_form
from emurl.games.variables import Variable, VariableReader

GAME = "MiniKart-NintendoDs"
COPY = "MiniKartRetro-NintendoDs"


@pytest.fixture(scope="module")
def copy_root(tmp_path_factory):
    """A game path holding :data:`COPY`: MiniKart's folder with ``data.json`` in stable-retro's
    DS form (integer offsets from 0x02000000; pointer offsets unchanged: they are the game's)."""
    source = load_integration(GAME).folder
    root = tmp_path_factory.mktemp("games")
    folder = root / COPY
    shutil.copytree(source, folder)
    data = json.loads((source / "data.json").read_text())
    for spec in data["info"].values():
        spec["address"] = int(spec["address"], 16) - DS_MAIN_RAM[0]
    (folder / "data.json").write_text(json.dumps(data, indent=1))
    return root


def test_offset_form_is_detected_and_placed_in_main_ram(copy_root):
    ours, theirs = load_integration(GAME), load_integration(COPY, game_path=str(copy_root))
    assert theirs.variables.keys() == ours.variables.keys()
    for name, v in theirs.variables.items():
        assert (v.address, v.pointer, v.dtype) == (ours.variables[name].address, ours.variables[name].pointer,
                                                 ours.variables[name].dtype), name
        assert v.base == DS_MAIN_RAM[0] and ours.variables[name].base == 0
    assert ds_form(theirs.variables.values()) == OFFSETS
    assert "offsets from DS main RAM 0x02000000" in addressing(theirs.variables.values(), "NintendoDs")
    assert addressing(ours.variables.values(), "NintendoDs") == "absolute DS addresses (emurl's form)"
    assert addressing(ours.variables.values(), "Genesis") is None


def test_a_mix_of_forms_is_refused(copy_root, tmp_path):
    folder = tmp_path / "Mixed-NintendoDs"
    folder.mkdir()
    (folder / "data.json").write_text(json.dumps({"info": {
        "race_frame": {"address": 0x100008, "type": "<i4"},
        "scene": {"address": "0x0210000C", "type": "<u4"},
    }}))
    with pytest.raises(IntegrationError, match=re.escape(str(folder / "data.json")) + r": info\.race_frame\.address: "
                       r"0x100008 \(\+4 bytes\) is outside NintendoDs memory: 0x2000000-0x23fffff \(main RAM\).*not a mix"):
        load_integration_folder(folder)


@pytest.mark.parametrize("backend", ["desmume", "melonds"])
def test_offset_copy_reads_what_ours_reads(copy_root, backend):
    """The same start state and inputs through both integrations: the same variables, every step."""
    def run(game):
        env = emurl.make(game, state="Track0", backend=backend, game_path=str(copy_root), frame_skip=4,
                         render_mode=None, obs_type="variables")
        try:
            _, info = env.reset(seed=0)
            infos = [info]
            for i in range(40):
                infos.append(env.step(1 if i % 10 else 2)[4])  # A, and A+LEFT now and then
            ours, theirs = load_integration(GAME), load_integration(COPY, game_path=str(copy_root))
            emu = env.unwrapped.emulator
            both = VariableReader(ours.variables.values())(emu), VariableReader(theirs.variables.values())(emu)
            return infos, both
        finally:
            env.close()

    (theirs, (a, b)), (ours, _) = run(COPY), run(GAME)
    assert a == b
    names = list(load_integration(GAME).variables)
    assert [[i[n] for n in names] for i in theirs] == [[i[n] for n in names] for i in ours]
    assert ours[-1]["race_frame"] > ours[0]["race_frame"] and ours[-1]["race_progress"] > ours[0]["race_progress"]


# -- every system's memory --------------------------------------------------------------------
@pytest.mark.parametrize("system", sorted(MEMORY))
def test_an_address_outside_the_system_memory_names_file_variable_and_range(system, tmp_path):
    start, size, _ = MEMORY[system][-1]
    folder = tmp_path / f"Bad-{system}"
    folder.mkdir()
    data = folder / "data.json"
    for address, dtype in ((start + size - 1, "<u2"), (start + size, "|u1"), (start + size + 0x1000, "<u4")):
        data.write_text(json.dumps({"info": {"ok": {"address": start, "type": "|u1"},
                                             "score": {"address": hex(address), "type": dtype}}}))
        ranges = ", ".join(f"{s:#x}-{s + n - 1:#x}" for s, n, _ in MEMORY[system])
        first = re.escape(ranges.split(", ")[0])
        with pytest.raises(IntegrationError, match=re.escape(str(data)) + rf": info\.score\.address: {address:#x} "
                           rf"\(\+{dtype[-1]} bytes\).* is outside {system} memory: {first}"):
            load_integration_folder(folder)
    data.write_text(json.dumps({"info": {"first": {"address": start, "type": "|u1"},
                                         "last": {"address": start + size - 4, "type": "<u4"}}}))
    assert set(load_integration_folder(folder).variables) == {"first", "last"}


def test_address_offset_sources_and_pointers_are_checked(tmp_path):
    folder = tmp_path / "Ptr-Genesis"
    folder.mkdir()
    (folder / "data.json").write_text(json.dumps({"info": {
        "moved": {"address": "0xFF0010", "type": ">u2", "address_offset": {"address": "0x10", "type": ">u4"}}}}))
    with pytest.raises(IntegrationError, match=r"info\.moved\.address_offset\.address: 0x10 \(\+4 bytes\)"):
        load_integration_folder(folder)
    (folder / "data.json").write_text(json.dumps({"info": {
        "chained": {"address": "0xFFFFFE", "type": ">u2", "pointer": ["0x4"], "pointer_type": ">u4"}}}))
    with pytest.raises(IntegrationError, match=r"info\.chained\.address: 0xfffffe \(\+4 bytes\)"):
        load_integration_folder(folder)


def test_every_stable_retro_integration_is_inside_its_memory():
    from emurl.games.integration import integration_folders
    from emurl.games.jsonfile import read_json_object
    from emurl.games.memory import variables_from_info

    checked = 0
    for name, (folder, _) in integration_folders().items():
        system = name.rsplit("-", 1)[1]
        variables_from_info(read_json_object(folder / "data.json")["info"], str(folder / "data.json"), system)
        checked += system in MEMORY
    assert checked >= 1000


def test_a_failed_read_names_the_file_variable_and_memory(make_env):
    """A pointer that leads outside memory is found when read: the real Genesis core."""
    env = make_env("Airstriker-Genesis", render_mode=None)
    env.reset(seed=0)
    emu = env.unwrapped.emulator
    emu.write(0xFFE000, ">u4", 0x1234)  # a pointer into nothing
    v = Variable.from_json("chained", {"address": "0xFFE000", "type": ">u2", "pointer": ["0x10"], "pointer_type": ">u4"},
                           "my/data.json")
    pattern = r"my/data\.json: info\.chained: reading 0xffe000 \(>u2\) failed: .*; its memory: 0xff0000-0xffffff"
    with pytest.raises(IntegrationError, match=pattern):
        v.read(emu)
    ok = Variable.from_json("ok", {"address": "0xFF0000", "type": ">u2"}, "my/data.json")
    with pytest.raises(IntegrationError, match=pattern):  # the planned reader says which variable
        VariableReader([ok, v])(emu)
    emu.write(0xFFE000, ">u4", 0xFF0100)
    assert VariableReader([ok, v])(emu) == {"ok": emu.read(0xFF0000, ">u2"), "chained": emu.read(0xFF0110, ">u2")}
