"""NEAT run settings: a typed dataclass for emurl's side, neat-python's ``neat.ini`` for NEAT's.

One file holds both: a preset ``src/emurl/configs/neat/<Game>-<System>.ini`` (else
``default.ini``) is neat-python's config file (https://neat-python.readthedocs.io/en/latest/config_file.html)
plus an ``[emurl]`` section with :class:`NeatConfig`'s settings (env and run), which
neat-python ignores. Precedence, lowest first: the dataclass defaults, the preset (or
``--config FILE``), the command line. Command-line keys with a dot (``DefaultGenome.node_add_prob``)
go into ``neat.ini``'s sections; ``pop`` is ``NEAT.pop_size``.

A run folder freezes both: ``config.yaml`` (:meth:`NeatConfig.to_dict`) and ``neat.ini``
(the resolved file, ``num_inputs`` / ``num_outputs`` set from the env).
"""

from __future__ import annotations

import configparser
import dataclasses
import difflib
import io
from dataclasses import dataclass, field, fields
from pathlib import Path

import neat

from emurl.envs import EnvSpec
from emurl.envs.settings import ENV_KEYS, PRESETS, coerce, env_values, load_yaml, spec_from_dict
from emurl.errors import ConfigError
from emurl.fileio import atomic_write

NEAT_PRESETS = PRESETS / "neat"
"""The NEAT presets shipped in the package: ``<Game>-<System>.ini`` and ``default.ini``."""
FITNESS = ("auto", "return", "splits")
OUTPUTS = ("auto", "argmax", "threshold")


def neat_env_defaults() -> EnvSpec:
    """The env a NEAT run starts from (before the preset): feature observations, a fixed
    start (no random no-ops: the same genome always gets the same fitness), episodes cut
    at 1000 agent steps, raw rewards."""
    return EnvSpec(obs_type="features", noop_max=0, max_pool=False, max_episode_steps=1000, render_mode=None)


@dataclass
class NeatConfig:
    """Everything of a NEAT run but neat-python's own settings (those are ``neat.ini``'s)."""

    env: EnvSpec = field(default_factory=neat_env_defaults)
    """the env: game, state, scenario, observations (the genome's inputs), actions (its outputs), frame skip, episode cap"""
    generations: int = 50
    """generations to evolve (a resumed run continues up to this many in all)"""
    num_proc: int = 2
    """evaluation worker processes (Ray workers with --ray), one emulator each, kept for the whole run"""
    seed: int = 0
    """seed of neat-python's random choices (evaluation itself is deterministic)"""
    fitness: str = "auto"
    """return (the scenario's), splits (racing: race progress plus a time bonus at each checkpoint), or auto (splits where the step info has race_progress)"""
    time_bonus: float = 0.5
    """splits: bonus weight; each split adds its share of the lap times (1 + time_bonus * (1 - race_time / episode cap))"""
    stuck_steps: int = 100
    """end an episode after this many agent steps without progress (a new checkpoint, or a new best return)"""
    outputs: str = "auto"
    """argmax (one output per action of a Discrete action set), threshold (one per button, pressed above 'threshold'), auto (by the action space)"""
    threshold: float = 0.0
    """threshold outputs: a button is held when its output is above this"""
    watch: bool = False
    """workers publish their screens and overlays (genome, fitness so far) in shared memory for a live view (emurl.vector.frames); DS games then draw every frame (slower)"""
    video: bool = True
    """write a video and an input movie of each new best genome's episode"""
    runs_dir: str = "runs"
    """where run folders are made"""
    ray: str | None = None
    """evaluate on a Ray cluster: its address (auto: the running one; local: start one here); none: local processes"""

    @property
    def game(self) -> str:
        """The env's game (canonical name)."""
        return self.env.game

    @property
    def episode_frames(self) -> int | None:
        """The episode cap in emulator frames (None: no cap)."""
        steps = self.env.max_episode_steps
        return steps * self.env.frame_skip if steps else None

    def run_name(self, t: float) -> str:
        """``<game>__neat__<seed>__<unix time>``."""
        return f"{self.env.game}__neat__{self.seed}__{int(t)}"

    def to_dict(self) -> dict:
        """Plain data for ``config.yaml`` (the env's settings under ``env``)."""
        return dataclasses.asdict(self)


RUN_KEYS = frozenset(f.name for f in fields(NeatConfig)) - {"env"}


