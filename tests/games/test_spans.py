"""Span reads (:mod:`emurl.games.spans`): a :class:`VariableReader` that reads fixed-address
variables in spans returns exactly what each variable's own ``read`` returns, for every
variable of every integration that ships (emurl's and stable-retro's), over random RAM.

Two grounds: the real cores where a ROM ships (NES: FCEUmm on MiniDoc's ROM; Genesis:
Genesis Plus GX on Airstriker's, whose memory overlay turns its 16-bit words around), and
for the other systems :class:`RetroMemory`, stable-retro's memory written out in Python
from its source (``src/memory.cpp``: ``AddressSpace``, ``MemoryOverlay``,
``DataType::decode``), itself held to the real cores here.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from emurl.emulators import open_emulator
from emurl.emulators.melonds import MelonDSBackend
from emurl.emulators.retro import RetroBackend, _overlay, core_info
from emurl.errors import EmulatorError, IntegrationError
from emurl.games import load_integration
from emurl.games.integration import integration_folders
from emurl.games.jsonfile import read_json_object
from emurl.games.memory import MEMORY, variables_from_info
from emurl.games.spans import decoder
from emurl.games.variables import VariableReader

# -- stable-retro's memory in Python ---------------------------------------------------------------

_LITTLE_HOST = sys.byteorder == "little"


def _endian(t: str) -> str:
    """stable-retro's ``DataType`` endianness of type string ``t``, reduced for this host:
    "B", "L", "BL" (halves big-endian, little within) or "LB"."""
    if t[0] == "=":
        return "L" if _LITTLE_HOST else "B"
    if t[0] == ">":
        return {"<": "BL", "=": "BL" if _LITTLE_HOST else "B"}.get(t[1], "B")
    if t[0] == "<":
        return {">": "LB", "=": "L"}.get(t[1], "L")  # MIXED_LN reduces to LITTLE on this host
    return "L"  # UNDEF: the switch's default


def decode(t: str, data: bytes) -> int:
    """``DataType(t).decode(data)``, step by step as memory.cpp does it (an int64 result)."""
    width, repr_ = int(t[-1]), t[-2]
    inc = 100 if repr_ == "d" else 10 if repr_ == "n" else 256
    mask_lo, mask_hi, cvt = (0xF if repr_ in "dn" else 0xFF), (0xF0 if repr_ == "d" else 0), (10 if repr_ in "dn" else 256)
    shift = [0] * 8
    e = _endian(t)
    loc, end, half, diff = {"L": (0, width, -1, 1), "B": (width - 1, -1, -1, -1),
                            "LB": (width // 2 - 1, -1, width - 1, -1), "BL": (width // 2, width, 0, 1)}[e]
    s, i = 1, loc
    while i != end:
        shift[i], s, i = s, s * inc, i + diff
    if half >= 0:
        i = half
        while i != loc:
            shift[i], s, i = s, s * inc, i + diff
    datum = sum(((b & mask_lo) % cvt + ((b & mask_hi) >> 4) % cvt * 10) * shift[k] for k, b in enumerate(data[:width]))
    datum %= 1 << 64
    if repr_ == "i":
        datum = (datum << 8 * (8 - width)) % (1 << 64) >> 8 * (8 - width)  # logical here, sign below
        if datum >> (8 * width - 1):
            datum -= 1 << 8 * width
        return datum
    return datum - (1 << 64) if datum >> 63 else datum


class RetroMemory:
    """An emulator with only stable-retro's memory: ``blocks`` (start → bytes as the core
    holds them) and an optional overlay (``(backing, real, width)`` as a core's JSON gives
    it). ``read`` is ``AddressSpace::operator[](Variable)``; ``read_spans``, ``read_bytes``
    and ``memory_blocks`` as the retro backend's."""

    def __init__(self, blocks: dict[int, bytes], overlay=None):
        self.blocks = {k: bytes(v) for k, v in sorted(blocks.items())}
        self.overlay = overlay

    @property
    def memory_blocks(self) -> dict[int, int]:
        return {k: len(v) for k, v in self.blocks.items()}

    def _parse(self, block: bytes, offset: int, size: int) -> bytes:
        """``MemoryOverlay::parse``: the bytes at ``offset`` as the real byte order shows them."""
        if not self.overlay:
            return block[offset:offset + size]
        backing, real, width = self.overlay
        lo = offset & ~(width - 1)
        out = bytearray()
        for i in range(lo, offset + size, width):
            value = decode(f"{backing}u{width}", block[i:i + width])
            out += (value % (1 << 8 * width)).to_bytes(width, "big" if _endian(f"{real}u") == "B" else "little")
        return bytes(out[offset - lo:offset - lo + size])

    def read(self, address: int, dtype: str) -> int:
        for start, block in self.blocks.items():
            if address < start:
                raise IndexError("No known mapping")
            if address - start >= len(block):
                continue
            if address - start + int(dtype[-1]) > len(block):
                raise IndexError("past the block's end (stable-retro reads on; a test must not)")
            return decode(dtype, self._parse(block, address - start, int(dtype[-1])))
        raise IndexError("No known mapping")

    def read_bytes(self, address: int, size: int) -> bytes:
        return bytes(self.read(address + i, "|u1") for i in range(size))

    def read_spans(self, spans) -> bytes:
        out = b""
        for address, size in spans:
            start = next(s for s, b in self.blocks.items() if s <= address and address + size <= s + len(b))
            out += self._parse(self.blocks[start], address - start, size)
        return out


