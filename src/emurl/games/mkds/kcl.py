"""Mario Kart DS collision geometry (KCL) read from the game's memory: the course's prisms as
triangles (:func:`read_kcl`), shared by the wall rays (:mod:`emurl.games.mkds.features`) and
the walls overlay (:mod:`emurl.games.mkds.overlay`).

Where the facts come from: the KCL header at 0x0217B5F4 (the header itself, not a pointer;
``data.json``'s ``kcl_*`` variables; docs/facts/mario-kart-ds.md).

The header holds pointers (fixed up at runtime) to the vertices (VecFx32, 12
bytes), normals (VecFx16, 6 bytes), prisms (1-indexed: the pointer is 0x10 bytes
before the first) and the octree, in that order in memory; a prism is 0x10 bytes:
fx32 height, u16 vertex index, face normal index, three edge normal indices and the
collision attribute, whose bits 8-12 are the collision type (wall = 8). Sources: the
DSHack wiki's "KCL" page (Mario Kart DS), the MKDS decompilation headers
(``race/collision/kcollision.h``: ``kcol_prism_data_t``, ``kcol_header_t``;
``collision.h``: ``COL_PRISM_ATTRIBUTE_COL_TYPE_SHIFT`` = 8, mask 0x1F) and the
Custom Mario Kart wiki's "KCL (File Format)" for the triangle of a prism::

    v1 = vertex[pos]
    v2 = v1 + cross(enrm2, fnrm) * height / dot(cross(enrm2, fnrm), enrm3)
    v3 = v1 + cross(enrm1, fnrm) * height / dot(cross(enrm1, fnrm), enrm3)

(edge normal 1 is normal to edge v1-v3, edge normal 2 to edge v1-v2, and the edge
v2-v3 lies ``height`` along edge normal 3 from v1). The vertex and normal counts are
not stored: they follow from the distances between the pointers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from emurl.errors import EmurlError
from emurl.games.mkds import game

FX = 4096.0
"""fx32/fx16 fixed point: 12 fraction bits (docs/facts/mario-kart-ds.md)."""
PRISM_DTYPE = np.dtype(
    [("height", "<i4"), ("pos", "<u2"), ("fnrm", "<u2"), ("enrm1", "<u2"), ("enrm2", "<u2"), ("enrm3", "<u2"), ("attr", "<u2")]
)
"""One KCL prism (``kcol_prism_data_t``), 0x10 bytes."""
WALL_TYPES = (8,)
"""KCL collision types the rays stop at by default: 8, wall (docs/facts/mario-kart-ds.md). The
decompilation also names 9 invisible wall, 14 wall (items only), 16 edge wall, 21 wall 3."""
MAIN_RAM = (0x02000000, 0x02400000)
_MAX_KCL_BYTES = 4 << 20


class MemoryLayoutError(EmurlError, ValueError):
    """Game memory does not look as ``data.json`` says (e.g. KCL pointers out of order)."""


def read_block(emulator, address: int, size: int) -> bytes:
    """``size`` bytes from ``address``: one ``emulator.read_bytes`` where the emulator has it
    (every emurl backend), else ``emulator.read`` (u32 reads, then bytes: a test's fake
    memory; a course's KCL, ~100-300 KiB, then takes a few tenths of a second, once per
    course).
    """
    read_bytes = getattr(emulator, "read_bytes", None)
    if read_bytes is not None:
        return bytes(read_bytes(address, size))
    read = emulator.read
    words, tail = divmod(size, 4)
    out = np.fromiter((read(address + 4 * i, "<u4") for i in range(words)), dtype="<u4", count=words).tobytes()
    return out + bytes(read(address + 4 * words + i, "|u1") for i in range(tail))


# -- KCL geometry ---------------------------------------------------------------------------
@dataclass(frozen=True)
class KclGeometry:
    """Triangles of a course's collision prisms.

    Attributes:
        triangles: float64 (M, 3, 3): three vertices (x, y, z) per prism, world units.
        types: uint8 (M,): collision type (attribute bits 8-12).
        attributes: uint16 (M,): the raw collision attribute.
        lo, hi: float64 (M, 3): each triangle's bounding box.
    """

    triangles: np.ndarray
    types: np.ndarray
    attributes: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def from_triangles(cls, triangles: np.ndarray, attributes: np.ndarray) -> "KclGeometry":
        tri = np.asarray(triangles, dtype=np.float64).reshape(-1, 3, 3)
        attr = np.asarray(attributes, dtype=np.uint16).reshape(-1)
        return cls(tri, ((attr >> 8) & 0x1F).astype(np.uint8), attr, tri.min(axis=1), tri.max(axis=1))

    def __len__(self) -> int:
        return len(self.triangles)

    def select(self, types: Sequence[int]) -> "KclGeometry":
        """Only the triangles whose collision type is in ``types``."""
        keep = np.isin(self.types, np.asarray(list(types), dtype=np.uint8))
        return KclGeometry(self.triangles[keep], self.types[keep], self.attributes[keep], self.lo[keep], self.hi[keep])


def prism_triangles(prisms: np.ndarray, vertices: np.ndarray, normals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The triangle of each prism (formula in the module docstring).

    Args:
        prisms: structured array of :data:`PRISM_DTYPE`, (M,).
        vertices: float (V, 3), world units.
        normals: float (N, 3), unit vectors.

    Returns:
        ``(triangles, valid)``: float64 (M, 3, 3) and bool (M,); a prism whose indices are
        out of range or whose triangle is degenerate is not valid (its triangle is 0).
    """
    m = len(prisms)
    tri = np.zeros((m, 3, 3))
    if m == 0:
        return tri, np.zeros(0, bool)
    idx = {k: prisms[k].astype(np.int64) for k in ("pos", "fnrm", "enrm1", "enrm2", "enrm3")}
    valid = idx["pos"] < len(vertices)
    for k in ("fnrm", "enrm1", "enrm2", "enrm3"):
        valid &= idx[k] < len(normals)
    safe = {k: np.where(valid, v, 0) for k, v in idx.items()}
    if len(vertices) == 0 or len(normals) == 0:
        return tri, np.zeros(m, bool)
    v1 = vertices[safe["pos"]]
    fn = normals[safe["fnrm"]]
    cross_a = np.cross(normals[safe["enrm1"]], fn)
    cross_b = np.cross(normals[safe["enrm2"]], fn)
    c = normals[safe["enrm3"]]
    h = prisms["height"].astype(np.float64) / FX
    da = np.einsum("ij,ij->i", cross_a, c)
    db = np.einsum("ij,ij->i", cross_b, c)
    valid &= (np.abs(da) > 1e-9) & (np.abs(db) > 1e-9)
    with np.errstate(divide="ignore", invalid="ignore"):
        v2 = v1 + cross_b * np.where(valid, h / db, 0.0)[:, None]
        v3 = v1 + cross_a * np.where(valid, h / da, 0.0)[:, None]
    tri[:, 0], tri[:, 1], tri[:, 2] = v1, v2, v3
    tri[~valid] = 0.0
    return tri, valid


