"""BizHawk / stable-retro ``.bk2`` movies: read both, write the form stable-retro reads.

A ``.bk2`` is a zip archive (facts: ``docs/facts/movie-formats.md``; stable-retro's
``src/movie-bk2.cpp``):

- ``Header.txt``: ``key value`` lines. stable-retro writes ``MovieVersion Retro``,
  ``Author ?``, ``emuVersion ?``, ``Platform GEN`` (``SNES``, ``NES``, ``A26``, else its
  system name), ``GameName Airstriker-Genesis-v0``, ``SHA1 ?``, ``Core ?``,
  ``rerecordCount 1``; it reads only ``Platform`` and ``GameName``.
- ``Input Log.txt``: ``[Input]``, a key line naming the columns, one ``|...|`` line per
  frame, ``[/Input]``. BizHawk's key line is ``LogKey:#Reset|Power|#P1 Up|P1 Down|...``:
  ``#`` starts a group, and each group is one ``|``-separated field of a frame line. In a
  frame line any character but ``.`` (or space) is a held button; an analog value is a
  5-character number and a comma. stable-retro writes its key line without ``LogKey:``
  and without groups (``P1 Z|P1 X|...|``: a C++ ``stringstream::str()`` call overwrites
  the ``LogKey:#Reset|Power|#`` prefix), and its frame lines as ``|..|<player 1>|<player
  2>|``, the first field being the console's Reset/Power. Its reader takes the player
  count from the ``P<n>`` of each key-line field (so a ``LogKey:`` prefix makes it throw)
  and a button from its *character*, not its column: ``B A C X Y Z`` as is, ``S`` Start,
  ``s`` Select, ``M`` Mode, ``U D L R`` the d-pad, ``l r`` the L and R shoulders.
- ``Core.bin`` (stable-retro): the start savestate, required by stable-retro to load.

Frame ``i`` of the input log is held during the ``i``-th frame after the start state is
loaded: stable-retro's ``RetroEnv.reset`` loads the state, runs one frame with no buttons
and logs it as line 0; each ``step`` then logs its buttons and runs a frame.
"""

from __future__ import annotations

import io
import os
import re
import zipfile

import numpy as np

from emurl.emulators.retro import core_info
from emurl.errors import EmulatorError, MovieError
from emurl.games.integration import canonical_name, retro_data_root
from emurl.movies._files import atomic_write, open_zip, zip_member
from emurl.movies.movie import Movie

# stable-retro's Header.txt platform names (movie-bk2.cpp) and BizHawk's system ids.
_PLATFORM_TO_SYSTEM = {
    "GEN": "Genesis", "SNES": "Snes", "NES": "Nes", "A26": "Atari2600",
    "GB": "GameBoy", "GBC": "GbColor", "GBA": "GbAdvance", "SMS": "Sms", "GG": "GameGear",
    "PCE": "PCEngine", "N64": "N64", "NDS": "NintendoDs", "32X": "32x", "SAT": "Saturn",
}
_SYSTEM_TO_PLATFORM = {"Genesis": "GEN", "Snes": "SNES", "Nes": "NES", "Atari2600": "A26"}
"""Only these four are renamed by stable-retro's writer; other systems keep their name."""

# stable-retro's s_keyNames: button name → log character (movie-bk2.cpp).
_KEY_CHARS = {
    "A": "A", "B": "B", "C": "C", "X": "X", "Y": "Y", "Z": "Z", "START": "S", "SELECT": "s",
    "MODE": "M", "UP": "U", "DOWN": "D", "LEFT": "L", "RIGHT": "R", "L": "l", "R": "r", "BUTTON": "B",
}
# stable-retro's s_buttonNames: log character → key-line name (Atari2600's 'B' is "Button").
_KEY_NAMES = {"A": "A", "B": "B", "C": "C", "X": "X", "Y": "Y", "Z": "Z", "S": "Start", "s": "Select",
              "M": "Mode", "U": "Up", "D": "Down", "L": "Left", "R": "Right", "l": "L", "r": "R"}

_PLAYER_KEY = re.compile(r"^P(\d+) (.+)$")
_ANALOG = re.compile(r"[ \-+\d]{5},")


def system_buttons(system: str) -> list[str]:
    """The button names of ``system`` in the bit order of stable-retro's core (``""`` for
    an unused bit), or ``[]`` for a system stable-retro has no core for."""
    try:
        buttons = core_info(system)["buttons"]
    except EmulatorError:
        return []
    return ["" if b is None else str(b) for b in buttons]


