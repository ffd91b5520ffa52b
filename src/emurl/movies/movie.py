"""emurl's own input movie: :class:`Movie`, stored as a ``.emv`` file.

A movie is the buttons pressed on every frame from a start state, plus what is needed
to replay it: the game integration, the ROM's SHA-1, the system, backend and core, and
the start state (a named state of the integration, the state's bytes, or power-on).

Frame semantics: ``buttons[i]`` is held during frame ``i``, the ``i``-th frame the
emulator runs after the start state is loaded (or after power-on). This is what
stable-retro's ``.bk2`` lines and DeSmuME's ``.dsm`` lines mean too.

The ``.emv`` file (format version 1) is a zip archive, readable from any language:

- ``header.json`` (UTF-8 JSON object):

  ================  ==========================================================
  ``format``        ``"emurl-movie"``
  ``format_version`` ``1`` (integer; readers refuse a newer version)
  ``game``          integration name (``"Airstriker-Genesis"``) or ``null``
  ``rom_sha1``      hex SHA-1 of the ROM the movie was made on, or ``null``
  ``system``        stable-retro system name (``"Genesis"``, ``"NintendoDs"``)
  ``backend``       ``"retro"``, ``"desmume"``, ``"melonds"`` or ``null`` (any)
  ``core``          emulator core name and version, or ``null``
  ``start_state``   ``null`` (power-on), ``{"name": "Level1"}`` (a state of the
                    integration) or ``{"file": "start.state", "sha1": ...}``
  ``sram``          ``null`` or ``{"file": "sram.bin", "sha1": ...}``: cartridge
                    save memory loaded at power-on (raw bytes, e.g. a DS ``.sav``)
  ``frames``        number of frames (integer)
  ``players``       number of players (integer)
  ``button_names``  list of button names, one per column of ``buttons.npy``
                    (``""`` for an unused slot of the core's button mask)
  ``touch``         ``true`` when ``touch.npy`` is present
  ``frame_rate``    frames per second of the system (float)
  ``metadata``      free-form JSON object
  ================  ==========================================================

- ``buttons.npy``: NumPy ``.npy`` (format 1.0), uint8, shape
  ``(frames, players, len(button_names))``, C order, 1 = held, 0 = not.
- ``touch.npy`` (optional): int16, shape ``(frames, 3)``: x, y in pixels of the touch
  screen and 1 when touched, 0 when not (Nintendo DS).
- ``start.state`` (optional): the start savestate's bytes, as the backend gives them.
- ``sram.bin`` (optional): the cartridge save memory.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from emurl.errors import MovieError
from emurl.fileio import ZIP_ERRORS
from emurl.movies._files import atomic_write, open_zip, zip_member

FORMAT = "emurl-movie"
FORMAT_VERSION = 1
"""The ``.emv`` format version this code writes and the newest it reads."""


@dataclass(eq=False)
class Movie:
    """An input movie: the buttons held on each frame from a start state.

    Attributes:
        game: integration name (``"Airstriker-Genesis"``), or None when unknown.
        system: stable-retro's system name (``"Genesis"``, ``"NintendoDs"``).
        button_names: one name per button column (``""`` for an unused column).
        buttons: uint8 array ``(frames, players, len(button_names))``, 1 = held.
        rom_sha1: hex SHA-1 of the ROM the movie was made on, or None.
        backend: the emulator backend it was made on (``"retro"``, ``"desmume"``), or None.
        core: the emulator core's name and version, or None.
        start_state: None (power-on), a state name of the integration (str), or the
            savestate's bytes.
        touch: optional int16 array ``(frames, 3)``: x, y (pixels), pressed (0/1).
        sram: optional cartridge save memory (raw bytes) loaded at power-on.
        frame_rate: frames per second.
        metadata: free-form, JSON-serialisable.

    Raises:
        MovieError: on construction, when shapes, dtypes or values are inconsistent.

    >>> m = Movie("Airstriker-Genesis", "Genesis", ["B", "A"], np.zeros((3, 1, 2), np.uint8))
    >>> m.frames, m.players, m.buttons.dtype
    (3, 1, dtype('uint8'))
    """

    game: str | None
    system: str
    button_names: list[str]
    buttons: np.ndarray
    rom_sha1: str | None = None
    backend: str | None = None
    core: str | None = None
    start_state: str | bytes | None = None
    touch: np.ndarray | None = None
    sram: bytes | None = None
    frame_rate: float = 60.0
    metadata: dict = field(default_factory=dict)

    def __post_init__(self):
        self.button_names = ["" if b is None else str(b) for b in self.button_names]
        named = [b for b in self.button_names if b]
        if len(set(named)) != len(named):
            raise MovieError(f"button_names: expected distinct names, got {self.button_names}")
        buttons = np.asarray(self.buttons)
        if buttons.ndim != 3 or buttons.shape[2] != len(self.button_names):
            raise MovieError(
                f"buttons: expected shape (frames, players, {len(self.button_names)}), got {buttons.shape}"
            )
        if buttons.size and (buttons.min() < 0 or buttons.max() > 1):
            raise MovieError("buttons: expected 0 (up) or 1 (held) only")
        self.buttons = np.ascontiguousarray(buttons, dtype=np.uint8)
        if self.touch is not None:
            touch = np.asarray(self.touch)
            if touch.shape != (self.frames, 3):
                raise MovieError(f"touch: expected shape ({self.frames}, 3) = x, y, pressed; got {touch.shape}")
            if touch.size and not np.isin(touch[:, 2], (0, 1)).all():
                raise MovieError("touch: the third column (pressed) must be 0 or 1")
            self.touch = np.ascontiguousarray(touch, dtype=np.int16)
        if isinstance(self.start_state, (bytearray, memoryview)):
            self.start_state = bytes(self.start_state)
        if not (self.start_state is None or isinstance(self.start_state, (str, bytes))):
            raise MovieError(f"start_state: expected None, a state name or bytes, got {type(self.start_state).__name__}")
        if self.sram is not None:
            self.sram = bytes(self.sram)
        self.frame_rate = float(self.frame_rate)

    # -- shape ---------------------------------------------------------------------
    @property
    def frames(self) -> int:
        """Number of frames."""
        return int(self.buttons.shape[0])

    @property
    def players(self) -> int:
        """Number of players (the second axis of :attr:`buttons`)."""
        return int(self.buttons.shape[1])

    def pressed(self, frame: int, player: int = 0) -> list[str]:
        """Names of the buttons held by ``player`` on ``frame``."""
        row = self.buttons[frame, player]
        return [n for n, b in zip(self.button_names, row) if b and n]

    def buttons_for(self, names: Sequence[str | None], player_count: int | None = None) -> np.ndarray:
        """The buttons re-ordered for another button list (an emulator's ``buttons``).

        Columns are matched by name; ``names`` entries that the movie lacks (or None) are
        never held. Returns uint8 ``(frames, player_count or players, len(names))``.

        Raises:
            MovieError: a button held in the movie has no column in ``names``, or a
                player beyond ``player_count`` holds a button.
        """
        players = self.players if player_count is None else player_count
        out = np.zeros((self.frames, players, len(names)), np.uint8)
        index = {n: i for i, n in enumerate(names) if n}
        used = min(players, self.players)
        if self.players > players and self.buttons[:, players:].any():
            raise MovieError(f"player {players + 1} holds buttons, but the target takes {players} player(s)")
        for col, name in enumerate(self.button_names):
            column = self.buttons[:, :used, col]
            if name in index:
                out[:, :used, index[name]] = column
            elif column.any():
                frame = int(np.argmax(column.any(axis=1)))
                raise MovieError(
                    f"button {name or '#' + str(col)!r} is held (first on frame {frame}) but the target has "
                    f"no such button (it has {', '.join(n for n in names if n)})"
                )
        return out

    def sha1(self) -> str:
        """SHA-1 over the inputs (buttons, touch) and button names: equal inputs, equal hash."""
        h = hashlib.sha1()
        h.update(json.dumps(self.button_names).encode())
        h.update(np.asarray(self.buttons.shape, np.int64).tobytes())
        h.update(self.buttons.tobytes())
        if self.touch is not None:
            h.update(self.touch.tobytes())
        return h.hexdigest()

    # -- .emv files ----------------------------------------------------------------
    def header(self) -> dict:
        """The ``header.json`` object of this movie (see the module docstring)."""
        if isinstance(self.start_state, bytes):
            start = {"file": "start.state", "sha1": hashlib.sha1(self.start_state).hexdigest()}
        elif isinstance(self.start_state, str):
            start = {"name": self.start_state}
        else:
            start = None
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "game": self.game,
            "rom_sha1": self.rom_sha1,
            "system": self.system,
            "backend": self.backend,
            "core": self.core,
            "start_state": start,
            "sram": None if self.sram is None else {"file": "sram.bin", "sha1": hashlib.sha1(self.sram).hexdigest()},
            "frames": self.frames,
            "players": self.players,
            "button_names": list(self.button_names),
            "touch": self.touch is not None,
            "frame_rate": self.frame_rate,
            "metadata": self.metadata,
        }

    def save(self, path: str | os.PathLike) -> None:
        """Write the movie as a ``.emv`` file at ``path``, atomically.

        Raises:
            MovieError: the metadata is not JSON-serialisable, or the file can't be written.
        """
        try:
            header = json.dumps(self.header(), indent=1, sort_keys=False)
        except (TypeError, ValueError) as exc:
            raise MovieError(f"{path}: metadata: expected JSON-serialisable values ({exc})") from None
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("header.json", header)
            z.writestr("buttons.npy", _npy_bytes(self.buttons))
            if self.touch is not None:
                z.writestr("touch.npy", _npy_bytes(self.touch))
            if isinstance(self.start_state, bytes):
                z.writestr("start.state", self.start_state)
            if self.sram is not None:
                z.writestr("sram.bin", self.sram)
        atomic_write(path, buf.getvalue())

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Movie":
        """Read a ``.emv`` file.

        Raises:
            MovieError: missing file, not a zip, or a missing/malformed member or field
                (the message names the file, the field and what was expected).
        """
        with open_zip(path, "emurl movie (.emv)") as z:
            raw = zip_member(z, path, "header.json")
            try:
                h = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise MovieError(f"{path}: header.json: not valid UTF-8 JSON ({exc})") from None
            if not isinstance(h, dict):
                raise MovieError(f"{path}: header.json: expected a JSON object, got {type(h).__name__}")
            _check_header(h, path)
            buttons = _load_npy(zip_member(z, path, "buttons.npy"), path, "buttons.npy")
            shape = (h["frames"], h["players"], len(h["button_names"]))
            if buttons.dtype != np.uint8 or buttons.shape != shape:
                raise MovieError(
                    f"{path}: buttons.npy: expected uint8 of shape {shape} (frames, players, buttons) "
                    f"as header.json says, got {buttons.dtype} {buttons.shape}"
                )
            touch = None
            if h["touch"]:
                touch = _load_npy(zip_member(z, path, "touch.npy"), path, "touch.npy")
                if touch.dtype != np.int16 or touch.shape != (h["frames"], 3):
                    raise MovieError(
                        f"{path}: touch.npy: expected int16 of shape ({h['frames']}, 3) (x, y, pressed), "
                        f"got {touch.dtype} {touch.shape}"
                    )
            start = h["start_state"]
            if start is None:
                start_state = None
            elif "name" in start:
                start_state = start["name"]
            else:
                start_state = _checked_member(z, path, start, "start_state")
            sram = None if h["sram"] is None else _checked_member(z, path, h["sram"], "sram")
        try:
            return cls(
                game=h["game"], system=h["system"], button_names=h["button_names"], buttons=buttons,
                rom_sha1=h["rom_sha1"], backend=h["backend"], core=h["core"], start_state=start_state,
                touch=touch, sram=sram, frame_rate=h["frame_rate"], metadata=h["metadata"],
            )
        except MovieError as exc:
            raise MovieError(f"{path}: {exc}") from None


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.ascontiguousarray(a), version=(1, 0), allow_pickle=False)
    return buf.getvalue()


def _load_npy(data: bytes, path, name: str) -> np.ndarray:
    try:
        return np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)
    except ZIP_ERRORS as exc:
        raise MovieError(f"{path}: {name}: not a valid .npy array ({exc})") from None


def _checked_member(z: zipfile.ZipFile, path, spec, key: str) -> bytes:
    if not isinstance(spec, dict) or not isinstance(spec.get("file"), str):
        raise MovieError(f"{path}: header.json: {key}: expected {{\"file\": NAME, \"sha1\": HEX}}, got {spec!r}")
    data = zip_member(z, path, spec["file"])
    sha = spec.get("sha1")
    if sha is not None and hashlib.sha1(data).hexdigest() != sha:
        raise MovieError(f"{path}: {spec['file']}: SHA-1 differs from header.json's {key}.sha1 (file damaged?)")
    return data


def _check_header(h: dict, path) -> None:
    """Types of header.json's fields; names the field and what was expected."""
    if h.get("format") != FORMAT:
        raise MovieError(f"{path}: header.json: format: expected {FORMAT!r}, got {h.get('format')!r}")
    version = h.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise MovieError(f"{path}: header.json: format_version: expected an integer, got {version!r}")
    if version > FORMAT_VERSION:
        raise MovieError(
            f"{path}: header.json: format_version: {version} is newer than this emurl reads "
            f"({FORMAT_VERSION}); upgrade emurl"
        )
    optional_str = ("game", "rom_sha1", "backend", "core")
    spec = {
        "system": (str,), "frames": (int,), "players": (int,), "button_names": (list,),
        "touch": (bool,), "frame_rate": (int, float), "metadata": (dict,),
    }
    for key, types in spec.items():
        if key not in h:
            raise MovieError(f"{path}: header.json: {key}: missing (expected {' or '.join(t.__name__ for t in types)})")
        value = h[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise MovieError(
                f"{path}: header.json: {key}: expected {' or '.join(t.__name__ for t in types)}, "
                f"got {type(value).__name__} {value!r}"
            )
    for key in optional_str:
        if key not in h or not (h[key] is None or isinstance(h[key], str)):
            raise MovieError(f"{path}: header.json: {key}: expected a string or null, got {h.get(key, '(missing)')!r}")
    if h["frames"] < 0 or h["players"] < 1:
        raise MovieError(f"{path}: header.json: frames/players: expected frames >= 0 and players >= 1")
    if not all(isinstance(b, str) for b in h["button_names"]):
        raise MovieError(f"{path}: header.json: button_names: expected a list of strings")
    for key in ("start_state", "sram"):
        if key not in h:
            raise MovieError(f"{path}: header.json: {key}: missing (expected null or an object)")
        v = h[key]
        if v is not None and not (isinstance(v, dict) and (isinstance(v.get("name"), str) and key == "start_state"
                                                           or isinstance(v.get("file"), str))):
            raise MovieError(
                f"{path}: header.json: {key}: expected null, {{\"name\": STATE}} or {{\"file\": NAME, \"sha1\": HEX}}, got {v!r}"
            )
