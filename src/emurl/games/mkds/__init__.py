"""Mario Kart DS: the code behind the ``MarioKartDS-NintendoDs`` integration.

The integration's data (memory map, scenarios, action sets) is in
``emurl/games/data/MarioKartDS-NintendoDs/``; this package holds what a table cannot say:

- :mod:`~emurl.games.mkds.courses`: the 32 courses (emurl's one course table);
- :mod:`~emurl.states.mkds_rom`: recognise a Mario Kart DS ROM by its game code, import it;
- :mod:`~emurl.games.mkds.reward`: the race scenario (reward, laps, stuck, respawn);
- :mod:`~emurl.games.mkds.metrics`: the racing metrics (lap and race times, speed, off-road, walls);
- :mod:`~emurl.states.mkds`: drive the menus to a Time Trial and save a state;
- :mod:`~emurl.states.check`: ``emurl games check``: a live table of the variables;
- :mod:`~emurl.games.mkds.features`: memory features (checkpoint, wall "LiDAR" rays);
- :mod:`~emurl.games.mkds.kcl`: the course's KCL collision prisms as triangles;
- :mod:`~emurl.games.mkds.overlay`: the viewer's walls, rays and checkpoint, through the race camera;
- :mod:`~emurl.cli.mkds`: ``emurl mkds ...`` sub-commands.

Several start states drawn per episode: :mod:`emurl.wrappers.curriculum` (any game).

Every game fact comes from the shared facts file ``docs/facts/mario-kart-ds.md``; none was
checked against a running game (no ROM was available), which is why
:func:`~emurl.states.check.check_game` exists: run it once on your ROM.
"""

from emurl.games.mkds.courses import COURSES, Course, UnknownCourseError, course_by_abbr, course_by_id, course_by_order
from emurl.games.mkds.game import GAME

__all__ = ["COURSES", "GAME", "Course", "UnknownCourseError", "course_by_abbr", "course_by_id", "course_by_order"]
