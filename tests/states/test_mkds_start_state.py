"""Mario Kart DS start states: the menu script in the one input-script format, the one
start-state path with this game's hooks (save, race config, game code), the ROM check and
import, and ``games check``, on a fake emulator. The test marked ``needs_rom`` looks in
``EMURL_ROM_DIR`` for an .nds whose header game code is AMCE, AMCP or AMCJ."""

from __future__ import annotations

import gzip
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest

from emurl.games import load_integration
from emurl.games.mkds.courses import UnknownCourseError, course_by_abbr
from emurl.games.mkds.features import RaceFeatures
from emurl.states.check import check_game, diagnose
from emurl.states.mkds import (
    StartStateError,
    kart_position,
    make_start_state,
    menu_script,
    start_script,
)
from emurl.states.mkds_rom import RomCheckError, check_rom, find_roms, import_rom
from emurl.states.scripts import StartStateError as GenericStartStateError
from emurl.states.scripts import run_script, script_frames
from mkds_fakes import FakeMkds, fake_nds, never_open, opener
from mkds_memory import DS_BUTTONS, GAME, INFO_FACTS, STRUCTS


# -- ROM check ------------------------------------------------------------------------------
def test_check_rom(tmp_path):
    for code, region in (("AMCE", "USA"), ("AMCP", "Europe"), ("AMCJ", "Japan")):
        info = check_rom(fake_nds(tmp_path / f"{code}.nds", code))
        assert (info.game_code, info.region, info.title) == (code, region, "MARIOKART DS") and len(info.sha1) == 40
    with pytest.raises(RomCheckError, match=r"game code 'ASME' \(title 'SUPERMARIO64'\) is not Mario Kart DS.*AMCE \(USA\)"):
        check_rom(fake_nds(tmp_path / "sm64.nds", "ASME", "SUPERMARIO64"))
    (tmp_path / "short.nds").write_bytes(b"\0" * 100)
    with pytest.raises(RomCheckError, match="too short"):
        check_rom(tmp_path / "short.nds")
    with pytest.raises(RomCheckError, match="no such ROM"):
        check_rom(tmp_path / "missing.nds")
    assert [r.game_code for r in find_roms(tmp_path)] == ["AMCE", "AMCJ", "AMCP"]


def test_import_rom(tmp_path, monkeypatch):
    monkeypatch.setenv("EMURL_DATA_DIR", str(tmp_path / "data"))
    info = import_rom(fake_nds(tmp_path / "mine.nds", "AMCP"))
    assert Path(info.path) == tmp_path / "data" / "roms" / GAME / "rom.nds"
    assert load_integration(GAME).rom_path() == info.path
    with pytest.raises(RomCheckError):
        import_rom(fake_nds(tmp_path / "other.nds", "XXXX"))


# -- start states (menu driver on a fake emulator) ------------------------------------------
def test_menu_script():
    def presses(script):
        return [step["press"] for step in script if "press" in step]

    assert kart_position(0, 0) == 0 and kart_position(0, 2) == 2
    assert kart_position(0, 21) == 3  # kart 21 belongs to character 7, second in the grid
    assert kart_position(7, 0) == 33  # the list starts at Luigi (7) and wraps to 0 last
    for bad in ((12, 0), (0, 36), (0, -1)):
        with pytest.raises(ValueError):
            kart_position(*bad)
    p = presses(menu_script("f8c"))
    assert p == ["A", "DOWN", "A", "A", "A", "A", "A", "A", "A"]
    p = presses(menu_script("rr", character=9, kart=27))  # rr: cup 3 slot 3; character 9: grid row 2 col 0
    assert p == ["A", "DOWN", "A", "A", "DOWN", "DOWN", "A", "A",  # title, time trial, character 9
                 "RIGHT", "RIGHT", "RIGHT", "A", "DOWN", "DOWN", "DOWN", "A", "A"]  # cup 3, slot 3
    p = presses(menu_script("rmc1"))  # cup 4: second row, first column
    assert p[-5:] == ["A", "DOWN", "A", "A", "A"] and p.count("DOWN") == 2


