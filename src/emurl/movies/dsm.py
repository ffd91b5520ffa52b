"""DeSmuME ``.dsm`` movies (Nintendo DS): read and write.

Format (facts: ``docs/facts/mario-kart-ds.md``; DeSmuME ``src/movie.cpp``, checked
against py-desmume 0.9's DeSmuME 0.9.12 on this machine):

- ASCII ``key value`` header lines; the first must be ``version 1`` or ``version 2``.
  Keys: emuVersion, rerecordCount, romFilename, romChecksum, romSerial, guid,
  useExtBios, swiFromBios, useExtFirmware, bootFromFirmware, firmNickname, firmMessage,
  firmFavColour, firmBirthMonth, firmBirthDay, firmLanguage, advancedTiming,
  jitBlockSize, rtcStartNew, comment (repeatable), binary, savestate, sram, micsampleN.
  ``sram`` is the cartridge save as DeSmuME's ``.dsv`` (raw bytes + a footer), written
  ``base64:...`` (``0x``-prefixed hex is read too). ``savestate 1`` means the movie
  starts from a ``.dst`` savestate file beside it.
- One line per frame, from power-on (or the ``.dst`` state):
  ``|c|RLDUTSBAYXWEGXXX YYY Z MMM|``: ``c`` decimal commands (1 mic, 2 reset, 4 lid);
  13 button columns Right, Left, Down, Up, T = selecT, S = Start, B, A, Y, X, W = L,
  E = R, G = debug (``.`` or space = up, anything else = held). Select comes before
  Start: DeSmuME 0.9.12 records START as ``S`` in the 6th column and SELECT as ``T`` in
  the 5th (seen here; the facts file lists them the other way). Then, with no separator, the
  stylus x (3 digits, 0-255), y (3 digits, 0-191), touch (1 digit) and, in version 2,
  the microphone sample (3 digits).

Version: DeSmuME 0.9.12 (the one in py-desmume) writes ``version 2`` and parses *every*
frame line with the microphone field, whatever the header says: a version-1 line (three
numbers) read by it shifts into the next line and plays wrong buttons (seen here). So
:func:`write_dsm` writes ``version 2`` lines; :func:`read_dsm` reads both.
Frames run at 59.8261 per second.
"""

from __future__ import annotations

import base64
import io
import os
import re
import struct
import uuid
from pathlib import Path

import numpy as np

from emurl.errors import MovieError
from emurl.movies._files import atomic_write
from emurl.movies.movie import Movie

SYSTEM = "NintendoDs"
FRAME_RATE = 59.8261
DSM_BUTTONS = ("A", "B", "X", "Y", "L", "R", "START", "SELECT", "UP", "DOWN", "LEFT", "RIGHT")
"""The DS buttons of a movie read from a ``.dsm``, in this column order."""
_COLUMNS = ("RIGHT", "LEFT", "DOWN", "UP", "SELECT", "START", "B", "A", "Y", "X", "L", "R", "DEBUG")
_MNEMONICS = "RLDUTSBAYXWEG"
_FRAME = re.compile(r"^\|(\d+)\|(.{13})(\d{1,3}) (\d{1,3}) (\d)(?: (\d{1,3}))?\|$")
_DEFAULT_RTC = "2009-JAN-01 00:00:00:000"  # DeSmuME's default movie RTC start ("compatible with old desmume")

# DeSmuME's .dsv footer (src/mc.cpp: BackupDevice::ensure): text, 6 u32, cookie.
_DSV_TEXT = b"|<--Snip above here to create a raw sav by excluding this DeSmuME savedata footer:"
_DSV_COOKIE = b"|-DESMUME SAVE-|"
# save size → (DeSmuME save type index, address bytes), from src/mc.cpp's save_types.
_DSV_TYPES = {512: (1, 1), 8192: (2, 2), 65536: (3, 2), 32768: (4, 2), 256 << 10: (5, 3), 512 << 10: (6, 3),
              1 << 20: (7, 3), 2 << 20: (8, 3), 4 << 20: (9, 3), 8 << 20: (10, 3)}


def raw_to_dsv(raw: bytes) -> bytes:
    """A raw cartridge save (``.sav``) as DeSmuME's ``.dsv``: the bytes, then its footer.

    The ``sram`` of a ``.dsm`` must be a ``.dsv``: DeSmuME's movie loader reads the footer.
    """
    size = len(raw)
    kind, addr = _DSV_TYPES.get(size, (0, 3 if size > 65536 else 2))
    footer = struct.pack("<6I", size, size, kind, addr, size, 0)
    return bytes(raw) + _DSV_TEXT + footer + _DSV_COOKIE


