"""Self-play: the learner plays one seat of a two-player game against opponents drawn from a
pool of its past selves and fixed anchors (:mod:`emurl.train.selfplay.pool`); the
opponents act inside the env worker processes (:mod:`emurl.train.selfplay.opponent`)."""

from emurl.train.selfplay.pool import ANCHORS, Entry, Pool

__all__ = ["ANCHORS", "Entry", "Pool"]