def test_menu_script_is_a_start_states_script_with_the_facts_timing():
    """menu_script uses emurl's one script format: {"wait": N} and {"press": button} steps,
    a press one frame; the frames each button goes down on are the facts' menu timing."""
    for script in (menu_script("f8c"), menu_script("rr", character=9, kart=27)):
        assert all(step.keys() == {"wait"} and isinstance(step["wait"], int) and step["wait"] > 0
                   or step.keys() == {"press"} and step["press"] in DS_BUTTONS for step in script)

    def downs(script):
        return [(f, held) for f, held in enumerate(script_frames(script)) if held]

    f8c = menu_script("f8c")  # character 0, kart 0, cup 0 slot 0: no cursor moves
    assert len(script_frames(f8c)) == 829
    assert downs(f8c) == [(360, ("A",)), (471, ("DOWN",)), (472, ("A",)), (518, ("A",)), (564, ("A",)),
                          (595, ("A",)), (756, ("A",)), (812, ("A",)), (828, ("A",))]
    rr = menu_script("rr", character=9, kart=27)  # grid row 2; cup 3 (column 3) slot 3; moves 7 frames apart
    assert len(script_frames(rr)) == 893
    assert downs(rr) == [(360, ("A",)), (471, ("DOWN",)), (472, ("A",)), (518, ("A",)),
                         (564, ("DOWN",)), (572, ("DOWN",)), (580, ("A",)), (611, ("A",)),
                         (772, ("RIGHT",)), (780, ("RIGHT",)), (788, ("RIGHT",)), (796, ("A",)),
                         (852, ("DOWN",)), (860, ("DOWN",)), (868, ("DOWN",)), (876, ("A",)), (892, ("A",))]
    # the kart list: RIGHT 3 per character (kart 21 is Luigi's first, 3 RIGHTs past Mario's)
    k = menu_script("f8c", character=0, kart=21)
    assert len(script_frames(k)) == 829 + 3 * 8
    assert [b for _, (b,) in downs(k)][5:9] == ["RIGHT", "RIGHT", "RIGHT", "A"]


def test_menu_script_plays_on_the_generic_runner():
    """run_script plays a menu script frame for frame as script_frames expands it; a button
    the emulator lacks fails with the one StartStateError, naming it and the emulator's buttons."""
    assert StartStateError is GenericStartStateError and issubclass(StartStateError, RuntimeError)
    script = menu_script("rr", character=9, kart=27)
    fake = FakeMkds(race_at=None)
    assert run_script(fake, script) == len(script_frames(script)) == fake.frame
    assert fake.presses == [(f, held) for f, held in enumerate(script_frames(script)) if held]
    assert fake.held == ()  # released at the end

    class NoDown(FakeMkds):
        buttons = tuple(b for b in DS_BUTTONS if b != "DOWN")

    with pytest.raises(StartStateError, match=r"\[3\]: unknown button 'DOWN' \(buttons: B, Y, SELECT, START, UP, LEFT"):
        run_script(NoDown(race_at=None), script)
    with pytest.raises(StartStateError, match=r"\[1\]: unknown button 'Z'"):
        script_frames([{"wait": 2}, {"press": "Z"}], buttons=DS_BUTTONS)
    with pytest.raises(StartStateError, match=r"\[0\]: an until step has no fixed frame count"):
        len(script_frames([{"until": {"race_frame": 1}}]))
    with pytest.raises(StartStateError, match=r"\[1\]: expected one of wait/press/hold/until"):
        script_frames([{"wait": 1}, ("press", "A")])
    # press with frames/repeat/gap: (frames + gap) * repeat frames, as run_script runs them
    assert script_frames([{"press": ["A", "B"], "frames": 2, "repeat": 2, "gap": 1}, {"wait": 1}]) == [
        ("A", "B"), ("A", "B"), (), ("A", "B"), ("A", "B"), (), ()]


def test_make_start_state(tmp_path):
    save = tmp_path / "100percent.sav"
    save.write_bytes(b"\xff" * 1024)
    rom = fake_nds(tmp_path / "mkds.nds")
    fake = FakeMkds(config=(22, 0, 0))
    made = make_start_state(str(rom), "yf", save=save, folder=tmp_path / "states", open_emulator=opener(fake))
    assert made.name == "yf" and made.path == tmp_path / "states" / "yf.fake.state" and fake.closed
    assert gzip.decompress(made.path.read_bytes()) == fake.save_state()
    record = json.loads(made.sidecar.read_text())
    assert record["backend"] == "fake" and record["core"] == "fake core 1.0" and record["game_code"] == "AMCE"
    assert record["rom_sha1"] == check_rom(rom).sha1 and (record["course"], record["course_id"]) == ("yf", 22)
    assert record["race_frame"] == 1 and record["save"] == "100percent.sav" and fake.backup == str(save)
    assert fake.presses == [(f, held) for f, held in enumerate(script_frames(menu_script("yf"))) if held]
    assert record["frames_from_power_on"] == fake.frame == 1501  # menus, then until the race frame counter reads 1
    # one sidecar format for every game: where it came from, and the whole script (menus + the race wait)
    assert record["game"] == GAME and record["state"] == "yf" and record["save_sha1"]
    assert record["script"] == json.loads(json.dumps(start_script("yf")))
    assert record["script"][-1]["until"] == {"racer_pointer": {"op": "nonzero"}, "scene_state": 2,
                                             "race_frame": {"op": "greater-or-equal", "reference": 1}}


