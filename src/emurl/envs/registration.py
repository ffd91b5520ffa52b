"""``emurl/<Game>-v0`` in Gymnasium's registry, for every integration found.

Run at ``import emurl`` (``import emurl; gymnasium.make("emurl/X-v0")`` must work, and
Gymnasium has no hook to register ids on demand), so it is kept cheap: it reads folder
names only, imports neither the env nor the emulators (the entry point is a string), and
writes the registry dict directly instead of calling ``gymnasium.register``, which
checks the whole registry on every call (~43 ms for 1008 ids on this machine, against ~3 ms).
"""

from __future__ import annotations

from gymnasium.envs.registration import EnvSpec as GymEnvSpec
from gymnasium.envs.registration import registry

from emurl.games.integration import integration_folders

_registered = False


def register_all() -> None:
    """Register ``emurl/<Game>-v0`` for every integration found, built by
    :func:`emurl.envs.spec.make_v0`: the settings :data:`~emurl.envs.spec.V0`, so
    ``gymnasium.make("emurl/X-v0")`` and ``emurl.make("X")`` give the same env.
    An id already registered (by the user) is left alone."""
    global _registered
    if _registered:
        return
    for name in integration_folders():
        env_id = f"emurl/{name}-v0"
        if env_id not in registry:
            registry[env_id] = GymEnvSpec(env_id, entry_point="emurl.envs.spec:make_v0", kwargs={"game": name})
    _registered = True
