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
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from emurl.envs.settings import ENV_KEYS, coerce, env_values, load_yaml, preset_path, spec_from_dict
from emurl.envs.spec import EnvSpec
from emurl.errors import ConfigError
from emurl.fileio import atomic_write
from emurl.train.settings_rules import RANGES, RESUMABLE, Range

ALGOS = ("ppo", "dqn", "maskable_ppo", "a2c", "recurrent_ppo")
"""The learners of ``--algo`` (:data:`emurl.train.model.ALGORITHMS` has their classes)."""
ON_POLICY = ("ppo", "maskable_ppo", "a2c", "recurrent_ppo")
"""The algorithms that learn from rollouts of ``n_steps`` per env (GAE, entropy bonus, value loss)."""
RECURRENT = ("recurrent_ppo",)
"""The algorithms whose policy carries an LSTM state from step to step (``lstm_*`` settings)."""
POOL_ANCHORS = ("random", "greedy")
"""Fixed opponents a self-play pool can hold besides policies (:mod:`emurl.train.selfplay.pool`)."""
POOL_SAMPLING = ("uniform", "pfsp", "pfsp_hard")
"""How a self-play pool draws the opponents other than the current policy."""
PRECISIONS = ("auto", "fp32", "bf16")
POLICIES = ("auto", "placement_scorer")
"""``policy``: ``auto`` (SB3's for the observation, :func:`emurl.train.model.policy_name`) or
``placement_scorer`` (:class:`emurl.train.placement_policy.PlacementScorerPolicy`)."""
LR_SCHEDULES = ("constant", "linear")
NATURE_CNN_MIN_SIZE = 36
"""The smallest square input of the Nature CNN (Mnih et al. 2015; Stable-Baselines3's
``CnnPolicy``): its 8×8/4, 4×4/2 and 3×3/1 convolutions leave one pixel from 36."""


