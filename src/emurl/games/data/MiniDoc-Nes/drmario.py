"""MiniDoc (and Dr. Mario) versus scenarios: the logic lives in :mod:`emurl.games.drmario.reward`.

Scenario files here name ``"python": "drmario.py:Match"`` (the dense reward) or
``"drmario.py:SparseMatch"``; their ``"match"`` object sets the options (whose seat,
reward coefficients), see :class:`emurl.games.drmario.reward.MatchOptions`. ``metadata.json``'s
``"features": "drmario.py:Features"`` is the planes-and-vector observation
(:mod:`emurl.games.drmario.observation`), and its ``"placement": {"class": "drmario.py:Placements"}``
the placement actions and the greedy opponent (:mod:`emurl.games.drmario.player`).
"""

from emurl.games.drmario.observation import Features
from emurl.games.drmario.player import Placements
from emurl.games.drmario.reward import Match, MatchOptions, SparseMatch

__all__ = ["Features", "Match", "MatchOptions", "Placements", "SparseMatch"]
