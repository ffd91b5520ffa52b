"""Dr. Mario (NES): the code behind the ``DrMario-Nes`` integration and its homebrew stand-in
``MiniDoc-Nes``, whose RAM mirrors Dr. Mario's map, so one code path serves both.

The integrations' data (variables, scenarios, start-state scripts) is in
``emurl/games/data/DrMario-Nes/`` and ``emurl/games/data/MiniDoc-Nes/``; this package holds
what a table cannot say, as pure functions of the variables (no emulator, no gymnasium):

- :mod:`~emurl.games.drmario.board`: tile codes, the 16 × 8 board, column heights, holes,
  the falling capsule's cells, cleared cells and lines;
- :mod:`~emurl.games.drmario.observation`: the founding plan's observation from one
  player's side: planes uint8 (12, 16, 8) and a vector float32 (46,);
- :mod:`~emurl.games.drmario.reward`: the versus scenario (dense and sparse reward per
  seat, the end of a round).
- :mod:`~emurl.games.drmario.placement`: placement actions (anchor column × rotation, 32),
  the placements the falling capsule can still reach under MiniDoc's rules, and the frames
  of buttons that reach one;
- :mod:`~emurl.games.drmario.greedy`: the greedy placement player's score and choice;
- :mod:`~emurl.games.drmario.player`: one seat's placements read from the step's variables
  (what MiniDoc-Nes's ``metadata.json`` declares as ``"placement"``);
- :mod:`~emurl.games.drmario.tree_features`: per-placement features a 6502 computes from
  RAM (the distilled tree's input).

Every game fact comes from the shared facts file ``docs/facts/dr-mario.md`` and the public
disassembly (Nostaljipi/dr-mario-disassembly); none was checked against a running
Dr. Mario (no ROM was at hand).
"""

from emurl.games.drmario.board import capsule_cells, column_heights, holes
from emurl.games.drmario.observation import planes, planes_and_vector, vector
from emurl.games.drmario.reward import Match, MatchOptions, SparseMatch

__all__ = ["Match", "MatchOptions", "SparseMatch", "capsule_cells", "column_heights", "holes", "planes",
           "planes_and_vector", "vector"]