_DEVICE = re.compile(r"auto|cpu|mps|(cuda|xpu)(:\d+)?")

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
    """ppo, a2c or dqn (Stable-Baselines3); maskable_ppo (sb3-contrib: PPO that only picks actions the env's action_masks() allow, e.g. placement actions) or recurrent_ppo (sb3-contrib: PPO with an LSTM policy, which remembers past observations)"""
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
    # PPO (and its maskable and recurrent kinds); A2C takes n_steps, gae_lambda, ent_coef and vf_coef
    n_steps: int = 128
    """PPO, A2C: steps per env per rollout (A2C makes one gradient step of each)"""
    batch_size: int = 256
    """minibatch size (recurrent PPO: steps, cut into whole sequences of each env's rollout)"""
    n_epochs: int = 4
    """PPO: passes over each rollout"""
    gae_lambda: float = 0.95
    """PPO, A2C: GAE lambda (1: plain n-step returns)"""
    clip_range: float = 0.1
    """PPO: policy clip range"""
    ent_coef: float = 0.01
    """PPO, A2C: entropy bonus weight"""
    vf_coef: float = 0.5
    """PPO, A2C: value loss weight"""
    # recurrent PPO (sb3-contrib's LSTM policies: the actor and the critic have an LSTM each)
    lstm_hidden_size: int = 256
    """recurrent_ppo, bc --seq-len: units of each LSTM layer"""
    lstm_layers: int = 1
    """recurrent_ppo, bc --seq-len: stacked LSTM layers"""
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
    """agent steps between checkpoints (0: only at the end)"""
    keep_checkpoints: int = 3
    """newest checkpoints/model_<steps>.zip kept (latest.zip and best.zip always are; 0: keep all)"""
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
    policy: str = "auto"
    """auto (SB3's policy for the observation) or placement_scorer (maskable_ppo with placement_features: one small MLP scores each placement from its features and the board's embedding)"""
    # self-play (emurl selfplay; emurl.train.selfplay)
    selfplay: bool = False
    """self-play: the other seat is drawn each episode from an opponent pool in the run folder (emurl selfplay sets it)"""
    self_play: float = 0.5
    """self-play: chance the opponent is the current policy (else a snapshot or an anchor)"""
    pool_size: int = 10
    """self-play: snapshots kept in the pool (the oldest are dropped)"""
    snapshot_every: int = 20_000
    """self-play: agent steps between snapshots of the policy"""
    pool_sampling: str = "pfsp"
    """self-play: how the other opponents are drawn: uniform, or pfsp (most often those beaten about half the time)"""
    pool_anchors: list[str] = field(default_factory=lambda: list(POOL_ANCHORS))
    """self-play: fixed opponents always in the pool (random, greedy)"""

    def __post_init__(self) -> None:
        """Check every setting: numbers in :data:`RANGES`, the choices, and what the
        algorithm needs of them together.

        Raises:
            ConfigError: naming the setting, the value and what is allowed.
        """
        for name, allowed in RANGES.items():
            on_env = name in ENV_KEYS
            value = getattr(self.env if on_env else self, name)
            if value is None and on_env and name == "max_episode_steps":
                continue
            if value not in allowed:
                raise ConfigError(f"{name} = {value!r}: expected {allowed}")
            if allowed.integer and not isinstance(value, int):  # 1e5 from Python: a whole number, as an int
                setattr(self.env if on_env else self, name, int(value))
            elif not allowed.integer and not isinstance(value, float):
                setattr(self.env if on_env else self, name, float(value))
        _check_choice("algo", self.algo, ALGOS)
        _check_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        _check_choice("precision", self.precision, PRECISIONS)
        _check_choice("pool_sampling", self.pool_sampling, POOL_SAMPLING)
        _check_choice("policy", self.policy, POLICIES)
        if self.policy == "placement_scorer" and (self.algo != "maskable_ppo" or not self.env.placement_features):
            raise ConfigError(f"policy placement_scorer scores the placements' features: set algo = maskable_ppo and "
                              f"placement_features = true (got {self.algo!r}, {self.env.placement_features!r})")
        if not set(self.pool_anchors) <= set(POOL_ANCHORS):
            raise ConfigError(f"pool_anchors = {self.pool_anchors!r}: expected some of {', '.join(POOL_ANCHORS)}")
        if self.selfplay and (self.env.action_set != "placement" or self.algo != "maskable_ppo"):
            raise ConfigError(f"selfplay: the pool's players choose masked placements; set action_set = placement and "
                              f"algo = maskable_ppo (got {self.env.action_set!r}, {self.algo!r})")
        if not isinstance(self.device, str) or not _DEVICE.fullmatch(self.device):
            raise ConfigError(f"device = {self.device!r}: expected auto, cpu, cuda, cuda:<index>, mps or xpu")
        if not str(self.runs_dir).strip():
            raise ConfigError("runs_dir is empty: expected a folder (e.g. runs)")
        crop = self.env.crop
        if crop is not None and (any(c not in Range(0) for c in crop) or any(c not in Range(1) for c in crop[2:])):
            raise ConfigError(f"crop = {crop!r}: expected [x, y, width, height], whole numbers, x and y >= 0, "
                              "width and height >= 1")
        if self.algo in ("ppo", "maskable_ppo", "recurrent_ppo"):  # SB3's PPO normalises advantages over a minibatch
            if self.batch_size < 2:
                raise ConfigError(f"batch_size = {self.batch_size}: {self.algo} needs a minibatch of at least 2")
            if self.n_steps * self.num_envs < 2:
                raise ConfigError(f"n_steps = {self.n_steps} with num_envs = {self.num_envs}: {self.algo} needs a "
                                  "rollout of at least 2 steps (n_steps * num_envs >= 2)")
        if self.env.pixel_pipeline and self.env.screen_size < NATURE_CNN_MIN_SIZE:
            raise ConfigError(f"screen_size = {self.env.screen_size}: the CNN policy needs at least "
                              f"{NATURE_CNN_MIN_SIZE} (its convolutions leave no pixel below that)")

    @property
    def game(self) -> str:
        """The env's game (canonical name)."""
        return self.env.game

    def run_name(self, t: float) -> str:
        """``<game>__<algo>__<seed>__<unix time>`` (CleanRL's run name); two runs started in
        the same second get ``-2``, ``-3``, ... from :func:`emurl.fileio.new_run_folder`."""
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
    allowed: str = ""
    """the values allowed, for numbers (:data:`RANGES`): "a whole number >= 1", ..."""


