"""Mario Kart DS Time Trial ghosts from a save file, as emurl movies and DeSmuME ``.dsm``.

The save file (``.sav``, 256 or 512 KiB) holds the 32 personal-best ghosts at
``0xAF00``, ``0xE00`` bytes each, in menu course order (slot = course order). Each slot
is encrypted with a 32-bit XOR keystream and checked by a CRC-16; its header gives the
character, kart and course, and its body a run list of (buttons, frame count) pairs.
Every number here comes from ``docs/facts/mario-kart-ds.md`` (ghost section); checked
on ``tests/fixtures/mkds/abel.sav``: all 32 slots decrypt with a valid CRC and Yoshi
Falls expands to 2925 frames.

Courses, the menu script and state names come from the integration's code
(:mod:`emurl.games.mkds.courses`, emurl's one course table, and
:mod:`emurl.states.mkds`), so a ghost's movie starts from exactly the state
``emurl mkds start-state --course yf --character 8 --kart 34`` makes.

Two movies per ghost:

- :meth:`Ghost.to_movie`: from the race-start state of the ghost's course, character and
  kart (``yf-c8-k34``; ``yf`` for character 0 with kart 0), the state saved on the frame
  the race frame counter reads 1. Ghost inputs begin 120 frames after that frame, so the
  movie holds 120 frames of no input, then the ghost's.
- :meth:`Ghost.power_on_movie`: from power-on with a save that unlocks the course,
  through the menus (title → single player → time trial → character → kart → cup →
  course) with the facts' fixed frame counts, a fixed wait for the race to load, then
  120 frames, then the ghost's inputs; written as ``.dsm`` by the CLI. A ``.dsm`` can't
  wait for a condition ("race frame counter = 1"), so the load wait
  (:data:`RACE_LOAD_FRAMES`) is an estimate: this timing has not been checked on the
  real game (no ROM here) and may need adjusting, as may the menu waits.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field

import numpy as np

from emurl.games.mkds.courses import COURSES, Course, UnknownCourseError, course_by_id
from emurl.games.mkds.game import GAME
from emurl.states.mkds import default_name, menu_script
from emurl.states.scripts import script_frames
from emurl.movies import MovieError
from emurl.movies.dsm import DSM_BUTTONS, FRAME_RATE, SYSTEM
from emurl.movies.movie import Movie

CHARACTER_NAMES: dict[int, str] = {
    0: "Mario", 1: "Donkey Kong", 2: "Toad", 3: "Bowser", 4: "Peach", 5: "Wario", 6: "Yoshi",
    7: "Luigi", 8: "Dry Bones", 9: "Daisy", 10: "Waluigi", 11: "R.O.B.", 12: "Shy Guy",
}
"""Character (driver) id → name, as the MKDS decompilation headers name the driver ids
(not in the facts file; unverified on a running game)."""
GHOSTS_OFFSET = 0xAF00
SLOT_SIZE = 0xE00
SLOTS = 32
MAGIC = struct.unpack("<I", b"NKPG")[0]
RUNS_LENGTH_OFFSET = 0x30  # u16: byte length of the run list
RUNS_OFFSET = 0x34
MAX_RUNS = 1764
INPUT_DELAY = 120
"""Ghost inputs begin this many frames after race frame counter 1 (facts)."""
RACE_LOAD_FRAMES = 300
"""Frames from the last menu press to race frame counter 1 in :meth:`Ghost.power_on_movie`.
An estimate, NOT measured (no ROM here): measure it on the game (the race state's
``+0x4`` counter at ``0x0217AA34`` turning 1) and correct it."""

GHOST_BITS = {"A": 0x01, "B": 0x02, "R": 0x04, "X": 0x08, "RIGHT": 0x10, "LEFT": 0x20, "DOWN": 0x40, "UP": 0x80}
"""Ghost run-list button bits → DS button names (facts)."""

# Keystream tables (the game's constants, facts).
_M1 = "C0A2CFB9 FCA4F59A D87E2588 B615DD30 EACC91EE B6A8F95D 7BD8B080 CEC11555 59CEF8CE FFF88DB3 A867F2A3"
_M2 = ("54E85EA2 DE7CE656 D25261B4 401D1EC4 220DECE2 1F0CF6F4 7176B2A6 58D602EC 859D5B49 E5258B0C B31A2910 "
       "2DDE04B1 EEEFA031 5B852490 44AD6965 8E3206A5 5E22B868")
_M3 = ("83F3E485 1F854511 33FAE87B A6949A1E DB1DA3C5 D5986A2F AF6CC662 FB04BD0F 573F3084 DFB9A74F F60A05B6 "
       "DF57E7C7 11723659 8EAE9859 E08EB664 D310802A 498B2FA5 555452F1 E5575C26")
_M4 = ("B6F2BA0C 1A88BEF7 0DDC276B B000F810 6D254A35 4C69572C 0E49CFC2 A4391D94 98E199E1 10F88349 A7CCE380 "
       "F4287C11 93857987 F1F1171F 3487B1FA 65B88727 A1711A9C 2338B1FE F742B4DF A33235EC 5350D303 C9C1BE55 "
       "C4FD2E1D 8039E1DB B6386F71 34CBB389 1224001A 59CDEA11 5371F238")
M1, M2, M3, M4 = (np.array([int(w, 16) for w in t.split()], np.uint64) for t in (_M1, _M2, _M3, _M4))


def character_name(character: int) -> str:
    """Name of a character id, or ``"character N"`` when unknown."""
    return CHARACTER_NAMES.get(character, f"character {character}")


class GhostError(MovieError):
    """A ghost slot that can't be decoded; ``slot`` and ``course`` say which."""

    def __init__(self, reason: str, slot: int | None = None, course: Course | None = None):
        where = ""
        if slot is not None:
            where = f"slot {slot}" + (f" ({course.abbr}, {course.name})" if course else "") + ": "
        super().__init__(where + reason)
        self.reason = reason
        self.slot = slot
        self.course = course


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
        table.append(crc & 0xFFFF)
    return table


