"""Mario Kart DS race scenario: the logic lives in :mod:`emurl.games.mkds.reward`.

Scenario files here name ``"python": "mkds.py:Race"``; their ``"race"`` object sets the
options (laps, reward constants, stuck and respawn endings), see
:class:`emurl.games.mkds.reward.RaceOptions`. ``metadata.json``'s ``"features":
"mkds.py:FeatureObservation"`` is ``obs_type="features"``: wall rays from the course's KCL,
the next checkpoint and speed (:class:`emurl.games.mkds.observation.FeatureObservation`).
``"metrics": "mkds.py:Metrics"`` in the scenario files: the racing metrics
(:mod:`emurl.games.mkds.metrics`).
"""

from emurl.games.mkds.metrics import Metrics
from emurl.games.mkds.observation import FeatureObservation
from emurl.games.mkds.reward import Race, RaceOptions

__all__ = ["FeatureObservation", "Metrics", "Race", "RaceOptions"]
