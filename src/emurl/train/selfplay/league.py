"""The league of a self-play run: a round robin between its snapshots, its final policy and
the fixed anchors, played in parallel processes; ``league.json`` and ``league.png``.

Every pair plays ``games`` games, seats swapped every other game, each layout (seed)
played once from each side, so neither player gets the better side of a board. Results
per pair: wins / losses / draws from the first player's side, its score rate
(a draw is half a win) with a Wilson 95 % interval, and how many layouts each won from both
seats (the rest were split: decided by the seat); ratings: a Bradley–Terry fit on the
Elo scale with ``"random"`` at 0 (:mod:`emurl.train.selfplay.ratings`).
"""

from __future__ import annotations

import itertools
import json
import os
from concurrent.futures import as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Callable, Sequence

from emurl.envs import EnvSpec
from emurl.errors import ConfigError, WorkerError
from emurl.fileio import atomic_write
from emurl.train.selfplay.match import RESULT, Match
from emurl.train.selfplay.pool import ANCHORS, Pool
from emurl.train.selfplay.ratings import bradley_terry, wilson
from emurl.vector import process_pool, setup_worker_process, stop_pool  # the one worker-process set-up

FINAL = "final"
"""The run's newest checkpoint (``checkpoints/latest.zip``) as a league player."""
OUTSIDE = "outside"
"""``league.json``'s ``kind`` of a player given as a checkpoint file rather than an id of the run."""

_match: Match | None = None


def _start_worker(spec: EnvSpec, pool_dir: str) -> None:
    global _match
    setup_worker_process(ignore_interrupt=True)
    _match = Match(spec, pool_dir)


def _play(task: tuple) -> tuple[str, str, float, int]:
    a, b, path_a, path_b, seed, swapped = task
    assert _match is not None
    if swapped:
        return a, b, 1.0 - RESULT[_match.play(path_b, path_a, seed)], seed
    return a, b, RESULT[_match.play(path_a, path_b, seed)], seed


def players_of(run_dir: str | os.PathLike) -> dict[str, tuple[str, int]]:
    """The league's possible players in a self-play run folder: id → (what
    :meth:`Match.play <emurl.train.selfplay.match.Match.play>` takes, training steps):
    the anchors, the pool's snapshots and :data:`FINAL`.

    Raises:
        ConfigError: ``run_dir`` holds no pool (not a self-play run).
    """
    run_dir = Path(run_dir).resolve()  # absolute: a match looks relative names up in the pool folder
    pool = Pool.load(run_dir / "pool")
    out: dict[str, tuple[str, int]] = {a: (a, 0) for a in ANCHORS}
    for e in sorted(pool.entries.values(), key=lambda e: e.steps):
        if e.kind == "snapshot":
            out[e.id] = (str(run_dir / "pool" / e.path), e.steps)
    latest = run_dir / "checkpoints" / "latest.zip"
    if latest.is_file():
        from emurl.train.model import checkpoint_steps  # the run's checkpoint naming lives there
        out[FINAL] = (str(latest), checkpoint_steps(latest))
    return out


def _is_outside(name: str) -> bool:
    """Whether a player name names a checkpoint file rather than one of the run's players (a
    run's own ids never end in ``.zip``)."""
    return Path(name).suffix == ".zip"


def resolve_players(run_dir: str | os.PathLike, names: Sequence[str] | None = None) -> dict[str, tuple[str, int]]:
    """``names`` as league players: id → (what :meth:`Match.play` takes, training steps).

    A name is an id of :func:`players_of` or the path of a policy checkpoint (an SB3 zip of a
    placement policy, e.g. another run's ``checkpoints/latest.zip``): a player from outside the
    run, such as an agent trained against the rule-based player only, to play head to head.
    ``None``: every player of the run.

    Raises:
        ConfigError: a name that is neither an id of the run nor a checkpoint file (naming
            the run's ids), or a damaged checkpoint.
    """
    known = players_of(run_dir)
    if names is None:
        return known
    out, unknown = {}, []
    for name in names:
        if name in known:
            out[name] = known[name]
        elif _is_outside(name) and Path(name).is_file():
            from emurl.train.model import checkpoint_steps  # lazy: PyTorch
            out[name] = (str(Path(name).resolve()), checkpoint_steps(name))
        else:
            unknown.append(name)
    if unknown:
        raise ConfigError(f"{run_dir}: no league player {', '.join(unknown)}; the run has {', '.join(known)}, "
                          "or name a policy checkpoint file (.zip)")
    return out