_CRC_TABLE = _crc_table()


def crc16(data: bytes) -> int:
    """CRC-16 with polynomial 0x1021, MSB first, initial 0, no final xor (CRC-16/XMODEM)."""
    crc = 0
    table = _CRC_TABLE
    for b in data:
        crc = ((crc << 8) & 0xFFFF) ^ table[(crc >> 8) ^ b]
    return crc


def keystream(words: int, d_start: int) -> np.ndarray:
    """The XOR key for ``words`` 32-bit words: word i uses ``m1[a] + m2[b] + m3[c] + m4[d]``
    (mod 2**32), a, b, c an odometer over 11, 17, 19 (a fastest), d stepping over 29 from
    ``d_start`` each time c wraps. Returns little-endian uint32 ``(words,)``."""
    i = np.arange(words, dtype=np.int64)
    a = i % len(M1)
    b = (i // len(M1)) % len(M2)
    c = (i // (len(M1) * len(M2))) % len(M3)
    d = (d_start + i // (len(M1) * len(M2) * len(M3))) % len(M4)
    return ((M1[a] + M2[b] + M3[c] + M4[d]) & 0xFFFFFFFF).astype("<u4")


def decrypt_slot(block: bytes) -> bytes:
    """Decrypt one ``0xE00``-byte ghost block and check its CRC-16.

    The keystream's start in the 29-word table is the one that makes the first word
    ``"NKPG"``; the CRC over the block with bytes [-4] and [-3] zeroed must be 0.

    Raises:
        GhostError: wrong size, no start gives the magic, or the CRC check fails.
    """
    if len(block) != SLOT_SIZE or len(block) % 4:
        raise GhostError(f"expected {SLOT_SIZE} bytes, got {len(block)}")
    words = np.frombuffer(block, "<u4")
    base = int((M1[0] + M2[0] + M3[0]) & 0xFFFFFFFF)
    first = int(words[0])
    starts = [d for d in range(len(M4)) if ((base + int(M4[d])) & 0xFFFFFFFF) ^ first == MAGIC]
    if not starts:
        raise GhostError("no keystream start decrypts it to the 'NKPG' magic (not a ghost, or damaged)")
    plain = bytearray((words ^ keystream(len(words), starts[0])).astype("<u4").tobytes())
    check = bytearray(plain)
    check[-4] = check[-3] = 0
    crc = crc16(bytes(check))
    if crc != 0:
        raise GhostError(f"CRC-16 check failed (remainder {crc:#06x}, expected 0): the ghost data is damaged")
    return bytes(plain)


@dataclass
class Ghost:
    """One decoded Time Trial ghost.

    Attributes:
        slot: 0-31, the save slot (= the course's menu order).
        course: the course (from the header's internal id).
        character: character id (header bits 0-3); name via ``character_name``.
        kart: kart id (header bits 4-9).
        runs: uint8 ``(n, 2)``: (ghost button bits, frame count) per run.
        data: the decrypted ``0xE00``-byte block.
    """

    slot: int
    course: Course
    character: int
    kart: int
    runs: np.ndarray
    data: bytes = field(repr=False, default=b"")

    @property
    def frames(self) -> int:
        """Number of input frames (sum of the run lengths)."""
        return int(self.runs[:, 1].sum(dtype=np.int64))

    @property
    def character_name(self) -> str:
        return character_name(self.character)

    @property
    def start_state(self) -> str:
        """Name of the race-start state for this course, character and kart (``yf-c8-k34``)."""
        return default_name(self.course, self.character, self.kart)

    def inputs(self) -> np.ndarray:
        """Ghost button bits per frame, uint8 ``(frames,)`` (bits: :data:`GHOST_BITS`)."""
        return np.repeat(self.runs[:, 0], self.runs[:, 1].astype(np.int64))

    def ds_buttons(self) -> np.ndarray:
        """DS buttons per frame, uint8 ``(frames, 12)`` in :data:`~emurl.movies.dsm.DSM_BUTTONS` order."""
        bits = self.inputs()
        out = np.zeros((len(bits), len(DSM_BUTTONS)), np.uint8)
        for name, bit in GHOST_BITS.items():
            out[:, DSM_BUTTONS.index(name)] = (bits & bit) != 0
        return out

    def _metadata(self) -> dict:
        return {
            "source_format": "mkds-ghost",
            "slot": self.slot,
            "course": self.course.abbr,
            "course_name": self.course.name,
            "course_internal_id": self.course.internal_id,
            "character": self.character,
            "character_name": self.character_name,
            "kart": self.kart,
            "ghost_frames": self.frames,
        }

    def to_movie(self) -> Movie:
        """The ghost as a movie from its race-start state (:attr:`start_state`, e.g. ``yf-c8-k34``).

        Movie frame 0 is the first frame after that state (saved when the race frame
        counter reads 1); frames 0-119 hold nothing and ghost input k is movie frame
        120 + k (``metadata["input_offset"]`` = 120). Buttons: uint8
        ``(120 + frames, 1, 12)`` in :data:`~emurl.movies.dsm.DSM_BUTTONS` order.
        """
        buttons = np.concatenate([np.zeros((INPUT_DELAY, len(DSM_BUTTONS)), np.uint8), self.ds_buttons()])
        meta = self._metadata()
        meta.update({
            "input_offset": INPUT_DELAY,
            "note": f"ghost inputs begin {INPUT_DELAY} frames after race frame 1; the start state "
                    f"{self.start_state!r} is saved on the frame the race frame counter reads 1 "
                    f"(make it with: emurl mkds start-state --course {self.course.abbr} "
                    f"--character {self.character} --kart {self.kart} --name {self.start_state})",
        })
        return Movie(
            game=GAME, system=SYSTEM, button_names=list(DSM_BUTTONS), buttons=buttons[:, None, :],
            start_state=self.start_state, frame_rate=FRAME_RATE, metadata=meta,
        )

    def power_on_movie(self, sram: bytes | None, race_load_frames: int = RACE_LOAD_FRAMES) -> Movie:
        """The ghost as a movie from power-on through the menus (for a ``.dsm``).

        Args:
            sram: the cartridge save to start from (raw ``.sav`` bytes); it must unlock
                the course, character and kart (the ghosts' own save does).
            race_load_frames: frames from the last menu press to race frame 1 (estimate).

        ``metadata`` gives ``race_start_frame`` (movie frame estimated to be race frame 1)
        and ``input_offset`` (first ghost frame = race_start_frame + 120).

        Raises:
            GhostError: the character or kart is not on the select screens.
        """
        try:
            script = script_frames(menu_script(self.course, self.character, self.kart), DSM_BUTTONS,
                                   where=f"{GAME} menu script")
        except (ValueError, UnknownCourseError) as exc:
            raise GhostError(str(exc), self.slot, self.course) from None
        race_start = len(script) + race_load_frames
        pre = np.zeros((race_start + INPUT_DELAY, len(DSM_BUTTONS)), np.uint8)
        for f, held in enumerate(script):
            for b in held:
                pre[f, DSM_BUTTONS.index(b)] = 1
        buttons = np.concatenate([pre, self.ds_buttons()])
        meta = self._metadata()
        meta.update({
            "race_start_frame": race_start,
            "input_offset": race_start + INPUT_DELAY,
            "menu_frames": len(script),
            "race_load_frames": race_load_frames,
            "timing": "fixed frame counts from the menu script in docs/facts/mario-kart-ds.md and an "
                      "estimated race load wait; not checked on the real game: may need adjusting",
        })
        return Movie(
            game=GAME, system=SYSTEM, button_names=list(DSM_BUTTONS), buttons=buttons[:, None, :],
            backend="desmume", start_state=None, sram=sram, frame_rate=FRAME_RATE,
            touch=np.zeros((len(buttons), 3), np.int16), metadata=meta,
        )


@dataclass
class GhostSlot:
    """One of the 32 slots: ``status`` is ``"ok"`` (``ghost`` set), ``"empty"`` or
    ``"error"`` (``error`` says why). ``course`` is the slot's course by menu order."""

    slot: int
    course: Course
    status: str
    ghost: Ghost | None = None
    error: str | None = None


def decode_slot(slot: int, block: bytes) -> Ghost:
    """Decrypt and decode the ghost in ``block`` (slot ``slot``).

    Raises:
        GhostError: with ``slot`` and ``course`` set: bad magic or CRC, an unknown course
            id, a course that is not the slot's, or a malformed run list.
    """
    course = COURSES[slot]
    try:
        data = decrypt_slot(block)
    except GhostError as exc:
        raise GhostError(exc.reason, slot, course) from None
    info = struct.unpack_from("<H", data, 0x04)[0]
    character, kart, course_id = info & 0xF, (info >> 4) & 0x3F, info >> 10
    try:
        found = course_by_id(course_id)
    except UnknownCourseError:
        raise GhostError(f"header names an unknown course id {course_id}", slot, course) from None
    if found != course:
        raise GhostError(
            f"header says course {found.abbr} ({found.name}, id {course_id}) but slot {slot} holds {course.abbr}",
            slot, course,
        )
    length = struct.unpack_from("<H", data, RUNS_LENGTH_OFFSET)[0]
    if length % 2 or length // 2 > MAX_RUNS:
        raise GhostError(f"run list length {length} bytes: expected an even number up to {2 * MAX_RUNS}", slot, course)
    runs = np.frombuffer(data, np.uint8, count=length, offset=RUNS_OFFSET).reshape(-1, 2).copy()
    if len(runs) == 0:
        raise GhostError("the run list is empty", slot, course)
    return Ghost(slot, course, character, kart, runs, data)


def read_ghosts(save: str | os.PathLike | bytes) -> list[GhostSlot]:
    """All 32 ghost slots of a Mario Kart DS save file (path or bytes).

    A slot that fails to decode is reported as ``"error"`` with the reason; the other
    slots are still decoded. A slot starting ``FF FF`` is ``"empty"``.

    Raises:
        MovieError: the file is missing or too small to hold the ghost slots.
    """
    if isinstance(save, (bytes, bytearray, memoryview)):
        data, name = bytes(save), "save data"
    else:
        name = str(save)
        try:
            with open(save, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            raise MovieError(f"{name}: no such save file") from None
        except OSError as exc:
            raise MovieError(f"{name}: cannot read: {exc.strerror}") from None
    end = GHOSTS_OFFSET + SLOTS * SLOT_SIZE
    if len(data) < end:
        raise MovieError(
            f"{name}: size {len(data)} bytes: expected a Mario Kart DS save (256 or 512 KiB) holding "
            f"ghosts at {GHOSTS_OFFSET:#x}-{end:#x}"
        )
    out = []
    for slot in range(SLOTS):
        block = data[GHOSTS_OFFSET + slot * SLOT_SIZE: GHOSTS_OFFSET + (slot + 1) * SLOT_SIZE]
        course = COURSES[slot]
        if block[:2] == b"\xff\xff":
            out.append(GhostSlot(slot, course, "empty"))
            continue
        try:
            out.append(GhostSlot(slot, course, "ok", ghost=decode_slot(slot, block)))
        except GhostError as exc:
            out.append(GhostSlot(slot, course, "error", error=str(exc)))
    return out
