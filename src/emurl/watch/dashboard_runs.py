"""What the dashboard reads from a runs folder: each run's summary, curves and files.

A runs folder holds run folders (``runs/<game>__<algo>__<seed>__<time>/``, made by
``emurl train``, ``emurl neat`` and ``emurl selfplay``); this module only reads them, and
never a path outside the runs folder (:func:`resolve_inside`). What it reads, per run:

- ``config.yaml``: the game (``env.game``) and algorithm (``algo``; a folder with
  ``neat.ini`` is a NEAT run);
- ``checkpoints/model_<steps>.zip`` and ``evaluations.jsonl`` (one JSON object per periodic
  evaluation: ``steps``, ``mean_return``, ...): the agent steps trained and the best
  evaluation (:mod:`emurl.train.run`);
- ``generations.jsonl`` (NEAT, one object per generation: ``generation``, ``best_fitness``,
  ``mean_fitness``, ``species``, ...; :mod:`emurl.train.neat.run`);
- ``eval.json``: the last ``emurl eval`` (``mean_return``, ``episodes``, ``win_rate``, ...);
- ``pool/pool.json`` and ``league.json`` / ``league.png``: self-play
  (:mod:`emurl.train.selfplay.pool`, :mod:`emurl.train.selfplay.league`);
- ``tb/``: TensorBoard event files, read with TensorBoard's ``EventAccumulator``;
- ``videos/*.mp4``: evaluation and best-genome videos.

A damaged or half-written file (a run still being written) never fails a page: what
cannot be read is left out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from emurl.vector.frames import frame_name

SERVED_TYPES = {
    ".mp4": "video/mp4", ".webm": "video/webm", ".gif": "image/gif", ".png": "image/png", ".jpg": "image/jpeg",
    ".json": "application/json", ".jsonl": "text/plain; charset=utf-8", ".yaml": "text/plain; charset=utf-8",
    ".ini": "text/plain; charset=utf-8", ".txt": "text/plain; charset=utf-8", ".csv": "text/plain; charset=utf-8",
}
"""The files the dashboard serves from a run folder, by suffix, with their content type; any
other (checkpoints, pickles, HTML or SVG that could run script in the page) is not served."""

TB_TAGS = {
    "rollout/ep_rew_mean": "training episode return (TensorBoard)",
    "eval/mean_return": "evaluation return (TensorBoard)",
    "fitness/best": "best fitness (TensorBoard)",
}
"""TensorBoard scalars drawn when a run has no ``evaluations.jsonl`` / ``generations.jsonl`` for them."""

_STEPS = re.compile(r"model_(\d+)\.zip")
_NUMBER = re.compile(r"(\d+)")


@dataclass
class Run:
    """One run folder's summary, as the index lists it.

    ``steps``: agent steps of its newest numbered checkpoint or evaluation (None for NEAT);
    ``generations``: NEAT generations done; ``best``: the best evaluation's ``mean_return``
    (NEAT: the best fitness); ``final``: ``eval.json``'s content; ``modified``: the newest
    modification time of the files read, seconds since the epoch; ``job``: the frame-block
    job name its workers publish under (:func:`emurl.vector.frames.frame_name` of the folder's
    name, as ``emurl neat --watch`` names it).
    """

    name: str
    path: Path
    game: str | None = None
    algo: str | None = None
    kind: str = "rl"
    steps: int | None = None
    generations: int | None = None
    best: float | None = None
    final: dict | None = None
    modified: float = 0.0
    job: str = ""
    tags: list[str] = field(default_factory=list)


def inside(root: Path, path: Path) -> bool:
    """Whether ``path``, with every symlink followed, lies in ``root`` (resolved)."""
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        return False


def resolve_inside(root: Path, relative: str) -> Path | None:
    """The file ``relative`` (``/``-separated, as in a URL) names in ``root``, or None when it
    is not a plain relative path (absolute, empty parts, ``.`` or ``..``, backslashes, NUL),
    does not exist, is no file, or lies outside ``root`` once symlinks are followed."""
    if not relative or "\\" in relative or "\x00" in relative or relative.startswith("/"):
        return None
    if any(part in ("", ".", "..") for part in relative.split("/")):
        return None
    path = root / relative
    if not inside(root, path) or not path.is_file():
        return None
    return path.resolve()


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def read_jsonl(path: Path) -> list[dict]:
    """The JSON objects of a ``.jsonl`` file, damaged lines (a line being written) skipped;
    [] without the file."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    rows = []
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


