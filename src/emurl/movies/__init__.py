"""Input movies: emurl's own (``.emv``), stable-retro / BizHawk ``.bk2``, DeSmuME ``.dsm``,
Mario Kart DS time-trial ghosts, and replay to frames or video.

Every format converts to and from :class:`~emurl.movies.movie.Movie`; :func:`load_movie`
reads any of them by extension. Bad input raises :class:`MovieError`, whose message names
the file, the field and what was expected.
"""

from __future__ import annotations

import os

from emurl.errors import MovieError
from emurl.movies.bk2 import read_bk2, write_bk2
from emurl.movies.dsm import read_dsm, write_dsm
from emurl.movies.movie import FORMAT_VERSION, Movie

EXTENSIONS = (".emv", ".bk2", ".dsm")


def load_movie(path: str | os.PathLike) -> Movie:
    """Read a movie of any supported format, chosen by extension (``.emv``, ``.bk2``, ``.dsm``).

    Raises:
        MovieError: unknown extension, missing or malformed file.
    """
    ext = os.path.splitext(str(path))[1].lower()
    if ext == ".emv":
        return Movie.load(path)
    if ext == ".bk2":
        return read_bk2(path)
    if ext == ".dsm":
        return read_dsm(path)
    raise MovieError(f"{path}: unknown movie format {ext or '(no extension)'!r} (expected one of {', '.join(EXTENSIONS)})")


def save_movie(movie: Movie, path: str | os.PathLike) -> None:
    """Write ``movie`` in the format its extension names (``.emv``, ``.bk2``, ``.dsm``), atomically.

    Raises:
        MovieError: unknown extension, or the movie can't be expressed in that format.
    """
    ext = os.path.splitext(str(path))[1].lower()
    if ext == ".emv":
        movie.save(path)
    elif ext == ".bk2":
        write_bk2(movie, path)
    elif ext == ".dsm":
        write_dsm(movie, path)
    else:
        raise MovieError(f"{path}: unknown movie format {ext or '(no extension)'!r} (expected one of {', '.join(EXTENSIONS)})")


__all__ = ["EXTENSIONS", "FORMAT_VERSION", "Movie", "MovieError", "load_movie", "save_movie"]
