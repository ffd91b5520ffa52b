"""Training runs: PPO / DQN from Stable-Baselines3 on emurl envs, in a run folder.

A run folder ``runs/<game>__<algo>__<seed>__<time>/`` holds:

- ``config.yaml``: the frozen :class:`~emurl.train.config.TrainConfig` (a run resumes
  and evaluates from its folder alone);
- ``checkpoints/model_<steps>.zip`` and ``checkpoints/latest.zip``, written atomically
  (temporary file + ``os.replace``): a crash never leaves a half-written checkpoint;
- ``tb/``: TensorBoard event files (``rollout/ep_rew_mean`` is the raw game score,
  recorded before reward clipping; ``eval/mean_return``);
- ``videos/eval_<steps>.mp4``: the first episode of each evaluation;
- ``evaluations.jsonl``: one line per periodic evaluation.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np

from emurl.train.config import TrainConfig, load_yaml, apply, write_yaml_atomic


def make_env(cfg: TrainConfig, evaluation: bool = False):
    """The env a run trains (or evaluates) on, built only from ``cfg``.

    Training: EmulatorEnv → TimeLimit → episode statistics (raw score) → life-loss
    termination (optional) → pixel pipeline with reward clipping → a start state drawn
    per episode from ``start_states`` (if set). Evaluation: the same observations, but
    whole games from ``state``, unclipped rewards and ``eval_max_steps``.
    """
    import emurl

    pixels = cfg.obs_type == "rgb"
    env = emurl.make(
        cfg.game,
        state=cfg.state,
        scenario=cfg.scenario,
        obs_type=cfg.obs_type,
        action_set=cfg.action_set,
        frame_skip=cfg.frame_skip,
        noop_max=cfg.noop_max,
        max_episode_steps=cfg.eval_max_steps if evaluation else cfg.max_episode_steps,
        game_path=cfg.game_path,
        episode_statistics=True,
        terminal_on_life_loss=cfg.terminal_on_life_loss and not evaluation,
        pipeline="atari" if pixels else None,
        max_pool=cfg.max_pool,
        **({"backend": cfg.backend} if cfg.backend else {}),
        **({"screens": cfg.screens} if cfg.screens else {}),
        pipeline_kwargs=dict(
            screen_size=cfg.screen_size,
            frame_stack=cfg.frame_stack,
            clip_reward=cfg.clip_reward and not evaluation,
            crop=tuple(cfg.crop) if cfg.crop else None,
        )
        if pixels
        else None,
        clip_reward=cfg.clip_reward and not evaluation and not pixels,
    )
    if cfg.start_states and not evaluation:
        from emurl.wrappers.curriculum import StartStateCurriculum

        env = StartStateCurriculum(env, cfg.start_states)  # seeded by the vec env's reset(seed=seed + rank)
    return env


class _EnvFactory:
    """A picklable env constructor for worker processes."""

    def __init__(self, cfg: TrainConfig):
        self.cfg = cfg

    def __call__(self):
        return make_env(self.cfg)


def preflight(cfg: TrainConfig) -> None:
    """Check game, ROM, state and scenario here, so that a mistake is reported as itself
    rather than as a worker process's failure."""
    from emurl.games import load_integration

    from emurl.emulators import resolve_backend

    integ = load_integration(cfg.game, cfg.game_path)
    integ.require_rom()
    backend = resolve_backend(integ.system, cfg.backend)
    if cfg.state:
        integ.load_state_bytes(None if cfg.state == "default" else cfg.state, backend)
    for name in cfg.start_states or ():
        integ.load_state_bytes(name, backend)
    integ.scenario(cfg.scenario)


def make_vec(cfg: TrainConfig):
    from emurl.vector import SharedMemoryVecEnv

    venv = SharedMemoryVecEnv([_EnvFactory(cfg) for _ in range(cfg.num_envs)])
    venv.seed(cfg.seed)
    return venv


def _schedule(cfg: TrainConfig):
    if cfg.lr_schedule == "linear":
        lr = cfg.learning_rate
        return lambda progress_remaining: lr * progress_remaining
    return cfg.learning_rate


