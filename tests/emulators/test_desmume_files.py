"""Emulator files stay in their place: DeSmuME's cartridge save and savestate files live in
a private scratch folder per process (never in ``$HOME``), removed when the emulator closes
or the process exits, and cleaned up by the next start after a ``kill -9``; melonDS leaves
nothing behind either.

py-desmume runs one emulator per process, so every emulator here runs in a child process
(``python -c``) with its own temporary ``HOME``. MiniKart-NintendoDs ships its ROM.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emurl.emulators import scratch
from emurl.games import load_integration

ROM = load_integration("MiniKart-NintendoDs").require_rom()

# Opens MiniKart as an env from power-on with the save argv[1] as cartridge memory, says
# READY, waits for argv[2] to exist (the other process is open too), then drives, powers
# the console off and on (the game reloads its save), and prints what it sees.
TWO_SAVES = f"""
import os, sys, time
import emurl
save, go = sys.argv[1], sys.argv[2]
env = emurl.make("MiniKart-NintendoDs", state=None, save=save)  # EnvSpec.save: the cartridge save it starts with
emu = env.unwrapped.emulator
env.reset(seed=0)
print("FOLDER", emu._tmp, flush=True)
open(save + ".ready", "w").close()
for _ in range(600):
    if os.path.exists(go):
        break
    time.sleep(0.1)
for _ in range(30):
    env.step(env.action_space.sample())
emu.power_on()
emu.step(30)
print("BACKUP", emu.read_backup().hex(), flush=True)
print("DSV", emu.backup_file, os.path.isfile(emu.backup_file), flush=True)
env.close()
print("LEFT", os.path.exists(emu._tmp), flush=True)
"""

OPEN_AND_WAIT = f"""
import sys, time
from emurl.emulators import open_emulator
emu = open_emulator({ROM!r}, "NintendoDs", sys.argv[1])
emu.step(10)
emu.load_state(emu.save_state())
print("FOLDER", getattr(emu, "_tmp", ""), flush=True)
if sys.argv[2] == "wait":
    time.sleep(600)
elif sys.argv[2] == "close":
    emu.close()
"""


def _env(home: Path) -> dict:
    env = dict(os.environ, HOME=str(home), SDL_VIDEODRIVER="dummy")
    env.pop("XDG_CONFIG_HOME", None)
    return env


def _lines(out: str, key: str) -> list[str]:
    return [line.split(" ", 1)[1] for line in out.splitlines() if line.startswith(key + " ")]


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_two_processes_with_different_saves_see_their_own_and_home_is_untouched(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    saves = []
    for i, byte in enumerate((0x11, 0x22)):
        saves.append(tmp_path / f"save{i}.sav")
        saves[-1].write_bytes(bytes([byte, i, 0x5A]) * 170 + b"\0\0")  # 512 bytes: MiniKart's 4 Kbit EEPROM
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", TWO_SAVES, str(s), str(go)], env=_env(home), text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for s in saves]
    try:
        # both emulators are open at once before either drives: a shared save file would show
        for _ in range(3000):  # a wait (at most 5 min), not a timed assertion
            if all(Path(f"{s}.ready").exists() or p.poll() is not None for s, p in zip(saves, procs)):
                break
            time.sleep(0.1)
        go.touch()
        outs = [p.communicate(timeout=300) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for (out, err), p, save in zip(outs, procs, saves):
        assert p.returncode == 0, err[-3000:]
        assert _lines(out, "BACKUP") == [save.read_bytes().hex()]
        (dsv, present), = (line.rsplit(" ", 1) for line in _lines(out, "DSV"))
        assert present == "True" and dsv.startswith(scratch.scratch_root()) and str(home) not in dsv
        assert _lines(out, "LEFT") == ["False"]  # the scratch folder went with env.close()
    folders = [_lines(out, "FOLDER")[0] for out, _ in outs]
    assert folders[0] != folders[1] and not any(os.path.exists(f) for f in folders)
    assert _files(home) == []  # nothing in $HOME: no ~/.config/desmume/rom.dsv


def test_a_save_file_is_a_desmume_setting(tmp_path):
    from emurl.emulators import open_emulator
    from emurl.errors import EmulatorError

    with pytest.raises(EmulatorError, match="a.sav: a cartridge save file is loaded by the desmume backend only, not melonds"):
        open_emulator(ROM, "NintendoDs", "melonds", save=tmp_path / "a.sav")


def test_a_new_emulator_in_the_same_process_starts_with_an_empty_save(tmp_path):
    save = tmp_path / "a.sav"
    save.write_bytes(b"\x42" * 512)
    code = f"""
