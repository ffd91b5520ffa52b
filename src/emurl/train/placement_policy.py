"""A MaskablePPO policy that scores each placement from its own row of features: the
``placement_scorer`` policy (``policy: placement_scorer``).

The observation is a ``Dict`` with a ``"placements"`` key (uint8 (P, F): one row per
placement action, in action order; an env with ``placement_features`` on,
:class:`~emurl.wrappers.tree_features.PlacementFeaturesObservation`) and the env's other
features (e.g. Dr. Mario's planes, uint8 (C, H, W), and vector, float32 (V,)). The policy:

- **context**: each other key embedded (a key of shape (C, H, W) by two 3×3 convolutions,
  16 and 32 channels, the second at stride 2; a vector as it is), concatenated and mapped
  to ``context_dim`` units (ReLU): what the placement rows do not say (the opponent's
  bottle, the next capsule, the viruses left, ...);
- **scores**: ONE MLP shared by every row, ``[row scaled, context] -> hidden -> hidden -> 1``
  (ReLU), so placement ``i``'s logit depends only on row ``i`` and the context (permuting the
  rows permutes the logits). Rows are bytes: each feature ``x`` enters twice, as
  ``min(x, 16) / 16`` (small counts apart) and ``log(1 + x) / log(256)`` (a 0-255 score
  difference such as Dr. Mario's ``lag`` without swamping the rest), both in [0, 1]. The P
  scores are the logits of the action distribution (MaskablePPO's mask still applies);
- **value**: ``[context, max over rows, mean over rows of the scorer's last hidden layer]``
  -> hidden (ReLU) -> 1.

Defaults (``context_dim=64``, ``hidden=64``) on MiniDoc-Nes's observation (planes (12, 16, 8),
vector (46,), placements (32, 23)): 98,674 parameters (:func:`count_parameters`).

Checkpoints are Stable-Baselines3's zips: the policy class is stored by its import path,
so ``MaskablePPO.load`` (resume, evaluation, the self-play pool's snapshots in the env
workers, the league) builds it again with no extra argument.
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import torch
from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from emurl.wrappers.tree_features import KEY  # the observation key of the placement rows

_LINEAR_CAP = 16.0


def scale_rows(rows: torch.Tensor) -> torch.Tensor:
    """float (N, P, F) bytes → float (N, P, 2F) in [0, 1]: ``min(x, 16) / 16`` then
    ``log(1 + x) / log(256)`` per feature."""
    x = rows.float().clamp(0, 255)
    return torch.cat([x.clamp(max=_LINEAR_CAP) / _LINEAR_CAP, torch.log1p(x) / math.log(256.0)], dim=-1)


def _grid_net(channels: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(channels, 16, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten())


class PlacementScorerExtractor(BaseFeaturesExtractor):
    """The whole network but the value's last layer: its output, float (N, P + hidden), is
    the P placement logits followed by the value's hidden layer (split again by
    :class:`_Split`).

    Args:
        observation_space: a ``Dict`` with :data:`KEY` (Box (P, F)) and at least one other key.
        context_dim: units of the context embedding.
        hidden: units of the scorer's two hidden layers and of the value's.

    Raises:
        ValueError: no :data:`KEY` of shape (P, F) in the space, or no other key.
    """

    def __init__(self, observation_space: gym.spaces.Dict, context_dim: int = 64, hidden: int = 64):
        spaces = getattr(observation_space, "spaces", None)
        if not isinstance(observation_space, gym.spaces.Dict) or KEY not in spaces or len(spaces[KEY].shape) != 2:
            raise ValueError(f"the placement scorer needs a Dict observation with {KEY!r} of shape (placements, "
                             f"features) (set placement_features: true); got {observation_space}")
        others = {k: s for k, s in spaces.items() if k != KEY}
        if not others:
            raise ValueError(f"the placement scorer needs context besides {KEY!r}; the observation has nothing else")
        n_rows, n_features = spaces[KEY].shape
        super().__init__(observation_space, features_dim=n_rows + hidden)
        self.n_rows, self.hidden = int(n_rows), int(hidden)
        self.embed = nn.ModuleDict()
        size = 0
        for k, s in others.items():
            if len(s.shape) == 3:  # (C, H, W) planes
                net = _grid_net(s.shape[0])
                with torch.no_grad():
                    size += net(torch.zeros(1, *s.shape)).shape[1]
            else:
                net = nn.Flatten()
                size += int(np.prod(s.shape))
            self.embed[k] = net
        self.context = nn.Sequential(nn.Linear(size, context_dim), nn.ReLU())
        self.row_net = nn.Sequential(nn.Linear(2 * n_features + context_dim, hidden), nn.ReLU(),
                                     nn.Linear(hidden, hidden), nn.ReLU())
        self.score = nn.Linear(hidden, 1)
        self.value = nn.Sequential(nn.Linear(context_dim + 2 * hidden, hidden), nn.ReLU())

    def forward(self, observations: dict) -> torch.Tensor:
        parts = [self.embed[k](observations[k].float()) for k in self.embed]
        context = self.context(torch.cat([p.flatten(1) for p in parts], dim=1))  # (N, context_dim)
        rows = scale_rows(observations[KEY])  # (N, P, 2F)
        h = self.row_net(torch.cat([rows, context.unsqueeze(1).expand(-1, rows.shape[1], -1)], dim=-1))
        logits = self.score(h).squeeze(-1)  # (N, P)
        value = self.value(torch.cat([context, h.max(dim=1).values, h.mean(dim=1)], dim=1))
        return torch.cat([logits, value], dim=1)


class _Split(nn.Module):
    """SB3's ``mlp_extractor`` slot: the extractor's output cut into the logits (actor) and
    the value's hidden layer (critic)."""

    def __init__(self, n_rows: int, hidden: int):
        super().__init__()
        self.n_rows = n_rows
        self.latent_dim_pi, self.latent_dim_vf = n_rows, hidden

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.forward_actor(features), self.forward_critic(features)

    def forward_actor(self, features: torch.Tensor) -> torch.Tensor:
        return features[:, :self.n_rows]

    def forward_critic(self, features: torch.Tensor) -> torch.Tensor:
        return features[:, self.n_rows:]


