"""Fixed-address variables read in spans: one memory read for many variables, each value
decoded from the bytes as stable-retro's memory decodes it.

A game's variables mostly sit at fixed addresses in a few small stretches of RAM (Dr.
Mario's per-player records at 0x0300-0x03A5, its playfields at 0x0400 and 0x0500). An
emulator that can hand over several stretches at once (``read_spans``, the stable-retro
backend's :meth:`~emurl.emulators.retro.RetroBackend.read_spans`) then serves every such
variable with one call, instead of one ``read(address, dtype)`` per variable. The values
must be exactly what ``read`` gives; :func:`decoder` follows stable-retro's
``DataType::decode`` (``src/memory.cpp`` of https://github.com/Farama-Foundation/stable-retro):

- ``u`` / ``i``: the bytes as an unsigned / two's-complement integer in the type's byte
  order (``<``, ``|`` and, on a little-endian host, ``=`` little; ``>`` big); a 64-bit
  ``u`` value with its top bit set comes back negative, as stable-retro returns an int64;
- ``d`` (BCD): each byte two decimal digits, each nibble taken modulo 10 (0xF reads 5);
- ``n``: one decimal digit per byte, its low nibble modulo 10.

Types with a mixed byte order (``'><u4'``) are left to ``read``.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import Callable, Iterable

import numpy as np

GAP = 128
"""Variables at most this many bytes apart share a span: reading the bytes between them
costs less than another span."""

_BCD = tuple((b & 0xF) % 10 + (b >> 4) % 10 * 10 for b in range(256))
_DIGIT = tuple((b & 0xF) % 10 for b in range(256))


def decoder(dtype: str) -> Callable[[bytes, int], int] | None:
    """``decode(buf, offset)``: the value of stable-retro type ``dtype`` whose bytes start at
    ``buf[offset]`` (an int, as the retro backend's ``read`` returns); None for a type of
    mixed byte order (read those with ``read``).

    >>> decoder("|d1")(bytes([0x42]), 0), decoder(">u2")(bytes([1, 2]), 0), decoder("<i2")(b"\\xfe\\xff", 0)
    (42, 258, -2)
    """
    order, kind, width = dtype[:-2], dtype[-2], int(dtype[-1])
    if len(order) != 1:
        return None
    little = order in "<|" or (order == "=" and sys.byteorder == "little")
    if kind in "ui":
        signed = kind == "i" or width == 8  # stable-retro's values are int64
        if width == 1 and not signed:
            return _byte
        byteorder = "little" if little else "big"
        return lambda buf, off: int.from_bytes(buf[off:off + width], byteorder, signed=signed)
    table, base = (_BCD, 100) if kind == "d" else (_DIGIT, 10)
    weights = [base ** k for k in range(width)]
    if not little:
        weights.reverse()
    if width == 1:
        return lambda buf, off: table[buf[off]]
    return lambda buf, off: sum(table[b] * w for b, w in zip(buf[off:off + width], weights))


def _byte(buf: bytes, off: int) -> int:
    return buf[off]


@lru_cache(maxsize=None)  # a handful of type strings, asked for on every array read
def numpy_dtype(dtype: str) -> np.dtype:
    """The numpy dtype of a stable-retro integer type string (``'>u2'`` → ``>u2``, ``'|u1'`` → uint8)."""
    order = dtype[:-2]
    return np.dtype((">" if ">" in order else "<" if "<" in order else "=") + dtype[-2:])


def read_array(emulator, address: int, dtype: str, shape: tuple[int, ...], mask: int | None = None,
               scale: float | None = None) -> np.ndarray:
    """``prod(shape)`` values of stable-retro integer type ``dtype`` from ``address``, as a
    new numpy array of ``shape`` (row-major; dtype ``dtype``'s, float64 with ``scale``).

    Read as one block through ``emulator.read_bytes(address, size)`` where the emulator
    has it (every emurl backend does), else one ``emulator.read`` per element.
    """
    np_dtype = numpy_dtype(dtype)
    count = math.prod(shape)
    read_bytes = getattr(emulator, "read_bytes", None)
    if read_bytes is not None:
        out = np.frombuffer(bytearray(read_bytes(address, count * np_dtype.itemsize)), np_dtype)
    else:
        size = np_dtype.itemsize
        out = np.array([emulator.read(address + i * size, dtype) for i in range(count)], np_dtype)
    out = out.reshape(shape)
    if mask is not None:
        out &= mask & ((1 << 8 * np_dtype.itemsize) - 1)
    return out if scale is None else out / scale


def zeros_for(shape: tuple[int, ...], dtype: str, scale: float | None) -> np.ndarray:
    """An array variable's value behind a null pointer (as a scalar's is 0)."""
    return np.zeros(shape, np.float64 if scale is not None else numpy_dtype(dtype))


@dataclass(frozen=True)
class FixedVariable:
    """What :func:`plan_spans` needs of a variable at a fixed address (no pointer, no
    address offset): its name, address, stable-retro type, mask, scale and array shape."""

    name: str
    address: int
    dtype: str
    mask: int | None = None
    scale: float | None = None
    shape: tuple[int, ...] | None = None

    @property
    def size(self) -> int:
        """Bytes it occupies."""
        return int(self.dtype[-1]) * (math.prod(self.shape) if self.shape else 1)


@dataclass(frozen=True)
class SpanPlan:
    """How to read a set of fixed-address variables in spans (built by :func:`plan_spans`).

    Attributes:
        spans: ``(address, size)`` of each stretch of memory to read, in order; their bytes
            concatenated are the buffer the offsets below index.
        byte_names: the plain unsigned bytes (no mask or scale): their values are
            ``byte_values(buffer)``, a tuple in this order.
        byte_values: ``operator.itemgetter`` of their offsets (a tuple even for one).
        scalars: ``(name, offset, decode, mask, scale)`` of each other scalar variable.
        arrays: ``(name, first, end, view dtype or None for bytes, shape, mask, scale)`` of
            each array variable: its bytes are ``buffer[first:end]``.
    """

    spans: tuple[tuple[int, int], ...]
    byte_names: tuple[str, ...]
    byte_values: Callable[[bytes], tuple]
    scalars: tuple[tuple, ...]
    arrays: tuple[tuple, ...]


def plan_spans(variables: Iterable[FixedVariable], blocks: dict[int, int],
               gap: int = GAP) -> tuple[SpanPlan, list[FixedVariable]]:
    """Group fixed-address variables into spans that each lie inside one memory block.

    Args:
        variables: the fixed-address variables to read.
        blocks: the emulator's memory blocks, start address → size in bytes
            (``memory_blocks``); a span never crosses a block's edge.
        gap: variables at most this many bytes apart go in one span.

    Returns:
        ``(plan, rest)``: the plan, and the variables it leaves to ``read`` (a mixed
        byte order, or bytes outside every block or across two: ``read`` then does what
        it does, error included).
    """
    placed: list[tuple[int, FixedVariable]] = []  # (block start, variable)
    rest = []
    for v in variables:
        block = next((s for s, n in blocks.items() if s <= v.address and v.address + v.size <= s + n), None)
        if block is None or decoder(v.dtype) is None:
            rest.append(v)
        else:
            placed.append((block, v))
    placed.sort(key=lambda bv: (bv[0], bv[1].address))
    spans: list[list[int]] = []  # [address, end]
    where: list[tuple[FixedVariable, int]] = []  # variable, offset in the buffer
    total, last_block = 0, None
    for block, v in placed:
        if spans and block == last_block and v.address <= spans[-1][1] + gap:
            span = spans[-1]
            grow = max(0, v.address + v.size - span[1])
            span[1] += grow
            total += grow
        else:
            spans.append([v.address, v.address + v.size])
            total += v.size
        span = spans[-1]
        where.append((v, total - (span[1] - v.address)))
        last_block = block
    byte_names, byte_offsets, scalars, arrays = [], [], [], []
    for v, off in where:
        if v.shape is not None:
            dt = numpy_dtype(v.dtype)
            arrays.append((v.name, off, off + v.size, None if dt == np.uint8 else dt, v.shape, v.mask, v.scale))
        elif v.mask is None and v.scale is None and decoder(v.dtype) is _byte:
            byte_names.append(v.name)
            byte_offsets.append(off)
        else:
            scalars.append((v.name, off, decoder(v.dtype), v.mask, v.scale))
    if len(byte_offsets) == 1:
        one = byte_offsets[0]
        values = lambda buf: (buf[one],)  # noqa: E731  (itemgetter of one offset returns no tuple)
    else:
        values = itemgetter(*byte_offsets) if byte_offsets else (lambda buf: ())
    plan = SpanPlan(tuple((a, e - a) for a, e in spans), tuple(byte_names), values, tuple(scalars), tuple(arrays))
    return plan, rest


def read_planned(plan: SpanPlan, buf: bytes, out: dict) -> None:
    """Decode ``plan``'s variables from ``buf`` (its spans' bytes, concatenated) into ``out``
    (name → value): ints; floats with a scale; new writable numpy arrays for array
    variables (the type's dtype, float64 with a scale), as :meth:`Variable.read` gives."""
    out.update(zip(plan.byte_names, plan.byte_values(buf)))
    for name, off, decode, mask, scale in plan.scalars:
        raw = decode(buf, off)
        if mask is not None:
            raw &= mask
        out[name] = raw if scale is None else raw / scale
    if plan.arrays:
        whole = np.frombuffer(bytearray(buf), np.uint8)  # writable: each array variable is a view of it
        for name, first, end, view, shape, mask, scale in plan.arrays:
            arr = whole[first:end].reshape(shape) if view is None else whole[first:end].view(view).reshape(shape)
            if mask is not None:
                arr &= mask & ((1 << 8 * arr.itemsize) - 1)
            out[name] = arr if scale is None else arr / scale


__all__ = ["GAP", "FixedVariable", "SpanPlan", "decoder", "numpy_dtype", "plan_spans", "read_array", "read_planned",
           "zeros_for"]
