"""ALE's minimal action sets for Atari 2600 games, as stable-retro button combos.

The Arcade Learning Environment gives each Atari game a *minimal action set*: the
joystick moves that do something in that game (Breakout: NOOP, FIRE, RIGHT, LEFT, 4 of
the 18). The published Atari baselines (DQN, PPO in rl-baselines3-zoo and CleanRL) learn
on these, while stable-retro's ``Actions.DISCRETE`` offers all 18 combinations.
``action_set="minimal"`` gives an emurl env the same actions as ALE, read from ale-py
(the source of the fact) for the ROM the env runs.
"""

from __future__ import annotations

from functools import lru_cache

from emurl.errors import IntegrationError

# ALE action names are joystick directions followed by FIRE, e.g. "UPRIGHTFIRE".
# stable-retro's Atari2600 core calls the fire button "BUTTON".
_TOKENS = (("UP", "UP"), ("DOWN", "DOWN"), ("RIGHT", "RIGHT"), ("LEFT", "LEFT"), ("FIRE", "BUTTON"))

# Games whose controller stable-retro's Stella reads from other directions than ALE names.
# ALE moves Pong's paddle with RIGHT (up) and LEFT (down); stable-retro's Stella moves it
# with UP and DOWN, and LEFT/RIGHT do nothing. Found by holding each direction in each of
# the 32 games whose ROM ale-py bundles and comparing the screens with holding nothing:
# Pong was the only game where ALE's directions had no effect (Breakout's paddle does
# take LEFT/RIGHT). tests/test_env.py checks that every direction of the set moves.
RETRO_DIRECTIONS = {"Pong-Atari2600": {"RIGHT": "UP", "LEFT": "DOWN"}}


def ale_action_combo(name: str) -> list[str]:
    """stable-retro Atari2600 buttons of an ALE action name.

    >>> ale_action_combo("UPRIGHTFIRE")
    ['UP', 'RIGHT', 'BUTTON']
    >>> ale_action_combo("NOOP")
    []

    Raises:
        ValueError: ``name`` is not an ALE action.
    """
    if name == "NOOP":
        return []
    rest, combo = name, []
    while rest:
        for token, button in _TOKENS:
            if rest.startswith(token):
                combo.append(button)
                rest = rest[len(token):]
                break
        else:
            raise ValueError(f"{name!r} is not an ALE action name (expected e.g. NOOP, FIRE, UPLEFTFIRE)")
    return combo


@lru_cache(maxsize=None)
def minimal_action_set(rom_path: str, game: str | None = None) -> tuple[tuple[str, ...], ...]:
    """ALE's minimal action set of the Atari 2600 ROM at ``rom_path``, as button combos.

    ``game`` (the integration's name) applies :data:`RETRO_DIRECTIONS`, where
    stable-retro's core reads a game's controller from other directions than ALE's.

    Returns:
        One tuple of stable-retro button names per action, in ALE's order
        (Breakout: ``((), ('BUTTON',), ('RIGHT',), ('LEFT',))``; Pong, with ``game``:
        ``((), ('BUTTON',), ('UP',), ('DOWN',), ('UP', 'BUTTON'), ('DOWN', 'BUTTON'))``).

    Raises:
        IntegrationError: ale-py is not installed, or ALE does not know this ROM
            (ALE recognises games by the ROM's MD5).
    """
    try:
        from ale_py import ALEInterface, LoggerMode
    except ImportError:
        raise IntegrationError(
            f"{rom_path}: the 'minimal' action set is read from ale-py, which is not installed (pip install ale-py)"
        ) from None
    ALEInterface.setLoggerMode(LoggerMode.Error)
    ale = ALEInterface()
    try:
        ale.loadROM(rom_path)
    except RuntimeError as e:
        raise IntegrationError(
            f"{rom_path}: ALE does not know this ROM, so it has no minimal action set ({e}); "
            f"use action_set='discrete' or a list of button combos"
        ) from None
    remap = RETRO_DIRECTIONS.get(game, {})
    return tuple(tuple(remap.get(b, b) for b in ale_action_combo(a.name)) for a in ale.getMinimalActionSet())
