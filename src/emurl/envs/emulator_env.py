"""EmulatorEnv: one game integration on one emulator, as a ``gymnasium.Env``."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from emurl.emulators import Emulator, EmulatorWrapper, open_emulator
from emurl.envs.actions import ActionMap
from emurl.envs.episode_start import EpisodeStart
from emurl.envs.observation import OBS_TYPES, Observer
from emurl.envs.scenario_runner import ScenarioRunner
from emurl.envs.seats import Seats, seat_scenarios
from emurl.errors import EmulatorError
from emurl.games.integration import Integration, load_integration

SCREENS = ("top", "bottom", "both")  # Nintendo DS: which screens an rgb observation shows


class EmulatorEnv(gym.Env):
    """A game on a real emulator, with reward and episode end from the integration's scenario.

    Args:
        game: integration name, e.g. ``"Airstriker-Genesis"`` (``-v0`` optional).
        state: start state name (default: the integration's ``default_state``; None there
            means power-on).
        scenario: scenario name or path to a JSON file (default ``"scenario"``); with
            ``players > 1`` also a list, one per seat (see :mod:`emurl.envs.seats`); one name
            ``x`` means ``x`` for seat 0 and ``x_p2`` for seat 1 where the integration has it.
        obs_type: ``"rgb"``: the screen, uint8 (H, W, 3), cropped by the scenario's
            ``crop`` if any; ``"ram"``: all RAM blocks, uint8 (N,); ``"variables"``: every
            ``data.json`` variable in file order, float32 (V,).
        action_set: ``"discrete"`` (default): ``Discrete`` over every combination of the
            scenario's (else the core's) button groups, as stable-retro's
            ``Actions.DISCRETE``; ``"multi_discrete"``: one choice per group;
            ``"filtered"``: ``MultiBinary`` over buttons, filtered by the groups;
            ``"all"``: raw ``MultiBinary``; the name of an action set of the integration,
            or a list of button combos (each a list of button names): ``Discrete`` over
            those combos; ``"minimal"`` (Atari 2600): ``Discrete`` over ALE's minimal
            action set of the game, read from ale-py (Breakout: NOOP, FIRE, RIGHT, LEFT),
            the actions the published Atari baselines learn on.
        frame_skip: emulator frames per agent step (the action is held); rewards are summed
            over them and the step ends early when the episode does.
        max_pool: with ``frame_skip > 1`` and ``obs_type="rgb"``, the observation is the
            pixel-wise max of the last two frames (removes Atari sprite flicker). Only
            those two screens are read.
        noop_max: at reset, run a random number (0..noop_max, from the env's seed) of
            frames with no button pressed, so that episodes from one state differ.
        render_mode: ``"rgb_array"`` (the full screen) or None.
        backend: emulator backend: ``"retro"`` (stable-retro), or for Nintendo DS games
            ``"desmume"`` (the default there) or ``"melonds"``.
        screens: Nintendo DS only: which screens the ``"rgb"`` observation shows:
            ``"top"`` (uint8 (192, 256, 3)), ``"bottom"`` (the touch screen, same shape)
            or ``"both"`` (stacked, (384, 256, 3); desmume only, melonDS outputs one
            screen at a time). Default: the integration's ``metadata.json``
            ``"screens"``, else ``"top"``. The scenario's ``crop`` applies within them.
        touch: Nintendo DS only: add the touch screen to the action, which becomes
            ``Dict(buttons=<the action set's space>, touch=Box([0, 0, 0], [255, 191, 1], int16))``
            (x, y in bottom-screen pixels, pressed 0/1). desmume backend only.
        game_path: extra integration folders (see ``emurl.games``).
        info: a variables file instead of the integration's ``data.json``, as stable-retro's
            ``info=``: a name in the integration's folder or a JSON file's path.
        save: Nintendo DS (desmume): a cartridge save file (``.sav`` / ``.dsv``) the game
            starts with from power-on (e.g. Mario Kart DS's unlocks); savestates carry their own.
        players: seats played on this emulator, each on its controller port (at most the
            integration's :attr:`~emurl.games.Integration.players`). With 2, the action is a
            tuple (seat 0's, seat 1's), the reward seat 0's and ``info["rewards"]`` every
            seat's; the observation is the one screen (or RAM) both see.
        emulator: an emulator already open on the game's ROM (e.g. a test's in-memory
            fake); the env uses it instead of opening one (no ROM is looked up) and closes
            it with itself. Its ``system`` must be the integration's.

    Each step's ``info`` holds the variables the scenario reads (reward, done and its
    ``"info"`` list), a dict typed by :attr:`info_type`.

    Raises:
        UnknownGameError, RomNotFoundError, UnknownStateError, IntegrationError,
        EmulatorError: see their docs; each message says what to do.

    >>> env = EmulatorEnv("Airstriker-Genesis")
    >>> env.observation_space, env.action_space
    (Box(0, 255, (224, 320, 3), uint8), Discrete(126))
    >>> env.close()
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 60}

    def __init__(
        self,
        game: str,
        state: str | None = "default",
        scenario: str | None = None,
        obs_type: str = "rgb",
        action_set: str | list | None = None,
        frame_skip: int = 1,
        max_pool: bool = True,
        noop_max: int = 0,
        render_mode: str | None = "rgb_array",
        backend: str | None = None,
        game_path: str | None = None,
        screens: str | None = None,
        touch: bool = False,
        emulator: Emulator | None = None,
        players: int = 1,
        info: str | None = None,
        save: str | None = None,
    ):
        try:  # an emulator handed in is the env's to close, also when the settings are wrong
            if obs_type not in OBS_TYPES:
                raise ValueError(f"obs_type must be one of {OBS_TYPES}, got {obs_type!r}")
            if render_mode not in (None, "rgb_array"):
                raise ValueError(f"render_mode must be 'rgb_array' or None, got {render_mode!r}")
            if not isinstance(frame_skip, int) or frame_skip < 1:
                raise ValueError(f"frame_skip must be an int >= 1, got {frame_skip!r}")
            self.integration: Integration = load_integration(game, game_path, info)
            integ = self.integration
            self.game = integ.name
            if isinstance(players, bool) or not isinstance(players, int) or not 1 <= players <= integ.players:
                raise ValueError(f"{integ.name} is a {integ.players}-player game; players={players!r} is not possible")
            self.players = players
            names = seat_scenarios(integ, scenario, players)
            loaded = {n: integ.scenario(n) for n in dict.fromkeys(names)}  # seats naming one file share it
            self.scenarios = [loaded[n] for n in names]
            self.scenario = self.scenarios[0]
            self.obs_type = obs_type
            self.frame_skip = frame_skip
            self.max_pool = bool(max_pool) and frame_skip > 1 and obs_type == "rgb"
            self.noop_max = int(noop_max)
            self.render_mode = render_mode
            ds = integ.system == "NintendoDs"
            if not ds and (screens is not None or touch):
                raise ValueError(f"screens= and touch= are for Nintendo DS games; {integ.name} is a {integ.system} game")
            if screens is not None and screens not in SCREENS:
                raise ValueError(f"screens must be one of {SCREENS}, got {screens!r}")
            self.screens = (screens or integ.metadata.get("screens") or "top") if ds else None
            self.state_name = integ.default_state if state == "default" else state
            if emulator is not None and emulator.system != integ.system:
                raise ValueError(f"emulator= runs {emulator.system!r} games; {integ.name} is a {integ.system} game")
        except BaseException:
            if emulator is not None:
                emulator.close()
            raise

        if emulator is None:
            emulator = open_emulator(integ.require_rom(), integ.system, backend, save)
        self.emulator = emulator
        try:
            if players > getattr(self.emulator, "players", 1):
                raise ValueError(f"the {self.emulator.backend} backend drives {self.emulator.players} player(s) "
                                 f"on {integ.system}; players={players} is not possible")
            if touch and not getattr(self.emulator, "supports_touch", False):
                raise ValueError(f"the {self.emulator.backend} backend can't touch the screen; use backend='desmume'")
            self.touch = bool(touch)
            if ds and not getattr(self.emulator, "stacked", True):
                if self.screens == "both":
                    raise ValueError(f"the {self.emulator.backend} backend shows one screen at a time: screens='top' or 'bottom'")
                self.emulator.show(self.screens)
            self._backend = self.emulator.backend
            initial = integ.load_state_bytes(self.state_name, self._backend) if self.state_name else None
            self._setup(initial, action_set)
        except BaseException:
            self.emulator.close()
            raise

    # -- construction ------------------------------------------------------------------
    def _setup(self, initial: bytes | None, action_set) -> None:
        emu, integ, scen = self.emulator, self.integration, self.scenario
        self.buttons = list(emu.buttons)
        if initial is None:
            initial = emu.save_state()  # power-on
        self._initial_state = initial
        self._state_cache: dict[str, bytes] = {}
        try:
            emu.load_state(initial)
        except EmulatorError as exc:
            if not self.state_name:
                raise
            path = integ.states(self._backend).get(self.state_name, self.state_name)
            raise EmulatorError(f"{path}: start state {self.state_name!r}: {exc}") from None
        emu.step()

        self._seats = Seats(self, self.scenarios) if self.players > 1 else None
        self._episode_start = EpisodeStart(integ)
        run = self._scenario_runner = ScenarioRunner(emu, integ, self.scenarios, self._seats)
        self._python, self._gd, self._lua = run.python, run.game_data, run.game_data is not None
        self._needed, self._reader, self._scen_state = run.needed, run.reader, run.table
        self.info_type = run.info_type

        self._actions = ActionMap(integ, scen, self.buttons, getattr(emu, "default_actions", None), action_set)
        self.action_space = self.button_space = self._actions.space
        if self._seats is not None:  # one action per seat, each in the action set's space
            self.action_space = gym.spaces.Tuple([self.button_space] * self.players)
        self.action_set, self.combos = self._actions.action_set, self._actions.combos
        self._buttons = self._actions.buttons_for  # bound once: step calls it every agent step
        if self.touch:
            self.action_space = gym.spaces.Dict(
                buttons=self.button_space,
                touch=gym.spaces.Box(np.array([0, 0, 0], np.int16), np.array([255, 191, 1], np.int16), dtype=np.int16),
            )
        self._zero = np.zeros(len(self.buttons), np.uint8)
        self._skip_render = getattr(emu, "skip_render", None)
        # Frames whose screen nobody reads need not be drawn (DeSmuME can skip drawing):
        # frames 0.._skip_until-1 of each step are skipped. A read screen needs its frame
        # and the backend's ``render_settle`` frames before it drawn.
        self._skip_until = -1
        if self._skip_render is not None:
            last = self.frame_skip - 1
            if self.obs_type != "rgb" and self.render_mode is None:
                self._skip_until = self.frame_skip
            else:
                first_read = last - 1 if self.max_pool else last
                self._skip_until = max(0, first_read - int(getattr(emu, "render_settle", 0)))

        self._observer = Observer(self)
        self._observe = self._observer  # called for every observation
        self.observation_space = self._observer.space
        self.metadata = dict(self.metadata, render_fps=emu.frame_rate)
        self._needs_reset = True
        self._values: dict = {}
        self.observe_steps = True
        """False: step and reset return None as the observation (see :meth:`observation`)."""

    # -- actions -----------------------------------------------------------------------
    @property
    def action_table(self) -> np.ndarray | None:
        """For a ``Discrete`` action set: uint8 (n_actions, len(buttons)), row ``a`` the
        buttons action ``a`` presses (1 = down); None for the other action kinds."""
        return self._actions.table

    def buttons_for(self, action) -> np.ndarray:
        """The buttons ``action`` (of :attr:`button_space`) presses: uint8 (len(buttons),),
        1 = down, in the emulator's button order. For a ``Discrete`` set it is a row of
        :attr:`action_table` (a view: copy it before changing it)."""
        return self._actions.buttons_for(action)

    def action_meaning(self, action) -> list[str]:
        """The button names an action presses."""
        if self.touch:
            action = action["buttons"]
        pressed = self.buttons_for(action)
        return [b for b, p in zip(self.buttons, pressed) if p]

    # -- episode ------------------------------------------------------------------------
    def _read(self) -> dict:
        return self._reader(self.emulator)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Load the start state, release every button and run one frame (as stable-retro does).

        ``options={"state": NAME}`` starts this episode from another state of the game.
        """
        super().reset(seed=seed)
        emu = self.emulator
        initial = self._initial_state
        if options and options.get("state"):
            name = options["state"]
            initial = self._state_cache.get(name)
            if initial is None:  # read each named state once: a curriculum asks every episode
                initial = self._state_cache[name] = self.integration.load_state_bytes(name, self._backend)
        emu.load_state(initial)
        self._episode_start.seed(emu, self.np_random)
        emu.set_buttons(self._zero, 0)
        if self._seats is not None:
            self._seats.release()
        if self.touch:
            emu.set_touch(0, 0, False)
        emu.step()
        self._episode_start.run(emu)
        if self.noop_max:
            emu.step(int(self.np_random.integers(0, self.noop_max + 1)))
        if self._lua:
            self._gd.reset()
            self._gd.update_ram()
        values = self._read()
        self._scenario_runner.restart(values)
        self._needs_reset = False
        self._values = values
        return (self._observe(None, values) if self.observe_steps else None), dict(values)

    def step(self, action):
        if self._needs_reset:
            raise gym.error.ResetNeeded("call reset() before step() (and after an episode ends)")
        if self._seats is not None:
            return self._seats.step(action)
        emu = self.emulator
        if self.touch:
            x, y, pressed = (int(v) for v in np.asarray(action["touch"]).reshape(3))
            emu.set_touch(x, y, bool(pressed))
            action = action["buttons"]
        emu.set_buttons(self._buttons(action), 0)
        reward = 0.0
        terminated = False
        prev_screen = None
        scen = self._scen_state
        python, lua = self._python, self._lua
        last = self.frame_skip - 1
        skip_until = self._skip_until
        values = None
        for i in range(self.frame_skip):
            if i < skip_until:
                self._skip_render()
            emu.step()
            if lua:
                self._gd.update_ram()
                reward += self._gd.current_reward()
                if self._gd.is_done():
                    terminated = True
                    break
            elif python is None:
                values = self._read()
                r, d = scen.update(values)
                reward += r
                if d:
                    terminated = True
                    break
            if self.max_pool and i == last - 1:
                prev_screen = emu.screen()
        if values is None:
            values = self._read()
        info = dict(values)
        if python is not None:
            reward = float(python.reward(values))
            terminated = bool(python.terminated(values))
            if hasattr(python, "info"):
                info.update(python.info(values))
        self._needs_reset = terminated
        self._values = values
        obs = self._observe(prev_screen if i == last else None, values) if self.observe_steps else None
        return obs, float(reward), terminated, False, info

    def observation(self):
        """The observation now (after the last reset or step; without max pooling): for a
        wrapper that turns :attr:`observe_steps` off and observes only when it decides
        (placement actions observe once per piece, not on each of its frames)."""
        return self._observe(None, self._values)

    def render(self):
        if self.render_mode is None:
            return None
        if self._observer.last_screen is None:
            self._observer.last_screen = self.emulator.screen()
        return self._observer.last_screen

    def wrap_emulator(self, wrap) -> EmulatorWrapper:
        """Put ``wrap(emulator)`` (an :class:`~emurl.emulators.EmulatorWrapper`) between this
        env and its emulator, e.g. a tracer of emulator calls or a movie's input; returns
        it. :meth:`unwrap_emulator` takes it out again."""
        wrapper = wrap(self.emulator)
        if not isinstance(wrapper, EmulatorWrapper):
            raise TypeError(f"wrap_emulator needs an EmulatorWrapper, got {type(wrapper).__name__}")
        self.emulator = wrapper
        self._skip_render = getattr(wrapper, "skip_render", None) if self._skip_render is not None else None
        return wrapper

    def unwrap_emulator(self) -> None:
        """Remove the outermost wrapper installed by :meth:`wrap_emulator` (none: nothing)."""
        if isinstance(self.emulator, EmulatorWrapper):
            self.emulator = self.emulator.inner
            if self._skip_render is not None:
                self._skip_render = self.emulator.skip_render

    def get_state(self) -> bytes:
        """A savestate of the emulator now (bytes)."""
        return self.emulator.save_state()

    def set_state(self, state: bytes) -> None:
        """Restore a savestate from :meth:`get_state`; the scenario's deltas restart from it,
        and stepping may go on from it even after the episode had ended (as ALE's restoreState)."""
        self.emulator.load_state(state)
        self._scenario_runner.restart(self._read())
        self._needs_reset = False

    def close(self):
        emu = getattr(self, "emulator", None)
        if emu is not None:
            emu.close()
            self.emulator = None
        super().close()
