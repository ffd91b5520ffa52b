"""The browser dashboard (emurl.watch.dashboard): a real server on a free port over run folders
written here (config, evaluations, checkpoints, a real mp4, NEAT generations, a self-play
pool and league, TensorBoard events); HTTP answers; path traversal refused; and in a real
headless browser (Debian's Chromium, driven over the DevTools protocol) a run's page shows its
curve and video, its screenshot is not blank, and a live tile follows a publishing worker.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from emurl.cli import main
from emurl.errors import ConfigError
from emurl.movies.replay import write_video
from emurl.vector.frames import FramePublisher, frame_name
from emurl.watch.dashboard import bind, server, tile_label
from emurl.watch.dashboard_runs import job_of

RL = "Pong-Atari2600__ppo__0__1000"
NEAT = "MiniKart-NintendoDs__neat__0__2000"
SP = "MiniDoc-Nes__maskable_ppo__0__3000"
TB = "Breakout-Atari2600__dqn__0__4000"
SECRET = "top secret: not in the runs folder"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _png(path: Path, colour) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 30), colour).save(path)


def make_runs(base: Path) -> Path:
    """A runs folder with four runs written file by file as the trainers write them, a secret
    file beside it, and links that point out of it."""
    root = base / "runs"
    rl = root / RL
    _write(rl / "config.yaml", "env:\n  game: Pong-Atari2600\n  obs_type: image\nalgo: ppo\nseed: 0\n")
    evals = [{"steps": 1024, "mean_return": -3.0, "episodes": 2}, {"steps": 2048, "mean_return": 4.5, "episodes": 2},
             {"steps": 3072, "mean_return": 1.0, "episodes": 2}]
    _write(rl / "evaluations.jsonl", "".join(json.dumps(e) + "\n" for e in evals) + '{"steps": 40')  # a line being written
    (rl / "checkpoints").mkdir()
    for name in ("model_3072.zip", "model_4096.zip", "latest.zip", "best.zip"):
        (rl / "checkpoints" / name).write_bytes(b"PK")
    _write(rl / "eval.json", json.dumps({"mean_return": 2.5, "std_return": 0.5, "episodes": 4, "steps": 4096}))
    frames = [np.full((48, 64, 3), (40 * i, 255 - 30 * i, 90), np.uint8) for i in range(8)]
    write_video(frames, rl / "videos" / "eval_2048.mp4", fps=30)
    write_video(frames[::-1], rl / "videos" / "eval_1024.mp4", fps=30)
    neat = root / NEAT
    _write(neat / "config.yaml", "env:\n  game: MiniKart-NintendoDs\ngenerations: 3\n")
    _write(neat / "neat.ini", "[NEAT]\npop_size = 10\n")
    gens = [{"generation": g, "best_fitness": 1.0 + g, "mean_fitness": 0.5 + g / 2, "species": 1 + g, "best_nodes": 3,
             "best_connections": 39, "genomes": 10, "seconds": 2.0} for g in range(3)]
    _write(neat / "generations.jsonl", "".join(json.dumps(r) + "\n" for r in gens))
    _png(neat / "best" / "gen_2.png", (0, 120, 0))
    sp = root / SP
    _write(sp / "config.yaml", "env:\n  game: MiniDoc-Nes\nalgo: maskable_ppo\nselfplay: true\n")
    pool = {"entries": [{"id": "current", "kind": "current", "steps": 0, "games": 10, "wins": 4},
                        {"id": "greedy", "kind": "anchor", "steps": 0, "games": 8, "wins": 2}]}
    _write(sp / "pool" / "pool.json", json.dumps(pool))
    league = {"games_per_pair": 4, "rating": "Bradley-Terry", "pairs": [],
              "players": [{"id": "random", "steps": 0, "rating": 0.0}, {"id": "final", "steps": 5000, "rating": 212.5}]}
    _write(sp / "league.json", json.dumps(league))
    _png(sp / "league.png", (200, 30, 30))
    tb = root / TB
    _write(tb / "config.yaml", "env:\n  game: Breakout-Atari2600\nalgo: dqn\n")
    from torch.utils.tensorboard import SummaryWriter  # the writer the trainers use

    with SummaryWriter(str(tb / "tb" / "DQN_1")) as writer:
        for step in range(5):
            writer.add_scalar("rollout/ep_rew_mean", step * 2.0, step * 100)
    # what must never be served: a file beside the runs folder, reached by links from inside it
    _write(base / "secret.txt", SECRET)
    _write(base / "outside_run" / "config.yaml", f"env:\n  game: {SECRET}\n")
    (rl / "videos" / "leak.mp4").symlink_to(base / "secret.txt")
    (rl / "leak.yaml").symlink_to(base / "secret.txt")
    (root / "linked_run").symlink_to(base / "outside_run")
    return root


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """(runs folder, base URL) of a dashboard served from a thread of this process."""
    root = make_runs(tmp_path_factory.mktemp("dash"))
    srv, sock = server(root, "127.0.0.1", sock=bind("127.0.0.1", 0))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    port = sock.getsockname()[1]
    for _ in range(500):
        if srv.started:
            break
        time.sleep(0.01)
    yield root, f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


def get(base: str, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """One request with ``path`` sent exactly as written (http.client does not normalise it)."""
    host, port = base.rsplit("/", 1)[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", path, headers=headers or {})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body


def test_runs_are_summarised(site):
    root, base = site
    status, _, body = get(base, "/api/runs")
    assert status == 200
    runs = {r["name"]: r for r in json.loads(body)["runs"]}
    assert set(runs) == {RL, NEAT, SP, TB}  # the link to a folder outside is no run of this folder
    assert (runs[RL]["game"], runs[RL]["algo"], runs[RL]["steps"], runs[RL]["best"]) == ("Pong-Atari2600", "ppo", 4096, 4.5)
    assert runs[RL]["final"]["mean_return"] == 2.5
    assert (runs[NEAT]["kind"], runs[NEAT]["generations"], runs[NEAT]["best"]) == ("neat", 3, 3.0)
    assert runs[SP]["kind"] == "self-play" and "league" in runs[SP]["tags"]
    status, _, page = get(base, "/")
    text = page.decode()
    assert status == 200 and all(f'href="/run/{name}"' in text for name in runs) and "linked_run" not in text


def test_run_pages_show_their_statistics(site):
    _, base = site
    text = get(base, f"/run/{SP}")[2].decode()
    assert "Opponent pool" in text and "212.5" in text and f'src="/files/{SP}/league.png"' in text
    text = get(base, f"/run/{NEAT}")[2].decode()
    assert "NEAT generations" in text and f'src="/files/{NEAT}/best/gen_2.png"' in text
    for name in (RL, NEAT, TB):  # evaluations, generations, TensorBoard: each a curve
        status, headers, png = get(base, f"/run/{name}/curves.png")
        assert status == 200 and headers["content-type"] == "image/png"
        assert len(np.unique(np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3), axis=0)) > 10
    assert get(base, f"/run/{SP}/curves.png")[0] == 404  # nothing to draw yet
    assert get(base, "/run/no_such_run")[0] == 404


def test_videos_are_served_as_mp4_with_ranges(site):
    root, base = site
    status, headers, body = get(base, f"/files/{RL}/videos/eval_2048.mp4")
    assert status == 200 and headers["content-type"] == "video/mp4"
    assert body == (root / RL / "videos" / "eval_2048.mp4").read_bytes()
    status, headers, body = get(base, f"/files/{RL}/videos/eval_2048.mp4", {"Range": "bytes=4-11"})
    assert status == 206 and body == (root / RL / "videos" / "eval_2048.mp4").read_bytes()[4:12]
    page = get(base, f"/run/{RL}")[2].decode()
    assert page.index("eval_2048.mp4") < page.index("eval_1024.mp4")  # newest evaluation first


@pytest.mark.parametrize("path", [
    "/files/../secret.txt", f"/files/{RL}/../../secret.txt", "/files/%2e%2e/secret.txt",
    f"/files/{RL}/%2e%2e/%2e%2e/secret.txt", f"/files/{RL}/..%2f..%2fsecret.txt", "/files//etc/passwd",
    "/files/%2fetc%2fpasswd", "/files/%2Fetc/passwd", f"/files/{RL}/videos/leak.mp4", f"/files/{RL}/leak.yaml",
    "/files/linked_run/config.yaml", "/run/linked_run", "/run/..", "/run/%2e%2e", f"/files/{RL}/checkpoints/best.zip",
    f"/files/{RL}/..\\..\\secret.txt", "/static/../../../../../../etc/passwd", "/static/%2e%2e/dashboard.py",
    "/live/frame/..%2f..%2fsecret.txt", "/live/frame/emurl-frames-no_job-0", "/live/frame/psm_0123",
])
def test_nothing_outside_the_runs_folder_is_served(site, path):
    status, _, body = get(site[1], path)
    assert status in (400, 404) and SECRET.encode() not in body and b"root:" not in body


def test_only_local_host_names_are_answered(site):
    assert get(site[1], "/", {"Host": "evil.example:80"})[0] == 400  # a DNS-rebinding page
    assert get(site[1], "/", {"Host": "localhost"})[0] == 200


def test_a_taken_port_is_a_config_error():
    sock = bind("127.0.0.1", 0)
    assert sock.proto == socket.IPPROTO_TCP  # asyncio sets TCP_NODELAY on its connections only then (bind's comment)
    with pytest.raises(ConfigError, match="cannot listen"):
        bind("127.0.0.1", sock.getsockname()[1])
    sock.close()


def test_tile_label():
    assert tile_label("2", {"genome": 17, "fitness": 1.25}) == "worker 2 · genome 17 · fitness 1.25"


def test_cli_serves_and_refuses_a_missing_folder(site, tmp_path, capsys):
    assert main(["dashboard", str(tmp_path / "nothing")]) == 2
    assert "no such runs folder" in capsys.readouterr().err
    env = dict(os.environ, SDL_VIDEODRIVER="dummy")
    proc = subprocess.Popen([sys.executable, "-m", "emurl.cli", "dashboard", str(site[0]), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert "http://127.0.0.1:" in line, proc.stderr.read() if proc.poll() is not None else line
        base = re.search(r"http://[0-9.:]+", line).group(0)
        assert len(json.loads(get(base, "/api/runs")[2])["runs"]) == 4
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)


# ------------------------------------------------------------------ a real browser


class Chromium:
    """Headless Chromium driven over the DevTools protocol (websocket-client): one page."""

    def __init__(self, profile: Path):
        import websocket

        self.proc = subprocess.Popen([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
                                      "--remote-debugging-port=0", f"--user-data-dir={profile}", "--hide-scrollbars",
                                      "--window-size=1200,1500", "--no-first-run",
                                      # no calls home: on a closed network each one is refused or waits on DNS
                                      "--disable-background-networking", "--disable-component-update",
                                      "--disable-sync", "--disable-quic", "--disable-default-apps", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = profile / "DevToolsActivePort"
        for _ in range(3000):
            if port_file.is_file() and port_file.read_text().count("\n") >= 1:
                break
            time.sleep(0.01)
        else:
            self.proc.kill()
            pytest.fail(f"{CHROMIUM} wrote no DevToolsActivePort in 30 s (exit status {self.proc.poll()})")
        port = int(port_file.read_text().split()[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/json/list")
        page = next(t for t in json.loads(conn.getresponse().read()) if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        self.next_id = 0

    def send(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                assert "error" not in msg, msg
                return msg["result"]

    def eval(self, expression: str):
        res = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in res, res
        return res["result"].get("value")

    def wait_for(self, expression: str, what: str, limit: float = 60.0):
        """The value of ``expression`` once truthy (polled; ``limit`` seconds only bounds a failure)."""
        end = time.monotonic() + limit
        while time.monotonic() < end:
            value = self.eval(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"the page never showed {what}")

    def close(self):
        self.ws.close()
        self.proc.terminate()
        self.proc.wait(30)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("needs Chromium (Debian: apt-get install chromium; .ci/run installs it)")
    pytest.importorskip("websocket", reason="needs websocket-client to drive Chromium over the DevTools protocol")
    chrome = Chromium(tmp_path_factory.mktemp("chromium"))
    yield chrome
    chrome.close()


def colour(k: int) -> tuple[int, int, int]:
    """Frame ``k``'s colour: 512 distinct colours, 32 apart in one channel at least."""
    return (k % 8) * 32 + 16, (k // 8 % 8) * 32 + 16, (k // 64 % 8) * 32 + 16


TILE_STATE = """(() => {
  const tile = document.querySelector('.tiles[data-job="%s"] .tile');
  if (!tile || tile.dataset.seq === "0") return null;
  const img = tile.querySelector('img');
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  return {seq: Number(tile.dataset.seq), rgb: Array.from(ctx.getImageData(c.width >> 1, c.height >> 1, 1, 1).data).slice(0, 3),
          size: [c.width, c.height], label: tile.querySelector('.label').textContent, gone: tile.classList.contains('gone')};
})()"""


def test_browser_shows_curve_video_and_a_live_tile(site, browser, tmp_path):
    root, base = site
    pub = FramePublisher(frame_name(job_of(RL), 0), (48, 64, 3))
    pub.publish(np.full((48, 64, 3), colour(0), np.uint8), {"episode": 0, "step": 0})
    stop = threading.Event()

    def worker():  # publishes a new frame every 50 ms while watched, as PublishFrames does
        k = 0
        while not stop.is_set():
            if pub.watched:
                k += 1
                pub.publish(np.full((48, 64, 3), colour(k), np.uint8), {"episode": 1, "step": k, "return": k / 2})
            time.sleep(0.05)

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    try:
        browser.send("Page.navigate", url=f"{base}/run/{RL}")
        browser.wait_for("(() => { const i = document.querySelector('img.curves'); "
                         "return i && i.complete && i.naturalWidth > 0; })()", "its curve")
        src = browser.eval("document.querySelector('video').getAttribute('src')")
        assert src == f"/files/{RL}/videos/eval_2048.mp4"
        duration = browser.wait_for("(() => { const v = document.querySelector('video'); "
                                    "return v.readyState >= 1 && v.duration; })()", "its video's length")
        assert duration == pytest.approx(8 / 30, abs=0.05)  # the browser decoded the mp4's 8 frames at 30 fps
        first = browser.wait_for(TILE_STATE % job_of(RL), "a live tile")
        assert first["size"] == [64, 48] and "worker 0" in first["label"]
        second = browser.wait_for(f"(() => {{ const s = {TILE_STATE % job_of(RL)}; return s && s.seq !== {first['seq']} && s; }})()",
                                  "the tile's next frame")
        for state in (first, second):  # each shows the very frame its sequence number names (publish n: seq 2n)
            assert state["rgb"] == pytest.approx(colour(state["seq"] // 2 - 1), abs=2)
        assert second["rgb"] != first["rgb"]
        shot = base64.b64decode(browser.send("Page.captureScreenshot", format="png")["data"])
        pixels = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB")).reshape(-1, 3)
        _, counts = np.unique(pixels, axis=0, return_counts=True)
        assert len(counts) > 50 and counts.max() < 0.95 * len(pixels)  # not blank, not one colour
        (tmp_path / "run_page.png").write_bytes(shot)
        stop.set()
        thread.join(5)
        pub.close()
        browser.wait_for(f"(() => {{ const s = {TILE_STATE % job_of(RL)}; return s && s.gone; }})()",
                         "the ended worker marked stopped")
    finally:
        stop.set()
        pub.close()
