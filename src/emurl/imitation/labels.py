"""Labels: the action of an agent step from the buttons a movie holds on its frames.

Each step's action is the combo of the env's action set (a ``Discrete`` one:
``"discrete"``, ``"minimal"`` or a named set of the integration) nearest to the buttons
held on at least half of the step's frames: most buttons in common, ties to the combo
with fewer extra buttons, then the lower index. A frame whose buttons equal no combo is
an *unmatched frame*; a step whose frames don't all press its label's buttons is a
*mixed step*.
"""

from __future__ import annotations

import numpy as np

from emurl.imitation.datasets import DatasetError


def nearest_combos(rows: np.ndarray, table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The action whose combo is nearest to each row of held buttons.

    Args:
        rows: uint8 (F, B), 1 = held, one row per frame, columns in the emulator's button order.
        table: uint8 (A, B), the buttons each action presses.

    Returns:
        ``(actions, exact)``: int64 (F,) nearest actions (most buttons in common, ties to
        fewer extra buttons, then the lower action), and bool (F,) True where the row
        equals its action's combo.
    """
    rows = np.asarray(rows, np.int64).reshape(-1, table.shape[1])
    t = np.asarray(table, np.int64)
    shared = rows @ t.T
    extra = t.sum(1)[None, :] - shared
    best = np.argmax(shared * (t.shape[1] + 1) - extra, axis=1)
    exact = (t[best] == rows).all(1)
    return best.astype(np.int64), exact


def step_action(rows: np.ndarray, table: np.ndarray) -> tuple[int, int, bool]:
    """The label of one agent step from its frames' buttons.

    Args:
        rows: uint8 (frame_skip, B), the buttons held on each frame of the step.
        table: uint8 (A, B), the action set's combos.

    Returns:
        ``(action, unmatched_frames, mixed)``: the combo nearest to the buttons held on at
        least half of the frames; how many frames equal no combo; whether some frame
        presses other buttons than the action's.
    """
    rows = np.asarray(rows, np.uint8)
    majority = (rows.sum(0).astype(np.int64) * 2 >= len(rows)).astype(np.uint8)
    action, _ = nearest_combos(majority[None], table)
    _, exact = nearest_combos(rows, table)
    a = int(action[0])
    mixed = bool((rows != table[a][None, :]).any())
    return a, int((~exact).sum()), mixed


def action_table(env) -> np.ndarray:
    """uint8 (A, B): the buttons each action of ``env``'s ``Discrete`` action set presses
    (:attr:`emurl.envs.EmulatorEnv.action_table`), columns in the emulator's button order.

    Raises:
        DatasetError: the action set is not ``Discrete`` (datasets label steps with one
            combo: use ``"discrete"`` or a named action set).
    """
    base = env.unwrapped
    table = base.action_table
    if table is None:
        space = getattr(base, "button_space", base.action_space)
        raise DatasetError(
            f"{base.game}: action set {base.action_set!r} gives {space}; a dataset needs a Discrete one "
            f"('discrete' or a named action set: {', '.join(base.integration.action_sets) or 'none'})"
        )
    return np.asarray(table, np.uint8)


__all__ = ["action_table", "nearest_combos", "step_action"]
