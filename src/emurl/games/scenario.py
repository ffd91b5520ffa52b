"""Scenarios: reward and episode end from variables, with stable-retro's exact semantics.

A ``scenario.json`` as stable-retro reads it (its ``src/data.cpp``):

- ``reward.variables.NAME = {"reward": r, "penalty": p, "measurement": "delta"|"absolute",
  "op": ..., "reference": n}``. The measured value is the per-frame change of the variable
  (``delta``, the default) or its value (``absolute``), passed through ``op`` against
  ``reference`` when an op is given; a positive measure is multiplied by ``reward``, a
  negative one by ``penalty`` (so ``{"reward": 1}`` alone ignores decreases).
- ``reward.time``: the same spec applied to a constant 1 each frame.
- ``done.variables.NAME = {"op": ..., "reference": n, "measurement": "absolute"|"delta"}``
  (``absolute`` by default); ``done.condition`` ``"any"`` (default) or ``"all"``;
  ``done.nodes`` nest the same structure.
- ``actions``: a whitelist of button combos per group; ``crop``: ``[x, y, w, h]``.
- ``reward.script`` / ``done.script`` / ``scripts``: Lua, which only stable-retro's own
  ``GameData`` runs; emurl then computes reward and done through it (slower: it copies
  all of RAM each frame), see :class:`RetroScriptedScenario`.

emurl's additions: ``"python": "file.py:ClassName"`` names a class beside the data whose
``reset(variables)``, ``reward(variables) -> float`` and ``terminated(variables) -> bool``
replace the table (``info(variables) -> dict`` optional; a class with a
``from_scenario(scenario)`` classmethod is built by it, so that it can read its own keys
from :attr:`Scenario.raw`, else it is called with no arguments); ``"info": [names]`` adds
variables to the step info; ``"action_set": NAME`` picks a named action set of the game;
``"metrics": "file.py:ClassName"`` declares per-episode metrics: a class beside the data
(built like the ``"python"`` one) whose ``reset(variables)`` starts an episode,
``update(variables)`` takes each agent step's variables and ``result() -> dict[str, float]``
gives the episode's metrics (the racing games': :mod:`emurl.games.metrics`). The metrics
see the step info: every variable under a ``"python"`` scenario; with a table scenario,
list the variables they read in ``"info"``.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable

from emurl.errors import IntegrationError
from emurl.games.jsonfile import read_json_object
from emurl.games.pymodule import load_class

OPS: dict[str, Callable[[int, int], int]] = {
    "equal": lambda v, r: int(v == r),
    "negative-equal": lambda v, r: int(v == -r),
    "not-equal": lambda v, r: int(v != r),
    "less-than": lambda v, r: int(v < r),
    "greater-than": lambda v, r: int(v > r),
    "less-or-equal": lambda v, r: int(v <= r),
    "greater-or-equal": lambda v, r: int(v >= r),
    "nonzero": lambda v, r: int(v != 0),
    "zero": lambda v, r: int(v == 0),
    "negative": lambda v, r: int(v < 0),
    "positive": lambda v, r: int(v > 0),
    "sign": lambda v, r: (v > 0) - (v < 0),
}


@dataclass(frozen=True)
class Measure:
    """How one variable is measured: ``delta`` or ``absolute``, then ``op`` against ``reference``."""

    delta: bool
    op: Callable[[int, int], int] | None
    reference: int

    def __call__(self, value, delta):
        x = delta if self.delta else value
        return x if self.op is None else self.op(x, self.reference)


@dataclass(frozen=True)
class RewardTerm:
    variable: str
    measure: Measure
    reward: float
    penalty: float

    def __call__(self, value, delta) -> float:
        m = self.measure(value, delta)
        if m > 0:
            return m * self.reward
        if m < 0:
            return m * self.penalty
        return 0.0


@dataclass
class DoneNode:
    """``condition`` is ``"any"`` or ``"all"`` over ``tests`` (variable, Measure) and sub-``nodes``."""

    condition: str = "any"
    tests: list[tuple[str, Measure]] = field(default_factory=list)
    nodes: list["DoneNode"] = field(default_factory=list)

    def __call__(self, values, deltas) -> bool:
        want_all = self.condition == "all"
        for name, measure in self.tests:
            hit = measure(values[name], deltas[name]) > 0
            if hit and not want_all:
                return True
            if not hit and want_all:
                return False
        for node in self.nodes:
            hit = node(values, deltas)
            if hit and not want_all:
                return True
            if not hit and want_all:
                return False
        return want_all

    def variables(self) -> set[str]:
        out = {n for n, _ in self.tests}
        for node in self.nodes:
            out |= node.variables()
        return out


@dataclass
class Scenario:
    """A parsed ``scenario.json``. See the module docstring for the format.

    Attributes:
        name: the file's stem (``"scenario"``).
        path: the file.
        rewards: one list of :class:`RewardTerm` per player.
        time_rewards: one optional :class:`RewardTerm` (variable ``""``) per player.
        done: the root :class:`DoneNode`, or None when the scenario never ends an episode.
        actions: the whitelist of button combos (list of groups of combos) or None.
        crop: ``(x, y, w, h)`` or None.
        lua: True when stable-retro's Lua scripting decides reward or done.
        python: ``"file.py:ClassName"`` or None.
        info: extra variable names for the step info.
        action_set: default named action set, or None.
        metrics: ``"file.py:ClassName"`` of the per-episode metrics, or None.
    """

    name: str
    path: str
    rewards: list[list[RewardTerm]]
    time_rewards: list[RewardTerm | None]
    done: DoneNode | None
    actions: list | None = None
    crop: tuple[int, int, int, int] | None = None
    lua: bool = False
    python: str | None = None
    info: list[str] = field(default_factory=list)
    action_set: str | None = None
    raw: dict = field(default_factory=dict)
    metrics: str | None = None

    def needed_variables(self) -> list[str]:
        """Every variable reward, done and info read, in a stable order."""
        names: list[str] = []
        for terms in self.rewards:
            names += [t.variable for t in terms]
        if self.done is not None:
            names += sorted(self.done.variables())
        names += self.info
        return list(dict.fromkeys(names))

    def load_python(self):
        """Instantiate the ``"python"`` class beside the scenario file, or return None."""
        if not self.python:
            return None
        where = f"{self.path}: python"
        return self._build(self.python, "python", "Scenario", ("reset(variables)", "reward(variables)", "terminated(variables)"))

    def load_metrics(self):
        """A new instance of the ``"metrics"`` class beside the scenario file (one per env: it
        holds an episode's samples), or None when the scenario declares no metrics.

        Raises:
            IntegrationError: the file or class is missing or broken, or the class lacks
                ``reset``, ``update`` or ``result`` (the message names the file and the key).
        """
        if not self.metrics:
            return None
        return self._build(self.metrics, "metrics", "Metrics", ("reset(variables)", "update(variables)", "result()"))

    def _build(self, spec: str, key: str, default: str, methods: tuple[str, ...]):
        """An instance of the class ``spec`` names: ``from_scenario(self)`` where it has one."""
        where = f"{self.path}: {key}"
        cls = load_class(spec, os.path.dirname(self.path), where, default=default)
        factory = getattr(cls, "from_scenario", None)
        obj = factory(self) if callable(factory) else cls()
        for method in methods:
            if not callable(getattr(obj, method.split("(")[0], None)):
                raise IntegrationError(f"{where}: {cls.__name__} must define {method}")
        return obj


def _measure(spec: dict, default_delta: bool, where: str) -> Measure:
    measurement = spec.get("measurement")
    if measurement not in (None, "delta", "absolute"):
        raise IntegrationError(f"{where}.measurement: expected \"delta\" or \"absolute\", got {measurement!r}")
    op_name = spec.get("op")
    if op_name is not None and not (isinstance(op_name, str) and op_name in OPS):
        raise IntegrationError(f"{where}.op: expected one of {sorted(OPS)}, got {op_name!r}")
    reference = spec.get("reference", 0)
    if not _is_finite_number(reference):
        raise IntegrationError(f"{where}.reference: expected a number, got {reference!r}")
    delta = default_delta if measurement is None else measurement == "delta"
    return Measure(delta, OPS.get(op_name) if op_name else None, int(reference))


def _is_finite_number(value) -> bool:
    """A JSON number that is not a bool, NaN or an infinity (Python's json reads ``NaN`` and ``Infinity``)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _number(spec: dict, key: str, where: str) -> float:
    value = spec.get(key, 0.0)
    if not _is_finite_number(value):
        raise IntegrationError(f"{where}.{key}: expected a number, got {value!r}")
    return float(value)


def _reward_terms(reward: Any, where: str) -> tuple[list[RewardTerm], RewardTerm | None, bool]:
    if not isinstance(reward, dict):
        raise IntegrationError(f"{where}: expected an object with \"variables\", got {reward!r}")
    terms = []
    variables = reward.get("variables", {})
    if not isinstance(variables, dict):
        raise IntegrationError(f"{where}.variables: expected an object name → spec, got {variables!r}")
    for name, spec in variables.items():
        w = f"{where}.variables.{name}"
        if not isinstance(spec, dict):
            raise IntegrationError(f"{w}: expected an object like {{\"reward\": 1.0}}, got {spec!r}")
        terms.append(RewardTerm(name, _measure(spec, True, w), _number(spec, "reward", w), _number(spec, "penalty", w)))
    time = None
    if "time" in reward:
        spec = reward["time"]
        w = f"{where}.time"
        if not isinstance(spec, dict):
            raise IntegrationError(f"{w}: expected an object like {{\"penalty\": 1.0}}, got {spec!r}")
        time = RewardTerm("", _measure(spec, True, w), _number(spec, "reward", w), _number(spec, "penalty", w))
    return terms, time, "script" in reward


def _done_node(spec: Any, where: str) -> DoneNode:
    if not isinstance(spec, dict):
        raise IntegrationError(f"{where}: expected an object with \"variables\", got {spec!r}")
    condition = spec.get("condition", "any")
    if condition not in ("any", "all"):
        raise IntegrationError(f"{where}.condition: expected \"any\" or \"all\", got {condition!r}")
    node = DoneNode(condition=condition)
    variables = spec.get("variables", {})
    if not isinstance(variables, dict):
        raise IntegrationError(f"{where}.variables: expected an object name → spec, got {variables!r}")
    for name, vspec in variables.items():
        w = f"{where}.variables.{name}"
        if not isinstance(vspec, dict):
            raise IntegrationError(f"{w}: expected an object like {{\"op\": \"zero\"}}, got {vspec!r}")
        node.tests.append((name, _measure(vspec, False, w)))
    nodes = spec.get("nodes") or {}
    if not isinstance(nodes, dict):
        raise IntegrationError(f"{where}.nodes: expected an object name → done node, got {nodes!r}")
    for key, sub in nodes.items():
        node.nodes.append(_done_node(sub, f"{where}.nodes.{key}"))
    return node


def load_scenario(path: str, known_variables: set[str] | None = None) -> Scenario:
    """Parse a scenario file.

    Args:
        path: the ``scenario.json`` (or other name) file.
        known_variables: the integration's variable names; when given, a scenario that
            names an unknown variable is an error.

    Raises:
        IntegrationError: unreadable JSON or a malformed key (the message names the file,
            the key and what was expected).
    """
    raw = read_json_object(path)

    lua = bool(raw.get("scripts"))
    rewards: list[list[RewardTerm]] = []
    times: list[RewardTerm | None] = []
    if "rewards" in raw:
        if not isinstance(raw["rewards"], list):
            raise IntegrationError(f"{path}: rewards: expected a list with one reward object per player")
        for i, r in enumerate(raw["rewards"]):
            terms, time, script = _reward_terms(r, f"{path}: rewards[{i}]")
            rewards.append(terms)
            times.append(time)
            lua |= script
    elif "reward" in raw:
        terms, time, script = _reward_terms(raw["reward"], f"{path}: reward")
        rewards.append(terms)
        times.append(time)
        lua |= script
    if not rewards:
        rewards, times = [[]], [None]

    done = None
    if "done" in raw:
        done = _done_node(raw["done"], f"{path}: done")
        lua |= "script" in raw["done"]

    actions = raw.get("actions")
    if actions is not None and not (
        isinstance(actions, list)
        and all(isinstance(g, list) and all(isinstance(c, list) and all(isinstance(b, str) for b in c) for c in g)
                for g in actions)
    ):
        raise IntegrationError(f"{path}: actions: expected a list of groups of button combos, e.g. [[[], [\"LEFT\"], [\"RIGHT\"]]]")

    crop = raw.get("crop")
    if crop is not None:
        if not (isinstance(crop, list) and len(crop) == 4 and all(isinstance(c, int) and c >= 0 for c in crop)):
            raise IntegrationError(f"{path}: crop: expected [x, y, width, height] of non-negative ints, got {crop!r}")
        crop = tuple(crop)

    python = raw.get("python")
    if python is not None and not isinstance(python, str):
        raise IntegrationError(f"{path}: python: expected \"file.py:ClassName\", got {python!r}")
    metrics = raw.get("metrics")
    if metrics is not None and not isinstance(metrics, str):
        raise IntegrationError(f"{path}: metrics: expected \"file.py:ClassName\", got {metrics!r}")
    info = raw.get("info", [])
    if not (isinstance(info, list) and all(isinstance(n, str) for n in info)):
        raise IntegrationError(f"{path}: info: expected a list of variable names, got {info!r}")
    action_set = raw.get("action_set")
    if action_set is not None and not isinstance(action_set, str):
        raise IntegrationError(f"{path}: action_set: expected the name of an action set, got {action_set!r}")

    scen = Scenario(
        name=os.path.splitext(os.path.basename(path))[0],
        path=path,
        rewards=rewards,
        time_rewards=times,
        done=done,
        actions=actions,
        crop=crop,
        lua=lua,
        python=python,
        info=info,
        action_set=action_set,
        raw=raw,
        metrics=metrics,
    )
    if known_variables is not None and not lua:
        for name in scen.needed_variables():
            if name not in known_variables:
                raise IntegrationError(
                    f"{path}: names variable {name!r}, which data.json does not define "
                    f"(defined: {', '.join(sorted(known_variables)) or 'none'})"
                )
    return scen


class ScenarioState:
    """Per-episode evaluation of a table scenario: call :meth:`reset`, then :meth:`update` each frame.

    Mirrors stable-retro: deltas are between consecutive frames; the first frame after
    reset has delta 0 for every variable.
    """

    def __init__(self, scenario: Scenario, player: int = 0):
        self.terms = scenario.rewards[player] if player < len(scenario.rewards) else []
        self.time = scenario.time_rewards[player] if player < len(scenario.time_rewards) else None
        self.done = scenario.done
        self.prev: dict | None = None

    def reset(self, values: dict) -> None:
        self.prev = dict(values)

    def update(self, values: dict) -> tuple[float, bool]:
        """Reward and done for the frame whose variables are ``values``."""
        prev = self.prev
        deltas = {k: v - prev[k] for k, v in values.items()} if prev is not None else dict.fromkeys(values, 0)
        self.prev = values
        reward = self.time(1, 1) if self.time is not None else 0.0
        for t in self.terms:
            reward += t(values[t.variable], deltas[t.variable])
        done = self.done(values, deltas) if self.done is not None else False
        return float(reward), bool(done)


def option_values(cls, raw, where: str) -> dict:
    """A Python scenario's options object (``"race"``, ``"match"``, ...) as a dict, its keys
    checked against the fields of the options dataclass ``cls`` (values are the caller's to check).

    Raises:
        IntegrationError: an unknown key; the message names ``where`` and the keys there are.
    """
    raw = dict(raw or {})
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - names)
    if unknown:
        raise IntegrationError(f"{where}: unknown key(s) {unknown} (keys: {', '.join(sorted(names))})")
    return raw
