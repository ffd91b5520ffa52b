"""A distilled :class:`~emurl.train.distill.tree.Tree` as C and as ca65 (6502) assembly, its
size in bytes once assembled (cc65's ``ca65``/``ld65``), and a tiny 6502 interpreter of
the few opcodes the routine uses, to check the assembled bytes against the Python tree.

The ca65 routine ``tree_score`` reads one placement's features from ``TREE_FEATURES`` (one
byte each, in :data:`~emurl.games.drmario.tree_features.NAMES` order, written there by the
caller, which computes them as that module's docstring says; zero page by default, so each
load is 2 bytes; both exports list the tree's feature names in a comment) and returns its
score in A; the caller keeps the best of the reachable placements (the lowest index among equals). Each inner
node is ``LDA feature / CMP #threshold+1 / BCS right`` (6 bytes; when the left subtree is
longer than a branch reaches, ``BCC +3 / JMP right``: 9 bytes), each leaf ``LDA #score /
RTS`` (3 bytes). Opcodes used: LDA #imm (A9), LDA zp (A5), LDA abs (AD), CMP #imm (C9),
BCS (B0), BCC (90), JMP abs (4C), RTS (60) (6502 reference: https://www.masswerk.at/6502/6502_instruction_set.html).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from emurl.errors import EmurlError
from emurl.fileio import atomic_write
from emurl.train.distill.tree import LEAF, Tree

FEATURES_BASE = 0x60
"""Default address of the features (zero page from 0x60: the 23 features end at 0x76, below cc65's runtime at 0xC0)."""

LOAD = 0x8000
"""Where the size check and the interpreter load the routine (any ROM address serves)."""


def to_c(tree: Tree, name: str = "emurl_tree") -> str:
    """C source: ``unsigned char <name>(const unsigned char *f)`` returns the score (0-255)
    of the placement whose features (one byte each) ``f`` points to."""
    lines = ["/* A distilled placement scorer (emurl distill); f: one placement's features, one byte each. */"]
    lines += [f"/* f[{i}]: {n} */" for i, n in enumerate(tree.names)]
    lines += [f"unsigned char {name}(const unsigned char *f)", "{"]

    def emit(i: int, indent: str) -> None:
        if tree.left[i] == LEAF:
            lines.append(f"{indent}return {int(tree.score[i])};")
            return
        lines.append(f"{indent}if (f[{int(tree.feature[i])}] <= {int(tree.threshold[i])}) {{")
        emit(int(tree.left[i]), indent + "    ")
        lines.append(f"{indent}}} else {{")
        emit(int(tree.right[i]), indent + "    ")
        lines.append(f"{indent}}}")
    emit(0, "    ")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _sizes(tree: Tree, lda: int) -> dict[int, int]:
    """Bytes of each node's code (``lda``: 2 for a zero-page load, 3 for an absolute one)."""
    sizes: dict[int, int] = {}

    def size(i: int) -> int:
        if tree.left[i] == LEAF:
            s = 3
        else:
            left, right = size(int(tree.left[i])), size(int(tree.right[i]))
            s = lda + 2 + (2 if left <= 127 else 5) + left + right
        sizes[i] = s
        return s
    size(0)
    return sizes


def to_ca65(tree: Tree, features_base: int = FEATURES_BASE, name: str = "tree_score") -> str:
    """ca65 source of the routine (see the module docstring); ``.export``s ``name``."""
    load = 2 if features_base + max(int(tree.feature.max()), 0) < 0x100 else 3
    sizes = _sizes(tree, load)
    out = ["; A distilled placement scorer (emurl distill): A = the score (0-255) of one placement.",
           "; In: its features, one byte each, at TREE_FEATURES. Clobbers A and the flags.",
           *[f"; TREE_FEATURES+{i}: {n}" for i, n in enumerate(tree.names)],
           ".ifndef TREE_FEATURES", f"TREE_FEATURES = ${features_base:04X}", ".endif",
           f".export {name}", '.segment "CODE"', f".proc {name}"]

    def emit(i: int) -> None:
        if tree.left[i] == LEAF:
            out.extend([f"        lda #{int(tree.score[i])}", "        rts"])
            return
        f, t = int(tree.feature[i]), int(tree.threshold[i])
        right = f"@n{int(tree.right[i])}"
        out.append(f"        lda <(TREE_FEATURES+{f})" if load == 2 else f"        lda a:TREE_FEATURES+{f}")
        out.append(f"        cmp #{min(t + 1, 255)}")  # features are < 255: scikit-learn never cuts at 255
        if sizes[int(tree.left[i])] <= 127:
            out.append(f"        bcs {right}")
        else:
            out.append("        bcc *+5")
            out.append(f"        jmp {right}")
        emit(int(tree.left[i]))
        out.append(f"{right}:")
        emit(int(tree.right[i]))
    emit(0)
    out.append(".endproc")
    return "\n".join(out) + "\n"


_CFG = """MEMORY { ROM: start=$%04X, size=$4000, file=%%O, fill=no; }
SEGMENTS { CODE: load=ROM, type=ro; }
"""


def assemble(source: str, load: int = LOAD) -> bytes:
    """The bytes of ca65 ``source`` linked at ``load`` (ca65 + ld65).

    Raises:
        EmurlError: ca65 or ld65 is missing or fails (the message has its output).
    """
    if not (shutil.which("ca65") and shutil.which("ld65")):
        raise EmurlError("ca65/ld65 not found: install cc65 (Debian: apt-get install cc65) to assemble the tree")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "tree.s").write_text(source)
        (d / "tree.cfg").write_text(_CFG % load)
        for cmd in (["ca65", "-o", "tree.o", "tree.s"], ["ld65", "-C", "tree.cfg", "-o", "tree.bin", "tree.o"]):
            done = subprocess.run(cmd, cwd=d, capture_output=True, text=True)
            if done.returncode:
                raise EmurlError(f"{cmd[0]} failed: {done.stderr.strip() or done.stdout.strip()}")
        return (d / "tree.bin").read_bytes()


