"""Training configs: typed dataclasses, loadable from YAML, overridable on the command line.

Precedence, lowest first: the dataclass defaults, the game's preset
(``src/emurl/configs/<Game>-<System>.yaml`` if one exists), ``--config FILE``,
command-line flags. A run folder's ``config.yaml`` holds the env's settings under
``env:``; older run folders, whose ``config.yaml`` is flat, load the same way.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import inspect
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from emurl.envs.settings import ENV_KEYS, coerce, env_values, load_yaml, preset_path, spec_from_dict
from emurl.envs.spec import EnvSpec
from emurl.errors import ConfigError
from emurl.fileio import atomic_write

ALGOS = ("ppo", "dqn", "maskable_ppo")



def train_env_defaults() -> EnvSpec:
    """The env settings a training run starts from (before the game's preset): 30 random
    no-ops at reset, episodes cut at 4500 agent steps, the atari pipeline on pixels,
    clipped rewards, raw returns recorded for the logs."""
    return EnvSpec(noop_max=30, max_episode_steps=4500, pipeline="auto", clip_reward=True, episode_statistics=True)


@dataclass
class TrainConfig:
    """Everything one training run needs; frozen into ``config.yaml`` in its run folder.

    ``env`` holds the env settings (:class:`~emurl.envs.EnvSpec`); the rest are the
    learner's and the run's. In YAML and on the command line both kinds are flat keys
    (``frame_skip: 8``, ``--set frame_skip=8``) or the env's under ``env:``.
    """

    env: EnvSpec = field(default_factory=train_env_defaults)
    """the env: game, state, observations, actions, frame skip, pipeline, ..."""
    algo: str = "ppo"
    """ppo or dqn (Stable-Baselines3), or maskable_ppo (sb3-contrib: PPO that only picks actions the env's action_masks() allow, e.g. placement actions)"""
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

    @property
    def game(self) -> str:
        """The env's game (canonical name)."""
        return self.env.game

    def run_name(self, t: float) -> str:
        """``<game>__<algo>__<seed>__<unix time>`` (CleanRL's run name)."""
        return f"{self.env.game}__{self.algo}__{self.seed}__{int(t)}"

    def eval_env(self) -> EnvSpec:
        """The env that evaluations run on: :meth:`EnvSpec.for_evaluation` with ``eval_max_steps``."""
        return self.env.for_evaluation(self.eval_max_steps)

    def to_dict(self) -> dict:
        """Plain data for ``config.yaml``: the env's settings under ``env``, then the rest."""
        return dataclasses.asdict(self)


def _docs(cls) -> dict[str, str]:
    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body
    docs = {}
    for a, b in zip(body, body[1:]):
        if isinstance(a, ast.AnnAssign) and isinstance(b, ast.Expr) and isinstance(getattr(b, "value", None), ast.Constant):
            docs[a.target.id] = str(b.value.value)
    return docs


@dataclass(frozen=True)
class Setting:
    """One flat setting of a training config: an env setting (``env=True``) or the run's."""

    name: str
    default: Any
    doc: str
    env: bool


def settings() -> list[Setting]:
    """Every flat setting, the env's first, with its training default and its docstring
    (the command line's flags and ``--help`` are made from these)."""
    env_docs, run_docs = _docs(EnvSpec), _docs(TrainConfig)
    env_defaults, cfg = train_env_defaults(), TrainConfig()
    out = [Setting(f.name, getattr(env_defaults, f.name), env_docs.get(f.name, ""), True) for f in fields(EnvSpec)]
    out += [Setting(f.name, getattr(cfg, f.name), run_docs.get(f.name, ""), False) for f in fields(TrainConfig) if f.name != "env"]
    return out


def field_docs() -> dict[str, str]:
    """Setting name → its docstring (env and run settings)."""
    return {s.name: s.doc for s in settings()}


def apply(cfg: TrainConfig, values: dict, where: str) -> TrainConfig:
    """A copy of ``cfg`` with ``values`` set: flat keys (env settings or the run's), or the
    env's under ``"env"``. Unknown keys and bad values raise ConfigError naming ``where``."""
    run_fields = {f.name for f in fields(TrainConfig)} - {"env"}
    run_values: dict = {}
    for k, v in values.items():  # the env's keys (flat or under env:) are env_values'
        key = k.replace("-", "_")
        if key == "env" or key in ENV_KEYS:
            continue
        if key not in run_fields:
            close = difflib.get_close_matches(key, sorted(run_fields | ENV_KEYS), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ConfigError(f"{where}: unknown setting {k!r}{hint}")
        run_values[key] = coerce(TrainConfig, key, v, where)
    env = spec_from_dict(env_values(values, where), where, base=cfg.env)
    out = dataclasses.replace(cfg, env=env, **run_values)
    if out.algo not in ALGOS:
        raise ConfigError(f"{where}: algo must be one of {', '.join(ALGOS)}, got {out.algo!r}")
    if out.lr_schedule not in ("constant", "linear"):
        raise ConfigError(f"{where}: lr_schedule must be constant or linear, got {out.lr_schedule!r}")
    return out


def build_config(game: str | None = None, config_file: str | None = None, overrides: dict | None = None) -> TrainConfig:
    """Defaults ← the game's preset ← ``config_file`` ← ``overrides``."""
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    file_values = load_yaml(config_file) if config_file else {}
    game = game or overrides.get("game") or file_values.get("game") or (file_values.get("env") or {}).get("game") \
        or EnvSpec.game
    cfg = apply(TrainConfig(), {"game": game}, "command line")
    preset = preset_path(game)
    if preset:
        cfg = apply(cfg, load_yaml(preset), str(preset))
    if file_values:
        cfg = apply(cfg, file_values, str(config_file))
    cfg = apply(cfg, overrides, "command line")
    return cfg


def write_yaml_atomic(path: Path, data: dict) -> None:
    """Write ``data`` as YAML to ``path`` atomically (:func:`emurl.fileio.atomic_write`)."""
    atomic_write(path, yaml.safe_dump(data, sort_keys=False).encode())