def _number(row: dict, key: str) -> float | None:
    try:
        value = float(row[key])
    except (KeyError, TypeError, ValueError):
        return None
    return value if value == value else None  # NaN: no value


def job_of(name: str) -> str:
    """The job name under which a run folder's workers publish frames.

    >>> job_of("MiniKart-NintendoDs__neat__0__1796430946")
    'MiniKart_NintendoDs__neat__0__1796430946'
    """
    return frame_name(name, "x")[len("emurl-frames-"):-2]


def is_run(root: Path, path: Path) -> bool:
    """Whether ``path`` is a run folder in ``root``: a folder (not a symlink out of ``root``) with ``config.yaml``."""
    return path.is_dir() and inside(root, path) and (path / "config.yaml").is_file()


def read_run(root: Path, name: str) -> Run | None:
    """The summary of run ``name`` in ``root`` (None when it is no run folder there)."""
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        return None
    path = root / name
    if not is_run(root, path):
        return None
    run = Run(name, path, job=job_of(name))
    config = None
    try:
        config = yaml.safe_load((path / "config.yaml").read_text())
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        run.tags.append("damaged config.yaml")
    if isinstance(config, dict):
        env = config.get("env")
        run.game = env.get("game") if isinstance(env, dict) else None
        run.algo = config.get("algo")
        if config.get("selfplay"):
            run.kind = "self-play"
    times = [(path / "config.yaml").stat().st_mtime]
    if (path / "neat.ini").is_file():
        run.kind, run.algo = "neat", run.algo or "neat"
        generations = read_jsonl(path / "generations.jsonl")
        fits = [f for f in (_number(r, "best_fitness") for r in generations) if f is not None]
        run.generations = len(generations) or None
        run.best = max(fits) if fits else None
    else:
        evaluations = read_jsonl(path / "evaluations.jsonl")
        returns = [r for r in (_number(e, "mean_return") for e in evaluations) if r is not None]
        run.best = max(returns) if returns else None
        steps = [int(s) for s in (_number(e, "steps") for e in evaluations) if s is not None]
        ckpts = path / "checkpoints"
        if ckpts.is_dir():
            steps += [int(m.group(1)) for p in ckpts.iterdir() if (m := _STEPS.fullmatch(p.name))]
        run.steps = max(steps) if steps else None
    final = _read_json(path / "eval.json")
    run.final = final if isinstance(final, dict) else None
    if (path / "pool" / "pool.json").is_file():
        run.kind = "self-play"
    if (path / "league.json").is_file():
        run.tags.append("league")
    for name_ in ("evaluations.jsonl", "generations.jsonl", "eval.json", "checkpoints", "videos", "tb"):
        try:
            times.append((path / name_).stat().st_mtime)
        except OSError:
            pass
    run.modified = max(times)
    return run


def list_runs(root: Path) -> list[Run]:
    """Every run folder in ``root``, the most recently changed first ([] when ``root`` has none)."""
    runs = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return []
    for path in entries:
        try:
            run = read_run(root, path.name)
        except OSError:  # removed while being read
            continue
        if run is not None:
            runs.append(run)
    return sorted(runs, key=lambda r: r.modified, reverse=True)


def _sort_key(path: Path):
    """Files numbered by steps or generation in numeric order (``eval_1000`` after ``eval_200``);
    ``eval_final`` last."""
    m = _NUMBER.search(path.stem)
    return (m is None, int(m.group(1)) if m else 0, path.name)


def videos(run: Run) -> list[str]:
    """The run's videos (``videos/*.mp4``, ``*.webm``) as paths relative to the runs folder, oldest
    evaluation first; files being written (``.name.partial.mp4``) left out."""
    folder = run.path / "videos"
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.suffix in (".mp4", ".webm") and not p.name.startswith(".")
             and p.is_file() and inside(run.path, p)]
    return [f"{run.name}/videos/{p.name}" for p in sorted(found, key=_sort_key)]


def network_pictures(run: Run) -> list[str]:
    """A NEAT run's best-genome network pictures (``best/gen_<G>.png``), by generation."""
    folder = run.path / "best"
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob("gen_*.png") if inside(run.path, p)]
    return [f"{run.name}/best/{p.name}" for p in sorted(found, key=_sort_key)]


def generations(run: Run) -> list[dict]:
    """A NEAT run's ``generations.jsonl`` rows."""
    return read_jsonl(run.path / "generations.jsonl")


def pool(run: Run) -> dict | None:
    """A self-play run's ``pool/pool.json`` (None without one or when damaged)."""
    data = _read_json(run.path / "pool" / "pool.json")
    return data if isinstance(data, dict) else None


