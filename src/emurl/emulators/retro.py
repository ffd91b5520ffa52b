"""The stable-retro backend: libretro cores through stable-retro's low-level ``RetroEmulator``.

We use ``RetroEmulator`` directly rather than ``RetroEnv``: RetroEnv copies all of RAM
every frame (``GameData.update_ram``) and defaults to a human render window. Here memory
is read live, one typed value at a time, through stable-retro's ``GameData.memory`` view,
which knows each core's memory map (Genesis RAM at 0xFF0000, byte-swapped words, ...).
"""

from __future__ import annotations

import gc
import os

import numpy as np

from emurl.emulators.base import claim_process_slot, release_process_slot
from emurl.errors import EmulatorError


PLAYERS = {"Atari2600": 2, "Nes": 2, "Snes": 2, "Genesis": 2, "Sms": 2}
"""Controller ports stable-retro drives per system (``set_button_mask(mask, port)``); others 1.
Checked here: NES (FCEUmm: port 2 reaches the game's second controller, docs/facts/nes-homebrew.md)
and Atari 2600 (Stella: Pong's ``Start.2P`` moves the second paddle from port 2); Genesis and
Atari 2600 are the systems of stable-retro's own two-player integrations; SNES and Master
System per their libretro cores' two ports."""


def system_of_rom(path: str) -> str:
    """stable-retro's system name for a ROM file, from its extension (``.md`` → ``"Genesis"``).

    Raises:
        EmulatorError: no stable-retro core takes this extension.
    """
    import stable_retro  # lazy: it imports gymnasium, ~110 ms without it loaded (5 ms with)

    ext = os.path.splitext(path)[1].lower()
    systems = stable_retro.data.EMU_EXTENSIONS
    if ext not in systems:
        known = ", ".join(sorted(systems))
        raise EmulatorError(f"{path}: no stable-retro core reads '{ext}' files (known: {known})")
    return systems[ext]


def core_info(system: str) -> dict:
    """The core description stable-retro ships for ``system`` (buttons, RAM base, default actions)."""
    import stable_retro  # lazy: see system_of_rom

    try:
        return stable_retro.get_system_info(system)
    except KeyError:
        raise EmulatorError(
            f"stable-retro has no core for system {system!r} "
            f"(systems: {', '.join(sorted(stable_retro.data.EMU_INFO))})"
        ) from None


def _overlay(spec) -> tuple[np.dtype, np.dtype, int] | None:
    """A core's memory overlay (``cores/*.json``'s ``"overlay"``, e.g. Genesis's ``["=", ">", 2]``:
    RAM held as 16-bit words in native order, read as big-endian ones) as (backing numpy
    dtype, real numpy dtype, width); None where the core has none or both orders agree."""
    if not spec:
        return None
    backing, real, width = spec
    order = {"<": "<", "|": "<", ">": ">", "=": "="}
    backing, real = (np.dtype(f"{order[c]}u{int(width)}") for c in (backing, real))
    return None if backing == real else (backing, real, int(width))


