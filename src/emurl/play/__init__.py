"""``emurl play``: a person plays a game in a pygame-ce window, optionally recording a movie.

The window shows the emulator's screen scaled by an integer factor (Nintendo DS on
DeSmuME: both screens stacked, the touch screen below; on melonDS: the top screen).
The keyboard maps to the console's buttons by :data:`KEYMAPS` (``emurl play GAME --keys``
prints it, F1 shows it over the game). Hotkeys:

==========  ================================================================
P           pause / resume
N or .      while paused: run one frame (frame advance)
F5          save a state to the integration's user state folder (``--slot``)
F7          load that state (while recording: only one saved in this recording,
            and the movie is cut back to the frame it was saved on: a rerecord)
F1          show / hide the key map
Esc         quit (the movie is written)
==========  ================================================================

Two players at one keyboard (``emurl play GAME --players 2``, for a game whose integration
has two players on a system whose emulator drives two controller ports: NES, SNES,
Genesis, Master System, Atari 2600). Player 1 keeps the one-player keys; player 2 has the
same layout moved to the middle of the keyboard (:data:`PLAYER2_KEYS`). Each player's keys
press that player's port every frame. On the NES:

=======  ==================  ==================
button   player 1 (port 1)   player 2 (port 2)
=======  ==================  ==================
D-pad    arrows              T F G H
B / A    Z / X               J / K
SELECT   Backspace           5
START    Return              6
=======  ==================  ==================

(SNES and Genesis: player 1's A S D / Q W become U I O / 7 8.) A game with one player, or
an emulator with one port, refuses ``--players 2`` naming the game. A movie recorded with
two players holds both players' buttons (``.emv``, ``.bk2``). Some keyboards can't report
many keys held at once (ghosting): if a key seems dead while the other player holds
several, that is the keyboard.

States are written where :meth:`~emurl.games.Integration.states` finds them
(:func:`state_path`): ``Integration.user_state_dir()/<slot>.state``, or
``<slot>.<backend>.state`` on the DS backends (whose savestates only load on the backend
that made them), gzip-compressed as stable-retro's are. ``emurl play GAME --state <slot>``
(and ``emurl train --state``) start from it.

Recording (``--record FILE``): every emulated frame's buttons go into a
:class:`~emurl.movies.Movie` with the movie semantics of :mod:`emurl.movies.movie`:
``buttons[i]`` is held during the ``i``-th frame run after the start state is loaded.
The start state is stored by name when it is one of the integration's own (shipped,
read-only) states, else as bytes (a user's state may be overwritten later); ``.bk2``
always embeds the bytes, ``.dsm`` records from power-on on DeSmuME only. The format
follows the extension (``.emv``, ``.bk2``, ``.dsm``).

Tests and scripts drive :func:`play` without a keyboard: ``SDL_VIDEODRIVER=dummy``,
``events=[(frame, pygame_event), ...]`` posted before that frame runs, or
``held=lambda frame: {pygame.K_x}`` (keys held on a frame), and ``max_frames``.

Modules: :mod:`~emurl.play.keymap` (keys and their text), :mod:`~emurl.play.window` (the
pygame window), :mod:`~emurl.play.recording` (frames, rerecords, the movie) and
:mod:`~emurl.play.session` (:func:`play` and its loop).
"""

from __future__ import annotations

import os

# Before pygame's first import (by the modules below): it prints a banner unless told not to.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from emurl.play.keymap import HOTKEYS, KEYMAPS, PLAYER2_KEYS, format_keymap, key_code, key_press, keymap  # noqa: E402
from emurl.play.session import PlayResult, check_players, play, state_path  # noqa: E402

__all__ = ["HOTKEYS", "KEYMAPS", "PLAYER2_KEYS", "PlayResult", "check_players", "format_keymap", "key_code",
           "key_press", "keymap", "play", "state_path"]
