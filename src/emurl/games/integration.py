"""Game integrations: finding them, loading them, and finding their ROMs and states.

An integration is a folder ``<Game>-<System>`` in stable-retro's format (``data.json``,
``scenario.json``, ``metadata.json``, ``rom.sha``, ``*.state``); stable-retro's own
folders carry a ``-v0`` suffix, which emurl drops from the name.

Where integrations are found (emurl's own, stable-retro's, the user's, first match wins):
:mod:`emurl.games.folders`.

ROMs live in the user's data folder (``$EMURL_DATA_DIR``, else ``$XDG_DATA_HOME/emurl``,
else ``~/.local/share/emurl``) under ``roms/<Game>-<System>/``, put there by
``emurl roms import``; a ROM shipped inside the integration folder (stable-retro's
Airstriker-Genesis) is found too. User-made start states go to ``states/<Game>-<System>/``
of the same folder. A ROM is checked against ``rom.sha`` when a game is loaded
(:meth:`Integration.require_rom`; :mod:`emurl.games.romsha`), its SHA-1s cached in
``cache/rom-sha1.json`` of that folder.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path

from emurl.errors import IntegrationError, RomNotFoundError, UnknownGameError, UnknownStateError
from emurl.fileio import STATE_SUFFIX, parse_state_file_name, read_state
from emurl.games.folders import (  # noqa: F401 (re-exported: the search path's names are imported from here)
    OWN_DATA, canonical_name, data_dir, integration_folders, retro_data_root, rom_extensions,
)
from emurl.games.jsonfile import read_json_object
from emurl.games.memory import variables_from_info
from emurl.games.pymodule import load_class
from emurl.games.romsha import check_rom, rom_matches, sha1_of_rom  # noqa: F401 (sha1_of_rom: imported from here by movies, states, play)
from emurl.games.scenario import Scenario, load_scenario
from emurl.games.variables import Variable


def list_games(game_path=None, playable: bool = False) -> list[str]:
    """Names of all integrations; with ``playable``, only those whose ROM is found."""
    names = sorted(integration_folders(game_path))
    if playable:
        names = [n for n in names if load_integration(n, game_path).rom_path() is not None]
    return names


@dataclass
class Integration:
    """One game integration, loaded and checked.

    Attributes:
        name: ``<Game>-<System>``.
        system: stable-retro's system name (the part after the last ``-``).
        folder: the integration's folder.
        source: ``"emurl"``, ``"stable-retro"`` or ``"user"``.
        variables: name → :class:`Variable`, from ``data.json``.
        action_sets: name → list of button combos (emurl extension, ``data.json``'s
            ``"action_sets"``).
        metadata: ``metadata.json`` (``default_state``, ...).
        rom_shas: accepted SHA-1s of the ROM, from ``rom.sha``.
    """

    name: str
    system: str
    folder: Path
    source: str
    variables: dict[str, Variable]
    action_sets: dict[str, list[list[str]]] = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    rom_shas: list[str] = field(default_factory=list)
    data_file: Path | None = None
    """the variables file read (``data.json``, or the ``info=`` file that replaced it)"""

    # -- scenarios -------------------------------------------------------------------
    def scenarios(self) -> list[str]:
        """Names of scenario files in the folder (JSON files with reward or done)."""
        out = []
        for p in sorted(self.folder.glob("*.json")):
            if p.name in ("data.json", "metadata.json"):
                continue
            try:
                raw = read_json_object(p)
            except IntegrationError:
                continue  # not a scenario file
            if isinstance(raw, dict) and ({"reward", "rewards", "done"} & raw.keys()):
                out.append(p.stem)
        return out

    def scenario(self, name: str | None = None) -> Scenario:
        """Load scenario ``name`` (default ``"scenario"``), or a path to a JSON file.

        Raises:
            IntegrationError: no such scenario, or a malformed one.
        """
        name = name or "scenario"
        path = Path(name) if name.endswith(".json") else self.folder / f"{name}.json"
        if not path.is_file():
            raise IntegrationError(
                f"{self.name}: no scenario {name!r} in {self.folder} (scenarios: {', '.join(self.scenarios()) or 'none'})"
            )
        return load_scenario(str(path), set(self.variables))

    # -- states ----------------------------------------------------------------------
    def user_state_dir(self) -> Path:
        return data_dir() / "states" / self.name

    def states(self, backend: str | None = None) -> dict[str, Path]:
        """Start states: name → file, from the integration folder then the user's state folder.

        A savestate only loads on the emulator that made it, so a state may be saved per
        backend as ``<name>.<backend>.state`` (e.g. ``Track0.desmume.state``; the naming is
        :func:`emurl.fileio.state_file_name`'s). With
        ``backend`` given, such a file is listed as ``<name>`` (before a plain
        ``<name>.state``) and other backends' files are left out; without it, every file
        is listed by its full name.
        """
        out: dict[str, Path] = {}
        plain: dict[str, Path] = {}
        for folder in (self.folder, self.user_state_dir()):
            if folder.is_dir():
                for p in sorted(folder.glob(f"*{STATE_SUFFIX}")):
                    if p.name.startswith("_"):
                        continue
                    base, tag = parse_state_file_name(p.name)
                    if tag is None:
                        plain.setdefault(base, p)
                    elif backend is None:
                        out.setdefault(p.name[: -len(STATE_SUFFIX)], p)
                    elif tag == backend:
                        out.setdefault(base, p)
        for k, v in plain.items():
            out.setdefault(k, v)
        return out

    @property
    def default_state(self) -> str | None:
        state = self.metadata.get("default_state")
        if state is not None and not isinstance(state, str):
            raise IntegrationError(f"{self.folder / 'metadata.json'}: default_state: expected a state name, got {state!r}")
        return state

    def features(self):
        """The integration's feature observation, or None: ``metadata.json``'s
        ``"features": "file.py:Class"`` (a class beside the data, instantiated with no
        arguments). It has ``spaces``, a dict name → ``(shape, dtype, low, high)``, and
        ``observe(values, seat) -> dict name → array``: what seat ``seat`` (0-based) sees,
        from the step's variables (every variable of ``data.json``).

        Raises:
            IntegrationError: no such file or class, or a class without those two.
        """
        spec = self.metadata.get("features")
        if not spec:
            return None
        where = f"{self.folder / 'metadata.json'}: features"
        obj = load_class(spec, self.folder, where, default="Features")()
        if not callable(getattr(obj, "observe", None)) or not isinstance(getattr(obj, "spaces", None), dict):
            raise IntegrationError(f"{where}: {type(obj).__name__} must have spaces (a dict) and observe(values, seat)")
        return obj

    def placement(self) -> tuple[object, list[Variable]] | None:
        """The integration's placement actions, or None: ``metadata.json``'s ``"placement":
        {"class": "file.py:Class", "action_set": "frame", "variables": {...}}``. The class (beside
        the data, made with no arguments) has ``n`` (placements), ``names``,
        ``search(values, seat)`` (``.mask``, ``.landings``), ``greedy(values, seat)``,
        ``falling``, ``piece`` and ``position``; it reads the step's variables plus
        ``"variables"`` (``data.json``'s format: RAM it needs that ``info`` need not carry).
        Returns ``(placements, those variables)``.

        Raises:
            IntegrationError: no such file or class, a class without ``search``, or a bad variable.
        """
        spec = self.metadata.get("placement")
        if not spec:
            return None
        where = f"{self.folder / 'metadata.json'}: placement"
        if not isinstance(spec, dict) or "class" not in spec:
            raise IntegrationError(f"{where}: expected {{\"class\": \"file.py:Class\", \"variables\": {{...}}}}, got {spec!r}")
        obj = load_class(spec["class"], self.folder, f"{where}.class", default="Placements")()
        if not callable(getattr(obj, "search", None)) or not isinstance(getattr(obj, "n", None), int):
            raise IntegrationError(f"{where}.class: {type(obj).__name__} must have n (an int) and search(values, seat)")
        declared = spec.get("variables") or {}
        if not isinstance(declared, dict):
            raise IntegrationError(f"{where}.variables: expected an object, name -> variable, got {declared!r}")
        extra = [Variable.from_json(k, v, where) for k, v in declared.items()]
        return obj, extra

    @property
    def players(self) -> int:
        """How many players the game has: ``metadata.json``'s ``"players"`` (ours), else the
        length of stable-retro's ``"default_player_state"`` (a start state per player count),
        else 1.

        Raises:
            IntegrationError: ``"players"`` is not a whole number from 1 to 4.
        """
        n = self.metadata.get("players")
        if n is None:
            return max(1, len(self.metadata.get("default_player_state") or ()))
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 4:
            raise IntegrationError(f"{self.folder / 'metadata.json'}: players: expected a whole number from 1 to 4, got {n!r}")
        return n

    def load_state_bytes(self, name: str | None = None, backend: str | None = None) -> bytes | None:
        """The savestate ``name`` (default: ``metadata.json``'s ``default_state``) as bytes.

        With ``backend``, the state made for that backend (see :meth:`states`).

        States are gzip files as stable-retro writes them; a plain file is read as is
        (:func:`emurl.fileio.read_state`).
        Returns None when the integration has no default state (start from power-on).

        Raises:
            UnknownStateError: no state of that name; the message lists those that exist.
        """
        states = self.states(backend)
        if name is None:
            name = self.default_state
            if name is None:
                return None
        if name.endswith(STATE_SUFFIX) and os.path.isfile(name):
            path = Path(name)
        else:
            name = name[: -len(STATE_SUFFIX)] if name.endswith(STATE_SUFFIX) else name
            if name not in states:
                close = difflib.get_close_matches(name, list(states), n=3)
                hint = f" Did you mean {', '.join(close)}?" if close else ""
                others = [k for k in self.states() if k.rpartition(".")[0] == name]
                if backend is not None and others:
                    hint += f" ({name!r} exists only as {', '.join(others)}: savestates load only on the backend that made them)"
                raise UnknownStateError(
                    f"{self.name}: no state {name!r}.{hint} States: {', '.join(states) or 'none'} "
                    f"(in {self.folder} and {self.user_state_dir()})"
                )
            path = states[name]
        return read_state(path)

    # -- ROMs ------------------------------------------------------------------------
    def rom_path(self) -> str | None:
        """The ROM file to run, or None when it was not imported."""
        exts = rom_extensions(self.system)
        for folder in (data_dir() / "roms" / self.name, self.folder):
            for ext in exts:
                p = folder / f"rom{ext}"
                if p.is_file():
                    return str(p)
        return None

    def require_rom(self, allow_mismatch: bool | None = None) -> str:
        """Like :meth:`rom_path`, but a missing ROM is an error, and the ROM must have one of
        the SHA-1s of ``rom.sha`` (none listed: any ROM; :func:`emurl.games.romsha.check_rom`,
        hashed once per file, size and modification time).

        Args:
            allow_mismatch: run a ROM whose SHA-1 is not listed, with a warning (a ROM hack);
                None: only if ``$EMURL_ALLOW_ROM_MISMATCH`` is 1.

        Raises:
            RomNotFoundError: with the accepted SHA-1s and the command that imports a ROM.
            RomMismatchError: the ROM's SHA-1 is not in ``rom.sha``; names both hashes.
        """
        path = self.rom_path()
        if path is None:
            shas = "\n  ".join(self.rom_shas) or "(rom.sha lists none)"
            raise RomNotFoundError(
                f"{self.name}: ROM not found. emurl runs a ROM whose SHA-1 is one of:\n  {shas}\n"
                f"Import yours with:  emurl roms import PATH_TO_ROM_OR_FOLDER\n"
                f"(it is then copied to {data_dir() / 'roms' / self.name})"
            )
        check_rom(path, self.rom_shas, self.name, rom_sha_cache(), allow_mismatch)
        return path

    def rom_status(self) -> str:
        """``"found: PATH"``, ``"found, SHA-1 does not match: PATH (SHA-1 ...)"`` or ``"missing ..."``."""
        path = self.rom_path()
        if path is None:
            return "missing (emurl roms import PATH)"
        ok, found = rom_matches(path, self.rom_shas, rom_sha_cache())
        return f"found: {path}" if ok else f"found, SHA-1 does not match: {path} (SHA-1 {found})"


def rom_sha_cache() -> Path:
    """The file that remembers ROM SHA-1s between processes (:func:`emurl.games.romsha.file_sha1s`)."""
    return data_dir() / "cache" / "rom-sha1.json"


def info_file(folder: Path, info: str | os.PathLike | None = None) -> Path:
    """The variables file of an integration, as stable-retro's ``info=`` picks it: None →
    ``data.json``; a path ending ``.json`` → that file (else that name in the folder); a
    name → ``<name>.json`` in the folder.

    Raises:
        IntegrationError: no such file (names it).
    """
    if info is None:
        return folder / "data.json"
    text = os.fspath(info)
    path = Path(text).expanduser() if text.endswith(".json") else folder / f"{text}.json"
    if not path.is_file() and text.endswith(".json") and (folder / text).is_file():
        path = folder / text
    if not path.is_file():
        raise IntegrationError(f"{path}: no such variables file (info={text!r}: a JSON path, or a name in {folder})")
    return path


def load_integration_folder(folder: Path, name: str | None = None, source: str = "user",
                            info: str | os.PathLike | None = None) -> Integration:
    """Load and check one integration folder; ``info`` replaces its ``data.json`` (:func:`info_file`).

    Raises:
        IntegrationError: a file is missing or malformed (names the file and the key), or a
            variable's address is outside the system's memory (:mod:`emurl.games.memory`).
    """
    folder = Path(folder)
    name = name or canonical_name(folder.name)
    data_file = info_file(folder, info)
    system = name.rsplit("-", 1)[-1]
    raw = read_json_object(data_file)
    if "info" not in raw:
        raise IntegrationError(f"{data_file}: missing key \"info\" (expected {{\"info\": {{name: {{\"address\": ..., \"type\": ...}}}}}})")
    if not isinstance(raw["info"], dict):
        raise IntegrationError(f"{data_file}: info: expected an object name → variable, got {type(raw['info']).__name__}")
    variables = variables_from_info(raw["info"], str(data_file), system)
    action_sets = raw.get("action_sets", {})
    if not isinstance(action_sets, dict) or not all(
        isinstance(v, list) and all(isinstance(c, list) and all(isinstance(b, str) for b in c) for c in v)
        for v in action_sets.values()
    ):
        raise IntegrationError(f"{data_file}: action_sets: expected name → list of button combos, e.g. {{\"steer\": [[], [\"A\"], [\"A\", \"LEFT\"]]}}")
    meta_file = folder / "metadata.json"
    metadata = read_json_object(meta_file) if meta_file.is_file() else {}
    sha_file = folder / "rom.sha"
    shas = [s.strip().lower() for s in sha_file.read_text().split()] if sha_file.is_file() else []
    return Integration(name, system, folder, source, variables, action_sets, metadata, shas, data_file)


def load_integration(game: str, game_path=None, info: str | os.PathLike | None = None) -> Integration:
    """Find and load the integration ``game`` (``"Airstriker-Genesis"``, ``-v0`` optional),
    with ``info`` (a variables file, :func:`info_file`) instead of its ``data.json``.

    Raises:
        UnknownGameError: no integration of that name (the message lists close names).
        IntegrationError: the integration's files are malformed.
    """
    name = canonical_name(game)
    folders = integration_folders(game_path)
    if name not in folders:
        lower = {n.lower(): n for n in folders}
        close = difflib.get_close_matches(name.lower(), list(lower), n=5, cutoff=0.5)
        close = [lower[c] for c in close]
        if not close:
            stem = name.split("-")[0].lower()
            close = [n for n in folders if n.lower().startswith(stem[:4])][:5]
        hint = f" Close names: {', '.join(close)}." if close else ""
        raise UnknownGameError(f"unknown game {game!r}.{hint} See `emurl games list`.")
    folder, source = folders[name]
    return load_integration_folder(folder, name, source, info)