from emurl.emulators.desmume import DesmumeBackend
emu = DesmumeBackend({ROM!r}, backup={str(save)!r})
first = emu.read_backup()
emu.close()
emu = DesmumeBackend({ROM!r})
emu.step(30); emu.power_on(); emu.step(30)
print(first.hex()[:8], set(emu.read_backup()))
"""
    proc = subprocess.run([sys.executable, "-c", code], env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split()[-2:] == ["42424242", "{255}"]  # the second sees blank (erased) memory
    assert _files(tmp_path) == ["a.sav"]


@pytest.mark.parametrize("ending", ["close", "exit"])
def test_the_scratch_folder_goes_when_the_emulator_closes_or_the_process_exits(tmp_path, ending):
    proc = subprocess.run([sys.executable, "-c", OPEN_AND_WAIT, "desmume", ending], env=_env(tmp_path),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    folder, = _lines(proc.stdout, "FOLDER")
    assert Path(folder).name.startswith(scratch.PREFIX) and not os.path.exists(folder)
    assert _files(tmp_path) == []


def _start(tmp_path: Path, backend: str, mode: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-c", OPEN_AND_WAIT, backend, mode], env=_env(tmp_path), cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stdout:  # the emulators print their own lines to stdout too
        if line.startswith("FOLDER"):
            return proc, line.split(" ", 1)[1].strip()
    raise AssertionError(proc.stderr.read()[-3000:])


def test_no_block_outlives_its_process_after_kill_9_and_a_new_start(tmp_path):
    stale, stale_folder = _start(tmp_path, "desmume", "wait")
    live, live_folder = _start(tmp_path, "desmume", "wait")
    try:
        assert Path(stale_folder).name.startswith(f"{scratch.PREFIX}{stale.pid}-")
        assert sum(f.stat().st_size for f in Path(stale_folder).rglob("*")) > 10 << 20  # the ~11 MB savestate
        stale.send_signal(signal.SIGKILL)
        stale.wait(timeout=60)
        assert os.path.isdir(stale_folder)  # nobody could clean up after kill -9 ...
        proc = subprocess.run([sys.executable, "-c", OPEN_AND_WAIT, "desmume", "close"], env=_env(tmp_path),
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert not os.path.exists(stale_folder)  # ... until the next start
        assert os.path.isdir(live_folder)  # a live process's folder is left alone
    finally:
        live.kill()
        live.wait(timeout=60)
        stale.kill()
    scratch.remove_stale()
    assert not os.path.exists(live_folder)
    assert not [p for p in os.listdir(scratch.scratch_root()) if p.startswith((f"{scratch.PREFIX}{stale.pid}-",
                                                                             f"{scratch.PREFIX}{live.pid}-"))]


def test_melonds_writes_nothing_to_home_or_shm(tmp_path):
    """melonDS (stable-retro's core) makes one /dev/shm file for its fast memory and unlinks it
    at once, and writes nothing to $HOME or the working folder, even when killed."""
    closed, _ = _start(tmp_path, "melonds", "close")
    closed.communicate(timeout=300)
    assert closed.returncode == 0
    killed, _ = _start(tmp_path, "melonds", "wait")
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=60)
    assert _files(tmp_path) == []
    shm = os.listdir("/dev/shm") if os.path.isdir("/dev/shm") else []
    assert not [p for p in shm if p.endswith((f"fastmem{closed.pid}", f"fastmem{killed.pid}"))]


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def test_remove_stale_keeps_what_is_not_a_dead_processes_folder(tmp_path):
    dead = _dead_pid()
    gone = tmp_path / f"{scratch.PREFIX}{dead}-abc123"
    (gone / "config" / "desmume").mkdir(parents=True)
    (gone / "state.dst").write_bytes(b"x" * 100)
    alive = tmp_path / f"{scratch.PREFIX}{os.getppid()}-abc123"  # pytest's parent: alive
    alive.mkdir()
    locked = tmp_path / f"{scratch.PREFIX}{dead}-locked"  # dead pid, but a live process holds the lock
    locked.mkdir()
    fd = os.open(locked / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    other = [tmp_path / "emurl-desmume-legacy", tmp_path / f"somebody-{dead}-x", tmp_path / f"{scratch.PREFIX}{dead}"]
    for p in other:
        p.mkdir()
    target = tmp_path / "target"
    target.mkdir()
    (target / "keep").write_text("x")
    (tmp_path / f"{scratch.PREFIX}{dead}-link").symlink_to(target)
    try:
        assert scratch.remove_stale(str(tmp_path)) == [str(gone)]
    finally:
        os.close(fd)
    assert not gone.exists() and alive.is_dir() and locked.is_dir() and all(p.is_dir() for p in other)
    assert (target / "keep").is_file()
    assert scratch.remove_stale(str(tmp_path)) == [str(locked)]  # its lock was released
