"""Gymnasium environments: :class:`EmulatorEnv`, registered as ``emurl/<Game>-v0``."""

from __future__ import annotations

import gymnasium as gym

from emurl.envs.emulator_env import EmulatorEnv

_registered = False


def register_all() -> None:
    """Register ``emurl/<Game>-v0`` for every integration found (cheap: reads folder names)."""
    global _registered
    if _registered:
        return
    from emurl.games.integration import integration_folders

    for name in integration_folders():
        env_id = f"emurl/{name}-v0"
        if env_id not in gym.registry:
            gym.register(env_id, entry_point="emurl.envs.emulator_env:EmulatorEnv", kwargs={"game": name})
    _registered = True


def make(
    game: str,
    state: str | None = "default",
    scenario: str | None = None,
    obs_type: str = "rgb",
    action_set: str | list | None = None,
    frame_skip: int = 4,
    max_episode_steps: int | None = None,
    pipeline: str | None = None,
    pipeline_kwargs: dict | None = None,
    episode_statistics: bool = False,
    terminal_on_life_loss: bool = False,
    clip_reward: bool = False,
    **kwargs,
) -> gym.Env:
    """Make the env of a game, optionally wrapped in a preprocessing pipeline.

    Args:
        game: integration name (``"Breakout-Atari2600"``; ``emurl/`` and ``-v0`` optional).
        state, scenario, obs_type, action_set, frame_skip: see :class:`EmulatorEnv`
            (here ``frame_skip`` defaults to 4, with the max of the last two frames).
        max_episode_steps: episodes are truncated after this many agent steps
            (Gymnasium's ``TimeLimit``); None for no limit.
        pipeline: None, or ``"atari"`` for :func:`emurl.wrappers.atari_pipeline`
            (84×84 gray, 4-frame stack, reward clip).
        pipeline_kwargs: arguments of the pipeline (``screen_size``, ``frame_stack``,
            ``clip_reward``, ``crop``).
        episode_statistics: add ``info["episode"]`` (``r``: raw return, ``l``: length,
            ``t``: seconds) at each episode's end, before any reward clipping
            (Gymnasium's ``RecordEpisodeStatistics``; Stable-Baselines3 logs it).
        terminal_on_life_loss: :class:`emurl.wrappers.LifeLossTermination` (needs a
            ``lives`` variable in the info).
        clip_reward: clip rewards to [-1, 1] without a pixel pipeline.
        **kwargs: more :class:`EmulatorEnv` arguments (``noop_max``, ``backend``,
            ``game_path``, ``render_mode``, ``max_pool``).

    >>> env = emurl.make("Airstriker-Genesis", pipeline="atari")   # doctest: +SKIP
    >>> env.observation_space
    Box(0, 255, (4, 84, 84), uint8)
    """
    from emurl.games.integration import canonical_name

    env = EmulatorEnv(
        canonical_name(game), state=state, scenario=scenario, obs_type=obs_type,
        action_set=action_set, frame_skip=frame_skip, **kwargs,
    )
    if max_episode_steps:
        env = gym.wrappers.TimeLimit(env, max_episode_steps)
    if episode_statistics:
        env = gym.wrappers.RecordEpisodeStatistics(env)
    if terminal_on_life_loss:
        from emurl.wrappers.life_loss import LifeLossTermination

        env = LifeLossTermination(env)
    if clip_reward:
        env = gym.wrappers.ClipReward(env, -1.0, 1.0)
    if pipeline == "atari":
        from emurl.wrappers import atari_pipeline

        env = atari_pipeline(env, **(pipeline_kwargs or {}))
    elif pipeline is not None:
        env.close()
        raise ValueError(f"pipeline must be None or 'atari', got {pipeline!r}")
    return env


__all__ = ["EmulatorEnv", "make", "register_all"]