def dsv_to_raw(data: bytes) -> bytes:
    """The raw save inside a DeSmuME ``.dsv`` (``data`` itself when it has no footer)."""
    if data.endswith(_DSV_COOKIE) and len(data) >= len(_DSV_COOKIE) + 24:
        end = len(data) - len(_DSV_COOKIE)
        size, pad, _kind, _addr, _mem, version = struct.unpack("<6I", data[end - 24:end])
        if version == 0 and pad <= end:
            return data[:pad]
    return data


def _blob(value: str, path, key: str) -> bytes:
    v = value.strip()
    try:
        if v.startswith("base64:"):
            return base64.b64decode(v[len("base64:"):], validate=True)
        if v.lower().startswith("0x"):
            return bytes.fromhex(v[2:])
    except ValueError as exc:
        raise MovieError(f"{path}: {key}: not valid base64/hex data ({exc})") from None
    raise MovieError(f"{path}: {key}: expected 'base64:...' or '0x...' data, got {v[:20]!r}")


def read_dsm(path: str | os.PathLike) -> Movie:
    """Read a DeSmuME ``.dsm`` into a :class:`Movie` of system NintendoDs.

    Returns:
        A Movie with ``button_names`` :data:`DSM_BUTTONS`, ``buttons`` uint8
        ``(frames, 1, 12)``, ``touch`` int16 ``(frames, 3)`` (x, y, pressed),
        ``backend="desmume"``, ``start_state`` None (power-on) or the bytes of the
        ``.dst`` beside the movie (``savestate 1``), ``sram`` the raw cartridge save.
        Header keys are kept in ``metadata["dsm_header"]`` (a list of [key, value]);
        frames with commands (mic 1, reset 2, lid 4) in ``metadata["dsm_commands"]``
        ({frame: c}), frames with the debug button in ``metadata["dsm_debug"]``,
        non-zero microphone samples in ``metadata["dsm_mic"]``.

    Raises:
        MovieError: missing file, no ``version 1``/``version 2`` first line, binary
            movies, a malformed frame line (with its line number), bad sram data, or
            ``savestate 1`` with no ``.dst`` file beside the movie.
    """
    try:
        text = Path(path).read_bytes().decode("latin-1")
    except FileNotFoundError:
        raise MovieError(f"{path}: no such DeSmuME movie (.dsm) file") from None
    except OSError as exc:
        raise MovieError(f"{path}: cannot read: {exc.strerror}") from None
    lines = text.splitlines()
    first = lines[0].strip() if lines else ""
    if first not in ("version 1", "version 2"):
        raise MovieError(f"{path}: version: expected 'version 1' or 'version 2' as the first line, got {first[:40]!r}")
    header: list[list[str]] = []
    buttons, touch = [], []
    commands: dict[str, int] = {}
    debug: list[int] = []
    mic: dict[str, int] = {}
    sram = None
    savestate = False
    for lineno, line in enumerate(lines[1:], 2):
        s = line.rstrip("\r\n")
        if not s.strip():
            continue
        if s.startswith("|"):
            m = _FRAME.match(s)
            if not m:
                raise MovieError(
                    f"{path}: line {lineno}: frame: expected '|c|RLDUTSBAYXWEGXXX YYY Z MMM|' "
                    f"(13 button columns, x, y, touch, mic), got {s[:60]!r}"
                )
            c, pad, x, y, z, mic_sample = m.groups()
            f = len(buttons)
            held = [ch not in ". " for ch in pad]
            buttons.append([held[_COLUMNS.index(b)] for b in DSM_BUTTONS])
            touch.append((int(x), int(y), int(z)))
            if int(z) not in (0, 1):
                raise MovieError(f"{path}: line {lineno}: touch: expected 0 or 1, got {z}")
            if int(c):
                commands[str(f)] = int(c)
            if held[_COLUMNS.index("DEBUG")]:
                debug.append(f)
            if mic_sample and int(mic_sample):
                mic[str(f)] = int(mic_sample)
            continue
        if buttons:
            raise MovieError(f"{path}: line {lineno}: expected a frame line '|...|' after the first one, got {s[:40]!r}")
        key, _, value = s.strip().partition(" ")
        value = value.strip()
        if key == "binary" and value not in ("", "0"):
            raise MovieError(f"{path}: binary: binary .dsm movies are not supported (expected text frame lines)")
        if key == "sram":
            sram = dsv_to_raw(_blob(value, path, "sram"))
        elif key == "savestate":
            savestate = value not in ("", "0")
            if len(value) > 1:  # old DeSmuME: the state inline
                raise MovieError(f"{path}: savestate: inline savestates of old DeSmuME movies are not supported")
        elif not key.startswith("micsample"):
            header.append([key, value])
    start_state = None
    if savestate:
        dst = Path(path).with_suffix(".dst")
        if not dst.is_file():
            raise MovieError(f"{path}: savestate: the movie starts from a savestate, expected {dst} beside it")
        start_state = dst.read_bytes()
    metadata: dict = {"source_format": "dsm", "dsm_header": header}
    if commands:
        metadata["dsm_commands"] = commands
    if debug:
        metadata["dsm_debug"] = debug
    if mic:
        metadata["dsm_mic"] = mic
    rom_name = dict(header).get("romFilename")
    if rom_name:
        metadata["rom_filename"] = rom_name
    b = np.asarray(buttons, np.uint8).reshape(len(buttons), 1, len(DSM_BUTTONS))
    t = np.asarray(touch, np.int16).reshape(len(touch), 3)
    emu_version = dict(header).get("emuVersion")
    return Movie(
        game=None, system=SYSTEM, button_names=list(DSM_BUTTONS), buttons=b, backend="desmume",
        core=f"DeSmuME (emuVersion {emu_version})" if emu_version else "DeSmuME",
        start_state=start_state, touch=t, sram=sram, frame_rate=FRAME_RATE, metadata=metadata,
    )


