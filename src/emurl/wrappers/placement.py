"""Placement actions on a frame-level env: one agent step places one capsule; and the greedy
placement opponent.

Both use what the integration declares in ``metadata.json``'s ``"placement"``
(:meth:`emurl.games.Integration.placement`: a class beside the data, e.g. MiniDoc-Nes's
:class:`emurl.games.drmario.player.Placements`, and the RAM variables it reads beyond
``data.json``): which placements the falling piece can still reach, the frames of buttons
that reach one, which piece is falling. They press those frames one by one on an env at
frame skip 1 whose actions are button combos (``env.unwrapped.combos``, e.g. MiniDoc's
``"frame"`` set), check after each frame that the piece is where the plan says, and plan
again from where it is if not (a frame the game did not read).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from emurl.games.variables import VariableReader

MAX_FRAMES = 20_000
"""Frames one placement may take before the step gives up waiting for the next piece (a
game that stopped dropping pieces without ending the episode)."""


class _SeatReader:
    """The values a placement class reads: the step's info plus the declared extra RAM
    variables (and all of ``data.json``'s where info lacks them: a table scenario's env)."""

    def __init__(self, env: gym.Env, what: str):
        u = env.unwrapped
        integ = getattr(u, "integration", None)
        found = integ.placement() if integ is not None else None
        if found is None:
            name = getattr(u, "game", type(u).__name__)
            raise ValueError(f"{name}: {what} needs the integration's placement actions (\"placement\" in its "
                             "metadata.json); it declares none")
        if getattr(u, "frame_skip", 1) != 1:
            raise ValueError(f"{u.game}: {what} presses a plan frame by frame: the env needs frame_skip=1, "
                             f"got {u.frame_skip}")
        combos = getattr(u, "combos", None)
        if not combos:
            raise ValueError(f"{u.game}: {what} needs a discrete set of button combos (e.g. action_set='frame')")
        self.unwrapped = u
        self.placements, extra = found
        self.extra = VariableReader(extra)
        self.everything = VariableReader(list(integ.variables.values()))
        self.names = set(integ.variables)
        self.actions = {frozenset(c): i for i, c in enumerate(combos)}
        self._last: tuple = (None, None)  # (the step info last read for, its values)

    def action(self, buttons) -> int:
        """The action pressing exactly ``buttons`` (names)."""
        try:
            return self.actions[frozenset(buttons)]
        except KeyError:
            raise ValueError(f"{self.unwrapped.game}: no action of the set presses {sorted(buttons)}") from None

    def __call__(self, info: dict) -> dict:
        if info is self._last[0]:  # asked again for the same step (a turn-based env checks, then plays)
            return self._last[1]
        emu = self.unwrapped.emulator
        # a Python scenario's info holds every variable already; a table scenario's only its own
        values = dict(info) if self.names <= info.keys() else {**info, **self.everything(emu)}
        values.update(self.extra(emu))
        self._last = (info, values)
        return values


class _Course:
    """The frames to one placement, followed one per frame and checked against the trace."""

    def __init__(self, placements, values: dict, seat: int, target: int | None = None, found=None):
        found = placements.search(values, seat, target) if found is None else found
        self.piece = placements.piece(values, seat)
        if target is None or not found.mask[target]:
            falling = placements.falling(values, seat)  # forbidden, or lost: drop it where it is
            target = next((i for i, land in found.landings.items()
                           if (land.column, land.rotation) == (falling.x, falling.rotation)), None)
            if target is None:
                target = min(found.landings, key=lambda i: len(found.landings[i].frames))
        self.target = target
        self.landing = found.landings[target]
        self.start = placements.position(values, seat)
        self.i = 0
        self.lag_frames = 0

    def on_course(self, placements, values: dict, seat: int) -> bool:
        """Whether the piece is where the plan says after the frames pressed so far. A frame in
        which the game ran no logic (a lag frame: the piece exactly where it was a frame
        before) is pressed again rather than planned anew."""
        trace = self.landing.trace
        if not 0 < self.i <= len(trace):
            return True
        position = placements.position(values, seat)
        if position == trace[self.i - 1]:
            return True
        if position == (trace[self.i - 2] if self.i >= 2 else self.start):
            self.i -= 1
            self.lag_frames += 1
            return True
        return False

    def next(self) -> tuple[str, ...]:
        frames = self.landing.frames
        self.i += 1
        return frames[self.i - 1] if self.i <= len(frames) else ("DOWN",)


class PlacementActions(gym.Wrapper):
    """One agent step = one piece placed: the action is a placement (Dr. Mario: anchor column
    × rotation, 32), the planner presses the frames that take the falling capsule there and
    drop it, then nothing until the next capsule is under control (or the episode ends).

    Args:
        env: a one-agent env at frame skip 1 whose actions are button combos (e.g.
            ``emurl.make("MiniDoc-Nes", action_set="frame", frame_skip=1, opponent="random")``),
            on a game whose integration declares ``"placement"``.
        seat: whose piece (0: player 1).

    ``action_space`` is ``Discrete(n placements)``; rewards are summed over the frames of a
    step. :meth:`action_masks` (what sb3-contrib's ``MaskablePPO`` calls) and
    ``info["action_mask"]`` say which placements the piece can reach now (all True while
    no piece is under control, e.g. after the episode ended); a forbidden action drops the
    piece where it is. ``info["frames"]`` is the frames the step took,
    ``info["placement"]`` the placement carried out and ``info["landing"]``
    ``[seat, column, rotation, y]`` where its plan locks the piece (``y`` its anchor row
    from the bottom: what the viewer's ``placement`` overlay outlines).

    Raises:
        ValueError: the integration declares no placement actions, or the env is not at
        frame skip 1 with button-combo actions.
    """

    def __init__(self, env: gym.Env, seat: int = 0):
        super().__init__(env)
        self._seat_reader = _SeatReader(env, "PlacementActions")
        # observed once per piece, not on each frame of its path (the frames' observations are dropped)
        self._seat_reader.unwrapped.observe_steps = False
        self.placements = self._seat_reader.placements
        self.seat = seat
        self.action_space = gym.spaces.Discrete(self.placements.n)
        self._noop = self._seat_reader.action(())
        self._values: dict = {}
        self._found = None
        self._mask = np.ones(self.placements.n, bool)
        self.replans = 0
        """How often a piece was found off its plan and planned again (frames the game skipped)."""

    def action_masks(self) -> np.ndarray:
        """bool (n placements,): the placements the falling piece can reach now."""
        return self._mask.copy()

    def get_state(self) -> bytes:
        """A savestate of the emulator now (between two placements)."""
        return self.env.unwrapped.get_state()

    def set_state(self, state: bytes) -> np.ndarray:
        """Restore a savestate of :meth:`get_state` and decide again from it (the action mask,
        which is returned, and the paths to the placements)."""
        u = self.env.unwrapped
        u.set_state(state)
        values = self._seat_reader({})
        self._decide(values, {}, False)
        return self.action_masks()

    def _decide(self, values: dict, info: dict, ended: bool) -> dict:
        self._values = values
        self._found = None if ended else self.placements.search(values, self.seat)
        self._mask = self._found.mask.copy() if self._found is not None and self._found.mask.any() \
            else np.ones(self.placements.n, bool)
        info["action_mask"] = self._mask.copy()
        return info

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        values = self._seat_reader(info)
        ended = False
        for _ in range(MAX_FRAMES):  # to the first piece under control
            if self.placements.falling(values, self.seat) is not None:
                break
            _, _, terminated, truncated, info = self.env.step(self._noop)
            values = self._seat_reader(info)
            if terminated or truncated:
                ended = True
                break
        return self._observation(), self._decide(values, info, ended)

    def _observation(self):
        return self.env.get_wrapper_attr("observation")()

    def step(self, action: Any):
        values, seat, placements = self._values, self.seat, self.placements
        course = None
        if placements.falling(values, seat) is not None:
            course = _Course(placements, values, seat, int(action), self._found)
        landing = course.landing if course is not None else None  # the plan's (kept when the lock ends the course)
        total, frames = 0.0, 0
        terminated = truncated = False
        info: dict = {}
        piece = placements.piece(values, seat)
        while frames < MAX_FRAMES:
            act = self._seat_reader.action(course.next()) if course is not None else self._noop
            _, reward, terminated, truncated, info = self.env.step(act)
            total += float(reward)
            frames += 1
            if terminated or truncated:
                break
            values = self._seat_reader(info)
            if placements.piece(values, seat) != piece:
                course = None  # locked: wait for the next piece under control
                if placements.falling(values, seat) is not None:
                    break
            elif course is None and placements.falling(values, seat) is not None:
                break  # a piece appeared (there was none under control when the step began)
            elif course is not None and not course.on_course(placements, values, seat):
                # off the plan (a frame the game did not read): plan again from here
                self.replans += 1
                course = _Course(placements, values, seat, course.target) \
                    if placements.falling(values, seat) is not None else None
                landing = course.landing if course is not None else landing
        info["frames"] = frames
        if course is not None or placements.piece(values, seat) != piece:
            info["placement"] = int(action)
            if landing is not None:
                info["landing"] = [seat, landing.column, landing.rotation, landing.y]
        return self._observation(), total, terminated, truncated, self._decide(values, info, terminated or truncated)


class PlacementOpponent:
    """A placement player as an :class:`~emurl.wrappers.opponent.OpponentSeat` opponent: a
    callable ``(observation, info) -> frame action`` for ``seat``. For each new piece it
    asks ``choose`` for a placement and presses the frames to it.

    Args:
        env: the two-seat env (frame skip 1, button-combo actions) whose seat it plays.
        seat: 1 (player 2) by default.
        choose: ``(observation, mask, values) -> placement index`` (``observation`` is the
            seat's own, as ``OpponentSeat`` passes it; ``mask`` the bool (n placements,)
            of reachable ones; ``values`` the step's variables), e.g. a trained policy's
            decision. None: the integration's ``greedy`` (Dr. Mario's
            :mod:`emurl.games.drmario.greedy`). A forbidden or None choice drops the piece
            where it is.

    Raises:
        ValueError: as :class:`PlacementActions`.
    """

    needs_observation = False
    """It observes for itself, at each decision (for an env that does not observe every frame)."""

    def __init__(self, env: gym.Env, seat: int = 1, choose=None):
        self._reader = _SeatReader(env, "the placement opponent")
        self.placements = self._reader.placements
        self.seat = seat
        self.choose = choose
        self._noop = self._reader.action(())
        self._course: _Course | None = None

    def needs_placement(self, info: dict):
        """The placements this seat's piece can reach (a
        :class:`~emurl.games.drmario.placement.Search`) when it needs a decision now: a new
        piece under control with no plan yet; else None. With :meth:`place`, a caller can
        decide for this player (a turn-based env asks its agents)."""
        values = self._reader(info)
        placements, seat = self.placements, self.seat
        if placements.falling(values, seat) is None:
            return None
        if self._course is not None and self._course.piece == placements.piece(values, seat):
            return None
        return placements.search(values, seat)

    def place(self, info: dict, target: int | None, found=None) -> None:
        """Plan the frames to placement ``target`` for the piece now (a forbidden or None
        target drops it where it is); ``found``: this piece's search, if done already."""
        self._course = _Course(self.placements, self._reader(info), self.seat, target, found)

    def __call__(self, observation, info: dict) -> int:
        values = self._reader(info)
        placements, seat = self.placements, self.seat
        if placements.falling(values, seat) is None:
            self._course = None
            return self._noop
        course = self._course
        if course is None or course.piece != placements.piece(values, seat):
            found = placements.search(values, seat)
            if self.choose is None:
                target = placements.greedy(values, seat, found)
            else:
                if observation is None:  # the env does not observe every frame: observe now
                    observation = self._reader.unwrapped.observation()
                    if isinstance(observation, tuple):  # one per seat
                        observation = observation[seat]
                target = int(self.choose(observation, found.mask.copy(), values))
            course = _Course(placements, values, seat, target, found)
        elif not course.on_course(placements, values, seat):
            course = _Course(placements, values, seat, course.target)
        self._course = course
        return self._reader.action(course.next())


class GreedyOpponent(PlacementOpponent):
    """The greedy placement player (:class:`PlacementOpponent` choosing with the
    integration's ``greedy``: for each new piece the best-scored reachable placement)."""

    def __init__(self, env: gym.Env, seat: int = 1):
        super().__init__(env, seat)


__all__ = ["GreedyOpponent", "MAX_FRAMES", "PlacementActions", "PlacementOpponent"]
