"""Genomes and populations on disk: pickles, neat-python checkpoints (atomic), network pictures.

- ``save_genome`` / ``load_genome``: one genome, pickled (as neat-python's examples do).
- :class:`AtomicCheckpointer`: neat-python's :class:`~neat.Checkpointer` (the same gzip'd
  pickle of ``(generation, config, population, species, random state)``, which
  :func:`restore` and ``neat.Checkpointer.restore_checkpoint`` read) written through
  :func:`emurl.fileio.atomic_write`: a crash never leaves half a checkpoint.
- :func:`draw_network`: a PNG of a genome's network with matplotlib (no graphviz needed).
"""

from __future__ import annotations

import copy
import gzip
import io
import pickle
import random
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on a training machine
import matplotlib.pyplot as plt  # noqa: E402
import neat  # noqa: E402
from neat.graphs import feed_forward_layers  # noqa: E402

from emurl.fileio import atomic_write  # noqa: E402

CHECKPOINT_PREFIX = "neat-checkpoint-"


def save_genome(genome, path: str | Path) -> None:
    """Pickle ``genome`` to ``path`` atomically."""
    atomic_write(path, pickle.dumps(genome, protocol=pickle.HIGHEST_PROTOCOL))


def load_genome(path: str | Path):
    """A genome pickled by :func:`save_genome`."""
    with open(path, "rb") as f:
        return pickle.load(f)


class AtomicCheckpointer(neat.Checkpointer):
    """neat-python's checkpointer, written atomically into ``folder`` as
    ``neat-checkpoint-<N>``, N = the next generation to evaluate (neat-python's convention)."""

    def __init__(self, folder: str | Path, generation_interval: int = 1):
        super().__init__(generation_interval, filename_prefix=str(Path(folder) / CHECKPOINT_PREFIX))

    def save_checkpoint(self, config, population, species_set, generation):
        species_set = copy.copy(species_set)
        species_set.reporters = None  # the run's reporters (TensorBoard, an emulator) are not state; restore sets them
        data = (generation, config, population, species_set, random.getstate())
        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=5, mtime=0) as f:
            pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
        atomic_write(f"{self.filename_prefix}{generation}", buf.getvalue())


def latest_checkpoint(folder: str | Path) -> Path | None:
    """The checkpoint with the highest generation in ``folder``, or None."""
    found = [(int(m.group(1)), p) for p in Path(folder).glob(CHECKPOINT_PREFIX + "*")
             if (m := re.fullmatch(re.escape(CHECKPOINT_PREFIX) + r"(\d+)", p.name))]
    return max(found)[1] if found else None


def restore(path: str | Path) -> neat.Population:
    """The population saved in a checkpoint, ready to run its next generation.

    As ``neat.Checkpointer.restore_checkpoint`` (the saved config and innovation tracker),
    but the random state is restored *after* the population is built: neat-python 2.0
    builds it with ``Population(config)``, which re-seeds ``random`` when the config has a
    seed, so the resumed run would not follow the uninterrupted one.
    """
    with gzip.open(path) as f:
        generation, config, population, species_set, rndstate = pickle.load(f)
    tracker = getattr(config.genome_config, "innovation_tracker", None)
    pop = neat.Population(config, (population, species_set, generation))
    if tracker is not None:
        pop.reproduction.innovation_tracker = tracker
        config.genome_config.innovation_tracker = tracker
    random.setstate(rndstate)
    return pop


def draw_network(genome, config: neat.Config, path: str | Path, input_names: list[str] | None = None,
                 output_names: list[str] | None = None, title: str = "") -> None:
    """A PNG of ``genome``'s enabled network: inputs left, outputs right, hidden nodes in
    between by feed-forward layer; green = positive weight, red = negative, width ∝ |weight|.
    Written atomically."""
    gc = config.genome_config
    conns = [c for c in genome.connections.values() if c.enabled]
    layers = feed_forward_layers(gc.input_keys, gc.output_keys, [c.key for c in conns]) if gc.feed_forward else []
    if isinstance(layers, tuple):  # neat-python 2.x: (layers, required)
        layers = layers[0]
    hidden = [n for n in genome.nodes if n not in gc.output_keys]
    depth = {n: i + 1 for i, layer in enumerate(layers) for n in layer if n not in gc.output_keys}
    cols = max(depth.values(), default=0) + 2
    pos = {}
    for i, k in enumerate(gc.input_keys):
        pos[k] = (0.0, -i)
    n_in = max(len(gc.input_keys), 1)
    for i, k in enumerate(gc.output_keys):
        pos[k] = (cols - 1.0, -(i + 0.5) * n_in / max(len(gc.output_keys), 1))
    by_col: dict[int, list] = {}
    for n in hidden:
        by_col.setdefault(depth.get(n, 1), []).append(n)
    for c, nodes in by_col.items():
        for i, n in enumerate(sorted(nodes)):
            pos[n] = (float(c), -(i + 0.5) * n_in / len(nodes))
    fig, ax = plt.subplots(figsize=(2.0 + 1.6 * cols, 1.0 + 0.32 * n_in))
    wmax = max((abs(c.weight) for c in conns), default=1.0) or 1.0
    for c in conns:
        a, b = c.key
        if a in pos and b in pos:
            ax.plot([pos[a][0], pos[b][0]], [pos[a][1], pos[b][1]], color="tab:green" if c.weight > 0 else "tab:red",
                    lw=0.4 + 2.6 * abs(c.weight) / wmax, alpha=0.7, zorder=1)
    for k, (x, y) in pos.items():
        kind = "in" if k in gc.input_keys else "out" if k in gc.output_keys else "hid"
        ax.scatter([x], [y], s=60, zorder=2, color={"in": "tab:blue", "out": "tab:orange", "hid": "0.6"}[kind])
        if kind == "in":
            label = input_names[-k - 1] if input_names and -k - 1 < len(input_names) else f"in{-k - 1}"
            ax.text(x - 0.08, y, label, ha="right", va="center", fontsize=7)
        elif kind == "out":
            label = output_names[k] if output_names and k < len(output_names) else f"out{k}"
            ax.text(x + 0.08, y, label, ha="left", va="center", fontsize=7)
    ax.set_title(title or f"genome {genome.key}: {len(genome.nodes)} nodes, {len(conns)} connections", fontsize=9)
    ax.set_xlim(-1.6, cols + 0.6)
    ax.axis("off")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    atomic_write(path, buf.getvalue())


__all__ = ["AtomicCheckpointer", "CHECKPOINT_PREFIX", "draw_network", "latest_checkpoint", "load_genome", "restore",
           "save_genome"]