def settings() -> list[Setting]:
    """Every flat setting, the env's first, with its training default and its docstring
    (the command line's flags and ``--help`` are made from these)."""
    env_docs, run_docs = _docs(EnvSpec), _docs(TrainConfig)
    env_defaults, cfg = train_env_defaults(), TrainConfig()
    out = [Setting(f.name, getattr(env_defaults, f.name), env_docs.get(f.name, ""), True, str(RANGES.get(f.name, "")))
           for f in fields(EnvSpec)]
    out += [Setting(f.name, getattr(cfg, f.name), run_docs.get(f.name, ""), False, str(RANGES.get(f.name, "")))
            for f in fields(TrainConfig) if f.name != "env"]
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
    try:
        return dataclasses.replace(cfg, env=env, **run_values)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _check_choice(name: str, value, allowed: tuple) -> None:
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")


def flat_values(cfg: TrainConfig) -> dict[str, Any]:
    """Every flat setting of ``cfg`` (the env's and the run's) by name."""
    out = {f.name: getattr(cfg.env, f.name) for f in fields(EnvSpec)}
    out.update({f.name: getattr(cfg, f.name) for f in fields(TrainConfig) if f.name != "env"})
    return out


def _shown(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(value).lower() if isinstance(value, bool) else str(value)


def check_resume(run: TrainConfig, asked: TrainConfig, run_dir: str | Path) -> None:
    """Refuse a resume of the run in ``run_dir`` (frozen config ``run``) with ``asked``
    where a setting outside :data:`RESUMABLE` differs.

    Raises:
        ConfigError: naming each such setting, the run's value and the asked one, what may
            change on resume, and the command that starts a new run with the asked values.
    """
    before, after = flat_values(run), flat_values(asked)
    changed = [k for k in after if after[k] != before[k] and k not in RESUMABLE]
    if not changed:
        return
    what = "; ".join(f"{k}: the run's is {_shown(before[k])}, asked {_shown(after[k])}" for k in changed)
    sets = " ".join(f"--set {k}={_shown(after[k])}" for k in changed)
    raise ConfigError(
        f"{run_dir}: cannot resume with a different {', '.join(changed)} ({what}); the checkpoint was trained with the "
        f"run's. On resume only these may change: {', '.join(sorted(RESUMABLE))}. To train with the new value, start a "
        f"new run with this run's other settings: emurl train --config {Path(run_dir) / 'config.yaml'} {sets}")


def build_config(game: str | None = None, config_file: str | None = None, overrides: dict | None = None,
                 kind: str = "") -> TrainConfig:
    """Defaults ← the game's preset (of ``kind``: ``"selfplay"`` for ``emurl selfplay``) ←
    the game's preset for the algorithm (``<Game>-<System>.<algo>.yaml``, e.g.
    ``MiniKart-NintendoDs.a2c.yaml``, where one exists; the algorithm is ``overrides``',
    else ``config_file``'s, else the game preset's) ← ``config_file`` ← ``overrides``."""
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    file_values = load_yaml(config_file) if config_file else {}
    game = game or overrides.get("game") or file_values.get("game") or (file_values.get("env") or {}).get("game") \
        or EnvSpec.game
    cfg = apply(TrainConfig(), {"game": game}, "command line")
    preset = preset_path(game, kind)
    if preset:
        cfg = apply(cfg, load_yaml(preset), str(preset))
    algo = overrides.get("algo") or file_values.get("algo") or cfg.algo
    algo_preset = preset_path(game, ".".join(filter(None, (kind, str(algo)))))
    if algo_preset:  # the settings this algorithm needs on this game, over the preset's (tuned for its own algo)
        cfg = apply(cfg, load_yaml(algo_preset), str(algo_preset))
    if file_values:
        cfg = apply(cfg, file_values, str(config_file))
    cfg = apply(cfg, overrides, "command line")
    return cfg


def write_yaml_atomic(path: Path, data: dict) -> None:
    """Write ``data`` as YAML to ``path`` atomically (:func:`emurl.fileio.atomic_write`)."""
    atomic_write(path, yaml.safe_dump(data, sort_keys=False).encode())
