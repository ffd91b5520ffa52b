"""emurl's errors: each says which file, which key and what was expected."""

from __future__ import annotations


class EmurlError(Exception):
    """Base class of every error emurl raises on purpose."""


class EmulatorError(EmurlError, RuntimeError):
    """The emulator cannot be opened or used (a second one in a process, a bad ROM, ...)."""


class IntegrationError(EmurlError, ValueError):
    """A game integration is missing or malformed (names the file and the key)."""


class UnknownGameError(IntegrationError, KeyError):
    """No integration has this name; the message lists close names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class RomNotFoundError(EmurlError, FileNotFoundError):
    """The integration exists but its ROM was not imported; says the SHA-1s and the import command."""


class UnknownStateError(IntegrationError):
    """No start state of this name; the message lists the states that exist."""


class ConfigError(EmurlError, ValueError):
    """A training config file or override is malformed."""


class MovieError(EmurlError, ValueError):
    """A movie file is missing, malformed, or can't be converted (names file, field, expectation)."""


class RomMismatchError(EmurlError, ValueError):
    """A ROM's SHA-1 is not the integration's (names both hashes, the file and how to override)."""


class CheckpointError(EmurlError, ValueError):
    """A checkpoint file is missing, damaged or of another run (names the file)."""


class WorkerError(EmurlError, RuntimeError):
    """An env worker process failed or died (names the worker, and the game where it knows it)."""