def _parse_header(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line:
            key, _, value = line.partition(" ")
            out.setdefault(key, value.strip())
    return out


def _key_groups(line: str) -> list[list[str]]:
    """Column names of a key line, grouped as the frame lines' ``|`` fields are."""
    if line.startswith("LogKey:"):
        line = line[len("LogKey:"):]
    if "#" in line:
        return [[n for n in g.split("|") if n] for g in line.split("#") if g.strip("|")]
    return [[n for n in line.split("|") if n]]


def _tokens(field: str) -> list[str]:
    """One token per column of a frame-line field: a character, or a ``NNNNN,`` analog value."""
    out, i = [], 0
    while i < len(field):
        m = _ANALOG.match(field, i)
        if m:
            out.append(m.group(0))
            i = m.end()
        else:
            out.append(field[i])
            i += 1
    return out


def _button_name(name: str) -> str:
    return name.strip().upper().replace(" ", "")


def read_bk2(path: str | os.PathLike) -> Movie:
    """Read a BizHawk or stable-retro ``.bk2`` into a :class:`Movie`.

    Columns are mapped to button names from the key line (``P1 Up`` → player 0's
    ``UP``), in the bit order of stable-retro's core for the platform when it has one
    (names the core lacks are added after its buttons). Console buttons (Reset, Power)
    are not player buttons: frames where they are held are listed in
    ``metadata["console"]``. ``Core.bin`` becomes the start state (bytes); without it the
    movie starts from power-on. Analog columns are not supported.

    Returns:
        A Movie with ``buttons`` uint8 ``(frames, players, buttons)``, ``game`` the
        ``GameName`` without stable-retro's ``-v0``, ``backend="retro"`` when the
        platform has a stable-retro core.

    Raises:
        MovieError: not a zip, ``Input Log.txt`` or ``Header.txt`` missing, no key line,
            a frame line whose columns don't match the key line, analog input.
    """
    with open_zip(path, "BizHawk/stable-retro movie (.bk2)") as z:
        header_raw = zip_member(z, path, "Header.txt")
        log_raw = zip_member(z, path, "Input Log.txt")
        state = zip_member(z, path, "Core.bin", required=False)
        extra = {n: zip_member(z, path, n).decode("utf-8", "replace")
                 for n in ("Comments.txt", "Subtitles.txt") if n in z.namelist()}
    header = _parse_header(header_raw.decode("utf-8", "replace"))
    platform = header.get("Platform")
    if not platform:
        raise MovieError(f"{path}: Header.txt: Platform: missing (expected e.g. 'Platform GEN')")
    system = _PLATFORM_TO_SYSTEM.get(platform, platform)

    lines = log_raw.decode("utf-8", "replace").splitlines()
    key_line, frames_text, key_lineno = None, [], 0
    for n, line in enumerate(lines, 1):
        s = line.rstrip("\r\n")
        if not s or s in ("[Input]", "[/Input]"):
            continue
        if s.startswith("|"):
            if key_line is None:
                raise MovieError(f"{path}: Input Log.txt: line {n}: a frame line before the key line (expected 'LogKey:...' first)")
            frames_text.append((n, s))
        elif key_line is None:
            key_line, key_lineno = s, n
    if key_line is None:
        raise MovieError(f"{path}: Input Log.txt: LogKey: missing (expected a line like 'LogKey:#Reset|Power|#P1 Up|...')")
    groups = _key_groups(key_line)
    if not any(groups):
        raise MovieError(f"{path}: Input Log.txt: line {key_lineno}: LogKey: names no columns")

    columns: list[tuple[int | None, str]] = []  # per flat column: (player index or None for console, name)
    for g in groups:
        for name in g:
            m = _PLAYER_KEY.match(name.strip())
            columns.append((int(m.group(1)) - 1, _button_name(m.group(2))) if m else (None, name.strip()))
    players = max([p + 1 for p, _ in columns if p is not None], default=1)
    names = system_buttons(system)
    for p, name in columns:
        if p is not None and name not in names:
            names.append(name)
    col_index = {n: i for i, n in enumerate(names) if n}
    grouped = "#" in key_line
    ncols = len(columns)

    buttons = np.zeros((len(frames_text), players, len(names)), np.uint8)
    console: dict[str, list[int]] = {}
    for f, (lineno, text) in enumerate(frames_text):
        fields = text.strip().strip("|").split("|") if text.strip() != "|" else []
        if grouped:
            if len(fields) != len(groups):
                raise MovieError(
                    f"{path}: Input Log.txt: line {lineno}: expected {len(groups)} '|' fields as LogKey's groups, "
                    f"got {len(fields)}: {text!r}"
                )
            tokens = [t for fld in fields for t in _tokens(fld)]
        else:  # stable-retro: a console field first, then one field per player
            tokens = [t for fld in fields[1:] for t in _tokens(fld)]
        if len(tokens) != ncols:
            raise MovieError(
                f"{path}: Input Log.txt: line {lineno}: expected {ncols} button columns as the key line "
                f"(line {key_lineno}) names, got {len(tokens)}: {text!r}"
            )
        for (player, name), tok in zip(columns, tokens):
            if len(tok) > 1:
                raise MovieError(f"{path}: Input Log.txt: line {lineno}: analog column {name!r} is not supported")
            if tok in ". ":
                continue
            if player is None:
                console.setdefault(name, []).append(f)
            else:
                buttons[f, player, col_index[name]] = 1

    metadata: dict = {"source_format": "bk2", "bk2_header": header}
    if console:
        metadata["console"] = console
    metadata.update({k.lower().replace(".txt", ""): v for k, v in extra.items()})
    sha1 = header.get("SHA1")
    game = header.get("GameName")
    core = header.get("Core")
    return Movie(
        game=canonical_name(game) if game and game != "?" else None,
        system=system,
        button_names=names,
        buttons=buttons,
        rom_sha1=sha1.lower() if sha1 and re.fullmatch(r"[0-9A-Fa-f]{40}", sha1) else None,
        backend="retro" if system_buttons(system) else None,
        core=core if core and core != "?" else None,
        start_state=state,
        frame_rate=_frame_rate(system),
        metadata=metadata,
    )


def _frame_rate(system: str) -> float:
    return {"NintendoDs": 59.8261, "Atari2600": 59.92, "Genesis": 59.92}.get(system, 60.0)


def _retro_game_name(game: str | None) -> str:
    """stable-retro's name for an integration (its folders end in ``-v0``)."""
    if not game:
        return "?"
    try:
        if (retro_data_root() / f"{game}-v0").is_dir():
            return f"{game}-v0"
    except Exception:  # stable-retro's data folder unavailable: keep the name
        pass
    return game


def bk2_bytes(movie: Movie) -> bytes:
    """The ``.bk2`` archive for ``movie`` in the form stable-retro writes (see module doc).

    Columns are the platform's buttons that stable-retro can log, in the core's bit order.

    Raises:
        MovieError: the system has no stable-retro core, a held button can't be logged
            (no log character in stable-retro), the movie uses the touch screen, or it
            has no start state bytes (stable-retro needs ``Core.bin``; a named state must
            be resolved to bytes first).
    """
    core_buttons = system_buttons(movie.system)
    if not core_buttons:
        raise MovieError(f"system {movie.system!r}: stable-retro has no core for it, so no .bk2 it can read")
    if movie.touch is not None and movie.touch[:, 2].any():
        raise MovieError("touch: the movie touches the screen, which a .bk2 (stable-retro) can't hold")
    if not isinstance(movie.start_state, bytes):
        what = "power-on" if movie.start_state is None else f"state name {movie.start_state!r}"
        raise MovieError(
            f"start_state: stable-retro's .bk2 needs the start state's bytes (Core.bin), got {what}; "
            "load the state and set movie.start_state to its bytes"
        )
    loggable = [(i, _KEY_CHARS[b]) for i, b in enumerate(core_buttons) if b in _KEY_CHARS]
    logged_names = [core_buttons[i] for i, _ in loggable]
    aligned = movie.buttons_for(logged_names)  # raises for held buttons that can't be logged

    platform = _SYSTEM_TO_PLATFORM.get(movie.system, movie.system)
    header = (
        "MovieVersion Retro\nAuthor ?\nemuVersion ?\n"
        f"Platform {platform}\nGameName {_retro_game_name(movie.game)}\n"
        f"SHA1 {movie.rom_sha1 or '?'}\nCore {movie.core or '?'}\nrerecordCount 1\n"
    )
    key_names = []
    for p in range(1, movie.players + 1):
        for _, ch in loggable:
            name = "Button" if (movie.system == "Atari2600" and ch == "B") else _KEY_NAMES[ch]
            key_names.append(f"P{p} {name}|")
    chars = np.array([ord(c) for _, c in loggable], np.uint8)
    dot = np.uint8(ord("."))
    out = io.StringIO()
    out.write("[Input]\n" + "".join(key_names) + "\n")
    for f in range(movie.frames):
        out.write("|..|")
        for p in range(movie.players):
            row = np.where(aligned[f, p].astype(bool), chars, dot)
            out.write(row.tobytes().decode("ascii") + "|")
        out.write("\n")
    out.write("[/Input]")

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("Input Log.txt", out.getvalue())
        z.writestr("Header.txt", header)
        z.writestr("Core.bin", movie.start_state)
    return buf.getvalue()


def write_bk2(movie: Movie, path: str | os.PathLike) -> None:
    """Write ``movie`` as a ``.bk2`` that ``stable_retro.Movie(path)`` loads, atomically.

    Raises:
        MovieError: as :func:`bk2_bytes` (prefixed with the path), or the file can't be written.
    """
    try:
        data = bk2_bytes(movie)
    except MovieError as exc:
        raise MovieError(f"{path}: {exc}") from None
    atomic_write(path, data)
