"""Mario Kart DS race scenario: the logic lives in :mod:`emurl.games.mkds.reward`.

Scenario files here name ``"python": "mkds.py:Race"``; their ``"race"`` object sets the
options (laps, reward constants, stuck and respawn endings), see
:class:`emurl.games.mkds.reward.RaceOptions`.
"""

from emurl.games.mkds.reward import Race, RaceOptions

__all__ = ["Race", "RaceOptions"]
