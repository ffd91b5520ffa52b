"""emurl: train agents to play console games through real emulators.

>>> import emurl
>>> env = emurl.make("Airstriker-Genesis", pipeline="atari")   # doctest: +SKIP
"""

from emurl.envs import EmulatorEnv, make, register_all
from emurl.errors import (
    ConfigError,
    EmulatorError,
    EmurlError,
    IntegrationError,
    RomNotFoundError,
    UnknownGameError,
    UnknownStateError,
)

__version__ = "0.1.0"

register_all()

__all__ = [
    "ConfigError",
    "EmulatorEnv",
    "EmulatorError",
    "EmurlError",
    "IntegrationError",
    "RomNotFoundError",
    "UnknownGameError",
    "UnknownStateError",
    "make",
]