def build_model(cfg: TrainConfig, env, tb_dir: str):
    from stable_baselines3 import DQN, PPO

    from emurl.train.policies import policy_kwargs

    policy = "CnnPolicy" if cfg.obs_type == "rgb" else "MlpPolicy"
    common = dict(
        policy_kwargs=policy_kwargs(cfg.precision, cfg.obs_type),
        learning_rate=_schedule(cfg),
        gamma=cfg.gamma,
        seed=cfg.seed,
        verbose=0,
        tensorboard_log=tb_dir,
        device=cfg.device,
    )
    if cfg.algo == "ppo":
        return PPO(
            policy,
            env,
            n_steps=cfg.n_steps,
            batch_size=cfg.batch_size,
            n_epochs=cfg.n_epochs,
            gae_lambda=cfg.gae_lambda,
            clip_range=cfg.clip_range,
            ent_coef=cfg.ent_coef,
            vf_coef=cfg.vf_coef,
            max_grad_norm=cfg.max_grad_norm,
            **common,
        )
    return DQN(
        policy,
        env,
        buffer_size=cfg.buffer_size,
        learning_starts=cfg.learning_starts,
        batch_size=cfg.batch_size if cfg.batch_size <= 256 else 32,
        train_freq=cfg.train_freq,
        target_update_interval=cfg.target_update_interval,
        exploration_fraction=cfg.exploration_fraction,
        exploration_final_eps=cfg.exploration_final_eps,
        max_grad_norm=cfg.max_grad_norm if cfg.max_grad_norm else 10,
        optimize_memory_usage=False,
        **common,
    )


def load_model(cfg: TrainConfig, path: str, env=None):
    from stable_baselines3 import DQN, PPO

    cls = PPO if cfg.algo == "ppo" else DQN
    return cls.load(path, env=env, device=cfg.device)


def save_atomic(model, path: Path) -> None:
    """``model.save`` to a temporary file in the same folder, then ``os.replace``."""
    tmp = path.with_name(path.name + ".tmp")
    model.save(str(tmp))
    written = tmp if tmp.exists() else tmp.with_name(tmp.name + ".zip")
    os.replace(written, path)


def latest_checkpoint(run_dir: Path) -> Path | None:
    p = Path(run_dir) / "checkpoints" / "latest.zip"
    return p if p.is_file() else None


def run_episodes(model, env, episodes: int, deterministic: bool, video_path: Path | None = None, progress=None) -> dict:
    """Play ``episodes`` whole episodes; returns returns, lengths and their mean/std.

    With ``video_path``, the first episode's full screens are written there as an mp4
    (atomically); the frame rate is the game's divided by the frame skip, so it plays at
    the game's speed.

    When the scenario puts a boolean ``"success"`` in the step info (MiniKart: the race
    was finished), the result also holds ``successes`` (the last step's value per
    episode) and ``success_rate``.
    """
    import imageio.v2 as imageio

    returns, lengths, successes = [], [], []
    writer = None
    tmp_video = None
    if video_path is not None:
        video_path.parent.mkdir(parents=True, exist_ok=True)
        tmp_video = video_path.with_name(video_path.stem + ".tmp.mp4")
        base = env.unwrapped
        fps = max(1.0, float(base.metadata.get("render_fps", 60)) / getattr(base, "frame_skip", 1))
        writer = imageio.get_writer(str(tmp_video), fps=fps, macro_block_size=1, codec="libx264", quality=7)
    try:
        for ep in range(episodes):
            obs, info = env.reset()
            state = None
            done = False
            ret, length = 0.0, 0
            episode_start = np.ones((1,), dtype=bool)
            while not done:
                if writer is not None and ep == 0:
                    writer.append_data(env.render())
                action, state = model.predict(obs, state=state, episode_start=episode_start, deterministic=deterministic)
                episode_start = np.zeros((1,), dtype=bool)
                obs, reward, terminated, truncated, info = env.step(int(action) if np.ndim(action) == 0 else action)
                ret += float(reward)
                length += 1
                done = terminated or truncated
            if writer is not None and ep == 0:
                writer.append_data(env.render())
                writer.close()
                writer = None
                os.replace(tmp_video, video_path)
            returns.append(ret)
            lengths.append(length)
            if "success" in info:
                successes.append(bool(info["success"]))
            if progress:
                progress(ep, ret, length)
    finally:
        if writer is not None:
            writer.close()
        if tmp_video is not None and tmp_video.exists():
            tmp_video.unlink()
    out = {
        "episodes": episodes,
        "mean_return": float(np.mean(returns)),
        "std_return": float(np.std(returns)),
        "mean_length": float(np.mean(lengths)),
        "std_length": float(np.std(lengths)),
        "returns": returns,
        "lengths": lengths,
    }
    if len(successes) == episodes:
        out["successes"] = successes
        out["success_rate"] = float(np.mean(successes))
    return out


