"""Cloning starts at the prior: the action head's bias gives the dataset's action
frequencies and the value head's the mean return (emurl.train.bc_fit.start_at_prior)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.policies import ActorCriticPolicy

from emurl.train.bc_fit import start_at_prior


def test_heads_start_at_the_action_frequencies_and_the_mean_return():
    policy = ActorCriticPolicy(gym.spaces.Box(-1, 1, (5,), np.float32), gym.spaces.Discrete(4), lambda _: 1e-3)
    actions = np.array([0] * 69 + [1] * 19 + [2] * 9)  # action 3 never taken: counted once (+1 each)
    returns = np.array([1.0, 2.0, 6.0], np.float32)
    start_at_prior(policy, actions, returns)
    probs = torch.softmax(policy.action_net.bias, 0).detach().numpy()
    np.testing.assert_allclose(probs, np.array([70, 20, 10, 1]) / 101, rtol=1e-6)
    assert abs(float(policy.action_net.bias.sum())) < 1e-5  # centred
    assert float(policy.value_net.bias) == 3.0
    # with zero features (weights zeroed) the policy then predicts exactly the prior
    with torch.no_grad():
        policy.action_net.weight.zero_()
        dist = policy.get_distribution(torch.zeros(1, 5))
    np.testing.assert_allclose(dist.distribution.probs[0].numpy(), probs, rtol=1e-6)