def league(run: Run) -> dict | None:
    """A self-play run's ``league.json`` (None without one or when damaged)."""
    data = _read_json(run.path / "league.json")
    return data if isinstance(data, dict) else None


Series = dict[str, tuple[list[float], list[float]]]
"""Named curves: ``{label: (x values, y values)}``."""


def tensorboard_scalars(folder: Path, tags) -> dict[str, tuple[list[float], list[float]]]:
    """``{tag: (steps, values)}`` of the wanted scalar ``tags`` in every event file under
    ``folder`` (each ``tb/<run>_<n>/`` of a resumed run, in step order); {} without any."""
    out: dict[str, list[tuple[float, float]]] = {}
    if not folder.is_dir():
        return {}
    dirs = sorted({p.parent for p in folder.rglob("events.out.tfevents.*") if inside(folder, p)})
    for d in dirs:
        acc = EventAccumulator(str(d), size_guidance={"scalars": 5000, "images": 1, "histograms": 1,
                                                      "tensors": 1, "audio": 1, "compressedHistograms": 1})
        try:
            acc.Reload()
            available = set(acc.Tags().get("scalars", []))
        except Exception:  # noqa: BLE001 - TensorBoard raises several kinds on a damaged file; leave it out
            continue
        for tag in tags:
            if tag in available:
                out.setdefault(tag, []).extend((e.step, e.value) for e in acc.Scalars(tag))
    return {tag: ([s for s, _ in sorted(v)], [x for _, x in sorted(v)]) for tag, v in out.items()}


def curves(run: Run) -> list[tuple[str, str, Series]]:
    """The run's curves as panels ``(title, x label, series)``: evaluations (``evaluations.jsonl``:
    mean return, and win rate where recorded), NEAT generations (best and mean fitness, species),
    then the TensorBoard scalars of :data:`TB_TAGS` not drawn from those files."""
    panels = []
    drawn = set()
    evaluations = read_jsonl(run.path / "evaluations.jsonl")
    rows = [(s, r) for s, r in ((_number(e, "steps"), _number(e, "mean_return")) for e in evaluations)
            if s is not None and r is not None]
    if rows:
        panels.append(("evaluation: mean return", "agent steps", {"mean return": ([s for s, _ in rows], [r for _, r in rows])}))
        drawn.add("eval/mean_return")
        wins = [(s, w) for s, w in ((_number(e, "steps"), _number(e, "win_rate")) for e in evaluations)
                if s is not None and w is not None]
        if wins:
            panels.append(("evaluation: win rate", "agent steps", {"win rate": ([s for s, _ in wins], [w for _, w in wins])}))
    gens = generations(run)
    if gens:
        series: Series = {}
        for key, label in (("best_fitness", "best"), ("mean_fitness", "mean")):
            pts = [(g, f) for g, f in ((_number(r, "generation"), _number(r, key)) for r in gens) if g is not None and f is not None]
            if pts:
                series[label] = ([g for g, _ in pts], [f for _, f in pts])
        if series:
            panels.append(("NEAT fitness", "generation", series))
            drawn.add("fitness/best")
        pts = [(g, s) for g, s in ((_number(r, "generation"), _number(r, "species")) for r in gens) if g is not None and s is not None]
        if pts:
            panels.append(("NEAT species", "generation", {"species": ([g for g, _ in pts], [s for _, s in pts])}))
    wanted = [t for t in TB_TAGS if t not in drawn]
    for tag, (xs, ys) in tensorboard_scalars(run.path / "tb", wanted).items():
        panels.append((TB_TAGS[tag], "step", {tag: (xs, ys)}))
    return panels


def curve_sources(run: Run) -> tuple:
    """What the curves are drawn from, as ``(path, size, mtime_ns)`` triples: a key that changes
    when any of them does (the PNG is drawn again only then)."""
    paths = [run.path / "evaluations.jsonl", run.path / "generations.jsonl"]
    tb = run.path / "tb"
    if tb.is_dir():
        paths += sorted(p for p in tb.rglob("events.out.tfevents.*") if inside(tb, p))
    key = []
    for p in paths:
        try:
            st = p.stat()
        except OSError:
            continue
        key.append((str(p), st.st_size, st.st_mtime_ns))
    return tuple(key)


__all__ = ["SERVED_TYPES", "TB_TAGS", "Run", "Series", "curve_sources", "curves", "generations", "inside",
           "is_run", "job_of", "league", "list_runs", "network_pictures", "pool", "read_jsonl", "read_run",
           "resolve_inside", "tensorboard_scalars", "videos"]
