"""MiniDoc (and Dr. Mario) versus scenarios: the logic lives in :mod:`emurl.games.drmario.reward`.

Scenario files here name ``"python": "drmario.py:Match"`` (the dense reward) or
``"drmario.py:SparseMatch"``; their ``"match"`` object sets the options (whose seat,
reward coefficients), see :class:`emurl.games.drmario.reward.MatchOptions`. ``metadata.json``'s
``"features": "drmario.py:Features"`` is the planes-and-vector observation
(:mod:`emurl.games.drmario.observation`) with the viewer's ``placement`` overlay
(:mod:`emurl.games.drmario.overlay`), and its ``"placement": {"class": "drmario.py:Placements"}``
the placement actions and the greedy opponent (:mod:`emurl.games.drmario.player`).
"""

from emurl.games.drmario import observation
from emurl.games.drmario.overlay import PlacementOverlay
from emurl.games.drmario.player import Placements
from emurl.games.drmario.reward import Match, MatchOptions, SparseMatch


class Features(PlacementOverlay, observation.Features):
    """MiniDoc's features, and where its bottles are on the screen as stable-retro shows it.

    MiniDoc draws player p's bottle cell (row r, column c) as the background tile at tile
    column ``BOTTLE_COL(p) + c`` (4 for player 1, 20 for player 2) and tile row
    ``BOTTLE_ROW + r`` (9) (``homebrew/minidoc/src/render.c``: ``draw_bottle``,
    ``queue_rows``); stable-retro's NES frame (240×224) leaves out the screen's first 8
    columns and rows, hence ``8 * (tile - 1)``.
    """

    bottles = ((8 * (4 - 1), 8 * (9 - 1)), (8 * (20 - 1), 8 * (9 - 1)))


__all__ = ["Features", "Match", "MatchOptions", "Placements", "SparseMatch"]
