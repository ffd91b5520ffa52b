"""Synthetic Mario Kart DS main RAM for tests that need no ROM: the memory map laid out from
the facts file (docs/facts/mario-kart-ds.md) independently of ``data.json``, in the three
releases (USA, Europe, Japan), so that a wrong offset or type in ``data.json`` fails the
tests that read it.

``INFO_FACTS`` / ``ON_DEMAND_FACTS``: name → (struct, offset from its base, type, raw
value, decoded value); :func:`build_memory` writes them behind the release's pointers
(with decoys where a reader that ignores the region offset would look).
"""

from __future__ import annotations

import numpy as np

GAME = "MarioKartDS-NintendoDs"
BASE, SIZE = 0x02000000, 4 << 20
DS_BUTTONS = ("B", "Y", "SELECT", "START", "UP", "DOWN", "LEFT", "RIGHT", "A", "X", "L", "R")
REGIONS = {"AMCE": 0x0, "AMCP": 0x20, "AMCJ": 0xA0}  # racer pointer 0x0217ACF8 / AD18 / AD98
ANCHOR, ANCHOR_USA = 0x02000B54, 0x0216F320
# USA addresses holding pointers to structs (facts: "Pointers (USA, AMCE)")
POINTERS = {"driver": 0x0217ACF8, "status": 0x021755FC, "rstate": 0x0217AA34, "config": 0x021759A0,
            "scene": 0x021759AC, "map": 0x02175600}
KCL_HEADER = 0x0217B5F4  # the header itself, not a pointer
STRUCTS = {"driver": 0x02200000, "status": 0x02210000, "rstate": 0x02220000, "config": 0x02230000,
           "scene": 0x02240000, "map": 0x02250000}
CPOI_AT, KCL_AT = 0x02260000, 0x02300000


def fx(x: float) -> int:
    return int(round(x * 4096))


# name: (struct, offset from its base, type, raw value, decoded value) -- docs/facts/mario-kart-ds.md
INFO_FACTS = {
    "race_progress": ("status", 0x58, "<i4", fx(1.25), 1.25),
    "lap_progress": ("status", 0x5C, "<i4", fx(0.25), 0.25),
    "lap": ("status", 0x38, "<i4", 2, 2),
    "checkpoint": ("status", 0x46, "<u2", 17, 17),
    "key_checkpoint": ("status", 0x48, "<u2", 5, 5),
    "speed": ("driver", 0x2A8, "<i4", fx(18.5), 18.5),
    "max_speed": ("driver", 0xD0, "<i4", fx(20.0), 20.0),
    "boost_timer": ("driver", 0x238, "<i2", -7, -7),
    "place": ("driver", 0x3D8, "<i4", 3, 3),
    "position_x": ("driver", 0x80, "<i4", fx(-1234.5), -1234.5),
    "position_y": ("driver", 0x84, "<i4", fx(56.25), 56.25),
    "position_z": ("driver", 0x88, "<i4", fx(789.0), 789.0),
    "facing_angle": ("driver", 0x236, "<u2", 0xC000, 0xC000),
    "floor_type": ("driver", 0x3E0, "<u4", 3, 3),
    "offroad_factor": ("driver", 0xDC, "<i4", fx(0.5), 0.5),
    "in_air": ("driver", 0x3DD, "|u1", 1, 1),
    "respawn_counter": ("driver", 0x3AC, "<u2", 2, 2),
    "race_frame": ("rstate", 0x4, "<i4", 1234, 1234),
    "scene_state": ("scene", 0x10C, "|u1", 2, 2),
    "course": ("config", 0x0, "<i4", 22, 22),
    "character": ("config", 0x68, "<i4", 7, 7),
    "kart": ("config", 0x6C, "<i4", 21, 21),
}
ON_DEMAND_FACTS = {
    "direction_x": ("driver", 0x50, "<i4", fx(0.0), 0.0),
    "direction_y": ("driver", 0x54, "<i4", fx(0.0), 0.0),
    "direction_z": ("driver", 0x58, "<i4", fx(1.0), 1.0),
    "lap_frames": ("status", 0x18, "<i4", 600, 600),
    "status_place": ("status", 0x50, "<u2", 0x31, 1),  # bits 0-3 place, 4-7 driver id
    "race_mode": ("config", 0x8, "<i4", 1, 1),
    "cpoi_pointer": ("map", 0x44, "<u4", CPOI_AT, CPOI_AT),
    "cpoi_count": ("map", 0x48, "<u4", 0, 0),
}


class FakeDs:
    """4 MiB of DS main RAM as a bytearray, read and written by absolute address like the DS backends."""

    buttons = DS_BUTTONS
    frame_rate = 59.8261

    def __init__(self):
        self.mem = bytearray(SIZE)

    def _span(self, address: int, size: int) -> slice:
        off = address - BASE
        if not (0 <= off and off + size <= SIZE):
            raise ValueError(f"address {address:#x} outside main RAM")
        return slice(off, off + size)

    def read(self, address: int, dtype: str) -> int:
        size = int(dtype[-1])
        order = "big" if dtype[0] == ">" else "little"
        return int.from_bytes(self.mem[self._span(address, size)], order, signed=dtype[-2] == "i")

    def write(self, address: int, dtype: str, value: int) -> None:
        size = int(dtype[-1])
        order = "big" if dtype[0] == ">" else "little"
        self.mem[self._span(address, size)] = int(value).to_bytes(size, order, signed=dtype[-2] == "i")

    def write_bytes(self, address: int, data: bytes) -> None:
        self.mem[self._span(address, len(data))] = data


