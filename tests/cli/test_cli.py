"""Smoke runs of every CLI verb with a tiny budget, in a subprocess as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import imageio.v2 as imageio
import pytest
import yaml

EMURL = [sys.executable, "-m", "emurl.cli"]


def run(*args, ok=True, timeout=300):
    env = dict(os.environ, SDL_VIDEODRIVER="dummy")
    proc = subprocess.run(EMURL + list(args), capture_output=True, text=True, timeout=timeout, env=env)
    if ok and proc.returncode != 0:
        raise AssertionError(f"emurl {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def test_games_list_and_show():
    out = run("games", "list").stdout.split()
    assert len(out) >= 1000 and "Airstriker-Genesis" in out and "Breakout-Atari2600" in out
    playable = run("games", "list", "--playable").stdout.split()
    assert "Airstriker-Genesis" in playable
    show = run("games", "show", "Airstriker-Genesis").stdout
    assert "score" in show and "0xff024e" in show and "Level1 (default)" in show and "found:" in show


def python(code: str) -> str:
    """Run ``code`` in a fresh Python (what a new process imports is the point); its stdout."""
    env = dict(os.environ, SDL_VIDEODRIVER="dummy")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_light_verbs_load_neither_torch_nor_sb3():
    """`emurl games list` and every parser's --help start without PyTorch or Stable-Baselines3
    (1.7 s to import): only train, eval, bc and bench load them, inside the verb."""
    out = python("import sys; from emurl.cli import build_parser, main; main(['games', 'list']); build_parser(); "
                 "print(sorted(m for m in ('torch', 'stable_baselines3') if m in sys.modules))")
    assert out.splitlines()[-1] == "[]"


def test_import_emurl_registers_the_gymnasium_ids():
    """`import emurl` alone makes `gymnasium.make("emurl/<Game>-v0")` work; the env classes
    themselves load on first use of `emurl.make`."""
    out = python("import gymnasium, emurl; env = gymnasium.make('emurl/Airstriker-Genesis-v0'); "
                 "print(env.observation_space.shape, emurl.make is emurl.envs.make); env.close()")
    assert out.split()[-1] == "True"


def test_roms_import_from_ale_py(tmp_path, monkeypatch):
    monkeypatch.setenv("EMURL_DATA_DIR", str(tmp_path))
    assert "Breakout-Atari2600" not in run("games", "list", "--playable").stdout.split()
    out = run("roms", "import", "--from", "ale-py").stdout
    assert "imported Breakout-Atari2600" in out
    assert (tmp_path / "roms" / "Breakout-Atari2600" / "rom.a26").is_file()
    assert "Breakout-Atari2600" in run("games", "list", "--playable").stdout.split()
    assert "minimal (ALE's): none, BUTTON, RIGHT, LEFT" in run("games", "show", "Breakout-Atari2600").stdout


def test_errors_exit_2_with_a_message(tmp_path, monkeypatch):
    proc = run("games", "show", "Airstriker-Genesys", ok=False)
    assert proc.returncode == 2 and "Airstriker-Genesis" in proc.stderr and "Traceback" not in proc.stderr
    monkeypatch.setenv("EMURL_DATA_DIR", str(tmp_path))
    proc = run("train", "--game", "Pong-Atari2600", "--total-steps", "64", ok=False)
    assert proc.returncode == 2 and "emurl roms import" in proc.stderr
    proc = run("train", "--set", "learning_rat=1", ok=False)
    assert proc.returncode == 2 and "learning_rate" in proc.stderr
    proc = run("eval", str(tmp_path / "nothing"), ok=False)
    assert proc.returncode == 2 and "no such run folder" in proc.stderr


@pytest.mark.slow
def test_train_resume_eval(tmp_path):
    runs = tmp_path / "runs"
    out = run(
        "train", "--game", "emurl/Airstriker-Genesis-v0", "--total-steps", "256", "--num-envs", "2",
        "--n-steps", "64", "--batch-size", "64", "--n-epochs", "1", "--checkpoint-every", "128",
        "--eval-every", "0", "--eval-max-steps", "60", "--runs-dir", str(runs), "--no-progress", "--show", "1",
    ).stdout
    # a registered id names the game once, canonical: runs/Airstriker-Genesis__ppo__..., not runs/emurl/...
    (run_dir,) = runs.iterdir()
    assert f"watch it live: emurl watch {run_dir.name} --workers 0\n" in out  # the job is the run folder's name
    assert run_dir.name.startswith("Airstriker-Genesis__ppo__0__") and run_dir.is_dir()
    cfg = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert cfg["total_steps"] == 256 and cfg["num_envs"] == 2
    # the env's settings frozen once, under env:, with the game's preset applied (2000, not 4500)
    assert cfg["env"]["game"] == "Airstriker-Genesis" and cfg["env"]["max_episode_steps"] == 2000
    ckpts = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    assert {"latest.zip", "model_128.zip", "model_256.zip"} <= set(ckpts)
    assert not [p for p in ckpts if "tmp" in p], ckpts
    assert list((run_dir / "tb").rglob("events.out.tfevents.*"))
    (video,) = (run_dir / "videos").glob("*.mp4")
    frames = list(imageio.get_reader(str(video)).iter_data())
    assert len(frames) > 10 and frames[0].shape == (224, 320, 3) and frames[-1].std() > 0

    out = run("train", "--resume", str(run_dir), "--total-steps", "384", "--no-progress", "--show", "3").stdout
    assert f"emurl watch {run_dir.name} --workers 0,1\n" in out  # 3 asked, 2 env workers
    assert (run_dir / "checkpoints" / "model_384.zip").is_file()
    from stable_baselines3 import PPO

    assert PPO.load(run_dir / "checkpoints" / "latest.zip").num_timesteps == 384

    out = run("eval", str(run_dir), "--episodes", "2", "--video").stdout
    assert "over 2 episodes" in out
    res = json.loads((run_dir / "eval.json").read_text())
    assert res["episodes"] == 2 and len(res["returns"]) == 2 and res["steps"] == 384
    assert all(n <= 60 for n in res["lengths"])
    assert len(list(imageio.get_reader(str(run_dir / "videos" / "eval_final.mp4")).iter_data())) > 10
    assert res["backend"] is None  # the run's: the system's default

    run("eval", str(run_dir), "--episodes", "1", "--backend", "retro")
    assert json.loads((run_dir / "eval.json").read_text())["backend"] == "retro"
    proc = run("eval", str(run_dir), "--episodes", "1", "--backend", "desmume", ok=False)
    assert proc.returncode == 2 and "runs Nintendo DS games, not Genesis" in proc.stderr


@pytest.mark.slow
def test_sigterm_stops_training_with_a_checkpoint_to_resume(tmp_path):
    import signal
    import time

    runs = tmp_path / "runs"
    env = dict(os.environ, SDL_VIDEODRIVER="dummy")
    proc = subprocess.Popen(
        EMURL + ["train", "--game", "Airstriker-Genesis", "--total-steps", "1000000", "--num-envs", "1",
                 "--n-steps", "32", "--batch-size", "32", "--n-epochs", "1", "--checkpoint-every", "0",
                 "--eval-every", "0", "--runs-dir", str(runs), "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        deadline = time.time() + 240
        while time.time() < deadline and not list(runs.rglob("events.out.tfevents.*")):
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.5)
        time.sleep(3)  # some updates
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "SIGTERM: stopped at" in err and "--resume" in err
    (run_dir,) = runs.iterdir()
    from stable_baselines3 import PPO

    steps = PPO.load(run_dir / "checkpoints" / "latest.zip").num_timesteps
    assert 0 < steps < 1_000_000
    assert not list((run_dir / "checkpoints").glob("*tmp*"))
    run("train", "--resume", str(run_dir), "--total-steps", str(steps + 64), "--no-progress")
    assert PPO.load(run_dir / "checkpoints" / "latest.zip").num_timesteps >= steps + 64


@pytest.mark.slow
def test_train_dqn_on_ram(tmp_path):
    runs = tmp_path / "runs"
    run(
        "train", "--game", "Airstriker-Genesis", "--algo", "dqn", "--obs-type", "ram", "--total-steps", "200",
        "--num-envs", "1", "--learning-starts", "50", "--buffer-size", "1000", "--batch-size", "32",
        "--eval-every", "0", "--eval-max-steps", "30", "--video", "false", "--runs-dir", str(runs), "--no-progress",
    )
    (run_dir,) = runs.iterdir()
    from stable_baselines3 import DQN

    model = DQN.load(run_dir / "checkpoints" / "latest.zip")
    assert model.num_timesteps == 200 and model.observation_space.shape == (65536,)


@pytest.mark.slow
def test_bench_json():
    res = json.loads(run("bench", "--game", "Airstriker-Genesis", "--seconds", "0.5", "--json").stdout)
    assert (res["game"], res["system"], res["meta"]["seconds"]) == ("Airstriker-Genesis", "Genesis", 0.5)
    # every subject ran every round (0.5 s in chunks of ~0.25 s: at least 3 rounds)
    subjects = {"emulator", "emulator_play", "emulator_idle", "env", "peer", "vec1", "vec2"}
    assert set(res["rounds"]) == subjects and res["meta"]["rounds"] == 3
    for name, rates in res["rounds"].items():
        assert len(rates) == 3 and min(rates) > 0, name
    # the recorded pass: whole episodes of 4-frame steps (an episode's last one cut short by up
    # to 3 frames), plus one frame per reset
    trace = res["trace"]
    step_frames = trace["frames"] - trace["resets"]
    assert trace["resets"] >= 1 and 4 * trace["steps"] - 3 * trace["resets"] <= step_frames <= 4 * trace["steps"]

    def quotient(a, b, ratio):  # rates are rounded to 0.1, ratios to 0.001
        assert ratio == pytest.approx(a / b, rel=1e-3, abs=6e-4), (a, b, ratio)

    assert res["emulator_steps_per_s"] == pytest.approx(res["emulator_fps"] * trace["steps"] / trace["frames"], abs=0.1)
    assert res["env_frames_per_s"] == pytest.approx(4 * res["env_steps_per_s"], abs=0.3)
    quotient(res["env_steps_per_s"], res["emulator_steps_per_s"], res["overhead_ratio"])
    quotient(res["env_steps_per_s"], res["peer_steps_per_s"], res["speedup_vs_peer"])
    quotient(res["emulator_steps_per_s"], res["peer_steps_per_s"], res["emulator_vs_peer"])
    quotient(res["vec2_steps_per_s"], res["vec1_steps_per_s"], res["vec2_scaling"])
    assert res["screen"] == [224, 320, 3]
    assert 0 < res["env_detail"]["emulator_share"] <= 1


def test_bench_raw_replay_redoes_the_envs_emulator_work(atari_roms):
    """The raw subject of `emurl bench` replays the env's own emulator calls: whole
    episodes with their resets (Breakout: a Stella core reload each), ending in the
    env's RAM."""
    from emurl.bench import _Subject

    env = _Subject("env", "env", "Breakout-Atari2600", 0, 300)
    raw = _Subject("emulator", "raw", "Breakout-Atari2600", 0, "replay")
    try:
        env.ready()
        raw.ready()
        trace = env.call("trace", None)
        assert trace["steps"] >= 300 and trace["resets"] >= 2  # random Breakout games last ~160 steps
        assert trace["frames"] >= 4 * trace["steps"]  # frame skip 4, plus the resets' no-op frames
        assert trace["ops"][0][0] == "load"  # it starts with a reset's load_state
        raw.call("set_trace", trace)
        assert raw.call("replay_once", None) == trace["ram"]
        out = raw.call("run", 0.2)
        assert isinstance(out["units"], int) and out["units"] > 0  # whole frames replayed
        assert out["wall_s"] >= 0.2 and out["cpu_s"] > 0
        # the timed loop leaves the emulator mid-trace; a pass from the start still ends in the env's RAM
        assert raw.call("replay_once", None) == trace["ram"]
    finally:
        env.close()
        raw.close()


def test_a_reader_that_leaves_early_is_no_error():
    """`emurl games list | head -1`: the pipe closes under emurl; no traceback, exit status 0."""
    proc = subprocess.Popen(EMURL + ["games", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, SDL_VIDEODRIVER="dummy"))
    assert proc.stdout.readline()
    proc.stdout.close()  # like `head` after its line
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and b"Traceback" not in err, err.decode()[-2000:]
