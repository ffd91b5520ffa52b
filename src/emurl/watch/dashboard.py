"""``emurl dashboard``: a browser page of a runs folder: runs, curves, videos, leagues, NEAT
statistics and the live screens of the workers running on this machine.

Built on Starlette (an ASGI framework) served by uvicorn. Pages:

- ``/``: every run (game, algorithm, steps, best evaluation, last ``emurl eval``), newest
  first, and the live tiles of every job publishing frames;
- ``/run/<name>``: one run: its curves (``/run/<name>/curves.png``, drawn with matplotlib
  from ``evaluations.jsonl`` / ``generations.jsonl`` / TensorBoard), its videos, its pool and
  league (self-play) or generations and best networks (NEAT), ``eval.json``, and the live
  tiles of its workers;
- ``/files/<run>/<path>``: a file of a run folder, of the kinds in
  :data:`~emurl.watch.dashboard_runs.SERVED_TYPES` only (videos with HTTP ranges, so a
  ``<video>`` seeks), never anything outside the runs folder;
- ``/api/runs``, ``/api/live?job=J`` (JSON) and ``/live/frame/<block>`` (the block's newest
  frame as PNG, its sequence number in the ``X-Frame-Seq`` header), which the page polls
  (``static/dashboard.js``, 4 times a second) to refresh each tile.

Live tiles come from the shared-memory frame blocks of :mod:`emurl.vector.frames`; reading
one tells its worker someone watches, so workers publish only while a page shows them.

It binds to 127.0.0.1 unless told otherwise, and then answers only requests whose ``Host``
is a local name (a web page elsewhere cannot reach it through DNS rebinding). It has no
log-in: bound to another address, anyone who reaches it sees the runs.
"""

from __future__ import annotations

import io
import re
import socket
import sys
import threading
from pathlib import Path
from urllib.parse import quote

import numpy as np
import uvicorn
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PIL import Image
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from emurl.errors import ConfigError
from emurl.vector.frames import FrameReader, list_publishers
from emurl.watch import dashboard_runs as runs_mod
from emurl.watch.dashboard_runs import SERVED_TYPES, Run, list_runs, read_run, resolve_inside

HERE = Path(__file__).parent
DEFAULT_PORT = 6007
"""TensorBoard's default port + 1, so both can run side by side."""
POLL_MS = 250
"""How often a page asks for new tile frames: 4 frames per second."""
_BLOCK = re.compile(r"emurl-frames-[A-Za-z0-9_.]+-[A-Za-z0-9_.]+")
_LOCAL_HOSTS = ["127.0.0.1", "localhost"]


def _fmt(value, digits: int = 4) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e5 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def tile_label(worker: str, overlay: dict) -> str:
    """A tile's caption from its overlay: worker, episode, step, return (or genome and fitness),
    buttons pressed.

    >>> tile_label("3", {"episode": 2, "step": 41, "return": 1.5, "buttons": ["A", "RIGHT"]})
    'worker 3 · episode 2 · step 41 · return 1.5 · A+RIGHT'
    """
    parts = [f"worker {worker}"]
    for key in ("genome", "episode", "step", "return", "fitness"):
        if key in overlay and overlay[key] is not None:
            parts.append(f"{key} {_fmt(overlay[key])}")
    buttons = overlay.get("buttons")
    if buttons:
        parts.append("+".join(str(b) for b in buttons))
    return " · ".join(parts)


def live(job: str | None = None) -> list[dict]:
    """The frame blocks publishing on this machine (``job``: only that job's), each as
    ``{"name", "job", "worker", "shape", "seq", "published_at", "label"}``; reading each
    tells its worker someone watches."""
    out = []
    for info in list_publishers(job):
        try:
            with FrameReader(info.name) as reader:
                _, overlay, seq = reader.read()
        except (FileNotFoundError, TimeoutError, ValueError, OSError):
            continue  # gone meanwhile, or stuck mid-write: its tile says so at the next poll
        out.append({"name": info.name, "job": info.job, "worker": info.worker, "shape": list(info.shape), "seq": seq,
                    "published_at": info.published_at, "label": tile_label(info.worker, overlay)})
    return out