class PlacementScorerPolicy(MaskableActorCriticPolicy):
    """sb3-contrib's ``MaskableActorCriticPolicy`` with :class:`PlacementScorerExtractor` as
    the network: the extractor's scores are the logits (no action layer after them), its
    value units feed the value layer. Arguments as ``MaskableActorCriticPolicy``'s
    (``features_extractor_kwargs``: ``context_dim``, ``hidden``); ``net_arch`` is unused.

    Initialisation: SB3's orthogonal one (gain √2), then the score layer at gain 0.01, as
    SB3 does its action layer, so a new policy is close to uniform over the allowed placements.

    Raises:
        ValueError: the action space is not ``Discrete(P)`` for the P placement rows.
    """

    def __init__(self, observation_space, action_space, lr_schedule, *args,
                 features_extractor_class=PlacementScorerExtractor, **kwargs):
        super().__init__(observation_space, action_space, lr_schedule, *args,
                         features_extractor_class=features_extractor_class, **kwargs)

    def _build_mlp_extractor(self) -> None:
        extractor = self.features_extractor
        if not isinstance(self.action_space, gym.spaces.Discrete) or self.action_space.n != extractor.n_rows:
            raise ValueError(f"the placement scorer gives one logit per {KEY!r} row ({extractor.n_rows}); the action "
                             f"space is {self.action_space}")
        self.mlp_extractor = _Split(extractor.n_rows, extractor.hidden)

    def _build(self, lr_schedule) -> None:
        super()._build(lr_schedule)
        self.action_net = nn.Identity()  # the scores are the logits
        for extractor in {self.features_extractor, self.pi_features_extractor, self.vf_features_extractor}:
            extractor.score.apply(lambda m: self.init_weights(m, gain=0.01))
        self.optimizer = self.optimizer_class(self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs)


def count_parameters(module: nn.Module) -> int:
    """Trainable parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


__all__ = ["KEY", "PlacementScorerExtractor", "PlacementScorerPolicy", "count_parameters", "scale_rows"]