def build_memory(code: str = "AMCE", decoys: bool = True, facts: dict | None = None) -> FakeDs:
    """Synthetic RAM of a race in progress on release ``code``; values from INFO_FACTS / ON_DEMAND_FACTS."""
    ram, off = FakeDs(), REGIONS[code]
    ram.write(0x023FFA8C, "<u4", int.from_bytes(code.encode(), "little"))
    ram.write(ANCHOR, "<u4", ANCHOR_USA + off)
    for name, addr in POINTERS.items():
        ram.write(addr + off, "<u4", STRUCTS[name])
        if decoys and off:  # what a reader that ignores the region offset would find
            ram.write(addr, "<u4", STRUCTS[name] + 0x8000)
            ram.write_bytes(STRUCTS[name] + 0x8000, b"\x55" * 0x600)
    for struct, offset, dtype, raw, _ in {**INFO_FACTS, **ON_DEMAND_FACTS, **(facts or {})}.values():
        ram.write(STRUCTS[struct] + offset, dtype, raw)
    return ram


# -- helpers for the overlay tests (camera, KCL) ----------------------------------------------
CAMERA_POINTER = 0x0217AA4C  # USA; holds a pointer to camera_t (facts: "Pointers (USA, AMCE)")
CAMERA_AT = 0x02270000


def write_camera(ram: FakeDs, code: str = "AMCE", position=(0.0, 0.0, 0.0), target=(0.0, 0.0, 1.0),
                 fov_sin: float = 0.5, fov_cos: float = 0.5, aspect: float = 4 / 3, near: float = 0.0,
                 far: float = 4096.0, at: int = CAMERA_AT) -> None:
    """Point release ``code``'s camera pointer at a camera_t at ``at`` (facts: camera_t: target +0x18,
    position +0x24, matrix +0x30, fovSin/fovCos fx16 +0x68/+0x6A, aspect +0x6C, near +0x70, far +0x74)."""
    ram.write(CAMERA_POINTER + REGIONS[code], "<u4", at)
    for base, vec in ((0x18, target), (0x24, position)):
        for i, v in enumerate(vec):
            ram.write(at + base + 4 * i, "<i4", fx(v))
    for i in range(12):  # an identity-like MtxFx43; the overlay does not read it
        ram.write(at + 0x30 + 4 * i, "<i4", 4096 if i in (0, 4, 8) else 0)
    ram.write(at + 0x68, "<i2", fx(fov_sin))
    ram.write(at + 0x6A, "<i2", fx(fov_cos))
    for off, v in ((0x6C, aspect), (0x70, near), (0x74, far)):
        ram.write(at + off, "<i4", fx(v))


def prism_of(v1, v2, v3):
    """(height, face normal, edge normals 1-3) of a triangle: the inverse of the KCL formula
    (emurl.games.mkds.features' docstring)."""

    def unit(v):
        return v / np.linalg.norm(v)

    v1, v2, v3 = (np.asarray(v, float) for v in (v1, v2, v3))
    n = unit(np.cross(v2 - v1, v3 - v1))
    a = unit(np.cross(n, v3 - v1))  # normal to edge v1-v3, away from v2
    a = -a if a @ (v2 - v1) > 0 else a
    b = unit(np.cross(n, v2 - v1))  # normal to edge v1-v2, away from v3
    b = -b if b @ (v3 - v1) > 0 else b
    c = unit(np.cross(n, v3 - v2))  # normal to edge v2-v3, away from v1
    c = -c if c @ (v1 - v2) > 0 else c
    return float((v2 - v1) @ c), n, a, b, c


def write_kcl(ram: FakeDs, triangles, attributes, code: str = "AMCE", at: int = KCL_AT) -> None:
    """Lay a KCL out in RAM as the game holds it (vertices, normals, prisms, octree) and fill
    release ``code``'s KCL header with pointers to it."""
    verts, norms, prisms = [], [], []
    for (v1, v2, v3), attr in zip(triangles, attributes):
        h, n, a, b, c = prism_of(v1, v2, v3)
        prisms.append((fx(h), len(verts), len(norms), len(norms) + 1, len(norms) + 2, len(norms) + 3, attr))
        verts.append(v1)
        norms += [n, a, b, c]
    vb = b"".join(int(fx(x)).to_bytes(4, "little", signed=True) for v in verts for x in v)
    nb = b"".join(int(fx(x)).to_bytes(2, "little", signed=True) for v in norms for x in v)
    nb += b"\0" * (-len(nb) % 4)
    dtype = [("h", "<i4"), ("p", "<u2"), ("f", "<u2"), ("a", "<u2"), ("b", "<u2"), ("c", "<u2"), ("t", "<u2")]
    pb = np.array(prisms, dtype=dtype).tobytes()
    pv, pn = at, at + len(vb)
    pp = pn + len(nb)
    ram.write_bytes(pv, vb + nb + pb)
    for i, ptr in enumerate((pv, pn, pp - 0x10, pp + len(pb))):
        ram.write(KCL_HEADER + REGIONS[code] + 4 * i, "<u4", ptr)
