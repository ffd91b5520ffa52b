"""The Mario Kart DS integration's data, loaded once: variables, on-demand variables, metadata.

Every RAM address lives in the integration's ``data.json``
(``emurl/games/data/MarioKartDS-NintendoDs/``): ``"info"`` holds the variables the env
reads every step, ``"on_demand"`` those that :mod:`emurl.games.mkds` reads only when it
needs them (game code, KCL and checkpoint pointers, ...). Both use the same format (see
:mod:`emurl.games.variables`), so one fix in ``data.json`` fixes every reader.
"""

from __future__ import annotations

import functools

from emurl.errors import IntegrationError
from emurl.games.integration import Integration, load_integration
from emurl.games.jsonfile import read_json_object
from emurl.games.variables import Variable

GAME = "MarioKartDS-NintendoDs"
FRAME_RATE = 59.8261
"""DS frames per second (docs/facts/mario-kart-ds.md, DeSmuME movie format)."""


@functools.lru_cache(maxsize=1)
def integration() -> Integration:
    """The built-in Mario Kart DS integration (loaded once per process)."""
    return load_integration(GAME)


def info_variables() -> dict[str, Variable]:
    """``data.json``'s ``"info"``: name → :class:`Variable`."""
    return integration().variables


@functools.lru_cache(maxsize=1)
def on_demand_variables() -> dict[str, Variable]:
    """``data.json``'s ``"on_demand"``: name → :class:`Variable`.

    Raises:
        IntegrationError: the section is missing or malformed (names the file and key).
    """
    path = integration().folder / "data.json"
    section = read_json_object(path).get("on_demand")
    if not isinstance(section, dict):
        raise IntegrationError(f"{path}: missing object \"on_demand\" (variables emurl.games.mkds reads on demand)")
    return {k: Variable.from_json(k, v, f"{path} (on_demand)") for k, v in section.items()}


def variable(name: str) -> Variable:
    """An ``"info"`` or ``"on_demand"`` variable by name.

    Raises:
        IntegrationError: no variable of that name (the message lists them).
    """
    found = info_variables().get(name) or on_demand_variables().get(name)
    if found is None:
        names = sorted(info_variables()) + sorted(on_demand_variables())
        raise IntegrationError(f"{GAME}/data.json defines no variable {name!r} (variables: {', '.join(names)})")
    return found


def game_codes() -> dict[str, str]:
    """Accepted game codes → region, from ``metadata.json`` (``{"AMCE": "USA", ...}``)."""
    return dict(integration().metadata.get("game_codes", {}))


def region_offsets() -> dict[str, int]:
    """Game code → the region offset that release should show (``metadata.json``)."""
    return {k: int(v, 0) if isinstance(v, str) else int(v) for k, v in integration().metadata.get("region_offsets", {}).items()}