def run_6502(code: bytes, features, features_base: int = FEATURES_BASE, load: int = LOAD,
             max_steps: int = 100_000) -> int:
    """Run the assembled routine on one placement's ``features`` (uint8 (F,)) and return A
    (its score) at the RTS: an
    interpreter of only the opcodes :func:`to_ca65` emits.

    Raises:
        ValueError: another opcode, or no RTS within ``max_steps`` instructions.
    """
    mem = np.zeros(0x10000, np.uint8)
    f = np.asarray(features, np.uint8)
    mem[features_base:features_base + f.size] = f
    mem[load:load + len(code)] = np.frombuffer(code, np.uint8)
    pc, a, carry = load, 0, False
    for _ in range(max_steps):
        op = int(mem[pc])
        if op == 0xA9:
            a, pc = int(mem[pc + 1]), pc + 2
        elif op == 0xA5:
            a, pc = int(mem[int(mem[pc + 1])]), pc + 2
        elif op == 0xAD:
            a, pc = int(mem[int(mem[pc + 1]) | int(mem[pc + 2]) << 8]), pc + 3
        elif op == 0xC9:
            carry, pc = a >= int(mem[pc + 1]), pc + 2
        elif op in (0xB0, 0x90):
            off = int(mem[pc + 1])
            off = off - 256 if off >= 128 else off
            taken = carry if op == 0xB0 else not carry
            pc = pc + 2 + (off if taken else 0)
        elif op == 0x4C:
            pc = int(mem[pc + 1]) | int(mem[pc + 2]) << 8
        elif op == 0x60:
            return a
        else:
            raise ValueError(f"opcode ${op:02X} at ${pc:04X}: not one the tree routine uses")
    raise ValueError(f"no RTS within {max_steps} instructions")


def write_exports(tree: Tree, out_dir: str | os.PathLike, features_base: int = FEATURES_BASE) -> dict:
    """Write ``tree.c`` and ``tree.s`` in ``out_dir``; returns ``{"c": path, "ca65": path,
    "bytes": assembled size or None (no ca65), "bytes_error": why not}``."""
    out_dir = Path(out_dir)
    c_path, s_path = out_dir / "tree.c", out_dir / "tree.s"
    atomic_write(c_path, to_c(tree).encode())
    source = to_ca65(tree, features_base)
    atomic_write(s_path, source.encode())
    result = {"c": str(c_path), "ca65": str(s_path), "bytes": None}
    try:
        result["bytes"] = len(assemble(source))
    except EmurlError as exc:
        result["bytes_error"] = str(exc)
    return result


__all__ = ["FEATURES_BASE", "LOAD", "assemble", "run_6502", "to_c", "to_ca65", "write_exports"]