def apply(cfg: NeatConfig, values: dict, where: str) -> NeatConfig:
    """A copy of ``cfg`` with ``values`` set (flat env or run keys, or the env's under ``env``).

    Raises:
        ConfigError: an unknown key (with close names) or a bad value, naming ``where``.
    """
    run_values = {}
    for k, v in values.items():
        key = k.replace("-", "_")
        if key == "env" or key in ENV_KEYS:
            continue
        if key not in RUN_KEYS:
            close = difflib.get_close_matches(key, sorted(RUN_KEYS | ENV_KEYS), n=3)
            raise ConfigError(f"{where}: unknown setting {k!r}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
        run_values[key] = coerce(NeatConfig, key, v, where)
    env = spec_from_dict(env_values(values, where), where, base=cfg.env)
    out = dataclasses.replace(cfg, env=env, **run_values)
    for name, allowed in (("fitness", FITNESS), ("outputs", OUTPUTS)):
        if getattr(out, name) not in allowed:
            raise ConfigError(f"{where}: {name} must be one of {', '.join(allowed)}, got {getattr(out, name)!r}")
    if out.num_proc < 1 or out.generations < 0 or out.stuck_steps < 1:
        raise ConfigError(f"{where}: num_proc and stuck_steps must be >= 1 and generations >= 0")
    return out


def preset_ini(game: str) -> Path:
    """The game's NEAT preset (``configs/neat/<Game>-<System>.ini``), else ``default.ini``."""
    own = NEAT_PRESETS / f"{EnvSpec(game).game}.ini"
    return own if own.is_file() else NEAT_PRESETS / "default.ini"


def read_ini(path: str | Path) -> configparser.ConfigParser:
    """A ``neat.ini`` as a parser (comments dropped).

    Raises:
        ConfigError: the file can't be read or parsed (names it).
    """
    parser = configparser.ConfigParser()
    try:
        with open(path) as f:
            parser.read_file(f)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except configparser.Error as exc:
        raise ConfigError(f"{path}: not a valid neat.ini: {exc}") from None
    if not parser.has_section("NEAT"):
        raise ConfigError(f"{path}: no [NEAT] section (expected neat-python's config format)")
    return parser


def build_config(game: str | None, config_file: str | None = None,
                 overrides: dict | None = None) -> tuple[NeatConfig, configparser.ConfigParser]:
    """Defaults ← the preset (or ``config_file``) ← ``overrides``.

    Returns:
        ``(settings, neat.ini parser)``; the parser still has ``[emurl]`` and the
        placeholder ``num_inputs`` / ``num_outputs`` (:func:`neat_config` sets them).

    Raises:
        ConfigError: a bad file, key or value (naming where it came from).
    """
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    game = game or overrides.pop("game", None) or EnvSpec.game
    path = Path(config_file) if config_file else preset_ini(game)
    parser = read_ini(path)
    cfg = apply(NeatConfig(), {"game": game}, "command line")
    if parser.has_section("emurl"):
        cfg = apply(cfg, dict(parser.items("emurl")), f"{path} [emurl]")
    return override(cfg, parser, overrides)


def override(cfg: NeatConfig, parser: configparser.ConfigParser,
             overrides: dict) -> tuple[NeatConfig, configparser.ConfigParser]:
    """``overrides`` applied: ``Section.key`` and ``pop`` to ``parser`` (in place), the rest to ``cfg``."""
    flat = {}
    for k, v in overrides.items():
        if k == "pop":
            k = "NEAT.pop_size"
        section, dot, key = k.partition(".")
        if dot:
            if not parser.has_section(section):
                raise ConfigError(f"command line: {k!r}: neat.ini has no section [{section}] "
                                  f"(it has {', '.join(parser.sections())})")
            parser.set(section, key, str(v))
        else:
            flat[k] = v
    return apply(cfg, flat, "command line"), parser


def neat_config(parser: configparser.ConfigParser, num_inputs: int, num_outputs: int,
                path: str | Path) -> neat.Config:
    """neat-python's config from ``parser`` with the genome's inputs and outputs set,
    written (atomically) to ``path`` first: the frozen ``neat.ini`` of a run.

    Raises:
        ConfigError: neat-python rejects the file (its message, naming ``path``).
    """
    parser.set("DefaultGenome", "num_inputs", str(num_inputs))
    parser.set("DefaultGenome", "num_outputs", str(num_outputs))
    text = io.StringIO()
    parser.write(text)
    atomic_write(path, text.getvalue().encode())
    return load_neat_config(path)


def load_neat_config(path: str | Path) -> neat.Config:
    """Load a ``neat.ini`` with neat-python's default genome, reproduction, species and stagnation.

    Raises:
        ConfigError: a missing or bad item (neat-python's message, naming ``path``).
    """
    try:
        return neat.Config(neat.DefaultGenome, neat.DefaultReproduction, neat.DefaultSpeciesSet,
                           neat.DefaultStagnation, str(path))
    except (RuntimeError, NameError, ValueError, KeyError, configparser.Error, AssertionError) as exc:
        raise ConfigError(f"{path}: {type(exc).__name__}: {exc}") from None
    except Exception as exc:  # neat-python raises a bare Exception for a missing item
        raise ConfigError(f"{path}: {exc}") from None


def load_run_settings(run_dir: str | Path) -> NeatConfig:
    """A NEAT run folder's frozen settings (``config.yaml``).

    Raises:
        FileNotFoundError: no ``config.yaml`` / ``neat.ini`` (not a NEAT run folder).
    """
    run_dir = Path(run_dir)
    if not is_neat_run(run_dir):
        raise FileNotFoundError(f"{run_dir}: not a NEAT run folder (no neat.ini and config.yaml)")
    data = load_yaml(run_dir / "config.yaml")
    return apply(NeatConfig(), data, str(run_dir / "config.yaml"))


def is_neat_run(path: str | Path) -> bool:
    """Whether ``path`` is a NEAT run folder (``neat.ini`` and ``config.yaml`` in it)."""
    path = Path(path)
    return (path / "neat.ini").is_file() and (path / "config.yaml").is_file()


__all__ = ["FITNESS", "NEAT_PRESETS", "NeatConfig", "OUTPUTS", "apply", "build_config", "is_neat_run",
           "load_neat_config", "load_run_settings", "neat_config", "neat_env_defaults", "override", "preset_ini",
           "read_ini"]