def _same(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for k in a:
        x, y = a[k], b[k]
        assert type(x) is type(y), k
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y), k
            assert x.flags.writeable, k
        else:
            assert x == y, k


def _outcome(reader: VariableReader, emulator):
    """The reader's values on ``emulator``, or the message of the IntegrationError it raised."""
    try:
        return reader(emulator)
    except IntegrationError as exc:
        return str(exc)


def _per_variable(reader: VariableReader, emulator):
    """Each variable's own :meth:`Variable.read`, as the reader's result (or its error)."""
    try:
        return {v.name: v.read(emulator) for v in reader.variables}
    except IntegrationError as exc:
        return str(exc)


def _compare(reader: VariableReader, emulator) -> None:
    spans, each = _outcome(reader, emulator), _per_variable(reader, emulator)
    if isinstance(each, str) or isinstance(spans, str):
        assert spans == each
    else:
        _same(spans, each)


def _readers(system: str) -> list[tuple[str, VariableReader]]:
    """A reader of every variable of every integration of ``system`` (emurl's and stable-retro's)."""
    out = []
    for name, (folder, _) in sorted(integration_folders().items()):
        if name.rsplit("-", 1)[1] == system:
            info = read_json_object(folder / "data.json").get("info", {})
            out.append((name, VariableReader(variables_from_info(info, str(folder / "data.json"), system).values())))
    return out


# Random RAM: Hypothesis picks the seed and the bytes RAM is drawn from (all of them, or
# the edges: 0, 0xFF, sign bits, BCD digits past 9).
EDGES = [0x00, 0xFF, 0x80, 0x7F, 0x99, 0x9A, 0xA9, 0xFA, 0x01, 0x10]
alphabets = st.one_of(st.just(None), st.lists(st.sampled_from(EDGES), min_size=1, max_size=4, unique=True))


def _random_bytes(seed: int, alphabet, size: int) -> bytes:
    rng = np.random.default_rng(seed)
    if alphabet is None:
        return rng.integers(0, 256, size, dtype=np.uint8).tobytes()
    return np.array(alphabet, np.uint8)[rng.integers(0, len(alphabet), size)].tobytes()


# -- the real cores ---------------------------------------------------------------------------------

def _fill(emu: RetroBackend, seed: int, alphabet) -> None:
    """Random bytes in every RAM block of a real core, written through its memory map."""
    for start, size in emu.memory_blocks.items():
        data = _random_bytes(seed + start, alphabet, size)
        for i, b in enumerate(data):
            emu.write(start + i, "|u1", b)


@pytest.fixture
def nes():
    """FCEUmm on MiniDoc's ROM, closed after each test (one stable-retro emulator per process)."""
    emu = open_emulator(load_integration("MiniDoc-Nes").require_rom(), "Nes")
    yield emu
    emu.close()


def _system_test(emu, system: str, seed: int, alphabet, readers) -> None:
    _fill(emu, seed, alphabet)
    for _, reader in readers:
        _compare(reader, emu)


@pytest.fixture(scope="module")
def nes_readers():
    readers = _readers("Nes")
    assert {"MiniDoc-Nes", "DrMario-Nes"} <= {n for n, _ in readers} and len(readers) > 100
    return readers


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), alphabet=alphabets)
def test_every_nes_integration_reads_the_same_in_spans(nes, nes_readers, seed, alphabet):
    _system_test(nes, "Nes", seed, alphabet, nes_readers)


def test_minidoc_is_read_in_spans(nes):
    """MiniDoc's variables are all at fixed addresses: the reader reads them in spans, none alone."""
    reader = VariableReader(load_integration("MiniDoc-Nes").variables.values())
    reader(nes)
    assert reader._spans is not None and len(reader._spans.spans) <= 6
    assert all(p[1] >= 0 for p in reader._rest)  # only pointer variables (none here) are left to read()


