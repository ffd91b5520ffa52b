"""``emurl roms import``: ROMs found by SHA-1 for any known integration (ale-py's Atari
ROMs, zips), Nintendo DS ROMs by their header's game code, and the errors it reports."""

from __future__ import annotations

import hashlib
import os
import re
import zipfile
from pathlib import Path

import pytest

from emurl.errors import EmurlError
from emurl.games import load_integration
from emurl.states.roms import ale_py_rom_dir, import_roms

BREAKOUT = "Breakout-Atari2600"


def _sha1(path) -> str:
    return hashlib.sha1(Path(path).read_bytes()).hexdigest()


def test_import_ale_py_roms(tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv("EMURL_DATA_DIR", str(data))
    result = import_roms([ale_py_rom_dir()])
    assert len(result.imported) >= 30
    assert {BREAKOUT, "Pong-Atari2600", "Seaquest-Atari2600"} <= set(result.imported)
    for game, dest in result.imported.items():
        integ = load_integration(game)
        assert Path(dest) == data / "roms" / game / "rom.a26"
        assert _sha1(dest) in integ.rom_shas
        assert integ.rom_path() == dest
    # ale-py bundles ROMs stable-retro has no integration for
    assert any(f.endswith("space_invaders.bin") for f in result.unmatched)
    assert not any(f.endswith("pong.bin") for f in result.unmatched)


def test_import_reports_non_roms_and_reads_zips(tmp_path, monkeypatch):
    monkeypatch.setenv("EMURL_DATA_DIR", str(tmp_path / "data"))
    junk = tmp_path / "notes.txt"
    junk.write_text("not a ROM")
    result = import_roms([junk])
    assert result.imported == {} and result.unmatched == [str(junk)]

    pong = ale_py_rom_dir() / "pong.bin"
    archive = tmp_path / "pong.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(pong, "Pong (1977).a26")
    result = import_roms([archive])
    assert list(result.imported) == ["Pong-Atari2600"]
    assert Path(result.imported["Pong-Atari2600"]).read_bytes() == pong.read_bytes()


def test_a_damaged_zip_is_skipped_and_the_import_goes_on(tmp_path, monkeypatch):
    monkeypatch.setenv("EMURL_DATA_DIR", str(tmp_path / "data"))
    pong = ale_py_rom_dir() / "pong.bin"
    archive = tmp_path / "broken.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(pong, "Pong (1977).a26")
    data = bytearray(archive.read_bytes())
    start = data.index(b"Pong (1977).a26") + len("Pong (1977).a26")  # the member's deflate data follows its name
    data[start:start + 64] = bytes(64)
    archive.write_bytes(bytes(data))
    good = tmp_path / "pong.a26"
    good.write_bytes(pong.read_bytes())
    with pytest.warns(UserWarning, match="broken.zip: a damaged zip archive, skipped"):
        result = import_roms([archive, good])
    assert list(result.imported) == ["Pong-Atari2600"] and str(archive) in result.unmatched


def test_import_nonexistent_path(tmp_path):
    missing = tmp_path / "no-such-folder"
    with pytest.raises(EmurlError, match=re.escape(str(missing)) + ": no such file or folder"):
        import_roms([missing])


def test_roms_import_matches_ds_roms_by_game_code(tmp_path):
    rom = tmp_path / "my mkds.nds"
    header = bytearray(0x200)
    header[0:12] = b"MARIOKARTDS\0"
    header[0x0C:0x10] = b"AMCP"
    rom.write_bytes(bytes(header))
    other = tmp_path / "homebrew.nds"
    other.write_bytes(bytes(0x200))
    res = import_roms([str(tmp_path)])
    assert list(res.imported) == ["MarioKartDS-NintendoDs"]
    assert res.unmatched == [str(other)]
    assert load_integration("MarioKartDS-NintendoDs").rom_path() == res.imported["MarioKartDS-NintendoDs"]
    os.unlink(res.imported["MarioKartDS-NintendoDs"])