def encode_png(frame: np.ndarray) -> bytes:
    """``frame`` (uint8 (H, W, C), C = 1, 3 or 4) as PNG bytes (fast compression: ~2 ms for 256×384)."""
    image = Image.fromarray(frame[:, :, 0] if frame.shape[2] == 1 else frame)
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def draw_curves(panels: list) -> bytes:
    """The panels of :func:`~emurl.watch.dashboard_runs.curves` as one PNG, a row each
    (matplotlib's object API, no pyplot: safe in the server's threads)."""
    fig = Figure(figsize=(7, 2.3 * len(panels)), dpi=100)
    axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
    for ax, (title, xlabel, series) in zip(axes, panels):
        for label, (xs, ys) in series.items():
            ax.plot(xs, ys, "o-" if len(xs) < 40 else "-", ms=3, lw=1.5, label=label)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(xlabel, fontsize=9)
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps and generations are counts
        if len(series) > 1:
            ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


class Dashboard:
    """The dashboard of one runs folder: :attr:`app` is the Starlette application.

    Args:
        runs_dir: the runs folder (made by ``emurl train`` / ``neat`` / ``selfplay``).
        allowed_hosts: ``Host`` headers answered (None: any); :func:`serve` passes the local
            names when it binds to a loopback address.

    Raises:
        FileNotFoundError: ``runs_dir`` does not exist; NotADirectoryError: it is a file.
    """

    def __init__(self, runs_dir: str | Path, allowed_hosts: list[str] | None = None):
        self.root = Path(runs_dir).resolve()
        if not self.root.exists():
            raise FileNotFoundError(f"{runs_dir}: no such runs folder")
        if not self.root.is_dir():
            raise NotADirectoryError(f"{runs_dir}: is a file; expected a runs folder (e.g. runs/)")
        self._curves: dict[str, tuple[tuple, bytes]] = {}  # run name -> (sources' key, PNG)
        self._lock = threading.Lock()
        self.templates = Jinja2Templates(directory=HERE / "templates")
        self.templates.env.filters["fmt"] = _fmt
        self.templates.env.filters["q"] = lambda s: quote(str(s), safe="/")
        routes = [
            Route("/", self.index),
            Route("/run/{name}", self.run_page),
            Route("/run/{name}/curves.png", self.curves_png),
            Route("/files/{path:path}", self.file),
            Route("/api/runs", self.api_runs),
            Route("/api/live", self.api_live),
            Route("/live/frame/{block}", self.frame),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ]
        middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)] if allowed_hosts else []
        self.app = Starlette(routes=routes, middleware=middleware)

    def _run(self, name: str) -> Run:
        run = read_run(self.root, name)
        if run is None:
            raise HTTPException(404, f"no run {name!r} in the runs folder")
        return run

    def index(self, request: Request):
        runs = list_runs(self.root)
        jobs = {p.job for p in list_publishers()}  # listing only: reading would make the workers publish
        return self.templates.TemplateResponse(request, "index.html", {
            "root": str(self.root), "runs": runs, "live_jobs": jobs, "poll_ms": POLL_MS})

    def run_page(self, request: Request):
        run = self._run(request.path_params["name"])
        gens = runs_mod.generations(run)
        pool = runs_mod.pool(run)
        entries = pool.get("entries") if pool else None
        return self.templates.TemplateResponse(request, "run.html", {
            "run": run, "has_curves": bool(runs_mod.curve_sources(run)), "videos": runs_mod.videos(run),
            "pool": entries if isinstance(entries, list) else None, "league": runs_mod.league(run),
            "league_png": (run.path / "league.png").is_file(), "generations": gens[-10:],
            "networks": runs_mod.network_pictures(run)[-1:], "final": run.final, "poll_ms": POLL_MS,
            "files": [f for f in ("config.yaml", "neat.ini", "eval.json", "evaluations.jsonl", "generations.jsonl")
                      if (run.path / f).is_file()]})

    def curves_png(self, request: Request):
        run = self._run(request.path_params["name"])
        key = runs_mod.curve_sources(run)
        with self._lock:
            cached = self._curves.get(run.name)
        if cached is None or cached[0] != key:
            panels = runs_mod.curves(run)
            if not panels:
                raise HTTPException(404, f"{run.name}: no curves yet")
            cached = (key, draw_curves(panels))
            with self._lock:
                self._curves[run.name] = cached
        return Response(cached[1], media_type="image/png", headers={"Cache-Control": "no-cache"})

    def file(self, request: Request):
        relative = request.path_params["path"]
        path = resolve_inside(self.root, relative)
        media = SERVED_TYPES.get(Path(relative).suffix.lower())
        if path is None or media is None or "/" not in relative:  # only files inside a run folder
            raise HTTPException(404, "no such file in the runs folder")
        return FileResponse(path, media_type=media, headers={"X-Content-Type-Options": "nosniff"})

    def api_runs(self, request: Request):
        rows = [{"name": r.name, "game": r.game, "algo": r.algo, "kind": r.kind, "steps": r.steps,
                 "generations": r.generations, "best": r.best, "final": r.final, "modified": r.modified,
                 "job": r.job, "tags": r.tags} for r in list_runs(self.root)]
        return JSONResponse({"root": str(self.root), "runs": rows})

    def api_live(self, request: Request):
        job = request.query_params.get("job") or None
        return JSONResponse({"publishers": live(job)}, headers={"Cache-Control": "no-store"})

    def frame(self, request: Request):
        block = request.path_params["block"]
        if not _BLOCK.fullmatch(block):  # only emurl's blocks; FrameReader checks the block's magic too
            raise HTTPException(404, f"no frame block {block!r} on this machine")
        try:
            with FrameReader(block) as reader:
                frame, _, seq = reader.read()
        except (FileNotFoundError, TimeoutError, ValueError, OSError):
            frame = None
        if frame is None:
            raise HTTPException(404, f"{block}: no frame yet")
        return Response(encode_png(frame), media_type="image/png",
                        headers={"X-Frame-Seq": str(seq), "Cache-Control": "no-store"})


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (0: a free port).

    Raises:
        ConfigError: the port is taken or the address is not this machine's.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP, not socket.create_server's 0: asyncio turns Nagle's algorithm off
    # (TCP_NODELAY) only on connections of a socket that says it is TCP; without it each
    # response on a kept-alive connection waited ~40 ms for a delayed ACK (measured: 43 vs 5.6 ms)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart at once after a stop (TIME_WAIT)
        sock.bind((host, port))
        sock.listen(128)
        return sock
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc} (another --port or --host?)") from None


