"""DeSmuME (py-desmume), the Nintendo DS backend the Mario Kart DS community uses; the
view of the console both DS backends share is in :mod:`emurl.emulators.ds`."""

from __future__ import annotations

import builtins
import ctypes
import os
import shutil
import weakref
from importlib import metadata

import numpy as np

from emurl.emulators import scratch
from emurl.emulators.base import claim_process_slot, release_process_slot
from emurl.emulators.ds import (
    SYSTEM,
    DS_BUTTONS,
    MAIN_RAM,
    SCREEN_H,
    SCREEN_W,
    FRAME_RATE,
    DEFAULT_ACTIONS,
    _parse_dtype,
    _decode,
    _encode,
    _check_main_ram,
    check_nds_header,
    _RAM_END,
    _RAM_START,
    _quiet,
)
from emurl.errors import EmulatorError

try:
    from emurl import _fastops
except ImportError:  # pragma: no cover - depends on the build: screens then go through desmume's RGBX copy
    _fastops = None


# -- DeSmuME ---------------------------------------------------------------------------
_NOTHING = object()
_DESMUME = None  # the process's one DeSmuME: a second DeSmuME() crashes the process


def _desmume_instance():
    global _DESMUME
    if _DESMUME is None:
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
        # SDL otherwise takes over SIGINT and SIGTERM (turning them into SDL_QUIT events
        # nobody reads): `kill` and Ctrl-C then no longer stopped `emurl train`.
        os.environ.setdefault("SDL_NO_SIGNAL_HANDLERS", "1")
        # libdesmume keeps cartridge saves in glib's user config dir (~/.config/desmume):
        # make it this process's scratch folder before the library is loaded (emulators/scratch.py).
        scratch.private_config_dir(os.path.join(scratch.process_folder(), "config"))
        # py-desmume translates its key names with `builtins._` when that exists; in a REPL,
        # Jupyter or a doctest `_` is the last result (2, None, ...), and its import then
        # fails with "TypeError: 'int' object is not callable". Hide it for the import.
        hidden = builtins.__dict__.pop("_", _NOTHING)
        try:  # lazy: the SDL variables above must be set before py-desmume loads DeSmuME
            from desmume.emulator import DeSmuME
        except ImportError as exc:
            raise EmulatorError(f"the desmume backend needs py-desmume (pip install py-desmume): {exc}") from None
        finally:
            if hidden is not _NOTHING:
                builtins._ = hidden
        with _quiet():
            _DESMUME = DeSmuME()
    return _DESMUME


# DeSmuME key numbers (desmume.controls.Keys: A=1 ... Y=12); its keypad bit is key - 1.
_DESMUME_KEYS = {"A": 1, "B": 2, "SELECT": 3, "START": 4, "RIGHT": 5, "LEFT": 6, "UP": 7,
                 "DOWN": 8, "R": 9, "L": 10, "X": 11, "Y": 12}


