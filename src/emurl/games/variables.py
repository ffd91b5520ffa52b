"""Variables: named values in a game's memory, as ``data.json`` describes them.

stable-retro's format, ``{"score": {"address": 16712270, "type": ">u4"}}``, plus emurl's
optional extensions, all usable together:

- ``"address": "0xFF024E"``: hex strings wherever a number is expected;
- ``"pointer": ["0x2A8", "0x10"]``: a pointer chain. The value lives at
  ``*(*(*address + 0x2A8) + 0x10)``... precisely: ``p = read(address)``; for each offset
  but the last ``p = read(p + offset)``; the value is read at ``p + last offset``.
  Pointers are ``"pointer_type"`` wide (default ``"<u4"``, the DS's 32-bit little-endian
  pointers). A null pointer (0) reads as 0: games clear their pointers between races.
- ``"scale": "fx32"`` (= 4096, the DS's 20.12 fixed point) or a number: the value is
  divided by it and becomes a float.
- ``"mask"``: stable-retro's bit mask, applied to the raw integer.
- ``"address_offset": {"address": "0x02000B54", "type": "<u4", "minus": "0x0216F320"}``:
  the variable's ``address`` is moved by ``read(address_offset) - minus`` before it is
  read (``type`` defaults to ``"<u4"``, ``minus`` to 0). One data file then serves every
  release of a game whose statics moved together: Mario Kart DS's European and Japanese
  releases keep their pointers ``u32[0x02000B54] - 0x0216F320`` bytes after the US ones.
  The offset applies to ``address`` only, not to a pointer chain's offsets; while the
  offset's source reads 0 (the program not loaded yet) the variable reads 0.
- ``"shape": [16, 8]``: an array variable: ``prod(shape)`` consecutive values of
  ``type`` from the (resolved) address, read as one block (the emulator's
  ``read_bytes(address, size)`` where it has one, else one ``read`` per element) into a
  numpy array of that shape, row-major, dtype the type's (``'|u1'`` → uint8). For a
  block of memory a Python scenario needs whole, e.g. a playfield (Dr. Mario's 16 × 8
  bottle at 0x0400). Integer types only (no BCD); ``mask`` applies per element,
  ``scale`` makes a float array; a null pointer reads as zeros.

Type strings are stable-retro's: an endianness (``<`` little, ``>`` big, ``|`` or ``=``
none/native), a kind (``u`` unsigned, ``i`` signed, ``d`` BCD, ``n`` one BCD digit per
nibble-byte) and a size in bytes, e.g. ``'>u2'``, ``'<i4'``, ``'>d4'``.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from typing import Any

from emurl.errors import EmulatorError, IntegrationError
from emurl.games.spans import FixedVariable, plan_spans, read_array, read_planned, zeros_for

_TYPE = re.compile(r"^[<>=|]{1,2}[iudn][1-8]$")
SCALES = {"fx32": 4096.0, "fx16": 4096.0, "fx12": 4096.0, "fx8": 256.0}


def parse_int(value: Any, where: str) -> int:
    """An int from an int or a hex/decimal string (``"0x0217ACF8"``); error names ``where``."""
    if isinstance(value, bool):
        raise IntegrationError(f"{where}: expected an integer or a hex string, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value, 0)
        except ValueError:
            pass
    raise IntegrationError(f"{where}: expected an integer or a hex string like \"0x02000000\", got {value!r}")


@dataclass(frozen=True)
class AddressOffset:
    """``data.json``'s ``"address_offset"``: a variable's address moves by ``read(address, dtype) - minus``.

    Attributes:
        address: where the value that locates the variable is (read on every read of it).
        dtype: its stable-retro type (default ``"<u4"``).
        minus: subtracted from it, so that the release the addresses were written for
            gets offset 0.
    """

    address: int
    dtype: str = "<u4"
    minus: int = 0

    @classmethod
    def from_json(cls, spec: Any, where: str) -> "AddressOffset":
        if not isinstance(spec, dict) or "address" not in spec:
            raise IntegrationError(
                f"{where}: expected an object like {{\"address\": \"0x02000B54\", \"type\": \"<u4\", "
                f"\"minus\": \"0x0216F320\"}}, got {spec!r}"
            )
        unknown = set(spec) - {"address", "type", "minus"}
        if unknown:
            raise IntegrationError(f"{where}: unknown key(s) {sorted(unknown)} (expected address, type, minus)")
        dtype = spec.get("type", "<u4")
        if not isinstance(dtype, str) or not _TYPE.match(dtype):
            raise IntegrationError(f"{where}.type: expected a type like '<u4', got {dtype!r}")
        return cls(
            address=parse_int(spec["address"], f"{where}.address"),
            dtype=dtype,
            minus=parse_int(spec.get("minus", 0), f"{where}.minus"),
        )


@dataclass(frozen=True)
class Variable:
    """One variable of a game integration.

    Attributes:
        name: the key in ``data.json``.
        address: where the value (or, with ``pointer``, the first pointer) is, in the
            address space of the backend's memory map (stable-retro's for retro cores).
        dtype: stable-retro type string of the value.
        pointer: offsets of a pointer chain, empty for a plain variable.
        pointer_dtype: type of each pointer in the chain.
        scale: divisor making the value a float (4096.0 for fx32), or None for an int.
        mask: bit mask applied to the raw integer, or None.
        address_offset: moves ``address`` by a value read from memory (see
            :class:`AddressOffset`), or None.
        shape: for an array variable, the numpy shape its value has; None for a scalar.
        source: the file that declares it (``data.json``), for error messages; "" if none.
        base: what was added to the address written in the file when the integration
            loaded (``0x02000000`` for a DS integration in stable-retro's offset form,
            :mod:`emurl.games.memory`); ``address`` includes it.
    """

    name: str
    address: int
    dtype: str
    pointer: tuple[int, ...] = ()
    pointer_dtype: str = "<u4"
    scale: float | None = None
    mask: int | None = None
    address_offset: AddressOffset | None = None
    shape: tuple[int, ...] | None = None
    source: str = ""
    base: int = 0

    def resolve_address(self, emulator) -> int | None:
        """``address`` moved by :attr:`address_offset` (None while its source reads 0)."""
        off = self.address_offset
        if off is None:
            return self.address
        base = emulator.read(off.address, off.dtype)
        if base == 0:
            return None
        return self.address + base - off.minus

    def read(self, emulator) -> int | float:
        """The current value from ``emulator`` (anything with ``read(address, dtype)``).

        Raises:
            IntegrationError: the emulator could not read an address of the variable
                (outside its memory); names :attr:`source`, the variable and the memory.
        """
        try:
            return self._read(emulator)
        except (IndexError, EmulatorError) as exc:
            raise read_error(self, emulator, exc) from None

    def _read(self, emulator) -> int | float:
        read = emulator.read
        address = self.address
        moved = self.address_offset
        if moved is not None:
            base = read(moved.address, moved.dtype)
            if base == 0:
                return self._null()
            address += base - moved.minus
        if self.pointer:
            ptr = read(address, self.pointer_dtype)
            for off in self.pointer[:-1]:
                if ptr == 0:
                    return self._null()
                ptr = read(ptr + off, self.pointer_dtype)
            if ptr == 0:
                return self._null()
            address = ptr + self.pointer[-1]
        if self.shape is not None:
            return read_array(emulator, address, self.dtype, self.shape, self.mask, self.scale)
        raw = read(address, self.dtype)
        if self.mask is not None:
            raw &= self.mask
        if self.scale is not None:
            return raw / self.scale
        return raw

    def _null(self):
        """What the variable reads behind a null pointer or an unloaded offset: 0, or zeros."""
        return 0 if self.shape is None else zeros_for(self.shape, self.dtype, self.scale)

    @classmethod
    def from_json(cls, name: str, spec: Any, file: str) -> "Variable":
        """Parse one entry of ``data.json``'s ``"info"``; errors name the file and key."""
        where = f"{file}: info.{name}"
        if not isinstance(spec, dict):
            raise IntegrationError(f"{where}: expected an object with \"address\" and \"type\", got {spec!r}")
        for key in ("address", "type"):
            if key not in spec:
                raise IntegrationError(f"{where}: missing \"{key}\" (expected e.g. {{\"address\": 16712270, \"type\": \">u4\"}})")
        dtype = spec["type"]
        if not isinstance(dtype, str) or not _TYPE.match(dtype):
            raise IntegrationError(
                f"{where}.type: expected a stable-retro type like '>u2', '<i4', '|u1' or '>d4', got {dtype!r}"
            )
        pointer = spec.get("pointer", ())
        if isinstance(pointer, (int, str)):
            pointer = [pointer]
        if not isinstance(pointer, (list, tuple)):
            raise IntegrationError(f"{where}.pointer: expected a list of offsets, got {pointer!r}")
        pointer_dtype = spec.get("pointer_type", "<u4")
        if not isinstance(pointer_dtype, str) or not _TYPE.match(pointer_dtype):
            raise IntegrationError(f"{where}.pointer_type: expected a type like '<u4', got {pointer_dtype!r}")
        scale = spec.get("scale")
        if scale is not None:
            if isinstance(scale, str):
                if scale not in SCALES:
                    raise IntegrationError(f"{where}.scale: expected a number or one of {sorted(SCALES)}, got {scale!r}")
                scale = SCALES[scale]
            elif not isinstance(scale, (int, float)) or isinstance(scale, bool) or scale == 0:
                raise IntegrationError(f"{where}.scale: expected a non-zero number or 'fx32', got {scale!r}")
            scale = float(scale)
        mask = spec.get("mask")
        offset = spec.get("address_offset")
        shape = spec.get("shape")
        if shape is not None:
            if isinstance(shape, int) and not isinstance(shape, bool):
                shape = [shape]
            if not (isinstance(shape, list) and shape and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape)):
                raise IntegrationError(f"{where}.shape: expected a list of positive ints like [16, 8], got {shape!r}")
            if dtype[-2] not in "iu":
                raise IntegrationError(f"{where}.shape: array variables take an integer type ('|u1', '<u2', ...), got {dtype!r}")
            shape = tuple(shape)
        return cls(
            name=name,
            address=parse_int(spec["address"], f"{where}.address"),
            dtype=dtype,
            pointer=tuple(parse_int(o, f"{where}.pointer[{i}]") for i, o in enumerate(pointer)),
            pointer_dtype=pointer_dtype,
            scale=scale,
            mask=None if mask is None else parse_int(mask, f"{where}.mask"),
            address_offset=None if offset is None else AddressOffset.from_json(offset, f"{where}.address_offset"),
            shape=shape,
            source=file,
        )


