"""Action sets: how an action of an env's action space becomes the buttons pressed.

The kinds are stable-retro's (``Actions.DISCRETE``, ``MULTI_DISCRETE``, ``FILTERED``,
``ALL``), in its order, plus named action sets of an integration, lists of button combos,
and ALE's minimal action set for Atari 2600 games.
"""

from __future__ import annotations

from typing import Sequence

import gymnasium as gym
import numpy as np

from emurl.errors import IntegrationError
from emurl.games.ale_actions import minimal_action_set
from emurl.games.integration import Integration
from emurl.games.scenario import Scenario

ACTION_KINDS = ("discrete", "multi_discrete", "filtered", "all")


def _combo_mask(buttons: Sequence[str], combo: Sequence[str], where: str) -> int:
    mask = 0
    for b in combo:
        if b not in buttons:
            raise IntegrationError(f"{where}: unknown button {b!r} (buttons: {', '.join(buttons)})")
        mask |= 1 << buttons.index(b)
    return mask


def _bits(mask: int, n: int) -> np.ndarray:
    return np.array([(mask >> i) & 1 for i in range(n)], dtype=np.uint8)


class ActionMap:
    """The action space of an env and the buttons each action presses.

    Args:
        integration, scenario: the game's (the scenario's ``actions`` groups and
            ``action_set``; the integration's named ``action_sets``).
        buttons: the emulator's button names, in mask bit order.
        default_groups: the core's button groups for discrete actions (None: each button alone).
        action_set: see :class:`~emurl.envs.EmulatorEnv`.

    Attributes:
        space: the ``gymnasium`` action space.
        action_set: the kind or set name (``"custom"`` for a list of combos).
        combos: for ``Discrete`` spaces, the button names of each action; else None.
        table: for ``Discrete`` spaces, uint8 (n_actions, len(buttons)); else None.

    Raises:
        IntegrationError: an unknown action set or button, naming the file and key.
    """

    def __init__(self, integration: Integration, scenario: Scenario, buttons: Sequence[str],
                 default_groups: list | None, action_set: str | list | None):
        integ, scen, n = integration, scenario, len(buttons)
        self.buttons = list(buttons)
        self.combos: list[list[str]] | None = None
        where = f"{integ.name} action set"
        if action_set is None:
            action_set = scen.action_set or "discrete"
        combos = None
        if isinstance(action_set, (list, tuple)):
            combos = [list(c) for c in action_set]
            where = "action_set"
        elif action_set in integ.action_sets:
            combos = integ.action_sets[action_set]
            where = f"{integ.folder / 'data.json'}: action_sets.{action_set}"
        elif action_set == "minimal":
            if integ.system != "Atari2600":
                raise IntegrationError(
                    f"{integ.name}: the 'minimal' action set is ALE's, for Atari2600 games only; "
                    f"choose from {', '.join(list(ACTION_KINDS) + list(integ.action_sets))}"
                )
            combos = [list(c) for c in minimal_action_set(integ.require_rom(), integ.name)]
            where = "ALE minimal action set"
        elif action_set not in ACTION_KINDS:
            raise IntegrationError(
                f"{integ.name}: unknown action set {action_set!r} (choose from "
                f"{', '.join(list(ACTION_KINDS) + list(integ.action_sets))})"
            )
        self.action_set = action_set if isinstance(action_set, str) else "custom"  # "minimal" → the table below
        groups = scen.actions or default_groups or [[[]] + [[b] for b in self.buttons]]
        # Ordered as stable-retro's GameData.valid_actions(), a map<int, set<int>>: groups by
        # the union of their masks, combos by mask, the first group of a union kept. So
        # action a of "discrete" presses the same buttons as in RetroEnv's Actions.DISCRETE.
        by_union: dict[int, list[int]] = {}
        for g in groups:
            masks = [_combo_mask(self.buttons, c, f"{scen.path}: actions") for c in g]
            union = 0
            for m in masks:
                union |= m
            by_union.setdefault(union, sorted(set(masks)))
        self._groups = [by_union[u] for u in sorted(by_union)]
        if combos is not None:
            masks = [_combo_mask(self.buttons, c, where) for c in combos]
            self.table = np.stack([_bits(m, n) for m in masks])
            self.space = gym.spaces.Discrete(len(masks))
            self.combos = [list(c) for c in combos]
        elif action_set == "discrete":
            masks = []
            total = int(np.prod([len(g) for g in self._groups]))
            for a in range(total):
                mask = 0
                for g in self._groups:
                    mask |= g[a % len(g)]
                    a //= len(g)
                masks.append(mask)
            self.table = np.stack([_bits(m, n) for m in masks])
            self.space = gym.spaces.Discrete(total)
            self.combos = [[b for i, b in enumerate(self.buttons) if m >> i & 1] for m in masks]
        elif action_set == "multi_discrete":
            self.table = None
            self.space = gym.spaces.MultiDiscrete([len(g) for g in self._groups])
        else:
            self.table = None
            self.space = gym.spaces.MultiBinary(n)

    def buttons_for(self, action) -> np.ndarray:
        """The buttons ``action`` presses: uint8 (len(buttons),), 1 = down, in the
        emulator's button order; for a ``Discrete`` set a row of :attr:`table` (a view)."""
        if self.table is not None:
            return self.table[int(action)]
        if self.action_set == "multi_discrete":
            mask = 0
            for g, a in zip(self._groups, np.asarray(action).reshape(-1)):
                mask |= g[int(a)]
            return _bits(mask, len(self.buttons))
        pressed = np.asarray(action, dtype=np.uint8).reshape(-1)
        if self.action_set == "filtered":
            mask = sum(int(b) << i for i, b in enumerate(pressed))
            out = 0
            for g in self._groups:
                union = 0
                for c in g:
                    union |= c
                if (mask & union) in g:
                    out |= mask & union
            return _bits(out, len(self.buttons))
        return pressed
