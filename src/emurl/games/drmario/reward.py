"""The versus scenario of Dr. Mario (and MiniDoc): reward per seat, episodes that end with the round.

The integrations' scenario files name ``"python": "drmario.py:Match"`` (dense) or
``"drmario.py:SparseMatch"``; ``drmario.py`` beside them only re-exports these classes.
Options come from the scenario file's ``"match"`` object (:class:`MatchOptions`); its
``"player"`` (1 or 2) says whose reward this is. The env calls the scenario once per
agent step with the variables at the end of the step (:mod:`emurl.games.scenario`), so
every term below is per agent step, whatever the frame skip.

Reward of seat p per agent step (the founding plan's; every coefficient an option):

    + virus_reward (100)   × viruses p cleared this step (drop of its BCD count, 0x0324 / 0x03A4)
    + half_reward (5)      × capsule halves p cleared (cells newly 0xB_ "cleared" that were no virus)
    + combo_reward (20)    × combo length, once a combo reaches combo_min (2) lines
    - height_penalty (0.5) × mean column height of p's bottle (0-16 cells, every step)
    + step_reward (0.1)    for a step that does not end in p's top-out
    + win_reward (1000) at a win, - loss_penalty (500) at a loss, - topout_penalty (1000) at p's top-out

A *combo* counts the lines (runs of 4+ cleared cells, :func:`~emurl.games.drmario.board.count_lines`)
cleared since p's current capsule appeared: the placement's own match and the chain
reactions after it, as the game's own combo counter (0x030F) does. A combo of L ≥ 2 lines
pays ``combo_reward × L`` in all: ``combo_reward × 2`` when it reaches 2, then
``combo_reward`` per further line. A new capsule is recognised by its y going up (a capsule
appears at y = 15 and only falls) or its colours changing; the playfield-based counts
miss a clear whose flashing lasted less than a step (keep frame skip ≤ 4).

How an episode ends (terminated; truncation is the env's ``max_episode_steps``), decided
in this order from the step's variables (the disassembly's ``checkVirusLeft``,
``anyPlayerLoses``, ``playerLoses_endScreen``):

1. ``"draw"``: both seats' virus counts reached 0 in the same step (two players);
2. ``"win"``: p's virus count reached 0, or the winner byte (0x0055: 1 or 2, set a second
   after a stage clear) turned to p;
3. ``"loss"``: the opponent's count reached 0, or the winner byte turned to the opponent;
4. mode (0x0046) turned to ``game_over_mode`` (7, the end screen after a top-out): in a
   one-player game p topped out (``"topout"``); with two, the game has just added a
   victory (0x031E / 0x039E) to each seat that did not top out, so p's own count going up
   alone is a ``"win"`` (the opponent topped out), the opponent's alone p's ``"topout"``,
   neither both seats' (``"topout"``, each penalised).

A count "reached 0" only after it was above 0 in the episode (a state saved before the
viruses were placed does not end at once); the winner byte, mode and victories count
only as changes from their values at reset. A top-out is p's way of losing: it gets
``topout_penalty``, not ``loss_penalty`` too. Each step's info gains ``viruses_cleared``,
``halves_cleared``, ``combo``, ``mean_height``, ``holes``, ``win`` (bool) and ``end``
(``"win"``, ``"loss"``, ``"topout"``, ``"draw"`` or ``""``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from operator import itemgetter
from typing import Any, ClassVar, Mapping

import numpy as np

from emurl.errors import IntegrationError
from emurl.games.scenario import option_values
from emurl.games.drmario.board import VIRUS_CELL, board, classify, column_heights, count_lines, holes, newly_cleared
from emurl.games.drmario.observation import other, side_names

GLOBAL = ("mode", "winner", "players")
PER_SEAT = ("viruses", "capsule_left", "capsule_right", "capsule_y", "victories", "playfield")
NEEDED = GLOBAL + tuple(f"{k}_p{p}" for p in (1, 2) for k in PER_SEAT)
"""The variables :class:`Match` reads (all in ``data.json``'s ``"info"``)."""


@dataclass(frozen=True)
class MatchOptions:
    """The scenario file's ``"match"`` object; every key optional.

    Attributes:
        player: whose reward: 1 or 2.
        virus_reward: per virus the player cleared.
        half_reward: per capsule half the player cleared.
        combo_reward: per line of a combo, once it has ``combo_min`` lines.
        combo_min: lines a combo needs before it pays (2: the game's attack threshold).
        height_penalty: times the mean column height (cells), every step.
        step_reward: per step that does not end in the player's top-out.
        win_reward, loss_penalty, topout_penalty: at the episode's end (positive numbers;
            the penalties are subtracted).
        game_over_mode: the mode byte's value after a top-out (7 in Dr. Mario:
            ``mode_playerLoses_endScreen``).
    """

    player: int = 1
    virus_reward: float = 100.0
    half_reward: float = 5.0
    combo_reward: float = 20.0
    combo_min: int = 2
    height_penalty: float = 0.5
    step_reward: float = 0.1
    win_reward: float = 1000.0
    loss_penalty: float = 500.0
    topout_penalty: float = 1000.0
    game_over_mode: int = 7

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None, where: str = "match", base: "MatchOptions | None" = None) -> "MatchOptions":
        """Options from a scenario file's ``"match"`` object, over ``base`` (default: the dense defaults).

        Raises:
            IntegrationError: an unknown key or a value of the wrong kind; the message
                names ``where``, the key and what was expected.
        """
        raw = option_values(cls, raw, where)
        for key, value in raw.items():
            w = f"{where}.{key}"
            if key == "player":
                if value not in (1, 2) or isinstance(value, bool):
                    raise IntegrationError(f"{w}: expected 1 or 2 (whose reward), got {value!r}")
            elif key in ("combo_min", "game_over_mode"):
                if not isinstance(value, int) or isinstance(value, bool) or value < (1 if key == "combo_min" else 0):
                    raise IntegrationError(f"{w}: expected an integer{' >= 1' if key == 'combo_min' else ' >= 0'}, got {value!r}")
            elif not isinstance(value, (int, float)) or isinstance(value, bool):
                raise IntegrationError(f"{w}: expected a number, got {value!r}")
        return replace(base or cls(), **raw)


