"""emurl._fastops (fused gray + area resize) against OpenCV, and GrayResizeObservation.

The reference is ``cv2.resize(cv2.cvtColor(img, COLOR_RGB2GRAY), (w, h), INTER_AREA)``:
every pixel must be within ±1 of it (and almost every pixel equal), on random images of
many sizes and on real screens of Breakout, Pong (Stella) and Airstriker (Genesis Plus GX).
"""

from __future__ import annotations

import warnings

import cv2
import gymnasium as gym
import numpy as np
import pytest

from emurl.wrappers import fastops
from emurl.wrappers import GrayResizeObservation, atari_pipeline

pytestmark = pytest.mark.skipif(not fastops.HAVE_FASTOPS, reason="emurl._fastops is not built")

SIZES = [(210, 160), (224, 320), (192, 256), (240, 256), (144, 160), (250, 160), (101, 77), (84, 84), (600, 800), (9, 17), (12, 6), (40, 32), (40, 33), (50, 47)]
TARGETS = [(84, 84), (42, 64), (1, 1), (5, 3)]


def isas() -> list[str]:
    """The kernels this machine can run (the portable one always)."""
    if not fastops.HAVE_FASTOPS:
        return ["generic"]
    from emurl import _fastops

    out = ["generic"]
    previous = _fastops.isa()
    try:
        _fastops.set_isa("avx2")
        out.append("avx2")
    except ValueError:
        pass
    finally:
        _fastops.set_isa(previous)
    return out


@pytest.fixture(params=isas())
def isa(request):
    from emurl import _fastops

    previous = _fastops.isa()
    _fastops.set_isa(request.param)
    yield request.param
    _fastops.set_isa(previous)


