"""MiniKart: the code behind the ``MiniKart-NintendoDs`` integration (our homebrew DS racer).

- :mod:`~emurl.games.minikart.features`: the feature observation (wall rays, the next
  checkpoint, speed) from the track data beside the integration (``tracks.json``);
- :mod:`~emurl.games.minikart.metrics`: the racing metrics, with the autopilot's laps as
  the reference line (``metadata.json``'s ``"autopilot"``).
"""