SPARSE = MatchOptions(virus_reward=0.01, half_reward=0.0, combo_reward=0.0, height_penalty=0.0, step_reward=0.0,
                      win_reward=1.0, loss_penalty=1.0, topout_penalty=1.0)
""":class:`SparseMatch`'s defaults: +1 win, -1 loss or top-out, +0.01 per virus cleared."""


@dataclass
class _Episode:
    tiles: np.ndarray | None = None
    tiles_key: bytes = b""
    viruses: int = 0
    peak: int = 0
    opp_peak: int = 0
    capsule: tuple = ()
    base: dict = field(default_factory=dict)
    combo: int = 0
    viruses_cleared: int = 0
    halves_cleared: int = 0
    mean_height: float = 0.0
    holes: int = 0
    end: str = ""
    reward: float = 0.0
    values: Any = field(default=None, repr=False)


class Match:
    """The versus scenario (see the module docstring for reward and end of episode).

    Args:
        options: :class:`MatchOptions` (default: the dense reward for player 1).

    Each method takes the step's variables, a dict name → value holding at least
    :data:`NEEDED` (the playfields as uint8 (16, 8) or 128 bytes). :meth:`reward`
    advances the episode by one step (the env calls reward, terminated, info in that
    order); the other two reuse its work for the same dict.
    """

    defaults: ClassVar[MatchOptions] = MatchOptions()

    def __init__(self, options: MatchOptions | None = None):
        self.options = o = options or self.defaults
        self._names = n = side_names(o.player)
        self._opp = side_names(other(o.player))
        # looked up once: _update runs every agent step for every seat
        self._step_values = itemgetter(n["playfield"], n["viruses"], n["capsule_y"], n["capsule_left"],
                                       n["capsule_right"], "players", self._opp["viruses"], "winner", "mode")
        self._me, self._them = o.player, other(o.player)
        self._end_reward = {"": 0.0, "draw": 0.0, "win": o.win_reward, "loss": -o.loss_penalty,
                            "topout": -o.topout_penalty}
        self._ep = _Episode()

    @classmethod
    def from_scenario(cls, scenario) -> "Match":
        """Build from a loaded :class:`~emurl.games.scenario.Scenario` (its ``"match"`` object)."""
        raw = getattr(scenario, "raw", {}) or {}
        where = f"{getattr(scenario, 'path', 'scenario')}: match"
        return cls(MatchOptions.from_dict(raw.get("match"), where, cls.defaults))

    # -- the scenario protocol ------------------------------------------------------------
    def reset(self, variables: Mapping[str, Any]) -> None:
        """Start an episode from the variables read right after the start state loads."""
        n, o = self._names, self._opp
        viruses = int(variables[n["viruses"]])
        tiles = board(variables[n["playfield"]]).copy()
        self._ep = _Episode(
            tiles=tiles,
            tiles_key=tiles.tobytes(),
            mean_height=float(column_heights(tiles).mean()),
            holes=int(holes(tiles).sum()),
            viruses=viruses,
            peak=viruses,
            opp_peak=int(variables[o["viruses"]]),
            capsule=self._capsule(variables),
            base={k: int(variables[k]) for k in ("mode", "winner", n["victories"], o["victories"])},
        )

    def reward(self, variables: Mapping[str, Any]) -> float:
        """This step's reward (float); call once per step."""
        self._update(variables, force=True)
        return self._ep.reward

    def terminated(self, variables: Mapping[str, Any]) -> bool:
        """True at a win, a loss, a draw or a top-out (see the module docstring)."""
        self._update(variables)
        return self._ep.end != ""

    def info(self, variables: Mapping[str, Any]) -> dict:
        """What the step's info gains (see the module docstring)."""
        self._update(variables)
        ep = self._ep
        return {
            "viruses_cleared": ep.viruses_cleared,
            "halves_cleared": ep.halves_cleared,
            "combo": ep.combo,
            "mean_height": ep.mean_height,
            "holes": ep.holes,
            "win": ep.end == "win",
            "end": ep.end,
        }

    # -- one step ---------------------------------------------------------------------------
    def _capsule(self, v: Mapping[str, Any]) -> tuple[int, int, int]:
        n = self._names
        return int(v[n["capsule_y"]]), int(v[n["capsule_left"]]), int(v[n["capsule_right"]])

    def _update(self, v: Mapping[str, Any], force: bool = False) -> None:
        ep, o = self._ep, self.options
        if ep.values is v and not force:
            return
        if ep.tiles is None:
            self.reset(v)
            ep = self._ep
        ep.values = v
        block, viruses, y, left, right, players, opp_viruses, winner, mode = self._step_values(v)
        tiles = board(block)
        key = tiles.tobytes()
        viruses = int(viruses)
        ep.viruses_cleared = max(0, ep.viruses - viruses)
        combo_before = ep.combo
        ep.halves_cleared = 0
        if key != ep.tiles_key:  # most steps the board is unchanged (the falling capsule is sprites): keep its stats
            new = newly_cleared(ep.tiles, tiles)
            if new.any():
                ep.halves_cleared = int((new & (classify(ep.tiles) != VIRUS_CELL)).sum())
                ep.combo += count_lines(new)
            ep.mean_height = float(column_heights(tiles).mean())
            ep.holes = int(holes(tiles).sum())
            ep.tiles, ep.tiles_key = tiles.copy(), key
        ep.end = end = self._end(v, viruses, int(players) == 2, int(opp_viruses), int(winner), int(mode))

        combo_min = o.combo_min  # a combo pays once it has combo_min lines
        paid = ep.combo if ep.combo >= combo_min else 0
        paid_before = combo_before if combo_before >= combo_min else 0
        r = (o.virus_reward * ep.viruses_cleared + o.half_reward * ep.halves_cleared
             + o.combo_reward * (paid - paid_before) - o.height_penalty * ep.mean_height)
        if end != "topout":
            r += o.step_reward
        r += self._end_reward[end]
        ep.reward = float(r)

        capsule = (int(y), int(left), int(right))  # as _capsule
        if capsule[0] > ep.capsule[0] or capsule[1:] != ep.capsule[1:]:  # a new capsule: a new combo
            ep.combo = 0
        ep.capsule = capsule
        ep.viruses = viruses
        if viruses > ep.peak:
            ep.peak = viruses

    def _end(self, v: Mapping[str, Any], viruses: int, two: bool, opp_viruses: int, winner: int, mode: int) -> str:
        """How the episode ends at this step ("" while it goes on): the module docstring's
        order, from the step's variables ``v`` and the values already read from it."""
        ep, n, o = self._ep, self._names, self._opp
        me, them = self._me, self._them
        if opp_viruses > ep.opp_peak:
            ep.opp_peak = opp_viruses
        own_clear = viruses == 0 and ep.peak > 0  # the count was above 0 in the episode
        opp_clear = two and opp_viruses == 0 and ep.opp_peak > 0
        winner = winner if winner != ep.base["winner"] else 0
        if own_clear and opp_clear:
            return "draw"
        if own_clear or winner == me:
            return "win"
        if opp_clear or (two and winner == them):
            return "loss"
        if mode == self.options.game_over_mode and ep.base["mode"] != mode:
            if not two:
                return "topout"
            own_up = int(v[n["victories"]]) > ep.base[n["victories"]]
            opp_up = int(v[o["victories"]]) > ep.base[o["victories"]]
            return "win" if own_up and not opp_up else "topout"
        return ""


class SparseMatch(Match):
    """:class:`Match` with sparse defaults (:data:`SPARSE`): +1 win, -1 loss or top-out,
    +0.01 per virus cleared; the scenario's ``"match"`` object overrides them as for Match."""

    defaults: ClassVar[MatchOptions] = SPARSE


__all__ = ["NEEDED", "SPARSE", "Match", "MatchOptions", "SparseMatch"]