def dsm_text(movie: Movie, rom_filename: str | None = None, comment: str | None = None) -> str:
    """The ``.dsm`` text for ``movie`` (version 2, see the module docstring).

    Header keys come from ``movie.metadata["dsm_header"]`` when the movie was read from
    a ``.dsm``; otherwise a minimal header (RTC start 2009-01-01 as DeSmuME's default).

    Raises:
        MovieError: not a one-player DS movie, a held button that the DS lacks, touch
            outside 0-255 × 0-191, or a start state (a ``.dsm`` starts from power-on;
            DeSmuME's ``.dst`` savestates are not written here).
    """
    if movie.system != SYSTEM:
        raise MovieError(f"system: a .dsm holds Nintendo DS (NintendoDs) input, got {movie.system!r}")
    if movie.start_state is not None:
        raise MovieError("start_state: a .dsm written by emurl starts from power-on (optionally with sram); "
                         "this movie starts from a savestate")
    pads = movie.buttons_for(_COLUMNS, player_count=1)[:, 0, :]
    dbg = movie.metadata.get("dsm_debug") or []
    for f in dbg:
        if 0 <= int(f) < movie.frames:
            pads[int(f), _COLUMNS.index("DEBUG")] = 1
    if movie.touch is not None:
        t = movie.touch.astype(np.int64)
        if t.size and (t[:, 0].min() < 0 or t[:, 0].max() > 255 or t[:, 1].min() < 0 or t[:, 1].max() > 191):
            raise MovieError("touch: x must be 0-255 and y 0-191 (DS touch screen pixels)")
    else:
        t = np.zeros((movie.frames, 3), np.int64)
    commands = {int(k): int(v) for k, v in (movie.metadata.get("dsm_commands") or {}).items()}
    mic = {int(k): int(v) for k, v in (movie.metadata.get("dsm_mic") or {}).items()}

    out = io.StringIO()
    out.write("version 2\n")
    header = movie.metadata.get("dsm_header")
    skip = {"version", "sram", "savestate", "binary"}
    if header:
        for key, value in header:
            if key not in skip:
                out.write(f"{key} {value}\n")
    else:
        out.write("emuVersion 91200\nrerecordCount 0\n")
        out.write(f"romFilename {rom_filename or movie.metadata.get('rom_filename') or ''}\n")
        out.write(f"guid {str(uuid.uuid4()).upper()}\n")
        out.write(f"rtcStartNew {_DEFAULT_RTC}\n")
        out.write(f"comment {comment or 'made by emurl'}\n")
    out.write("savestate 0\n")
    if movie.sram is not None:
        out.write("sram base64:" + base64.b64encode(raw_to_dsv(movie.sram)).decode("ascii") + "\n")
    chars = np.array([ord(c) for c in _MNEMONICS], np.uint8)
    for f in range(movie.frames):
        pad = np.where(pads[f].astype(bool), chars, np.uint8(ord("."))).tobytes().decode("ascii")
        x, y, z = (int(v) for v in t[f])
        out.write(f"|{commands.get(f, 0)}|{pad}{x:03d} {y:03d} {z} {mic.get(f, 0):03d}|\n")
    return out.getvalue()


def write_dsm(movie: Movie, path: str | os.PathLike, rom_filename: str | None = None, comment: str | None = None) -> None:
    """Write ``movie`` as a DeSmuME ``.dsm`` (version 2), atomically.

    Raises:
        MovieError: as :func:`dsm_text` (prefixed with the path), or the file can't be written.
    """
    try:
        text = dsm_text(movie, rom_filename, comment)
    except MovieError as exc:
        raise MovieError(f"{path}: {exc}") from None
    atomic_write(path, text.encode("latin-1", "replace"))