class _StopOnSignal:
    """While training, SIGINT (Ctrl-C) and SIGTERM ask the run to stop at the next agent
    step: the callback then ends ``learn``, and ``latest.zip`` is saved (atomically) so
    that ``--resume`` continues from there. A second signal stops at once (Ctrl-C raises
    KeyboardInterrupt as usual). Outside the main thread (no signal handlers there) it
    does nothing."""

    def __init__(self):
        self.signal_name: str | None = None
        self.saved: dict = {}

    @property
    def requested(self) -> bool:
        return self.signal_name is not None

    def __enter__(self):
        if threading.current_thread() is not threading.main_thread():
            return self
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.saved[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:  # second signal: stop now
            self.__exit__()
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            os.kill(os.getpid(), signum)
            return
        self.signal_name = signal.Signals(signum).name
        print(f"\n{self.signal_name}: stopping after this step and saving a checkpoint "
              "(send it again to stop at once)", file=sys.stderr, flush=True)

    def __exit__(self, *exc):
        for sig, handler in self.saved.items():
            signal.signal(sig, handler)
        self.saved = {}


def _callbacks(cfg: TrainConfig, run_dir: Path, stop: _StopOnSignal | None = None):
    from stable_baselines3.common.callbacks import BaseCallback

    class RunCallback(BaseCallback):
        """Atomic checkpoints every ``checkpoint_every`` steps and evaluations with video."""

        def __init__(self):
            super().__init__()
            self.next_ckpt = None
            self.next_eval = None
            self.eval_env = None
            self.last_eval = None
            self.t0 = time.time()
            self.steps0 = 0

        def _on_training_start(self):
            n = self.model.num_timesteps
            self.steps0 = n
            self.next_ckpt = (n // cfg.checkpoint_every + 1) * cfg.checkpoint_every if cfg.checkpoint_every else None
            self.next_eval = (n // cfg.eval_every + 1) * cfg.eval_every if cfg.eval_every else None

        def checkpoint(self):
            ckpt_dir = run_dir / "checkpoints"
            ckpt_dir.mkdir(exist_ok=True)
            n = self.model.num_timesteps
            save_atomic(self.model, ckpt_dir / f"model_{n}.zip")
            save_atomic(self.model, ckpt_dir / "latest.zip")

        def evaluate(self):
            if self.eval_env is None:
                self.eval_env = make_env(cfg, evaluation=True)
            n = self.model.num_timesteps
            video = run_dir / "videos" / f"eval_{n}.mp4" if cfg.video else None
            self.last_eval = n
            res = run_episodes(self.model, self.eval_env, cfg.eval_episodes, cfg.eval_deterministic, video)
            self.logger.record("eval/mean_return", res["mean_return"])
            self.logger.record("eval/mean_length", res["mean_length"])
            if "success_rate" in res:
                self.logger.record("eval/success_rate", res["success_rate"])
            line = {"steps": n, "time": time.time(), **res}
            with open(run_dir / "evaluations.jsonl", "a") as f:
                f.write(json.dumps(line) + "\n")

        def _on_step(self) -> bool:
            if stop is not None and stop.requested:
                return False  # learn() ends; _on_training_end saves latest.zip
            n = self.model.num_timesteps
            if self.next_ckpt is not None and n >= self.next_ckpt:
                self.checkpoint()
                self.next_ckpt += cfg.checkpoint_every
            if self.next_eval is not None and n >= self.next_eval:
                self.evaluate()
                self.next_eval += cfg.eval_every
            return True

        def _on_rollout_end(self):
            dt = time.time() - self.t0
            if dt > 0:
                self.logger.record("time/agent_steps_per_s", (self.model.num_timesteps - self.steps0) / dt)

        def _on_training_end(self):
            self.checkpoint()
            try:
                if self.last_eval != self.model.num_timesteps and not (stop is not None and stop.requested):
                    self.evaluate()
            finally:
                if self.eval_env is not None:
                    self.eval_env.close()
                    self.eval_env = None

    return RunCallback()


def train(cfg: TrainConfig | None = None, resume: str | os.PathLike | None = None, overrides: dict | None = None,
          init_from: str | None = None, progress_bar: bool = True) -> Path:
    """Train, or resume the run in ``resume``; returns the run folder.

    Args:
        cfg: the config of a new run (ignored when resuming).
        resume: a run folder; its ``config.yaml`` and ``checkpoints/latest.zip`` are loaded
            and training continues to ``total_steps`` (which ``overrides`` may raise).
        overrides: settings changed on resume (e.g. ``{"total_steps": 2_000_000}``).
        init_from: a checkpoint whose policy weights start a new run.

    Raises:
        ConfigError: a bad config; FileNotFoundError: a run folder without a checkpoint.
    """
    import torch

    if resume:
        run_dir = Path(resume)
        cfg_file = run_dir / "config.yaml"
        if not cfg_file.is_file():
            raise FileNotFoundError(f"{run_dir}: not a run folder (no config.yaml)")
        cfg = apply(TrainConfig(), load_yaml(cfg_file), str(cfg_file))
        if overrides:
            cfg = apply(cfg, overrides, "command line")
        ckpt = latest_checkpoint(run_dir)
        if ckpt is None:
            raise FileNotFoundError(f"{run_dir}: no checkpoints/latest.zip to resume from")
    else:
        assert cfg is not None
        preflight(cfg)
        run_dir = Path(cfg.runs_dir) / cfg.run_name(time.time())
        run_dir.mkdir(parents=True, exist_ok=False)
        ckpt = None
    write_yaml_atomic(run_dir / "config.yaml", cfg.to_dict())
    torch.set_num_threads(cfg.torch_threads or os.cpu_count() or 1)

    venv = make_vec(cfg)
    try:
        tb_dir = str(run_dir / "tb")
        if ckpt is not None:
            model = load_model(cfg, str(ckpt), env=venv)
            model.tensorboard_log = tb_dir
        else:
            model = build_model(cfg, venv, tb_dir)
            if init_from:
                src = load_model(cfg, init_from)
                model.policy.load_state_dict(src.policy.state_dict())
        remaining = cfg.total_steps - model.num_timesteps
        if remaining > 0:
            with _StopOnSignal() as stop:
                model.learn(
                    total_timesteps=remaining,
                    callback=_callbacks(cfg, run_dir, stop),
                    tb_log_name="run",
                    reset_num_timesteps=ckpt is None,
                    progress_bar=progress_bar,
                )
            if stop.requested:
                print(f"{stop.signal_name}: stopped at {model.num_timesteps} agent steps; "
                      f"checkpoint {run_dir / 'checkpoints' / 'latest.zip'}; continue with: "
                      f"emurl train --resume {run_dir}", file=sys.stderr, flush=True)
    finally:
        venv.close()
    return run_dir


def evaluate(target: str | os.PathLike, episodes: int = 10, video: bool = False, deterministic: bool | None = None,
             progress=None, backend: str | None = None) -> dict:
    """Evaluate a run folder (its latest checkpoint) or a checkpoint file inside a run.

    ``backend`` runs the evaluation on another emulator backend than the run's (a DS
    policy trained on ``"desmume"`` evaluated on ``"melonds"``); None keeps the run's.
    Writes ``eval.json`` (and ``videos/eval_final.mp4`` with ``video``) into the run folder;
    its ``backend`` says which one ran (None: the system's default).

    Raises:
        FileNotFoundError: no checkpoint, or no ``config.yaml`` beside it.
        EmurlError: ``backend`` does not run this game's system.
    """
    target = Path(target)
    if target.is_dir():
        run_dir, ckpt = target, latest_checkpoint(target)
        if ckpt is None:
            raise FileNotFoundError(f"{target}: no checkpoints/latest.zip in this run folder")
    elif target.is_file():
        ckpt = target
        run_dir = target.parent.parent if target.parent.name == "checkpoints" else target.parent
    else:
        raise FileNotFoundError(f"{target}: no such run folder or checkpoint")
    cfg_file = run_dir / "config.yaml"
    if not cfg_file.is_file():
        raise FileNotFoundError(f"{cfg_file}: missing; emurl eval needs the run's frozen config beside its checkpoints")
    cfg = apply(TrainConfig(), load_yaml(cfg_file), str(cfg_file))
    if backend is not None:
        cfg.backend = backend
    env = make_env(cfg, evaluation=True)
    try:
        model = load_model(cfg, str(ckpt))
        det = cfg.eval_deterministic if deterministic is None else deterministic
        res = run_episodes(model, env, episodes, det, run_dir / "videos" / "eval_final.mp4" if video else None, progress)
    finally:
        env.close()
    res.update(checkpoint=str(ckpt), steps=int(model.num_timesteps), deterministic=det, backend=cfg.backend)
    from emurl.fileio import atomic_write

    atomic_write(run_dir / "eval.json", json.dumps(res, indent=2).encode())
    return res
