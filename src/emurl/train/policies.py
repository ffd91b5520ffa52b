"""Policy networks: Stable-Baselines3's, with the convolutions in bfloat16 where the CPU has it.

On this project's machines (AMD EPYC with AVX512-BF16) one PPO update of the Nature CNN
on a 256-sample batch of 4×84×84 takes ~150 ms in float32 and ~40 ms with the
convolutional trunk under ``torch.autocast(bfloat16)`` (``benchmarks/bench_train.py``).
Only the trunk runs in bfloat16: its output is cast back to float32, so the policy and
value heads, log-probabilities and PPO ratios stay in float32.
"""

from __future__ import annotations

import gymnasium as gym
import torch
from stable_baselines3.common.torch_layers import NatureCNN

from emurl.train.placement_policy import PlacementScorerPolicy

CUSTOM_POLICIES = {"placement_scorer": PlacementScorerPolicy}
"""The ``policy`` settings other than ``auto`` (:data:`emurl.train.config.POLICIES`) → their class."""


def bf16_supported() -> bool:
    """True when this CPU runs bfloat16 matrix math natively (AVX512-BF16 or AMX)."""
    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:
        return False


class BF16NatureCNN(NatureCNN):
    """The Nature CNN (Mnih et al. 2015) with its forward pass under bfloat16 autocast.

    Input: uint8 observations already scaled by SB3 to float32 (N, C, 84, 84) in [0, 1].
    Output: float32 (N, features_dim). Parameters and gradients stay float32.
    """

    def __init__(self, observation_space: gym.Space, features_dim: int = 512, normalized_image: bool = False):
        super().__init__(observation_space, features_dim, normalized_image)

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        with torch.autocast(device_type=observations.device.type, dtype=torch.bfloat16):
            out = self.linear(self.cnn(observations))
        return out.float()


def policy_kwargs(precision: str, obs_type: str) -> dict:
    """SB3 ``policy_kwargs`` for a precision setting: ``"fp32"``, ``"bf16"`` or ``"auto"``.

    Raises:
        ValueError: an unknown precision, or ``"bf16"`` on a CPU without bfloat16 support.
    """
    if precision not in ("auto", "fp32", "bf16"):
        raise ValueError(f"precision must be auto, fp32 or bf16, got {precision!r}")
    if obs_type != "rgb" or precision == "fp32":
        return {}
    if precision == "auto" and not bf16_supported():
        return {}
    if precision == "bf16" and not bf16_supported() and not torch.cuda.is_available():
        raise ValueError("precision bf16: this CPU has no native bfloat16 (AVX512-BF16/AMX); use fp32")
    # net_arch=[]: SB3 gives a CnnPolicy the Nature heads (linear pi and vf on the 512
    # features) only when the extractor class IS NatureCNN; for any other class it adds
    # [64, 64] tanh layers, which made the bf16 policy a different (and worse) network.
    return {"features_extractor_class": BF16NatureCNN, "net_arch": []}