def read_pointer(name: str, emulator) -> int:
    """An ``on_demand`` pointer or count of ``data.json`` (``kcl_*``, ``cpoi_*``), as an int."""
    return int(game.variable(name).read(emulator))


def read_kcl(emulator) -> KclGeometry:
    """The current course's collision geometry, from the KCL header in memory.

    Returns:
        A :class:`KclGeometry` of every valid prism (empty outside a race).

    Raises:
        MemoryLayoutError: the header's pointers are not in main RAM, out of order, or
            span more than 4 MiB (``data.json``'s ``kcl_*`` variables are then wrong).
    """
    ptrs = {k: read_pointer(k, emulator) for k in ("kcl_vertices", "kcl_normals", "kcl_prisms", "kcl_octree")}
    if not all(ptrs.values()):
        return KclGeometry.from_triangles(np.zeros((0, 3, 3)), np.zeros(0, np.uint16))
    pv, pn, pp, po = ptrs["kcl_vertices"], ptrs["kcl_normals"], ptrs["kcl_prisms"] + 0x10, ptrs["kcl_octree"]
    lo, hi = MAIN_RAM
    shown = ", ".join(f"{k}={v:#010x}" for k, v in ptrs.items())
    if not (lo <= pv < pn <= pp <= po < hi) or po - pv > _MAX_KCL_BYTES:
        raise MemoryLayoutError(
            f"the KCL header does not look like one ({shown}): expected vertices < normals < "
            f"prisms + 0x10 <= octree, all in main RAM, within 4 MiB. Check the kcl_* variables "
            f"in {game.GAME}/data.json (\"on_demand\")"
        )
    vertices = np.frombuffer(read_block(emulator, pv, (pn - pv) // 12 * 12), "<i4").reshape(-1, 3) / FX
    normals = np.frombuffer(read_block(emulator, pn, (pp - pn) // 6 * 6), "<i2").reshape(-1, 3) / FX
    prisms = np.frombuffer(read_block(emulator, pp, (po - pp) // 16 * 16), PRISM_DTYPE)
    tri, valid = prism_triangles(prisms, vertices, normals)
    return KclGeometry.from_triangles(tri[valid], prisms["attr"][valid])


__all__ = [
    "FX", "MAIN_RAM", "PRISM_DTYPE", "WALL_TYPES", "KclGeometry", "MemoryLayoutError", "prism_triangles",
    "read_block", "read_kcl", "read_pointer",
]