def read_error(v: Variable, emulator, exc: Exception) -> IntegrationError:
    """The error for a failed read of ``v``: stable-retro's cores raise IndexError ("No known
    mapping") outside their memory, the DS backends EmulatorError outside main RAM. The
    message names the file, the variable and the memory the emulator has."""
    blocks = getattr(emulator, "memory_blocks", None) if isinstance(exc, IndexError) else None
    memory = ""
    if blocks:
        memory = "; its memory: " + ", ".join(f"{s:#x}-{s + n - 1:#x}" for s, n in sorted(blocks.items()))
    where = f"{v.source}: info.{v.name}" if v.source else f"variable {v.name}"
    return IntegrationError(f"{where}: reading {v.address:#x} ({v.dtype}) failed: {exc}{memory}")


def read_all(variables, emulator) -> dict[str, int | float]:
    """Read each variable of an iterable once: name → value."""
    return {v.name: v.read(emulator) for v in variables}


_UNSET = object()


class VariableReader:
    """Reads a fixed list of variables at once: ``reader(emulator)`` is
    ``{v.name: v.read(emulator) for v in variables}``, value for value, in the same order.

    An env reads its variables every agent step, so the work is planned once here: each
    variable becomes a tuple of plain values (no dataclass attribute lookups per read),
    and a pointer chain that several variables share -- same address, address offset,
    pointer offsets but the last, pointer type: the fields of one struct, as MiniKart's
    and Mario Kart DS's -- is followed once per call; so is each address offset's source.
    Memory reads have no side effects, so reading a shared pointer once gives what each
    variable's own read would.

    Variables at fixed addresses are read in spans where the emulator offers
    ``read_spans(spans)`` (the bytes of several ``(address, size)`` stretches, as ``read``
    sees them: the stable-retro backend) and ``memory_blocks``: one call for all of them,
    each value decoded from the bytes as stable-retro decodes it
    (:mod:`emurl.games.spans`; MiniDoc's 28 variables: ~6 us instead of ~16 us). The spans
    are planned at the first read from an emulator. The other variables, and every
    variable on an emulator without ``read_spans``, take one ``read`` each (one block
    read per array variable).
    """

    __slots__ = ("variables", "_names", "_plan", "_chains", "_n_chains", "_fixed", "_rest", "_spans", "_spans_for")

    def __init__(self, variables):
        self.variables = tuple(variables)
        self._names = tuple(v.name for v in self.variables)
        chains: dict[tuple, int] = {}  # (address, address_offset, pointer offsets but the last, pointer type)
        plan, fixed = [], []
        for v in self.variables:
            if v.pointer:
                key, last = (v.address, v.address_offset, v.pointer[:-1], v.pointer_dtype), v.pointer[-1]
            elif v.address_offset is not None:
                key, last = (v.address, v.address_offset, (), None), 0
            else:  # a fixed address: read it directly (or in a span)
                plan.append((v.name, -1, v.address, v.dtype, v.mask, v.scale, v.shape))
                fixed.append(FixedVariable(v.name, v.address, v.dtype, v.mask, v.scale, v.shape))
                continue
            plan.append((v.name, chains.setdefault(key, len(chains)), last, v.dtype, v.mask, v.scale, v.shape))
        self._plan = tuple(plan)
        self._chains = tuple(chains)  # in index order (dicts keep insertion order)
        self._n_chains = len(chains)
        self._fixed = tuple(fixed)
        self._rest = self._plan  # what read() reads when spans serve the fixed variables
        self._spans = None  # SpanPlan for the emulator self._spans_for refers to
        self._spans_for = None  # weakref to that emulator

    def _span_plan(self, emulator):
        """The spans of the fixed variables on ``emulator`` (planned once per emulator), or
        None where it has no ``read_spans`` or no fixed variable fits a span."""
        ref = self._spans_for
        if ref is not None and ref() is emulator:
            return self._spans
        if not self._fixed or getattr(emulator, "read_spans", None) is None:
            return None
        blocks = getattr(emulator, "memory_blocks", None)
        plan, left = plan_spans(self._fixed, dict(blocks or {}))
        if not plan.spans:
            plan = None
        try:
            self._spans_for = weakref.ref(emulator)
        except TypeError:  # not weakly referable: read it variable by variable
            return None
        left_names = {v.name for v in left}
        self._rest = self._plan if plan is None else tuple(
            p for p in self._plan if p[1] >= 0 or p[0] in left_names)
        self._spans = plan
        return plan

    def _base(self, read, index: int, sources: dict) -> int | None:
        """Where chain ``index`` leads (its last offset still to add), or None for a null
        pointer or an address offset whose source reads 0, as :meth:`Variable.read`."""
        address, moved, offsets, pointer_dtype = self._chains[index]
        if moved is not None:
            key = (moved.address, moved.dtype)
            base = sources.get(key)
            if base is None:
                base = sources[key] = read(moved.address, moved.dtype)
            if base == 0:
                return None
            address += base - moved.minus
        if pointer_dtype is None:
            return address
        ptr = read(address, pointer_dtype)
        for off in offsets:
            if ptr == 0:
                return None
            ptr = read(ptr + off, pointer_dtype)
        return None if ptr == 0 else ptr

    def __call__(self, emulator) -> dict[str, int | float]:
        try:  # free unless raised (Python 3.11+): the reads stay one loop, no extra call per step
            spans = self._span_plan(emulator)
            if spans is None:
                out = {}
                plan = self._plan
            else:
                out = dict.fromkeys(self._names)  # the variables' order, whichever path fills each
                read_planned(spans, emulator.read_spans(spans.spans), out)
                plan = self._rest
                if not plan:  # every variable came from the spans (MiniDoc's, Dr. Mario's)
                    return out
            read = emulator.read
            bases = [_UNSET] * self._n_chains
            sources: dict = {}
            for name, chain, last, dtype, mask, scale, shape in plan:
                if chain < 0:
                    address = last
                else:
                    base = bases[chain]
                    if base is _UNSET:
                        base = bases[chain] = self._base(read, chain, sources)
                    if base is None:  # a null pointer reads as 0 (an int, scale or not), an array as zeros
                        out[name] = 0 if shape is None else zeros_for(shape, dtype, scale)
                        continue
                    address = base + last
                if shape is not None:
                    out[name] = read_array(emulator, address, dtype, shape, mask, scale)
                    continue
                raw = read(address, dtype)
                if mask is not None:
                    raw &= mask
                out[name] = raw if scale is None else raw / scale
            return out
        except (IndexError, EmulatorError):
            for v in self.variables:  # find the variable that failed: its own read raises its IntegrationError
                v.read(emulator)
            raise
