"""An in-memory fake emulator and a tiny integration for it: env logic tested without a ROM.

:class:`FakeEmulator` follows the :class:`emurl.emulators.Emulator` protocol with a
deterministic little "game" whose every rule is one line, so that a test can say what a
step must do:

- RAM is 64 bytes (uint8); each frame, in this order:
  ``frame`` (``>u2`` at 0x00) += 1 (wraps at 65536);
  ``x`` (``|u1`` at 0x02) += 1 with RIGHT held, -= 1 with LEFT (kept in 0..WIDTH-1);
  ``score`` (``>u2`` at 0x04) += 1 with A held;
  ``lives`` (``|u1`` at 0x06) -= 1 with B held (not below 0);
  ``bcd`` (``>d2`` at 0x08, BCD) counts frames with UP held, in decimal digits.
- The screen (uint8 (HEIGHT, WIDTH, 3)) is drawn from RAM alone: red column ``x``
  (all rows); green row ``FLICKER_ROWS[frame % 2]`` (a sprite that flickers between two
  rows, as on the Atari 2600); blue = ``score & 0xFF`` on the last row.
- A savestate is ``b"FAKE"`` + the RAM bytes; held buttons are not part of it (as on real
  consoles). The power-on RAM has ``lives = 3``, ``x = WIDTH // 2``.

It also counts what it is asked (``frames_run``, ``screens_taken``, ``reads``: address →
count), so that tests can check that an env does only the work it must.

:func:`write_integration` writes ``<name>-Fake`` (data.json, scenario.json,
metadata.json and two start states) in a folder to pass as ``game_path``;
:class:`FakeEnvFactory` is a picklable env factory for vector envs.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import numpy as np

from emurl.errors import EmulatorError

SYSTEM = "Fake"
GAME = "Dot-Fake"
BUTTONS = ("B", "A", "SELECT", "START", "UP", "DOWN", "LEFT", "RIGHT")
HEIGHT, WIDTH = 96, 128
RAM_SIZE = 64
FLICKER_ROWS = (10, 20)
MAGIC = b"FAKE"

ADDR = {"frame": 0x00, "x": 0x02, "score": 0x04, "lives": 0x06, "bcd": 0x08}
DATA = {
    "info": {
        "frame": {"address": ADDR["frame"], "type": ">u2"},
        "x": {"address": "0x02", "type": "|u1"},
        "score": {"address": ADDR["score"], "type": ">u2"},
        "lives": {"address": ADDR["lives"], "type": "|u1"},
        "bcd": {"address": ADDR["bcd"], "type": ">d2"},
    },
    "action_sets": {"steer": [[], ["LEFT"], ["RIGHT"], ["A", "RIGHT"]]},
}
SCENARIO = {
    "reward": {"variables": {"score": {"reward": 1.0}}},
    "done": {"variables": {"lives": {"op": "zero"}}},
}
# The core's button groups, as stable-retro's core descriptions give them ("actions").
DEFAULT_ACTIONS = [
    [[], ["UP"], ["DOWN"]],
    [[], ["LEFT"], ["RIGHT"]],
    [[], ["A"], ["B"], ["A", "B"]],
]


def _dtype(dtype: str) -> tuple[str, str, int]:
    """(byte order "<" / ">", kind, size) of a stable-retro type string."""
    order = ">" if ">" in dtype else "<"
    return order, dtype[-2], int(dtype[-1])


class FakeEmulator:
    """A deterministic in-memory console (see the module docstring for its rules).

    Args:
        ram: power-on RAM overrides, name of :data:`ADDR` → byte value.
    """

    system = SYSTEM
    buttons = BUTTONS
    frame_rate = 60.0
    players = 1
    backend = "fake"
    default_actions = DEFAULT_ACTIONS

    def __init__(self, **ram: int):
        self._ram = np.zeros(RAM_SIZE, np.uint8)
        self._ram[ADDR["x"]] = WIDTH // 2
        self._ram[ADDR["lives"]] = 3
        for name, value in ram.items():
            self._ram[ADDR[name]] = value
        self.pressed = {0: np.zeros(len(BUTTONS), np.uint8)}
        self.closed = False
        self.frames_run = 0
        self.screens_taken = 0
        self.reads: Counter = Counter()

    # -- running -------------------------------------------------------------------
    def _held(self, button: str) -> bool:
        return bool(self.pressed[0][BUTTONS.index(button)])

    def step(self, frames: int = 1) -> None:
        if self.closed:
            raise EmulatorError("fake emulator: used after close()")
        for _ in range(frames):
            self._poke("frame", ">u2", (self._peek("frame", ">u2") + 1) % 65536)
            x = int(self._ram[ADDR["x"]]) + self._held("RIGHT") - self._held("LEFT")
            self._ram[ADDR["x"]] = min(max(x, 0), WIDTH - 1)
            if self._held("A"):
                self._poke("score", ">u2", (self._peek("score", ">u2") + 1) % 65536)
            if self._held("B") and self._ram[ADDR["lives"]] > 0:
                self._ram[ADDR["lives"]] -= 1
            if self._held("UP"):
                self._poke("bcd", ">d2", (self._peek("bcd", ">d2") + 1) % 10000)
            self.frames_run += 1

    def set_buttons(self, pressed: np.ndarray, player: int = 0) -> None:
        pressed = np.asarray(pressed, np.uint8)
        if pressed.shape != (len(BUTTONS),):
            raise ValueError(f"set_buttons: expected shape ({len(BUTTONS)},), got {pressed.shape}")
        self.pressed[player] = pressed.copy()

    def screen(self) -> np.ndarray:
        self.screens_taken += 1
        out = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
        out[:, int(self._ram[ADDR["x"]]), 0] = 255
        out[FLICKER_ROWS[self._peek("frame", ">u2") % 2], :, 1] = 255
        out[-1, :, 2] = self._peek("score", ">u2") & 0xFF
        return out

    # -- memory --------------------------------------------------------------------
    def read(self, address: int, dtype: str) -> int:
        self.reads[address] += 1
        order, kind, size = _dtype(dtype)
        raw = bytes(self._ram[address:address + size])
        if kind == "d":  # BCD: two decimal digits per byte
            digits = raw if order == ">" else raw[::-1]
            return int("".join(f"{b >> 4}{b & 15}" for b in digits))
        return int.from_bytes(raw, "big" if order == ">" else "little", signed=kind == "i")

    def write(self, address: int, dtype: str, value: int) -> None:
        order, kind, size = _dtype(dtype)
        if kind == "d":
            text = f"{int(value):0{2 * size}d}"
            raw = bytes(int(text[i]) << 4 | int(text[i + 1]) for i in range(0, 2 * size, 2))
            raw = raw if order == ">" else raw[::-1]
        else:
            raw = int(value).to_bytes(size, "big" if order == ">" else "little", signed=kind == "i")
        self._ram[address:address + size] = np.frombuffer(raw, np.uint8)

    def peek(self, name: str) -> int:
        """The value of variable ``name`` of :data:`DATA`, not counted in :attr:`reads`."""
        return self._peek(name, DATA["info"][name]["type"])

    def _peek(self, name: str, dtype: str) -> int:
        before = self.reads.copy()
        value = self.read(ADDR[name], dtype)
        self.reads = before  # the game's own reads are not the env's
        return value

    def _poke(self, name: str, dtype: str, value: int) -> None:
        self.write(ADDR[name], dtype, value)

    def ram(self) -> np.ndarray:
        return self._ram.copy()

    # -- state ---------------------------------------------------------------------
    def save_state(self) -> bytes:
        return MAGIC + self._ram.tobytes()

    def load_state(self, state: bytes) -> None:
        if state[:4] != MAGIC or len(state) != 4 + RAM_SIZE:
            raise EmulatorError(f"fake emulator: not a fake savestate ({len(state)} bytes)")
        self._ram[:] = np.frombuffer(state[4:], np.uint8)

    def close(self) -> None:
        self.closed = True


def write_integration(root: Path, name: str = GAME, scenario: dict | None = None, data: dict | None = None,
                      metadata: dict | None = None, files: dict | None = None) -> Path:
    """Write the fake game's integration ``root/<name>`` and return ``root`` (a ``game_path``).

    States: ``Start`` (power-on RAM, gzipped as stable-retro writes them) and ``LastLife``
    (``lives = 1``, plain bytes); ``metadata.json`` names ``Start`` the default. ``scenario``
    / ``data`` / ``metadata`` replace the defaults (:data:`SCENARIO`, :data:`DATA`);
    ``files``: more files, name → dict (JSON) or text.
    """
    folder = Path(root) / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data.json").write_text(json.dumps(DATA if data is None else data))
    (folder / "scenario.json").write_text(json.dumps(SCENARIO if scenario is None else scenario))
    (folder / "metadata.json").write_text(json.dumps({"default_state": "Start"} if metadata is None else metadata))
    (folder / "Start.state").write_bytes(gzip.compress(FakeEmulator().save_state()))
    (folder / "LastLife.state").write_bytes(FakeEmulator(lives=1).save_state())
    for fname, content in (files or {}).items():
        (folder / fname).write_text(content if isinstance(content, str) else json.dumps(content))
    return Path(root)


class FakeEnvFactory:
    """A picklable ``() -> gym.Env``: ``emurl.make(game, emulator=FakeEmulator(), game_path=root, **kwargs)``."""

    def __init__(self, root: Path, game: str = GAME, **kwargs):
        self.root, self.game, self.kwargs = str(root), game, kwargs

    def __call__(self):
        import emurl

        return emurl.make(self.game, emulator=FakeEmulator(), game_path=self.root, **self.kwargs)
