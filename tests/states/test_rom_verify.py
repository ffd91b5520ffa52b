"""A game's ROM is checked against its integration's ``rom.sha`` when the game is loaded.

A file that is not the ROM an integration was made for (random bytes, a truncated or
patched dump) is refused with an error naming the file, both SHA-1s and the import
command; ``EMURL_ALLOW_ROM_MISMATCH=1`` (or ``require_rom(allow_mismatch=True)``) lets it
through to the emulator. Hashes are cached per file, size and modification time.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import emurl
from emurl.cli import main as emurl_main
from emurl.errors import ConfigError, EmulatorError, RomMismatchError
from emurl.games import load_integration
from emurl.games import romsha
from emurl.games.integration import rom_sha_cache
from emurl.states.roms import import_roms

SHIPPED = ["MiniKart-NintendoDs", "MiniDoc-Nes", "Airstriker-Genesis"]  # ROMs in the repo / stable-retro


@pytest.fixture
def data(tmp_path, monkeypatch) -> Path:
    """A fresh data folder (its roms/ is searched before the integration's own folder), no override."""
    monkeypatch.setenv("EMURL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv(romsha.ALLOW_MISMATCH_ENV, raising=False)
    monkeypatch.setattr(romsha, "_memo", {})
    return tmp_path / "data"


@pytest.fixture
def hashes(monkeypatch) -> list[str]:
    """The files hashed (romsha._hash_file calls), in order."""
    calls: list[str] = []
    real = romsha._hash_file

    def counting(path):
        calls.append(path)
        return real(path)

    monkeypatch.setattr(romsha, "_hash_file", counting)
    return calls


def _place(data: Path, game: str, content: bytes) -> Path:
    """Put ``content`` where ``game``'s ROM is looked for first (data/roms/<game>/rom.<ext>)."""
    shipped = Path(load_integration(game).rom_path())
    dest = data / "roms" / game / shipped.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(content)
    return dest


def _bad_roms(original: bytes) -> dict[str, bytes]:
    rng = np.random.default_rng(21)
    flipped = bytearray(original)
    flipped[len(flipped) // 2] ^= 0x40
    return {
        "random bytes": rng.integers(0, 256, len(original), np.uint8).tobytes(),
        "truncated": original[: len(original) // 2],
        "one byte flipped": bytes(flipped),
        "one byte appended": original + b"\0",
        "empty": b"",
    }


@pytest.mark.parametrize("game", SHIPPED)
def test_shipped_roms_pass_the_check(game, data, hashes):
    integ = load_integration(game)
    path = integ.require_rom()
    assert path == integ.rom_path() and hashes == [os.path.realpath(path)]
    assert integ.rom_status() == f"found: {path}"


@pytest.mark.parametrize("game", SHIPPED)
def test_a_rom_that_is_not_the_integrations_is_refused(game, data):
    integ = load_integration(game)
    original = Path(integ.rom_path()).read_bytes()
    for kind, content in _bad_roms(original).items():
        rom = _place(data, game, content)
        assert integ.rom_path() == str(rom)
        found = romsha.sha1_of_rom(rom)
        with pytest.raises(RomMismatchError) as err:
            integ.require_rom()
        msg = str(err.value)
        assert str(rom) in msg and found in msg and integ.rom_shas[0] in msg, (kind, msg)
        assert "emurl roms import DIR" in msg and romsha.ALLOW_MISMATCH_ENV in msg
        assert integ.rom_status() == f"found, SHA-1 does not match: {rom} (SHA-1 {found})"


def test_make_refuses_a_random_rom_before_any_emulator_opens(data):
    _place(data, "MiniDoc-Nes", np.random.default_rng(0).integers(0, 256, 40976, np.uint8).tobytes())
    with pytest.raises(RomMismatchError, match="emurl roms import DIR"):
        emurl.make("MiniDoc-Nes")
    assert emurl_main(["games", "show", "MiniDoc-Nes"]) == 0  # still shown, with its status


def test_games_show_says_the_sha1_does_not_match(data, capsys):
    zeros = b"\0" * 4096
    rom = _place(data, "MiniKart-NintendoDs", zeros)
    assert emurl_main(["games", "show", "MiniKart-NintendoDs"]) == 0
    out = capsys.readouterr().out
    assert f"ROM: found, SHA-1 does not match: {rom} (SHA-1 {hashlib.sha1(zeros).hexdigest()})" in out
    assert romsha.ALLOW_MISMATCH_ENV in out
    rom.unlink()
    assert emurl_main(["games", "show", "MiniKart-NintendoDs"]) == 0
    assert "ROM: found: " in capsys.readouterr().out


def test_the_override_lets_a_patched_rom_through_to_the_emulator(data, monkeypatch):
    """A ROM hack (here MiniKart with its last byte changed) runs with the override, with a warning."""
    integ = load_integration("MiniKart-NintendoDs")
    patched = bytearray(Path(integ.rom_path()).read_bytes())
    patched[-1] ^= 0xFF
    rom = _place(data, integ.name, bytes(patched))
    with pytest.raises(RomMismatchError):
        emurl.make(integ.name)
    monkeypatch.setenv(romsha.ALLOW_MISMATCH_ENV, "1")
    with pytest.warns(UserWarning, match=romsha.ALLOW_MISMATCH_ENV):
        env = emurl.make(integ.name, backend="melonds")
    try:
        assert env.unwrapped.emulator.rom_path == str(rom)
        env.reset(seed=0)
        obs, *_ = env.step(env.action_space.sample())
        assert obs.shape == (192, 256, 3)
    finally:
        env.close()
    monkeypatch.delenv(romsha.ALLOW_MISMATCH_ENV)
    assert integ.require_rom(allow_mismatch=True) == str(rom)  # the same, from Python


def test_random_bytes_with_the_override_fail_in_the_emulator_not_the_check(data, monkeypatch):
    _place(data, "MiniKart-NintendoDs", np.random.default_rng(1).integers(0, 256, 8192, np.uint8).tobytes())
    monkeypatch.setenv(romsha.ALLOW_MISMATCH_ENV, "yes")
    with pytest.warns(UserWarning), pytest.raises(EmulatorError, match="rom.nds"):
        emurl.make("MiniKart-NintendoDs")


@pytest.mark.parametrize("value", ["2", "maybe", "allow"])
def test_an_unclear_override_value_is_a_config_error(data, monkeypatch, value):
    _place(data, "MiniDoc-Nes", b"not a rom")
    monkeypatch.setenv(romsha.ALLOW_MISMATCH_ENV, value)
    with pytest.raises(ConfigError, match=romsha.ALLOW_MISMATCH_ENV):
        load_integration("MiniDoc-Nes").require_rom()


def test_a_nes_rom_is_known_by_its_sha1_without_the_ines_header(data):
    """As stable-retro hashes it: another dumper's header (here a changed flags byte) is accepted."""
    integ = load_integration("MiniDoc-Nes")
    other = bytearray(Path(integ.rom_path()).read_bytes())
    other[7] ^= 0x08
    rom = _place(data, integ.name, bytes(other))
    assert integ.require_rom() == str(rom)
    assert romsha.rom_sha1s(bytes(other))[1] in integ.rom_shas
    assert romsha.sha1_of_rom(rom) in integ.rom_shas


def test_hashes_are_cached_per_file_size_and_mtime(data, hashes):
    rom = _place(data, "MiniDoc-Nes", Path(load_integration("MiniDoc-Nes").rom_path()).read_bytes())
    for _ in range(3):  # three envs' worth of loads: hashed once
        load_integration("MiniDoc-Nes").require_rom()
    load_integration("MiniDoc-Nes").rom_status()
    assert hashes == [str(rom)]
    romsha._memo.clear()  # a new process: the cache file answers
    load_integration("MiniDoc-Nes").require_rom()
    assert len(hashes) == 1 and rom_sha_cache().is_file()
    st = rom.stat()
    os.utime(rom, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # changed (same size): hashed again
    load_integration("MiniDoc-Nes").require_rom()
    assert len(hashes) == 2
    rom.write_bytes(b"x" * 16)  # replaced by another file: hashed again, and refused
    with pytest.raises(RomMismatchError):
        load_integration("MiniDoc-Nes").require_rom()
    assert len(hashes) == 3


@pytest.mark.parametrize("damage", [b"", b"\x00\xff garbage", b"[1, 2]", b'{"x": [1, 2, ["a"]]}'])
def test_a_damaged_cache_file_is_ignored_and_rewritten(data, hashes, damage):
    rom = _place(data, "MiniDoc-Nes", Path(load_integration("MiniDoc-Nes").rom_path()).read_bytes())
    rom_sha_cache().parent.mkdir(parents=True, exist_ok=True)
    rom_sha_cache().write_bytes(damage)
    assert load_integration("MiniDoc-Nes").require_rom() == str(rom)
    romsha._memo.clear()
    load_integration("MiniDoc-Nes").require_rom()
    assert hashes == [str(rom)]


def test_a_read_only_data_folder_still_checks(data, hashes, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise PermissionError("read-only")

    monkeypatch.setattr(romsha, "atomic_write", refuse)
    assert load_integration("MiniKart-NintendoDs").require_rom()
    assert len(hashes) == 1 and not rom_sha_cache().exists()


def test_import_and_the_check_agree(data, tmp_path):
    """What `emurl roms import` accepts, loading accepts: one hashing for both."""
    src = tmp_path / "dumps"
    src.mkdir()
    for i, game in enumerate(("MiniDoc-Nes", "Airstriker-Genesis")):
        shutil.copy(load_integration(game).rom_path(), src / f"dump{i}.bin")
    (src / "noise.bin").write_bytes(b"\1" * 1000)
    res = import_roms([src])
    assert set(res.imported) == {"MiniDoc-Nes", "Airstriker-Genesis"} and len(res.unmatched) == 1
    for game, dest in res.imported.items():
        assert load_integration(game).require_rom() == dest
