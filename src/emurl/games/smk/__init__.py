"""Super Mario Kart (SNES): the code behind the ``SuperMarioKart-Snes`` integration.

The data (memory map, scenarios, action sets, start-state scripts) is in
``emurl/games/data/SuperMarioKart-Snes/``; this package holds what a table cannot say:

- :mod:`~emurl.games.smk.reward`: the founding plan's and the community's race scenarios;
- :mod:`~emurl.games.smk.courses`: the 20 courses in menu order;
- :mod:`~emurl.games.smk.metrics`: the racing metrics (lap and race times, speed, off-road, walls);
- :mod:`~emurl.games.smk.check`: judging the variables sampled while driving (``emurl games check``).

Every game fact comes from docs/facts/super-mario-kart.md; none was checked against a
running game (no ROM was at hand), which is what ``emurl games check`` is for.
"""

from emurl.games.smk.courses import COURSES, Course
from emurl.games.smk.reward import CommunityRace, Race

GAME = "SuperMarioKart-Snes"

__all__ = ["COURSES", "CommunityRace", "Course", "GAME", "Race"]