def server(runs_dir: str | Path, host: str = "127.0.0.1", sock: socket.socket | None = None,
           port: int = DEFAULT_PORT) -> tuple[uvicorn.Server, socket.socket]:
    """A uvicorn server of the dashboard of ``runs_dir`` and its listening socket (``sock``, or one
    bound to ``host``:``port``); ``server.run(sockets=[sock])`` serves until ``server.should_exit``.

    On a loopback IPv4 ``host`` only local ``Host`` headers are answered (module doc); Starlette's
    check cannot read an IPv6 ``Host`` (``[::1]:6007``), so ``::1`` is served without it."""
    local = host == "localhost" or host.startswith("127.")
    board = Dashboard(runs_dir, allowed_hosts=_LOCAL_HOSTS + ([host] if host not in _LOCAL_HOSTS else []) if local else None)
    sock = sock if sock is not None else bind(host, port)
    config = uvicorn.Config(board.app, log_level="warning", access_log=False, timeout_graceful_shutdown=1)
    return uvicorn.Server(config), sock


def serve(runs_dir: str | Path, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
    """Serve the dashboard of ``runs_dir`` on ``host``:``port`` until interrupted (Ctrl-C).

    Raises:
        FileNotFoundError / NotADirectoryError: no runs folder there; ConfigError: the port is taken.
    """
    srv, sock = server(runs_dir, host, port=port)
    shown = f"[{host}]" if ":" in host else host
    print(f"emurl dashboard of {Path(runs_dir).resolve()}: http://{shown}:{sock.getsockname()[1]}/ (Ctrl-C stops it)", flush=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {host}: anyone who can reach it sees these runs (no log-in)", file=sys.stderr)
    srv.run(sockets=[sock])


__all__ = ["DEFAULT_PORT", "POLL_MS", "Dashboard", "bind", "draw_curves", "encode_png", "live", "serve", "server",
           "tile_label"]