def reference(img: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 and img.shape[2] == 3 else img.reshape(img.shape[:2])
    return cv2.resize(gray, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)


def check_close(got: np.ndarray, want: np.ndarray, max_mismatch: float = 0.1) -> None:
    assert got.shape == want.shape and got.dtype == np.uint8
    diff = np.abs(got.astype(np.int16) - want.astype(np.int16))
    assert diff.max() <= 1, f"max |diff| {diff.max()} at {np.unravel_index(diff.argmax(), diff.shape)}"
    if got.size >= 1000:  # a rate means little on a handful of pixels
        assert (diff > 0).mean() <= max_mismatch


def fast(img: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    from emurl import _fastops

    out = np.full(shape, 77, np.uint8)
    _fastops.gray_resize_area(img, out, fastops.area_plan(img.shape[0], img.shape[1], *shape))
    return out


# -- the kernel ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=[f"{h}x{w}" for h, w in SIZES])
def test_random_images_match_cv2(size, isa):
    rng = np.random.default_rng(hash(size) % 2**32)
    for target in TARGETS + [size, (size[0] // 2 or 1, size[1] // 3 or 1)]:
        if target[0] > size[0] or target[1] > size[1]:
            continue
        img = rng.integers(0, 256, size + (3,), dtype=np.uint8)
        check_close(fast(img, target), reference(img, target))
    # no resize: the gray conversion alone is bit-exact to cvtColor's
    assert (fast(img, size) == cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)).all()


@pytest.mark.parametrize("size", [(210, 160), (224, 320), (192, 256)])
def test_smooth_and_flat_images(size, isa):
    """Gradients and flat colours (screens are mostly that): exact or off by one, rarely."""
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([(xx * 255 // (w - 1)), (yy * 255 // (h - 1)), ((xx + yy) % 256)], -1).astype(np.uint8)
    check_close(fast(img, (84, 84)), reference(img, (84, 84)), max_mismatch=0.02)
    for value in (0, 1, 127, 128, 254, 255):
        flat = np.full((h, w, 3), value, np.uint8)
        assert (fast(flat, (84, 84)) == reference(flat, (84, 84))).all()


def test_gray_inputs_and_strided_rows(isa):
    rng = np.random.default_rng(1)
    gray = rng.integers(0, 256, (210, 160), dtype=np.uint8)
    check_close(fast(gray, (84, 84)), reference(gray, (84, 84)))
    check_close(fast(gray[..., None], (84, 84)), reference(gray, (84, 84)))
    big = rng.integers(0, 256, (240, 200, 3), dtype=np.uint8)
    view = big[10:220, 20:180]  # a crop: strided rows, contiguous pixels
    assert not view.flags.c_contiguous
    assert (fast(view, (84, 84)) == fast(np.ascontiguousarray(view), (84, 84))).all()
    # the generic and the AVX2 kernels agree bit for bit
    assert (fast(view, (84, 84)) == fastops.gray_resize(np.ascontiguousarray(view), (84, 84))).all()


def test_kernels_agree_exactly():
    from emurl import _fastops

    if len(isas()) < 2:
        pytest.skip("only the portable kernel runs here")
    rng = np.random.default_rng(2)
    previous = _fastops.isa()
    try:
        for size in SIZES:
            img = rng.integers(0, 256, size + (3,), dtype=np.uint8)
            target = (min(84, size[0]), min(84, size[1]))
            _fastops.set_isa("generic")
            a = fast(img, target)
            _fastops.set_isa("avx2")
            b = fast(img, target)
            assert (a == b).all(), size
    finally:
        _fastops.set_isa(previous)


def test_bad_arguments_are_refused():
    from emurl import _fastops

    img = np.zeros((210, 160, 3), np.uint8)
    out = np.zeros((84, 84), np.uint8)
    plan = fastops.area_plan(210, 160, 84, 84)
    with pytest.raises(ValueError, match="does not match"):
        _fastops.gray_resize_area(np.zeros((200, 160, 3), np.uint8), out, plan)
    with pytest.raises(ValueError, match="does not match"):
        _fastops.gray_resize_area(img, np.zeros((84, 80), np.uint8), plan)
    with pytest.raises(ValueError, match="uint8"):
        _fastops.gray_resize_area(img.astype(np.float32), out, plan)
    with pytest.raises(ValueError, match="contiguous"):
        _fastops.gray_resize_area(np.zeros((210, 320, 3), np.uint8)[:, ::2], out, plan)
    with pytest.raises(ValueError, match="plan"):
        _fastops.gray_resize_area(img, out, b"\0" * 64)
    corrupt = bytearray(plan)
    corrupt[-4 * 17 :] = np.full(17, 10**6, np.int32).tobytes()  # the last op: a window far outside the row
    with pytest.raises(ValueError, match="plan"):
        _fastops.gray_resize_area(img, out, bytes(corrupt))
    frozen = np.zeros((84, 84), np.uint8)
    frozen.flags.writeable = False
    with pytest.raises((ValueError, BufferError)):
        _fastops.gray_resize_area(img, frozen, plan)
    with pytest.raises(ValueError, match="downscales"):
        fastops.area_plan(84, 84, 210, 160)


def test_gray_resize_upscale_falls_back_to_cv2():
    img = np.random.default_rng(3).integers(0, 256, (50, 40, 3), dtype=np.uint8)
    assert (fastops.gray_resize(img, (84, 84)) == reference(img, (84, 84))).all()


# -- real screens -------------------------------------------------------------------------------


@pytest.mark.parametrize("game", ["Breakout-Atari2600", "Pong-Atari2600", "Airstriker-Genesis"])
def test_real_screens_match_cv2(game, make_env, atari_roms, isa):
    env = make_env(game, frame_skip=4)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    screens = []
    for i in range(120):
        obs, _, terminated, truncated, _ = env.step(int(rng.integers(env.action_space.n)))
        if i % 8 == 0:
            screens.append(obs.copy())
        if terminated or truncated:
            env.reset()
    assert len({s.tobytes() for s in screens}) > 3, "the screens should differ"
    for screen in screens:
        for target in [(84, 84), (105, 80), (64, 48)]:
            check_close(fast(screen, target), reference(screen, target), max_mismatch=0.02)


# -- the wrapper --------------------------------------------------------------------------------


class ScreenEnv(gym.Env):
    """Random RGB screens, no emulator."""

    def __init__(self, shape=(210, 160, 3)):
        self.observation_space = gym.spaces.Box(0, 255, shape, np.uint8)
        self.action_space = gym.spaces.Discrete(2)
        self._rng = np.random.default_rng(0)

    def _obs(self):
        self.last = self._rng.integers(0, 256, self.observation_space.shape, dtype=np.uint8)
        return self.last

    def reset(self, *, seed=None, options=None):
        return self._obs(), {}

    def step(self, action):
        return self._obs(), 3.0, False, False, {}


@pytest.mark.parametrize("shape", [(210, 160, 3), (224, 320, 3), (192, 256, 3), (210, 160)])
def test_wrapper_space_and_observations(shape):
    env = GrayResizeObservation(ScreenEnv(shape), (84, 84))
    assert env.observation_space == gym.spaces.Box(0, 255, (84, 84), np.uint8)
    obs, _ = env.reset()
    assert env.observation_space.contains(obs)
    check_close(obs, reference(env.unwrapped.last, (84, 84)))
    obs2, *_ = env.step(0)
    assert obs2 is not obs and not np.shares_memory(obs, obs2)  # a frame stack may keep each one
    check_close(obs2, reference(env.unwrapped.last, (84, 84)))


def test_wrapper_fallback_without_the_extension(monkeypatch):
    fast_env = GrayResizeObservation(ScreenEnv(), (84, 84))
    monkeypatch.setattr(fastops, "HAVE_FASTOPS", False)
    monkeypatch.setattr(fastops, "_fastops", None)
    monkeypatch.setattr(fastops, "_warned", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        slow_env = GrayResizeObservation(ScreenEnv(), (84, 84))
        GrayResizeObservation(ScreenEnv(), (84, 84))
    assert [w.category for w in caught] == [RuntimeWarning]  # once
    assert slow_env.observation_space == gym.spaces.Box(0, 255, (84, 84), np.uint8)
    for _ in range(3):
        a, *_ = fast_env.step(0)
        b, *_ = slow_env.step(0)
        assert (fast_env.unwrapped.last == slow_env.unwrapped.last).all()
        assert (b == reference(slow_env.unwrapped.last, (84, 84))).all()
        check_close(a, b)


def test_atari_pipeline_uses_it():
    env = atari_pipeline(ScreenEnv())
    assert env.observation_space == gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
    obs, _ = env.reset()
    _, reward, *_ = env.step(0)
    assert reward == 1.0 and isinstance(reward, float)
    inner = env
    while not isinstance(inner, GrayResizeObservation):
        inner = inner.env
    obs, *_ = env.step(0)
    check_close(obs[-1], reference(env.unwrapped.last, (84, 84)))
    rgb = atari_pipeline(ScreenEnv(), grayscale=False)
    assert rgb.observation_space.shape == (4, 84, 84, 3)


def test_bf16_policy_has_the_nature_heads_of_the_fp32_policy():
    import gymnasium as gym
    from stable_baselines3 import PPO
    from stable_baselines3.common.envs import IdentityEnv  # noqa: F401  (SB3 present)

    from emurl.train.policies import BF16NatureCNN

    class Pixels(gym.Env):
        observation_space = gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
        action_space = gym.spaces.Discrete(4)

        def reset(self, *, seed=None, options=None):
            return self.observation_space.sample(), {}

        def step(self, a):
            return self.observation_space.sample(), 0.0, False, False, {}

    shapes = {}
    for name, kw in {"fp32": {}, "bf16": {"features_extractor_class": BF16NatureCNN, "net_arch": []}}.items():
        model = PPO("CnnPolicy", Pixels(), policy_kwargs=kw, n_steps=8, batch_size=8, device="cpu")
        shapes[name] = {k.replace("pi_features_extractor", "features_extractor"): tuple(v.shape)
                        for k, v in model.policy.state_dict().items()}
    assert shapes["fp32"] == shapes["bf16"]
    from emurl.train.policies import policy_kwargs

    kw = policy_kwargs("bf16", "rgb") if __import__("emurl.train.policies", fromlist=["x"]).bf16_supported() else None
    if kw is not None:
        assert kw["net_arch"] == []