def test_start_state_loads_by_name(tmp_path, monkeypatch):
    """Written to the user state folder as <name>.<backend>.state, the env finds it by name for that backend."""
    monkeypatch.setenv("EMURL_DATA_DIR", str(tmp_path / "data"))
    save = tmp_path / "100percent.sav"
    save.write_bytes(b"\xff" * 1024)
    fake = FakeMkds(config=(25, 7, 21))
    fake.backend = "desmume"
    made = make_start_state(str(fake_nds(tmp_path / "m.nds")), "mc", character=7, kart=21, save=save,
                            open_emulator=opener(fake))
    assert made.name == "mc-c7-k21" and made.path.parent == tmp_path / "data" / "states" / GAME
    integ = load_integration(GAME)
    assert integ.load_state_bytes("mc-c7-k21", "desmume") == fake.save_state()


def test_start_state_errors(tmp_path):
    save = tmp_path / "100percent.sav"
    save.write_bytes(b"\xff" * 1024)
    states = tmp_path / "states"
    with pytest.raises(RomCheckError, match="'NTRJ'"):
        make_start_state(str(fake_nds(tmp_path / "x.nds", "NTRJ")), "yf", save=save, folder=states, open_emulator=never_open)
    rom = str(fake_nds(tmp_path / "mkds.nds"))
    with pytest.raises(StartStateError, match="no such save"):
        make_start_state(rom, "yf", save=tmp_path / "none.sav", folder=states, open_emulator=never_open)
    with pytest.raises(UnknownCourseError):
        make_start_state(rom, "yoshi fall", save=save, folder=states, open_emulator=never_open)

    fake = FakeMkds(config=(20, 0, 0))  # the menus reached Figure-8 Circuit, not Yoshi Falls
    with pytest.raises(StartStateError, match=r"course id 20 \(f8c.*expected 22 \(yf") as err:
        make_start_state(rom, "yf", save=save, folder=states, open_emulator=opener(fake))
    assert "screenshot" in str(err.value) and (states / "yf.fake.failed.png").is_file() and fake.closed
    assert not (states / "yf.fake.state").exists()

    fake = FakeMkds(race_at=None)  # 1 s of game time = 59 frames at the DS's 59.8261 frames/s
    with pytest.raises(StartStateError, match=r"not reached within 59 frames \(now \{'racer_pointer': 0, "
                                              r"'scene_state': 0, 'race_frame': 0\}\): no race: a menu input missed"):
        make_start_state(rom, "yf", save=save, folder=states, timeout_seconds=1, open_emulator=opener(fake))
    assert (states / "yf.fake.failed.png").is_file() and fake.frame == len(script_frames(menu_script("yf"))) + 59

    class Jumps(FakeMkds):  # the counter reads 5 as the race scene starts: never 1
        def step(self, frames=1):
            super().step(frames)
            if self.frame >= self.race_at:
                self.write(STRUCTS["rstate"] + 4, "<i4", self.frame - self.race_at + 5)

    with pytest.raises(StartStateError, match=r"race frame counter jumped to 5 without reading 1.*screenshot"):
        make_start_state(rom, "yf", save=save, folder=states, open_emulator=opener(Jumps()))

    fake = FakeMkds(code="AMCP", config=(22, 0, 0))  # RAM says Europe, the header says USA
    with pytest.raises(StartStateError, match="game code in RAM"):
        make_start_state(rom, "yf", save=save, folder=states, open_emulator=opener(fake))

    class NoSaves(FakeMkds):
        load_backup = None

    with pytest.raises(StartStateError, match="can't load a cartridge save"):
        make_start_state(rom, "yf", save=save, folder=states, open_emulator=opener(NoSaves()))

    class NoA(FakeMkds):
        buttons = tuple(b for b in DS_BUTTONS if b != "A")

    with pytest.raises(StartStateError, match=r"script \(fake emulator\)\[1\]: unknown button 'A' \(buttons: B, Y"):
        make_start_state(rom, "yf", save=save, folder=states, open_emulator=opener(NoA()))