def test_read_spans_is_read_bytes_concatenated(nes):
    _fill(nes, 7, None)
    spans = ((0x0043, 19), (0x0301, 37), (0x0400, 128), (0x6000, 5))
    assert nes.read_spans(spans) == b"".join(nes.read_bytes(a, n) for a, n in spans)
    assert nes.read_bytes(0x0300, 3) == bytes(nes.read(0x0300 + i, "|u1") for i in range(3))
    with pytest.raises(EmulatorError, match="not inside one memory block"):
        nes.read_spans(((0x03F0, 0x20),))  # across the blocks at 0x0000 and 0x0400


def test_a_backend_that_moves_addresses_reads_variable_by_variable():
    """melonDS overrides read (DS addresses moved to its block at 0): inherited spans would
    read the wrong bytes, so it has none, and its reader takes each variable alone."""
    assert MelonDSBackend.read_spans is None
    assert RetroBackend.read_spans is not None


def test_the_model_is_stable_retros_memory(nes):
    """:class:`RetroMemory` reads what FCEUmm's memory map reads, for every type string."""
    _fill(nes, 11, None)
    model = RetroMemory({k: v for k, v in nes._memory.blocks.items()})
    rng = np.random.default_rng(0)
    for t in _all_types():
        for start, size in nes.memory_blocks.items():
            for address in rng.integers(start, start + size - 8, 6):
                assert model.read(int(address), t) == nes.read(int(address), t), (t, hex(address))


def _all_types() -> list[str]:
    orders = ["<", ">", "|", "=", "><", "<>", ">=", "<="]
    return [f"{o}{k}{w}" for o in orders for k in "uidn" for w in range(1, 9)]


# -- Genesis: the overlay ------------------------------------------------------------------------------

def test_genesis_reads_the_same_in_spans(tmp_path):
    """Genesis Plus GX keeps RAM as native-order 16-bit words read big-endian: the spans and
    read_bytes see what read does, and the model does too."""
    emu = open_emulator(load_integration("Airstriker-Genesis").require_rom(), "Genesis")
    try:
        readers = _readers("Genesis")
        assert len(readers) > 100
        overlay = core_info("Genesis")["overlay"]
        assert _overlay(overlay) is not None
        for seed, alphabet in ((1, None), (2, [0x00, 0xFF, 0x80]), (3, [0x99, 0xFA, 0x01])):
            _fill(emu, seed, alphabet)
            for _, reader in readers:
                _compare(reader, emu)
            model = RetroMemory(emu._memory.blocks, overlay)
            for address in (0xFF0000, 0xFF0001, 0xFF1235, 0xFFFFF0):
                assert emu.read_bytes(address, 9) == bytes(emu.read(address + i, "|u1") for i in range(9))
                assert emu.read_spans(((address, 9),)) == emu.read_bytes(address, 9)
                for t in _all_types():
                    assert model.read(address, t) == emu.read(address, t), (t, hex(address))
        reader = VariableReader(load_integration("Airstriker-Genesis").variables.values())
        reader(emu)
        assert reader._spans is not None
    finally:
        emu.close()


# -- every other system, on the model ---------------------------------------------------------------

MODEL_SYSTEMS = sorted({name.rsplit("-", 1)[1] for name in integration_folders()} - {"Nes", "Genesis"})


def _model_ranges(system: str, readers) -> list[tuple[int, int]]:
    """(start, size) of the model's blocks: the system's memory where :data:`MEMORY` knows it,
    else one block around its integrations' variables (N64, Saturn, 32X, arcade)."""
    if system in MEMORY:
        return [(start, size) for start, size, _ in MEMORY[system]]
    addresses = [v.address for _, r in readers for v in r.variables]
    low = min(addresses) & ~0xF
    return [(low, (max(addresses) + 16 - low + 15) & ~0xF)]


def _core_overlay(system: str):
    try:
        return core_info(system).get("overlay")
    except EmulatorError:  # no core here (arcade): no overlay
        return None


@pytest.mark.parametrize("system", MODEL_SYSTEMS)
@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), alphabet=alphabets)
@example(seed=0, alphabet=[0x00])  # null pointers: the DS integrations' chains read as 0, no error
def test_every_integration_reads_the_same_in_spans_on_the_model(system, seed, alphabet):
    readers = _readers(system)
    blocks = {start: _random_bytes(seed + start, alphabet, size) for start, size in _model_ranges(system, readers)}
    model = RetroMemory(blocks, _core_overlay(system))
    for _, reader in readers:
        _compare(reader, model)


@settings(max_examples=200, deadline=None)
@given(t=st.sampled_from(_all_types()), data=st.binary(min_size=8, max_size=8))
def test_decoder_is_datatype_decode(t, data):
    """:func:`decoder` gives ``DataType::decode`` for every type it takes (mixed orders: none)."""
    decode_ = decoder(t)
    if len(t) == 4:  # a mixed byte order
        assert decode_ is None
    else:
        assert decode_(b"\x00" + data, 1) == decode(t, data)