class RetroBackend:
    """One libretro core (Stella, Genesis Plus GX, Snes9x, FCEUmm, Gambatte, mGBA, melonDS, ...).

    Args:
        rom_path: the ROM file; its extension picks the core (see :func:`system_of_rom`).

    Raises:
        EmulatorError: the ROM is unreadable, its extension has no core, or another
            stable-retro emulator is already open in this process.

    >>> from emurl.games import load_integration
    >>> emu = RetroBackend(load_integration("Airstriker-Genesis").require_rom())
    >>> emu.screen().shape, emu.screen().dtype
    ((224, 320, 3), dtype('uint8'))
    >>> emu.close()
    """

    backend = "retro"
    _slot = "retro"  # the melonds backend shares stable-retro, and so its one slot

    def __init__(self, rom_path: str):
        import stable_retro  # lazy: see system_of_rom

        if not os.path.isfile(rom_path):
            raise EmulatorError(f"{rom_path}: no such ROM file")
        self.system = system_of_rom(rom_path)
        info = core_info(self.system)
        self.buttons: list[str] = list(info["buttons"])
        self.core = info["lib"]
        self.default_actions = info.get("actions", [])
        self.rom_path = rom_path
        claim_process_slot(self._slot, self)
        # An env that was dropped without close() may still hold the core until collected.
        gc.collect()
        try:
            self._em = stable_retro.RetroEmulator(rom_path)
        except RuntimeError as exc:
            release_process_slot(self._slot, self)
            raise EmulatorError(f"{rom_path}: stable-retro could not open it: {exc}") from exc
        self._data = stable_retro.data.GameData()
        self._em.configure_data(self._data)
        self._memory = self._data.memory
        self._overlay = _overlay(info.get("overlay"))
        self._located: dict = {}  # read_spans' spans → where they lie in the blocks
        self._last_spans = self._last_located = None
        self.frame_rate = float(self._em.get_screen_rate()) or 60.0
        self.players = PLAYERS.get(self.system, 1)
        self._closed = False
        self._boot_state = self._em.get_state()  # stable-retro has no reset: power-on is this state

    # -- running -------------------------------------------------------------------
    def step(self, frames: int = 1) -> None:
        em = self._em
        for _ in range(frames):
            em.step()

    def set_buttons(self, pressed: np.ndarray, player: int = 0) -> None:
        if player and not 0 < player < self.players:  # player 0 always exists: no check on the hot path
            raise EmulatorError(f"{self.system} has {self.players} controller port(s) here; there is no player {player}")
        self._em.set_button_mask(pressed, player)

    def screen(self) -> np.ndarray:
        return self._em.get_screen()

    @property
    def resolution(self) -> tuple[int, int]:
        """(width, height) in pixels of the current video mode."""
        w, h = self._em.get_resolution()
        return int(w), int(h)

    # -- memory --------------------------------------------------------------------
    def read(self, address: int, dtype: str) -> int:
        return self._memory.extract(address, dtype)

    def write(self, address: int, dtype: str, value: int) -> None:
        self._memory.assign(address, dtype, value)

    def read_bytes(self, address: int, size: int) -> bytes:
        """``size`` bytes from ``address``, as :meth:`read` sees them (``read(a, "|u1")`` for
        each): a slice of the RAM block that holds them (~2 us for a 128-byte playfield,
        against ~40 us a byte at a time through the memory map, which a range across
        blocks or outside them still takes). On cores with a memory overlay (Genesis: RAM
        held as native-order 16-bit words, read big-endian) the slice is converted."""
        blocks = self._memory.blocks
        for start, block in blocks.items():
            if start <= address and address + size <= start + len(block):
                return self._slice(block, address - start, size)
        return bytes(self._memory.extract(address + i, "|u1") for i in range(size))

    def read_spans(self, spans: tuple[tuple[int, int], ...]) -> bytes:
        """The bytes of each ``(address, size)`` span, as :meth:`read_bytes` gives them,
        concatenated in order: one copy of RAM for all of them (~2 us for MiniDoc's four
        spans, against ~0.3 us per ``read``). What :class:`~emurl.games.variables.VariableReader`
        decodes a game's fixed-address variables from.

        Raises:
            EmulatorError: a span is not inside one block of :attr:`memory_blocks`.
        """
        if spans is self._last_spans:  # a reader asks with the same tuple every step
            located = self._last_located
        else:
            located = self._located.get(spans)
            if located is None:
                located = self._located[spans] = tuple(self._locate(a, n) for a, n in spans)
            self._last_spans, self._last_located = spans, located
        blocks = self._memory.blocks
        if self._overlay is None:
            return b"".join([blocks[start][lo:hi] for start, lo, hi in located])
        return b"".join([self._slice(blocks[start], lo, hi - lo) for start, lo, hi in located])

    def _locate(self, address: int, size: int) -> tuple[int, int, int]:
        """(block start, first offset, end offset) of a span inside one block."""
        for start, n in self.memory_blocks.items():
            if start <= address and address + size <= start + n:
                return start, address - start, address - start + size
        raise EmulatorError(f"{self.system}: {address:#x}-{address + size - 1:#x} is not inside one memory block "
                            f"({', '.join(f'{s:#x}+{n:#x}' for s, n in sorted(self.memory_blocks.items()))})")

    def _slice(self, block: bytes, offset: int, size: int) -> bytes:
        """``size`` bytes of ``block`` from ``offset``, through the core's overlay if it has one
        (stable-retro's ``MemoryOverlay``: whole words of the backing byte order, re-encoded
        in the real one; a block's words start at its first byte)."""
        if self._overlay is None:
            return bytes(block[offset:offset + size])
        backing, real, width = self._overlay
        lo = offset - offset % width
        hi = -(-(offset + size) // width) * width
        words = np.frombuffer(block[lo:hi], backing).astype(real).tobytes()
        return words[offset - lo:offset - lo + size]

    @property
    def memory_blocks(self) -> dict[int, int]:
        """Start address → size in bytes of each RAM block the core exposes."""
        return {int(k): len(v) for k, v in self._memory.blocks.items()}

    def ram(self) -> np.ndarray:
        blocks = self._memory.blocks
        return np.concatenate([np.frombuffer(blocks[k], np.uint8) for k in sorted(blocks)])

    # -- state ---------------------------------------------------------------------
    def save_state(self) -> bytes:
        return self._em.get_state()

    def load_state(self, state: bytes) -> None:
        if not self._em.set_state(state):
            raise EmulatorError(
                f"{self.rom_path}: the {self.core} core refused the savestate "
                f"({len(state)} bytes): made by another core, ROM or version?"
            )

    def power_on(self) -> None:
        """Back to power-on: the state taken right after the ROM was loaded."""
        self.load_state(self._boot_state)

    @property
    def game_data(self):
        """stable-retro's ``GameData`` bound to this emulator (for Lua-scripted scenarios)."""
        return self._data

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        del self._memory, self._data, self._em
        gc.collect()
        release_process_slot(self._slot, self)

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
