"""EnvSpec: every setting of an emurl env, declared once, and the one function that builds it.

``emurl.make``, ``gymnasium.make("emurl/<Game>-v0")``, training, evaluation, datasets,
behaviour cloning, the benchmarks and the vector env all build their envs through
:func:`build_env`, so the same settings give the same env on every road.

The wrappers, outermost last: :class:`~emurl.envs.EmulatorEnv` (frame skip, max-pool,
no-ops) → :class:`~emurl.wrappers.opponent.OpponentSeat` (``opponent``) →
:class:`~emurl.wrappers.placement.PlacementActions` (``action_set="placement"``) →
:class:`~emurl.wrappers.tree_features.PlacementFeaturesObservation` (``placement_features``) →
``TimeLimit`` (``max_episode_steps``) → :class:`~emurl.wrappers.metrics.RecordEpisodeMetrics`
(a racing scenario's ``"metrics"``) → ``RecordEpisodeStatistics`` (raw return,
before any clipping) → :class:`~emurl.wrappers.life_loss.LifeLossTermination` → reward clip
(without a pixel pipeline) → :func:`~emurl.wrappers.atari_pipeline` (crop, 84×84 gray,
frame stack, reward clip) → :class:`~emurl.wrappers.curriculum.StartStateCurriculum`
(``start_states``).

>>> spec = EnvSpec("emurl/Breakout-Atari2600-v0", pipeline="atari")
>>> spec.game, spec.frame_skip
('Breakout-Atari2600', 4)
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, fields

import gymnasium as gym

from emurl.emulators import BACKENDS, Emulator, resolve_backend
from emurl.envs.emulator_env import EmulatorEnv
from emurl.envs.observation import OBS_TYPES
from emurl.envs.emulator_env import SCREENS as _DS_SCREENS
from emurl.envs.opponents import NAMED, is_checkpoint, opponent_for
from emurl.envs.turns import PlacementTurns
from emurl.envs.versus import VersusEnv
from emurl.errors import ConfigError
from emurl.games.integration import canonical_name, load_integration
from emurl.wrappers import atari_pipeline
from emurl.wrappers.curriculum import StartStateCurriculum
from emurl.wrappers.life_loss import LifeLossTermination
from emurl.wrappers.metrics import RecordEpisodeMetrics
from emurl.wrappers.opponent import OpponentSeat
from emurl.wrappers.placement import PlacementActions
from emurl.wrappers.tree_features import PlacementFeaturesObservation

PIPELINES = (None, "atari", "auto")
"""None: observations as the env gives them; ``"atari"``: :func:`~emurl.wrappers.atari_pipeline`;
``"auto"``: ``"atari"`` for ``obs_type="rgb"``, None otherwise (what training uses)."""
SCREENS = (None, *_DS_SCREENS)
OPPONENTS = NAMED
"""Who plays the other seat in a one-agent view of a two-player game, by name: uniformly
random actions, or the greedy placement player (:class:`~emurl.wrappers.placement.GreedyOpponent`,
for games whose integration declares placement actions); any other value is a policy
checkpoint (``.zip``, :mod:`emurl.envs.opponents`). A policy object can be passed to
:class:`~emurl.wrappers.opponent.OpponentSeat` directly."""
PLACEMENT = "placement"
"""The ``action_set`` of one decision per piece (:class:`~emurl.wrappers.placement.PlacementActions`)."""


@dataclass
class EnvSpec:
    """Every setting of an emurl env. Build it with :func:`build_env` (or ``emurl.make``).

    Raises ``ConfigError`` (a ``ValueError``) at construction for a value out of range,
    naming the setting and what is allowed.
    """

    game: str = "Airstriker-Genesis"
    """integration name, e.g. Breakout-Atari2600 ('emurl/' and '-v0' accepted; stored without them)"""
    state: str | None = "default"
    """start state ('default': the integration's; none: power-on)"""
    start_states: list[str] | None = None
    """episodes start from one of these states, drawn uniformly per episode (e.g. points spread along a track); none: from state"""
    scenario: str | None = None
    """scenario name or JSON path (default: scenario.json)"""
    obs_type: str = "rgb"
    """rgb (the screen), ram (all RAM, uint8), variables (the integration's variables, float32) or features (the integration's own, e.g. Dr. Mario's planes)"""
    action_set: str | list | None = None
    """discrete, multi_discrete, filtered, all, minimal (Atari 2600: ALE's minimal action set), a named action set of the integration, or placement (one step places one piece, with an action mask; integrations that declare it)"""
    frame_skip: int = 4
    """emulator frames per agent step (the action is held; rewards are summed); placement actions and the greedy opponent run at 1"""
    max_pool: bool = True
    """observe the max of the last two frames of a step (Atari flicker)"""
    noop_max: int = 0
    """random no-op frames at reset (episode variety)"""
    backend: str | None = None
    """emulator backend: retro; desmume (DS default) or melonds for DS games"""
    screens: str | None = None
    """DS games: top, bottom or both screens in the observation"""
    touch: bool = False
    """DS games on desmume: the action also holds a touch-screen point"""
    max_episode_steps: int | None = None
    """truncate episodes after this many agent steps (none: never)"""
    terminal_on_life_loss: bool = False
    """end episodes when the 'lives' variable drops (the game goes on)"""
    pipeline: str | None = None
    """none, atari (crop, gray, resize, frame stack) or auto (atari for rgb observations, none otherwise)"""
    screen_size: int = 84
    """side of the square observation of the atari pipeline"""
    frame_stack: int = 4
    """observations stacked by the atari pipeline"""
    crop: list[int] | None = None
    """[x, y, width, height] screen region kept by the atari pipeline before resizing"""
    clip_reward: bool | None = None
    """clip rewards to [-1, 1] (none: as the pipeline does: clipped with atari, not without)"""
    episode_statistics: bool = False
    """add info['episode'] (raw return r, length l, seconds t) at each episode's end, before clipping"""
    render_mode: str | None = "rgb_array"
    """rgb_array (the full screen) or none"""
    players: int = 1
    """seats on the emulator, each on its controller port (2: see make_parallel and opponent)"""
    opponent: str | None = None
    """two-player games: who plays the other seat while the agent plays seat (random, greedy); none: one player"""
    seat: int = 0
    """two-player games with an opponent: the agent's seat, 0 (player 1) or 1 (player 2)"""
    game_path: str | None = None
    """extra integration folders"""
    info: str | None = None
    """variables file instead of the integration's data.json, as stable-retro's info=: a name in its folder (data_alt) or a JSON file's path"""
    save: str | None = None
    """Nintendo DS (desmume): a cartridge save file (.sav or .dsv) the game starts with, e.g. Mario Kart DS's unlocks"""
    placement_features: bool = False
    """placement actions on features (Dr. Mario): add each placement's one-byte features for the seat played (uint8 32x23, emurl.games.drmario.tree_features) to the observation as 'placements' (for policy: placement_scorer)"""

    def __post_init__(self) -> None:
        self.game = canonical_name(str(self.game))
        _check_choice("obs_type", self.obs_type, OBS_TYPES)
        _check_choice("pipeline", self.pipeline, PIPELINES)
        _check_choice("screens", self.screens, SCREENS)
        _check_choice("backend", self.backend, (None, *BACKENDS))
        _check_choice("render_mode", self.render_mode, (None, "rgb_array"))
        for name, low in (("frame_skip", 1), ("noop_max", 0), ("max_episode_steps", 1), ("screen_size", 1),
                          ("frame_stack", 1)):
            value = getattr(self, name)
            if not (value is None and name == "max_episode_steps") and not _whole(value, low):
                raise ConfigError(f"{name} must be a whole number >= {low}{' or none' if name == 'max_episode_steps' else ''}, "
                                  f"got {value!r}")
        if self.crop is not None and (len(self.crop) != 4 or not all(_whole(v, 0) for v in self.crop[:2])
                                      or not all(_whole(v, 1) for v in self.crop[2:])):
            raise ConfigError(f"crop must be [x, y, width, height] in pixels (x, y >= 0; width, height >= 1), got {self.crop!r}")
        if isinstance(self.players, bool) or not isinstance(self.players, int) or not 1 <= self.players <= 4:
            raise ConfigError(f"players must be a whole number from 1 to 4, got {self.players!r}")
        if not is_checkpoint(self.opponent):
            _check_choice("opponent", self.opponent, OPPONENTS + ("a policy checkpoint .zip",))
        if self.seat not in (0, 1) or isinstance(self.seat, bool):
            raise ConfigError(f"seat must be 0 (player 1) or 1 (player 2), got {self.seat!r}")
        if self.opponent == "greedy" and self.frame_skip != 1 and self.action_set != PLACEMENT:
            raise ConfigError("opponent='greedy' presses its plan frame by frame: use frame_skip=1 or "
                              f"action_set='{PLACEMENT}' (got frame_skip={self.frame_skip})")
        if not isinstance(self.placement_features, bool):
            raise ConfigError(f"placement_features must be true or false, got {self.placement_features!r}")
        if self.placement_features and (self.action_set != PLACEMENT or self.obs_type != "features"):
            raise ConfigError(f"placement_features adds each placement's features to the features observation: set "
                              f"action_set={PLACEMENT} and obs_type=features (got {self.action_set!r}, {self.obs_type!r})")

    def replace(self, **changes) -> EnvSpec:
        """A copy with ``changes`` (checked as at construction)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """Plain data (YAML/JSON-ready); ``EnvSpec(**d)`` gives the spec back."""
        return dataclasses.asdict(self)

    @property
    def pixel_pipeline(self) -> bool:
        """Whether the atari pipeline applies (``"atari"``, or ``"auto"`` on rgb observations)."""
        return self.pipeline == "atari" or (self.pipeline == "auto" and self.obs_type == "rgb")

    def for_evaluation(self, max_episode_steps: int | None) -> EnvSpec:
        """The same observations and actions for evaluation: whole games from ``state``
        (no start-state draw, no life-loss ending), raw rewards, episode statistics on."""
        return self.replace(start_states=None, terminal_on_life_loss=False, clip_reward=False,
                            max_episode_steps=max_episode_steps, episode_statistics=True)


V0 = {
    "state": "default", "start_states": None, "scenario": None, "obs_type": "rgb", "action_set": None,
    "frame_skip": 4, "max_pool": True, "noop_max": 0, "backend": None, "screens": None, "touch": False,
    "max_episode_steps": None, "terminal_on_life_loss": False, "pipeline": None, "screen_size": 84,
    "frame_stack": 4, "crop": None, "clip_reward": None, "episode_statistics": False, "render_mode": "rgb_array",
    "game_path": None, "players": 1, "opponent": None, "seat": 0, "info": None, "save": None,
    "placement_features": False,
}
"""What ``emurl/<Game>-v0`` means: these settings, pinned (as ALE's ``-v5`` pins its own).
A later change of :class:`EnvSpec`'s defaults makes a ``-v1``; ``-v0`` keeps these."""


def make_v0(game: str, **settings) -> gym.Env:
    """The entry point of ``emurl/<Game>-v0``: :func:`make` with :data:`V0` under ``settings``
    (those of ``gymnasium.make(id, **settings)``)."""
    return make(game, **{**V0, **settings})


def _whole(value, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def _check_choice(name: str, value, allowed: tuple) -> None:
    if value not in allowed:
        shown = ", ".join("none" if a is None else a for a in allowed)
        raise ConfigError(f"{name} must be one of {shown}; got {value!r}")


def _suggest(key: str, *classes) -> str:
    known = [f.name for cls in classes for f in fields(cls)]
    close = difflib.get_close_matches(key, known, n=3)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def build_env(spec: EnvSpec, emulator: Emulator | None = None, make_opponent=None) -> gym.Env:
    """The env ``spec`` declares (the wrappers are listed in the module docstring).

    Args:
        spec: the settings.
        emulator: an emulator already open on the game's ROM, used instead of opening one
            (see :class:`~emurl.envs.EmulatorEnv`).
        make_opponent: ``(two-seat env, opponent's seat) -> opponent`` for
            :class:`~emurl.wrappers.opponent.OpponentSeat`, used instead of ``spec.opponent``
            (self-play's opponent pool); the env then has two seats.

    Raises:
        UnknownGameError, RomNotFoundError, UnknownStateError, IntegrationError,
        EmulatorError, ConfigError: see their docs; each message says what to do.
    """
    if spec.players > 1 and not spec.opponent and make_opponent is None:
        raise ConfigError(f"{spec.game}: build_env makes one agent's env; for players={spec.players} use make_parallel "
                          "(an agent per seat) or opponent= (seat 1 played for you)")
    placement = spec.action_set == PLACEMENT
    frame_skip = 1 if placement else spec.frame_skip
    action_set = placement_frame_set(spec) if placement else spec.action_set
    env: gym.Env = EmulatorEnv(
        spec.game, state=spec.state, scenario=spec.scenario, obs_type=spec.obs_type, action_set=action_set,
        frame_skip=frame_skip, max_pool=spec.max_pool, noop_max=spec.noop_max, render_mode=spec.render_mode,
        backend=spec.backend, game_path=spec.game_path, screens=spec.screens, touch=spec.touch, emulator=emulator,
        info=spec.info, save=spec.save, players=2 if spec.opponent or make_opponent is not None else spec.players,
    )
    try:
        metrics = env.scenario.load_metrics() if env.players == 1 else None  # a racing scenario's per-episode metrics
        if spec.opponent or make_opponent is not None:
            opponent = make_opponent(env, 1 - spec.seat) if make_opponent is not None else _opponent(env, spec)
            env = OpponentSeat(env, opponent, seat=spec.seat)
        if placement:
            env = PlacementActions(env, seat=spec.seat)
        if spec.placement_features:
            env = PlacementFeaturesObservation(env, seat=spec.seat)
        if spec.max_episode_steps:
            env = gym.wrappers.TimeLimit(env, spec.max_episode_steps)
        if metrics is not None:
            env = RecordEpisodeMetrics(env, metrics)
        if spec.episode_statistics:
            env = gym.wrappers.RecordEpisodeStatistics(env)
        if spec.terminal_on_life_loss:
            env = LifeLossTermination(env)
        if spec.pixel_pipeline:
            env = atari_pipeline(env, screen_size=spec.screen_size, frame_stack=spec.frame_stack,
                                 clip_reward=spec.clip_reward is not False, crop=tuple(spec.crop) if spec.crop else None)
        elif spec.clip_reward:
            env = gym.wrappers.ClipReward(env, -1.0, 1.0)
        if spec.start_states:
            env = StartStateCurriculum(env, spec.start_states)  # seeded by the vec env's reset(seed=seed + rank)
    except BaseException:
        env.close()
        raise
    return env


def placement_frame_set(spec: EnvSpec) -> str | list | None:
    """The frame-level action set placement actions press (the integration's ``"placement"``
    names it; none: the default set)."""
    declared = load_integration(spec.game, spec.game_path).metadata.get("placement")
    if not declared:
        raise ConfigError(f"{spec.game}: action_set='{PLACEMENT}' needs placement actions, which its integration does "
                          "not declare (\"placement\" in metadata.json)")
    return declared.get("action_set") if isinstance(declared, dict) else None


def _opponent(env: gym.Env, spec: EnvSpec):
    return opponent_for(env, spec.opponent, 1 - spec.seat, spec.action_set == PLACEMENT)


def make(game: str | EnvSpec, pipeline_kwargs: dict | None = None, emulator: Emulator | None = None, **settings) -> gym.Env:
    """Make the env of a game: ``build_env(EnvSpec(game, **settings))``.

    Args:
        game: integration name (``"Breakout-Atari2600"``; ``emurl/`` and ``-v0`` optional),
            or an :class:`EnvSpec` (``settings`` then change it).
        pipeline_kwargs: the atari pipeline's ``screen_size``, ``frame_stack``,
            ``clip_reward`` and ``crop`` as a dict (the same as passing them directly).
        emulator: an already-open emulator (see :func:`build_env`).
        **settings: any :class:`EnvSpec` field: ``state``, ``scenario``, ``obs_type``,
            ``action_set`` (also a list of button combos), ``frame_skip`` (4), ``max_pool``,
            ``noop_max``, ``max_episode_steps``, ``pipeline`` (None or ``"atari"``),
            ``episode_statistics``, ``terminal_on_life_loss``, ``clip_reward``,
            ``backend``, ``screens``, ``touch``, ``render_mode``, ``game_path``, ...

    Raises:
        ConfigError: an unknown setting or a value out of range; and what :func:`build_env` raises.

    >>> import emurl
    >>> env = emurl.make("Airstriker-Genesis", pipeline="atari")
    >>> env.observation_space
    Box(0, 255, (4, 84, 84), uint8)
    >>> env.close()
    """
    settings.update(pipeline_kwargs or {})
    unknown = set(settings) - {f.name for f in fields(EnvSpec)}
    if unknown:
        raise ConfigError(f"unknown env setting(s) {', '.join(sorted(unknown))}{_suggest(sorted(unknown)[0], EnvSpec)}")
    spec = game.replace(**settings) if isinstance(game, EnvSpec) else EnvSpec(game, **settings)
    return build_env(spec, emulator=emulator)


def make_parallel(game: str | EnvSpec, emulator: Emulator | None = None, **settings) -> VersusEnv:
    """Both seats of a two-player game, as a PettingZoo ``ParallelEnv`` (``player_0``,
    ``player_1``; :class:`~emurl.envs.versus.VersusEnv`). ``settings`` are
    :class:`EnvSpec` fields; ``max_episode_steps`` truncates both. The pixel pipeline, start
    states, reward clipping and life-loss endings are one-agent wrappers: not here yet.

    Raises:
        ConfigError: the game has one player, or a one-agent wrapper was asked for.
    """
    spec = game.replace(**settings) if isinstance(game, EnvSpec) else EnvSpec(game, **settings)
    spec = spec.replace(players=2)
    one_agent = [k for k in ("start_states", "terminal_on_life_loss", "clip_reward", "opponent", "touch")
                 if getattr(spec, k)] + (["pipeline"] if spec.pixel_pipeline else [])
    if one_agent:
        raise ConfigError(f"{spec.game}: make_parallel takes no {', '.join(one_agent)} (one-agent settings)")
    env = EmulatorEnv(
        spec.game, state=spec.state, scenario=spec.scenario, obs_type=spec.obs_type, action_set=spec.action_set,
        frame_skip=spec.frame_skip, max_pool=spec.max_pool, noop_max=spec.noop_max, render_mode=spec.render_mode,
        backend=spec.backend, game_path=spec.game_path, screens=spec.screens, emulator=emulator, players=2,
        info=spec.info, save=spec.save,
    )
    return VersusEnv(env, max_episode_steps=spec.max_episode_steps)


def make_aec(game: str | EnvSpec, emulator: Emulator | None = None, **settings) -> PlacementTurns:
    """Both seats of a two-player game with placement actions, each agent deciding when its
    own piece needs it: a PettingZoo ``AECEnv`` (:class:`~emurl.envs.turns.PlacementTurns`).
    ``settings`` are :class:`EnvSpec` fields (``state``, ``scenario``, ``max_episode_steps``:
    decisions in all, ...); observations are each seat's ``features``, actions placements.

    Raises:
        ConfigError: the game declares no placement actions; what :func:`build_env` raises.
    """
    spec = game.replace(**settings) if isinstance(game, EnvSpec) else EnvSpec(game, **settings)
    env = EmulatorEnv(
        spec.game, state=spec.state, scenario=spec.scenario, obs_type="features", action_set=placement_frame_set(spec),
        frame_skip=1, max_pool=False, noop_max=spec.noop_max, render_mode=spec.render_mode, backend=spec.backend,
        game_path=spec.game_path, emulator=emulator, players=2, info=spec.info, save=spec.save,
    )
    try:
        return PlacementTurns(env, spec.max_episode_steps)
    except BaseException:
        env.close()
        raise


def check_spec(spec: EnvSpec) -> None:
    """Check, without opening an emulator, what an env of ``spec`` needs: the integration,
    its ROM, the start state(s) on the backend that will run them, and the scenario; so
    that a mistake is reported here rather than from a worker process.

    Raises:
        UnknownGameError, RomNotFoundError, UnknownStateError, IntegrationError.
    """
    integ = load_integration(spec.game, spec.game_path, spec.info)
    integ.require_rom()
    backend = resolve_backend(integ.system, spec.backend)
    if spec.state:
        integ.load_state_bytes(None if spec.state == "default" else spec.state, backend)
    for name in spec.start_states or ():
        integ.load_state_bytes(name, backend)
    integ.scenario(spec.scenario)
