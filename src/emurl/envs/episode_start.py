"""What a game does at every reset after its start state is loaded: ``metadata.json``'s
``"episode_start"``, so that one start state does not mean one episode forever.

A game whose layout comes from its RNG (Dr. Mario's viruses: the bytes at 0x0017/0x0018,
``docs/facts/dr-mario.md``; MiniDoc's, the same, ``MiniDoc-Nes/MEMORY.md``) declares::

    "episode_start": {
        "seed": {"address": "0x0017", "type": "<u2"},
        "script": [{"until": {"mode": 4}, "timeout": 60}]
    }

At ``reset(seed=s)`` the env writes a number drawn from its seeded generator to ``seed``
(right after loading the state, before any frame runs), then plays ``script`` (an input
script, :mod:`emurl.states.scripts`: here, run until the level is drawn). The same ``s``
gives the same episode; ``reset()`` without a seed goes on drawing from the generator.
"""

from __future__ import annotations

import numpy as np

from emurl.errors import IntegrationError
from emurl.games.integration import Integration
from emurl.games.variables import parse_int
from emurl.states.scripts import run_script

_TYPES = {"|u1": 0xFF, "<u2": 0xFFFF, ">u2": 0xFFFF, "<u4": 0xFFFFFFFF, ">u4": 0xFFFFFFFF}


class EpisodeStart:
    """The integration's ``"episode_start"`` (see the module doc), or nothing to do.

    Raises:
        IntegrationError: a malformed ``"episode_start"``, naming metadata.json and the key.
    """

    def __init__(self, integration: Integration):
        spec = integration.metadata.get("episode_start") or {}
        where = f"{integration.folder / 'metadata.json'}: episode_start"
        if not isinstance(spec, dict) or set(spec) - {"seed", "script"}:
            raise IntegrationError(f"{where}: expected an object with \"seed\" and/or \"script\", got {spec!r}")
        self.seed_address = self.seed_type = None
        seed = spec.get("seed")
        if seed is not None:
            if not isinstance(seed, dict) or seed.get("type") not in _TYPES or "address" not in seed:
                raise IntegrationError(f"{where}.seed: expected {{\"address\": \"0x...\", \"type\": one of "
                                       f"{', '.join(_TYPES)}}}, got {seed!r}")
            self.seed_address = parse_int(seed["address"], f"{where}.seed.address")
            self.seed_type = seed["type"]
        self.script = spec.get("script") or []
        if not isinstance(self.script, list):
            raise IntegrationError(f"{where}.script: expected a list of input-script steps")
        self.variables = integration.variables
        self.where = where

    def seed(self, emulator, rng: np.random.Generator) -> None:
        """Write a number from ``rng`` to the seed bytes (call right after loading the state)."""
        if self.seed_address is not None:
            emulator.write(self.seed_address, self.seed_type, int(rng.integers(0, _TYPES[self.seed_type] + 1)))

    def run(self, emulator) -> None:
        """Play the script (call after the reset's first frame)."""
        if self.script:
            run_script(emulator, self.script, self.variables, where=f"{self.where}.script")
