"""Tiny emulator wrappers used by MiniKart's check scripts (one emulator per process).

    emu = open_backend("desmume" | "melonds", rom_path)
    emu.step(keys)            # keys: iterable of "A","B","SELECT","START","RIGHT","LEFT","UP","DOWN","R","L"
    emu.read32(addr), emu.read_bytes(addr, n)
    emu.screens()             # {"top": HxWx3 or None, "bottom": HxWx3 or None}

melonDS (stable-retro) memory: configure a blank GameData on the emulator; its memory
exposes main RAM as one block at offset 0 (= address 0x02000000), read with
`gd.memory.extract(offset, "<u4")` straight from the core (no 4 MiB copy per step).
"""
import os
import struct

ROM_DEFAULT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "src", "emurl", "games",
                           "data", "MiniKart-NintendoDs", "rom.nds")
DS_KEYS = {"A": 0x001, "B": 0x002, "SELECT": 0x004, "START": 0x008, "RIGHT": 0x010,
           "LEFT": 0x020, "UP": 0x040, "DOWN": 0x080, "R": 0x100, "L": 0x200}


class DesmumeBackend:
    name = "desmume"

    def __init__(self, rom):
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        from desmume.emulator import DeSmuME
        self.emu = DeSmuME()
        self.emu.open(os.path.abspath(rom))
        self.mem = self.emu.memory.unsigned

    def step(self, keys=()):
        mask = 0
        for k in keys:
            mask |= DS_KEYS[k]
        self.emu.input.keypad_update(mask)
        self.emu.cycle(with_joystick=False)

    def read32(self, addr):
        return self.mem.read_long(addr)

    def read_bytes(self, addr, n):
        return bytes(self.mem[addr:addr + n])

    def screens(self):
        import numpy as np
        img = np.asarray(self.emu.screenshot().convert("RGB"))
        return {"top": img[:192], "bottom": img[192:384]}


class MelonBackend:
    name = "melonds"

    def __init__(self, rom):
        import numpy as np
        import stable_retro
        import stable_retro.data
        self.np = np
        self.em = stable_retro.RetroEmulator(os.path.abspath(rom))
        self.gd = stable_retro.data.GameData()
        self.em.configure_data(self.gd)
        self.mem = self.gd.memory
        buttons = ["B", "Y", "SELECT", "START", "UP", "DOWN", "LEFT", "RIGHT", "A", "X", "L", "R",
                   "L2", "R2", "L3", "R3"]
        self.index = {b: i for i, b in enumerate(buttons)}

    def step(self, keys=()):
        mask = self.np.zeros(16, dtype=self.np.uint8)
        for k in keys:
            mask[self.index[k]] = 1
        self.em.set_button_mask(mask, 0)
        self.em.step()

    def read32(self, addr):
        return int(self.mem.extract(addr - 0x02000000, "<u4"))

    def read_bytes(self, addr, n):
        return bytes(int(self.mem.extract(addr - 0x02000000 + i, "|u1")) for i in range(n))

    def screens(self):
        # stable-retro's melonDS core returns a single 256x192 screen: the bottom one
        # (HUD + minimap), or the track screen after SELECT has swapped the screens.
        scr = self.em.get_screen()
        return {"top": None, "bottom": scr}


def open_backend(name, rom=ROM_DEFAULT):
    if name == "desmume":
        return DesmumeBackend(rom)
    if name in ("melonds", "melon"):
        return MelonBackend(rom)
    raise ValueError(name)


G = 0x02100000


def s32(v):
    return v - (1 << 32) if v & 0x80000000 else v


def read_state(emu):
    """Globals plus the driver and race status (following the pointers)."""
    st = {
        "driver_ptr": emu.read32(G + 0x00), "race_ptr": emu.read32(G + 0x04),
        "race_frame": s32(emu.read32(G + 0x08)), "scene": emu.read32(G + 0x0C),
        "track": emu.read32(G + 0x10), "frame": emu.read32(G + 0x14),
        "num_tracks": emu.read32(G + 0x18), "title_frame": emu.read32(G + 0x1C),
        "max_lines": emu.read32(G + 0x28), "magic": emu.read32(G + 0x2C),
        "lines": emu.read32(G + 0x30),
    }
    d, r = st["driver_ptr"], st["race_ptr"]
    if d:
        b = emu.read_bytes(d, 0x14)
        x, y, sp, ang, fl, dr, mx = struct.unpack("<iiiHBBi", b)
        st.update(x=x, y=y, speed=sp, angle=ang, floor=fl, drifting=dr, max_speed=mx)
    if r:
        b = emu.read_bytes(r, 0x20)
        lap, cp, ncp, prog, t, fin, l1, l2, l3 = struct.unpack("<iHHiiIiii", b)
        st.update(lap=lap, cp=cp, ncp=ncp, progress=prog, time=t, finished=fin, lap_times=(l1, l2, l3))
    return st


def load_samples(track):
    hdr = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "tracks_gen.h")
    txt = open(hdr).read()
    start = txt.index(f"track{track}_samples")
    body = txt[txt.index("{", start) + 1:txt.index("};", start)]
    nums = [int(t) for t in body.replace("{", " ").replace("}", " ").replace(",", " ").split()]
    return list(zip(nums[0::2], nums[1::2]))