# -- games check ----------------------------------------------------------------------------
def test_check_game_on_fake(tmp_path):
    from rich.console import Console

    save = tmp_path / "s.sav"
    save.write_bytes(b"\xff" * 64)
    rom = str(fake_nds(tmp_path / "mkds.nds"))
    out = io.StringIO()
    report = check_game(rom, seconds=1, save=save, live=False, console=Console(file=out, width=200),
                        open_emulator=opener(FakeMkds(config=(20, 0, 0))))
    assert report.ok, report.problems
    assert report.game_code == "AMCE" and report.region_offset == 0 and len(report.samples) > 5
    assert "race_progress" in out.getvalue() and "all variables plausible" in out.getvalue()

    out = io.StringIO()
    report = check_game(rom, seconds=1, save=save, live=True, console=Console(file=out, width=200),
                        open_emulator=opener(FakeMkds(config=(20, 0, 0), drives=False)))
    text = " ".join(report.problems)
    assert not report.ok and "speed: never above 0" in text and "race_progress: did not grow" in text
    assert "look wrong" in out.getvalue()


def test_diagnose():
    def sample(i, **kw):
        s = {n: f[4] for n, f in INFO_FACTS.items()}
        s.update(frame=i, race_frame=100 + i, speed=12.0, race_progress=0.01 + i * 1e-4, position_z=float(i),
                 lap=1, place=1, in_air=0, floor_type=0, course=22, character=0, kart=0)
        s.update(kw)
        return s

    good = [sample(i) for i in range(0, 120, 6)]
    assert diagnose(good, course=course_by_abbr("yf"), character=0, kart=0, game_code="AMCE", header_code="AMCE",
                    offset=0, expected_offset=0) == []
    assert any("first_lap" in p for p in diagnose([sample(i, lap=0) for i in range(0, 60, 6)]))
    assert any("race_frame" in p for p in diagnose([sample(i, race_frame=7) for i in range(0, 60, 6)]))
    assert any("course" in p for p in diagnose(good, course=course_by_abbr("f8c")))
    assert any("region offset" in p for p in diagnose(good, offset=0x20, expected_offset=0))
    assert any("scene_state" in p for p in diagnose([sample(i, scene_state=1) for i in range(0, 60, 6)]))
    assert diagnose([]) == ["no samples: the race did not run"]


# -- with the real game (EMURL_ROM_DIR) -----------------------------------------------------
def _real_rom():
    folder = os.environ.get("EMURL_ROM_DIR")
    roms = find_roms(folder) if folder and os.path.isdir(folder) else []
    if not roms:
        pytest.skip("needs a Mario Kart DS ROM (game code AMCE/AMCP/AMCJ) in EMURL_ROM_DIR")
    return roms[0]


def _real_save():
    from emurl.states.mkds import default_save

    candidates = [os.environ.get("EMURL_MKDS_SAVE"), default_save(),
                  Path(__file__).resolve().parents[1] / "fixtures" / "mkds" / "100percent.sav"]
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c)
    pytest.skip("needs an all-unlocked Mario Kart DS save (EMURL_MKDS_SAVE or tests/fixtures/mkds/100percent.sav)")


@pytest.mark.needs_rom
@pytest.mark.slow
def test_real_game_start_state_check_and_ppo(tmp_path, monkeypatch):
    rom, save = _real_rom(), _real_save()
    monkeypatch.setenv("EMURL_DATA_DIR", str(tmp_path / "data"))
    import_rom(rom.path)
    made = make_start_state(rom.path, "f8c", save=save)
    assert made.path.is_file() and made.record["course_id"] == 20

    report = check_game(rom.path, seconds=3, state="f8c", live=False)
    assert report.ok, report.problems

    import emurl

    env = emurl.make(GAME, state="f8c", backend="desmume", max_episode_steps=100)
    try:
        obs, info = env.reset(seed=0)
        total = 0.0
        for _ in range(100):
            obs, r, term, trunc, info = env.step(1)  # A
            total += r
            if term or trunc:
                break
        assert info["race_frame"] > 1 and total > 0
        feats = RaceFeatures()(env.unwrapped.emulator)
        assert feats.shape == (19,) and np.isfinite(feats).all()
    finally:
        env.close()

    from emurl.train.config import TrainConfig, apply
    from emurl.train.run import train

    cfg = apply(TrainConfig(), dict(game=GAME, state="f8c", backend="desmume", total_steps=64, num_envs=1, n_steps=32,
                                    batch_size=32, n_epochs=1, eval_every=0, eval_max_steps=20, video=False,
                                    max_episode_steps=50, checkpoint_every=64, runs_dir=str(tmp_path / "runs")), "test")
    run_dir = train(cfg, progress_bar=False)
    assert (run_dir / "checkpoints" / "latest.zip").is_file()
