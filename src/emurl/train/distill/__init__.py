"""Distillation (issue 17, phase 2): a policy (a self-play run's, or the rule-based player)
distilled by DAgger into a decision tree over features a 6502 computes from RAM, exported
as C and ca65 assembly, with its agreement, size and closed-loop win rates in
``distill.json``.

- :mod:`~emurl.train.distill.tree`: the tree as node arrays, the mask fallback, the fit;
- :mod:`~emurl.train.distill.dagger`: teacher, rollouts, the DAgger loop, agreement;
- :mod:`~emurl.train.distill.export`: C, ca65, assembled bytes, a 6502 check;
- :mod:`~emurl.train.distill.report`: closed-loop win rates, ``distill.json``;
- :mod:`~emurl.train.distill.run`: all of it for ``emurl distill``.

The features themselves are game logic: :mod:`emurl.games.drmario.tree_features`, handed
over by :class:`emurl.wrappers.tree_features.TreeFeaturesInfo` (train may not import games).
"""