def run_league(run_dir: str | os.PathLike, spec: EnvSpec, games: int = 20, players: Sequence[str] | None = None,
               num_proc: int = 2, seed: int = 0, progress: Callable[[int, int], None] | None = None) -> dict:
    """Play the round robin and write ``league.json`` and ``league.png`` in ``run_dir``.

    Args:
        run_dir: a self-play run folder.
        spec: its env settings (game, state, scenario; placement actions).
        games: games per pair (even: each seed from both sides).
        players: ids from :func:`players_of` or checkpoint files (:func:`resolve_players`;
            default: all of the run's).
        num_proc: worker processes, one emulator each.
        progress: ``(games done, games in all)`` after each game.

    Returns:
        what ``league.json`` holds.

    Raises:
        ConfigError: fewer than two players, an unknown id, or ``games`` < 1.
        CheckpointError: a checkpoint file given as a player is damaged.
        WorkerError: a worker process died (nothing is written).
    """
    run_dir = Path(run_dir)
    known = resolve_players(run_dir, players)
    chosen = list(known)
    if len(chosen) < 2:
        raise ConfigError(f"a league needs two players or more, got {chosen}")
    if games < 1:
        raise ConfigError(f"games must be >= 1 per pair, got {games}")
    tasks = [(a, b, known[a][0], known[b][0], seed + g // 2, g % 2 == 1)
             for a, b in itertools.combinations(chosen, 2) for g in range(games)]
    results = []
    workers = process_pool(max(1, min(num_proc, len(tasks))), _start_worker, (spec, str(run_dir / "pool")),
                           preload=("emurl.train.selfplay.match",))
    try:
        for i, done in enumerate(as_completed([workers.submit(_play, t) for t in tasks])):
            try:
                results.append(done.result())
            except BrokenProcessPool:
                raise WorkerError(f"{run_dir}: a league worker process died (the emulator crashed?); "
                                  "league.json was not written") from None
            if progress is not None:
                progress(i + 1, len(tasks))
    except BaseException:  # an error, Ctrl-C: end the workers without waiting for their games
        stop_pool(workers)
        raise
    workers.shutdown()
    table = summarise(results, chosen, {p: known[p][1] for p in chosen}, games,
                      outside=[p for p in chosen if _is_outside(p)])
    atomic_write(run_dir / "league.json", (json.dumps(table, indent=1) + "\n").encode())
    plot(table, run_dir / "league.png")
    return table


def summarise(results: Sequence[tuple], players: Sequence[str], steps: dict[str, int],
              games: int, outside: Sequence[str] = ()) -> dict:
    """``league.json``'s content from ``(a, b, score of a)`` or ``(a, b, score of a, seed)`` per
    game; ``outside``: the players that are checkpoint files of another run (their entries get
    ``"kind": "outside"``).

    With seeds, each pair also counts its layouts played from both sides (``"layouts"``):
    won twice by ``a``, twice by ``b``, or ``split`` (each won once, so the seat decided; or a
    draw). Two players that choose the same placements split nearly every layout, and score
    50% between them without either being better."""
    pairs = []
    for a, b in itertools.combinations(players, 2):
        games_ab = [(r[2] if r[0] == a else 1.0 - r[2], r[3] if len(r) > 3 else None)
                    for r in results if {r[0], r[1]} == {a, b}]
        scores = [s for s, _ in games_ab]
        wins, losses = sum(s == 1.0 for s in scores), sum(s == 0.0 for s in scores)
        draws = len(scores) - wins - losses
        score = wins + draws / 2
        lo, hi = wilson(score, len(scores))
        pair = {"a": a, "b": b, "games": len(scores), "wins": wins, "losses": losses, "draws": draws,
                "score_rate": score / len(scores) if scores else None, "wilson95": [lo, hi]}
        by_seed: dict[int, list[float]] = {}
        for s, seed in games_ab:
            if seed is not None:
                by_seed.setdefault(seed, []).append(s)
        both = [v for v in by_seed.values() if len(v) == 2]
        if both:
            pair["layouts"] = {"a_twice": sum(v == [1.0, 1.0] for v in both),
                               "b_twice": sum(v == [0.0, 0.0] for v in both),
                               "split": sum(v not in ([1.0, 1.0], [0.0, 0.0]) for v in both)}
        pairs.append(pair)
    ratings = bradley_terry([r[:3] for r in results], players, anchor="random" if "random" in players else None)
    return {
        "games_per_pair": games,
        "players": [{"id": p, "steps": steps.get(p, 0), "rating": ratings[p]}
                    | ({"kind": OUTSIDE} if p in outside else {}) for p in players],
        "pairs": pairs,
        "rating": "Bradley-Terry, Elo scale (400 log10 odds), 'random' = 0, one virtual draw per pair",
    }


def plot(table: dict, path: Path) -> Path:
    """``league.png``: each policy's rating against its training steps; anchors as lines,
    players from outside the run as labelled crosses."""
    import matplotlib  # lazy: ~0.3 s, only when a league is written

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    policies = [p for p in table["players"] if p["id"] not in ANCHORS and p.get("kind") != OUTSIDE]
    if policies:
        ax.plot([p["steps"] for p in policies], [p["rating"] for p in policies], "o-", label="snapshots, final")
    for p in table["players"]:
        if p.get("kind") == OUTSIDE:
            ax.plot([p["steps"]], [p["rating"]], "x", color="tab:green", ms=9)
            ax.annotate(Path(p["id"]).name, (p["steps"], p["rating"]), fontsize=8, va="bottom")
        elif p["id"] in ANCHORS:
            ax.axhline(p["rating"], ls="--", lw=1, color="grey" if p["id"] == "random" else "tab:red")
            ax.annotate(p["id"], (0, p["rating"]), xycoords=("axes fraction", "data"), va="bottom", fontsize=8)
    ax.set_xlabel("training steps")
    ax.set_ylabel("rating (Elo scale)")
    ax.set_title(f"league: {table['games_per_pair']} games per pair")
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)
    return path


__all__ = ["FINAL", "OUTSIDE", "players_of", "plot", "resolve_players", "run_league", "summarise"]
