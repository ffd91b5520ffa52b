"""Training configs: typed dataclasses, loadable from YAML, overridable on the command line.

Precedence, lowest first: the dataclass defaults, the game's preset
(``configs/<Game>-<System>.yaml`` if one exists), ``--config FILE``, command-line flags.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, get_type_hints

import yaml

from emurl.errors import ConfigError

PRESETS = Path(__file__).resolve().parent.parent / "configs"


@dataclass
class TrainConfig:
    """Everything one training run needs; frozen into ``config.yaml`` in its run folder."""

    game: str = "Airstriker-Genesis"
    """integration name, e.g. Breakout-Atari2600"""
    algo: str = "ppo"
    """ppo or dqn (Stable-Baselines3)"""
    state: str | None = "default"
    """start state ('default': the integration's; none: power-on); evaluation always starts here"""
    start_states: list[str] | None = None
    """training episodes start from one of these states, drawn uniformly per episode (e.g. points spread along a track); none: from state"""
    scenario: str | None = None
    """scenario name or JSON path (default: scenario.json)"""
    obs_type: str = "rgb"
    """rgb (CnnPolicy on the pixel pipeline), ram or variables (MlpPolicy)"""
    action_set: str | None = None
    """discrete, multi_discrete, minimal (Atari 2600: ALE's minimal action set), or a named action set of the integration"""
    frame_skip: int = 4
    """emulator frames per agent step"""
    max_pool: bool = True
    """observe the max of the last two frames of a step (Atari flicker)"""
    backend: str | None = None
    """emulator backend: retro; desmume (DS default) or melonds for DS games"""
    screens: str | None = None
    """DS games: top, bottom or both screens in the observation"""
    noop_max: int = 30
    """random no-op frames at reset (episode variety)"""
    max_episode_steps: int | None = 4500
    """truncate episodes after this many agent steps (None: never)"""
    terminal_on_life_loss: bool = False
    """end training episodes when the 'lives' variable drops (the game goes on)"""
    screen_size: int = 84
    """side of the square gray observation"""
    frame_stack: int = 4
    """observations stacked"""
    clip_reward: bool = True
    """clip training rewards to [-1, 1]"""
    crop: list[int] | None = None
    """[x, y, width, height] screen region kept before resizing"""

    total_steps: int = 100_000
    """agent steps to train for (all envs together)"""
    num_envs: int = 4
    """envs, one process each"""
    seed: int = 0
    """random seed of envs and learner"""
    learning_rate: float = 2.5e-4
    """Adam step size"""
    lr_schedule: str = "linear"
    """constant or linear (decays to 0 at total_steps)"""
    gamma: float = 0.99
    """discount factor"""
    # PPO
    n_steps: int = 128
    """PPO: steps per env per rollout"""
    batch_size: int = 256
    """minibatch size"""
    n_epochs: int = 4
    """PPO: passes over each rollout"""
    gae_lambda: float = 0.95
    """PPO: GAE lambda"""
    clip_range: float = 0.1
    """PPO: policy clip range"""
    ent_coef: float = 0.01
    """PPO: entropy bonus weight"""
    vf_coef: float = 0.5
    """PPO: value loss weight"""
    max_grad_norm: float = 0.5
    """gradient norm clip"""
    # DQN
    buffer_size: int = 100_000
    """DQN: replay buffer size (transitions)"""
    learning_starts: int = 10_000
    """DQN: steps before learning starts"""
    train_freq: int = 4
    """DQN: env steps between gradient steps"""
    target_update_interval: int = 1000
    """DQN: steps between target network updates"""
    exploration_fraction: float = 0.1
    """DQN: fraction of training over which epsilon decays"""
    exploration_final_eps: float = 0.01
    """DQN: final epsilon"""

    checkpoint_every: int = 50_000
    """agent steps between checkpoints"""
    eval_every: int = 50_000
    """agent steps between evaluations (0: only at the end)"""
    eval_episodes: int = 1
    """episodes per periodic evaluation (the first is filmed)"""
    eval_max_steps: int = 4500
    """step cap of an evaluation episode"""
    eval_deterministic: bool = False
    """evaluate with the most likely action instead of sampling"""
    video: bool = True
    """write an mp4 of the first evaluation episode"""
    runs_dir: str = "runs"
    """where run folders are made"""
    torch_threads: int = 0
    """learner threads (0: all cores)"""
    device: str = "auto"
    """torch device"""
    precision: str = "auto"
    """fp32, or bf16 for the CNN trunk (auto: bf16 where the CPU has it)"""
    game_path: str | None = None
    """extra integration folders"""

    def run_name(self, t: float) -> str:
        return f"{self.game}__{self.algo}__{self.seed}__{int(t)}"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def field_docs() -> dict[str, str]:
    """Field name → the docstring under it in :class:`TrainConfig` (for ``--help``)."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(TrainConfig))
    body = tree.body[0].body
    docs = {}
    for a, b in zip(body, body[1:]):
        if isinstance(a, ast.AnnAssign) and isinstance(b, ast.Expr) and isinstance(getattr(b, "value", None), ast.Constant):
            docs[a.target.id] = str(b.value.value)
    return docs


def _coerce(name: str, value: Any, where: str) -> Any:
    hints = get_type_hints(TrainConfig)
    t = hints[name]
    text = str(t)
    if value is None or (isinstance(value, str) and value.lower() in ("none", "null") and "None" in text):
        if "None" in text:
            return None
        raise ConfigError(f"{where}: {name} cannot be empty (expected {text})")
    try:
        if t is bool or text == "bool":
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("1", "true", "yes", "on"):
                return True
            if str(value).lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if "list[" in text:  # list[str] or list[int]; from the command line "a,b" or "[a, b]"
            items = value
            if isinstance(value, str):
                items = [v.strip() for v in value.replace("[", "").replace("]", "").split(",") if v.strip()]
            if not isinstance(items, (list, tuple)):
                raise ValueError
            return [int(v) for v in items] if "list[int]" in text else [str(v) for v in items]
        if t is int or text.startswith("int"):
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(float(value)) if isinstance(value, str) and ("e" in value.lower() or "." in value) else int(value)
        if t is float:
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {name} = {value!r} is not a valid {text}") from None


def apply(cfg: TrainConfig, values: dict, where: str) -> TrainConfig:
    """A copy of ``cfg`` with ``values`` set; unknown keys and bad values raise ConfigError naming ``where``."""
    known = {f.name for f in fields(TrainConfig)}
    out = dataclasses.replace(cfg)
    for k, v in values.items():
        key = k.replace("-", "_")
        if key not in known:
            import difflib

            close = difflib.get_close_matches(key, known, n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ConfigError(f"{where}: unknown setting {k!r}{hint}")
        setattr(out, key, _coerce(key, v, where))
    if out.algo not in ("ppo", "dqn"):
        raise ConfigError(f"{where}: algo must be 'ppo' or 'dqn', got {out.algo!r}")
    if out.obs_type not in ("rgb", "ram", "variables"):
        raise ConfigError(f"{where}: obs_type must be rgb, ram or variables, got {out.obs_type!r}")
    if out.backend not in (None, "retro", "desmume", "melonds"):
        raise ConfigError(f"{where}: backend must be retro, desmume or melonds, got {out.backend!r}")
    if out.screens not in (None, "top", "bottom", "both"):
        raise ConfigError(f"{where}: screens must be top, bottom or both, got {out.screens!r}")
    return out


def load_yaml(path: str | os.PathLike) -> dict:
    """Read a YAML mapping; errors name the file."""
    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level, got {type(data).__name__}")
    return data


def preset_path(game: str) -> Path | None:
    from emurl.games.integration import canonical_name

    p = PRESETS / f"{canonical_name(game)}.yaml"
    return p if p.is_file() else None


def build_config(game: str | None = None, config_file: str | None = None, overrides: dict | None = None) -> TrainConfig:
    """Defaults ← the game's preset ← ``config_file`` ← ``overrides``."""
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    file_values = load_yaml(config_file) if config_file else {}
    game = game or overrides.get("game") or file_values.get("game") or TrainConfig.game
    cfg = TrainConfig(game=game)
    preset = preset_path(game)
    if preset:
        cfg = apply(cfg, load_yaml(preset), str(preset))
    if file_values:
        cfg = apply(cfg, file_values, str(config_file))
    cfg = apply(cfg, overrides, "command line")
    return cfg


def write_yaml_atomic(path: Path, data: dict) -> None:
    """Write ``data`` as YAML to ``path`` through a temporary file and ``os.replace``."""
    from emurl.fileio import atomic_write

    atomic_write(path, yaml.safe_dump(data, sort_keys=False).encode())
