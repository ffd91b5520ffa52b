"""Watching agents: a live tiled view of every emulator that publishes frames
(:mod:`emurl.vector.frames`), with overlays, and a browser dashboard of runs."""
