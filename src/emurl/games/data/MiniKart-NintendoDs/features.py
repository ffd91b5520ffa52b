"""MiniKart's feature observation: the logic lives in :mod:`emurl.games.minikart.features`.

``metadata.json``'s ``"features": "features.py:Features"`` makes ``obs_type="features"`` a
float32 vector (wall rays, next checkpoint, speed; layout in :mod:`emurl.games.racing`),
computed from the step's variables and ``tracks.json`` beside this file.
"""

from emurl.games.minikart.features import Features

__all__ = ["Features"]