class DesmumeBackend:
    """DeSmuME through py-desmume: the emulator the Mario Kart DS community uses.

    Args:
        rom_path: an ``.nds`` file.
        backup: a save file (raw ``.sav``, or DeSmuME's ``.dsv``) to start with as the
            cartridge's backup memory (:meth:`load_backup`); default: an empty one.

    The CPUs run in DeSmuME's interpreter. ``ram()`` reads main RAM one word at a time
    through libdesmume (about 1 s) where its main RAM array can't be found.

    Files: savestates go through a file, since libdesmume saves only to files, and the
    cartridge's backup memory lives in :attr:`backup_file`; both in the process's private
    scratch folder (:mod:`emurl.emulators.scratch`, in ``/dev/shm`` when there is one),
    which is emptied when the emulator opens and removed when it closes, is
    garbage-collected or the process exits. Nothing is written to the home folder, and no
    game or run sees another's save.

    Raises:
        EmulatorError: py-desmume is missing, the ROM or save can't be opened, or a DeSmuME
            emulator is already open in this process (DeSmuME is a process-wide singleton).
    """

    backend = "desmume"
    stacked = True
    system = SYSTEM
    buttons = DS_BUTTONS
    frame_rate = FRAME_RATE
    players = 1
    default_actions = DEFAULT_ACTIONS
    supports_touch = True

    def __init__(self, rom_path: str, backup: str | os.PathLike | None = None):
        if not os.path.isfile(rom_path):
            raise EmulatorError(f"{rom_path}: no such ROM file")
        check_nds_header(rom_path)
        if backup is not None and not os.path.isfile(backup):
            raise EmulatorError(f"{backup}: no such save file")
        claim_process_slot(self.backend, self)
        self._closed = True  # until opened: close() then only releases what was taken
        try:
            try:
                self._tmp = scratch.process_folder()
            except OSError as exc:  # /dev/shm full or not ours
                raise EmulatorError(f"DeSmuME needs a private scratch folder: {exc}") from None
            shutil.rmtree(os.path.join(self._tmp, "config"), ignore_errors=True)  # no earlier env's save
            self._finalizer = weakref.finalize(self, scratch.empty, self._tmp)
            self._emu = _desmume_instance()
            try:
                with _quiet():
                    self._emu.open(str(rom_path))
            except RuntimeError as exc:
                raise EmulatorError(f"{rom_path}: DeSmuME could not open it ({exc}); is it a .nds ROM?") from None
        except BaseException:
            if hasattr(self, "_finalizer"):
                self._finalizer()
            release_process_slot(self.backend, self)
            raise
        lib = self._emu.lib
        self._lib = lib
        self._cycle = lib.desmume_cycle
        self._keypad = lib.desmume_input_keypad_update
        self._keypad.argtypes = [ctypes.c_uint16]
        self._rd = {1: lib.desmume_memory_read_byte, 2: lib.desmume_memory_read_short, 4: lib.desmume_memory_read_long}
        self._rds = {1: lib.desmume_memory_read_byte_signed, 2: lib.desmume_memory_read_short_signed,
                     4: lib.desmume_memory_read_long_signed}
        self._accessors: dict[str, tuple] = {}  # dtype -> _accessor(dtype), filled by read()
        self._wr = {1: lib.desmume_memory_write_byte, 2: lib.desmume_memory_write_short, 4: lib.desmume_memory_write_long}
        self._bits = np.array([1 << (_DESMUME_KEYS[b] - 1) for b in DS_BUTTONS], np.int64)
        self._skip = lib.desmume_skip_next_frame
        self._rgbx = ctypes.create_string_buffer(SCREEN_W * SCREEN_H * 2 * 4)
        self._draw = lib.desmume_draw_raw_as_rgbx
        self._raw = None
        if _fastops is not None:  # the display buffer itself, RGB555, expanded by our C kernel (5x faster)
            try:
                lib.desmume_draw_raw.restype = ctypes.c_void_p
                self._raw = lib.desmume_draw_raw
                self._expand = _fastops.rgb555_to_rgb
                self._raw_type = ctypes.c_uint16 * (2 * SCREEN_H * SCREEN_W)
            except AttributeError:  # a DeSmuME library or extension without these: the RGBX copy
                self._raw = None
        self._state_file = os.path.join(self._tmp, "state.dst")
        self._loaded: bytes | None = None  # the state bytes whose file is in _state_file
        self.rom_path = str(rom_path)
        self.backup_file = os.path.join(
            self._tmp, "config", "desmume", os.path.splitext(os.path.basename(rom_path))[0] + ".dsv")
        """Where DeSmuME keeps this game's cartridge backup memory (its ``.dsv``), in the scratch folder."""
        self.core = f"DeSmuME (py-desmume {metadata.version('py-desmume')})"
        self._touching = False
        self._closed = False
        self._keypad(0)
        self._mute()
        if backup is not None:
            try:
                self.load_backup(str(backup))
            except BaseException:
                self.close()
                raise

    def _mute(self) -> None:
        """Swap DeSmuME's SDL sound core for its dummy core (core id 0; emurl plays no
        sound). Every savestate load resets the DS, and the reset re-opened SDL's audio
        device, waiting ~130 ms for SDL's audio thread to wake: 140 ms per load before,
        ~5 ms after (measured on MiniKart's race state)."""
        change = getattr(self._lib, "_Z19SPU_ChangeSoundCoreii", None)  # SPU_ChangeSoundCore(int, int)
        if change is not None:
            change.argtypes = [ctypes.c_int, ctypes.c_int]
            change(0, 735 * 4)  # SNDCORE_DUMMY, DeSmuME's default buffer size

    # -- running -------------------------------------------------------------------
    def step(self, frames: int = 1) -> None:
        cycle = self._cycle
        for _ in range(frames):
            cycle(False)

    # A screen read after frame N shows frame N only if frames N-3..N were all drawn:
    # skipping any of them leaves an older or half-drawn picture (measured on MiniKart at
    # frame skip 4, 8 and 16: tests/test_ds.py::test_desmume_frame_skip_shows_the_current_frame).
    render_settle = 3

    def skip_render(self) -> None:
        """Don't draw the next frame: faster frame skip. Its screen and the next
        :attr:`render_settle` frames' screens are then not the current picture."""
        self._skip()

    def set_buttons(self, pressed: np.ndarray, player: int = 0) -> None:
        if player != 0:
            raise EmulatorError(f"the DS has one player's buttons (player 0), not player {player}")
        self._keypad(int(np.dot(np.asarray(pressed, np.int64)[: len(DS_BUTTONS)], self._bits)))

    def set_touch(self, x: int, y: int, pressed: bool) -> None:
        """Touch the bottom screen at (x, y) in pixels (0-255, 0-191), or release it."""
        if pressed:
            self._lib.desmume_input_set_touch_pos(int(min(max(x, 0), 255)), int(min(max(y, 0), 191)))
            self._touching = True
        elif self._touching:
            self._lib.desmume_input_release_touch()
            self._touching = False

    def screen(self) -> np.ndarray:
        """Both screens stacked, uint8 (384, 256, 3) RGB (libdesmume's "rgbx" is B, G, R, X)."""
        if self._raw is not None:
            out = np.empty((2 * SCREEN_H, SCREEN_W, 3), np.uint8)
            self._expand(self._raw_type.from_address(self._raw()), out)
            return out
        self._draw(ctypes.cast(self._rgbx, ctypes.c_char_p))
        img = np.frombuffer(self._rgbx, np.uint8).reshape(2 * SCREEN_H, SCREEN_W, 4)
        return np.ascontiguousarray(img[:, :, 2::-1])

    # -- memory --------------------------------------------------------------------
    def read(self, address: int, dtype: str) -> int:
        # An env reads its variables every agent step: each type is parsed once
        # (_accessor, remembered per dtype string) and the main-RAM bounds are checked inline.
        fast = self._accessors.get(dtype)
        if fast is None:
            fast = self._accessors[dtype] = self._accessor(dtype)
        fn, size = fast
        if fn is not None and address % size == 0:
            if _RAM_START <= address <= _RAM_END - size:
                return fn(address)
            _check_main_ram(address, size, self.backend)  # raises: outside main RAM
        return _decode(self.read_bytes(address, size), dtype)

    def _accessor(self, dtype: str) -> tuple:
        """(libdesmume's reader of ``dtype``, size): the reader for a little-endian 1-, 2-
        or 4-byte int (at an aligned address), None for the other types (read as bytes)."""
        end, kind, size = _parse_dtype(dtype)
        if end == "<" and kind in "ui" and size in (1, 2, 4):
            return (self._rds if kind == "i" else self._rd)[size], size
        return None, size

    def read_bytes(self, address: int, size: int) -> bytes:
        """``size`` raw bytes from ``address`` in main RAM."""
        _check_main_ram(address, size, self.backend)
        view = self._main_ram_view()
        if view is not None:
            offset = address - MAIN_RAM[0]
            return view[offset:offset + size].tobytes()
        rd = self._rd[1]
        return bytes(rd(address + i) for i in range(size))

    def write(self, address: int, dtype: str, value: int) -> None:
        end, kind, size = _parse_dtype(dtype)
        _check_main_ram(address, size, self.backend)
        if end == "<" and kind in "ui" and size in (1, 2, 4) and address % size == 0:
            self._wr[size](address, int(value) & ((1 << (8 * size)) - 1))
            return
        for i, b in enumerate(_encode(value, dtype)):
            self._wr[1](address + i, b)

    def ram(self) -> np.ndarray:
        view = self._main_ram_view()
        if view is not None:
            return view.copy()
        start, length = MAIN_RAM
        rd = self._rd[4]
        words = np.fromiter((rd(a) for a in range(start, start + length, 4)), np.uint32, length // 4)
        return words.astype("<u4").view(np.uint8)

    _ram_view: np.ndarray | None | bool = False  # False: not looked for yet

    def _main_ram_view(self) -> np.ndarray | None:
        """DeSmuME's main RAM array itself (``MMU.MAIN_MEM``, 4 MiB, uint8), or None.

        ``MMU`` is an exported global of libdesmume; in its ``MMU_struct`` the main RAM
        follows the ARM9 ITCM (32 KiB) and DTCM (16 KiB), so it starts at ``MMU + 0xC000``
        (DeSmuME's ``MMU.h``). The layout is checked once, against 256 words read through
        the library's accessor, as soon as some of them are not 0. On a mismatch: None,
        and reads go through the accessor (~0.3 s for all of main RAM instead of ~1 ms).
        """
        if self._ram_view is False:
            try:
                lib = self._lib
                base = ctypes.addressof(ctypes.c_uint8.in_dll(lib, "MMU")) + 0xC000
                size = ctypes.c_uint32.in_dll(lib, "_MMU_MAIN_MEM_MASK").value + 1
            except (ValueError, AttributeError):  # symbols not exported by this build
                self._ram_view = None
                return None
            start, length = MAIN_RAM
            if size < length:
                self._ram_view = None
                return None
            view = np.ctypeslib.as_array((ctypes.c_uint8 * length).from_address(base))
            probe = np.linspace(0, length // 4 - 1, 256).astype(np.int64)
            words = view.view("<u4")[probe]
            if not words.any():
                return None  # RAM still blank (before boot): decide on a later call
            rd = self._rd[4]
            same = all(int(w) == rd(start + 4 * int(i)) & 0xFFFFFFFF for w, i in zip(words, probe))
            self._ram_view = view if same else None
        return self._ram_view

    # -- state ---------------------------------------------------------------------
    def save_state(self) -> bytes:
        path = os.path.join(self._tmp, "save.dst")
        with _quiet():
            ok = self._lib.desmume_savestate_save(path.encode())
        if not ok:
            raise EmulatorError(f"{self.rom_path}: DeSmuME could not save a state")
        with open(path, "rb") as f:
            data = f.read()
        os.unlink(path)
        return data

    def load_state(self, state: bytes) -> None:
        if not state.startswith(b"DeSmuME SState"):
            raise EmulatorError(
                f"{self.rom_path}: DeSmuME refused the savestate ({len(state)} bytes): it is not a "
                f"DeSmuME savestate (starts {bytes(state[:4])!r}; melonDS's start b'MELN')"
            )
        if state is not self._loaded:  # resets reload one state: write its file once
            with open(self._state_file, "wb") as f:
                f.write(state)
            self._loaded = state
        with _quiet():
            ok = self._lib.desmume_savestate_load(self._state_file.encode())
        if not ok:
            self._loaded = None
            raise EmulatorError(
                f"{self.rom_path}: DeSmuME refused the savestate ({len(state)} bytes): "
                "made by another backend (melonDS?), ROM or DeSmuME version?"
            )
        self._touching = False

    def load_backup(self, path: str) -> None:
        """Use ``path`` (a raw ``.sav``, or ``.dsv``) as the cartridge's backup memory.

        Call right after opening, before the game reads its save (or pass ``backup=`` when
        opening). A savestate carries the backup memory it was made with: :meth:`load_state`
        replaces this one.

        Raises:
            EmulatorError: the file is missing or DeSmuME can't import it.
        """
        if not os.path.isfile(path):
            raise EmulatorError(f"{path}: no such save file")
        if not self._emu.backup.import_file(str(path)):
            raise EmulatorError(f"{path}: DeSmuME could not import it as cartridge backup memory")

    def read_backup(self) -> bytes:
        """The cartridge's backup memory now, as a raw ``.sav`` (its size is the chip's:
        e.g. 512 bytes for a 4 Kbit EEPROM).

        Raises:
            EmulatorError: DeSmuME could not export it.
        """
        path = os.path.join(self._tmp, "backup.sav")
        try:
            if not self._emu.backup.export_file(path):
                raise EmulatorError(f"{self.rom_path}: DeSmuME could not export the cartridge's backup memory")
            with open(path, "rb") as f:
                return f.read()
        finally:
            if os.path.exists(path):
                os.unlink(path)

    def power_on(self) -> None:
        """Restart the ROM from power-on (a hard reset)."""
        self._lib.desmume_reset()

    def close(self) -> None:
        """Close the ROM and remove the scratch folder (savestate files, the cartridge save)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._keypad(0)
            self._lib.desmume_close()
        finally:
            self._finalizer()
            release_process_slot(self.backend, self)

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
