"""Super Mario Kart race scenarios: the logic lives in :mod:`emurl.games.smk.reward`.

``scenario.json`` names ``"python": "smk.py:Race"`` (the founding plan's reward),
``scenario_community.json`` ``"python": "smk.py:CommunityRace"`` (the community
integration's); their ``"race"`` objects set the options. Both name ``"metrics":
"smk.py:Metrics"``: the racing metrics (:mod:`emurl.games.smk.metrics`).
"""

from emurl.games.smk.metrics import Metrics
from emurl.games.smk.reward import CommunityOptions, CommunityRace, Race, RaceOptions

__all__ = ["CommunityOptions", "CommunityRace", "Metrics", "Race", "RaceOptions"]
