"""Where a system's memory is, and the checks that hold ``data.json``'s variables to it.

A variable at an address outside its system's memory is a mistake in the integration;
it is reported when the integration loads, as an :class:`~emurl.errors.IntegrationError`
naming the file, the variable and the valid ranges, not at the first read of a running
game (stable-retro's cores then answer "No known mapping").

:data:`MEMORY`: for each system, the address ranges its variables may use, in the address
space of the backend's memory map (stable-retro's for retro cores; absolute DS addresses
for both DS backends). Measured on the cores stable-retro ships (``memory_blocks`` of an
open emulator): Atari 2600 (Stella, Pong), NES (FCEUmm, MiniDoc), SNES (Snes9x, a 32 KiB
test ROM), Genesis (Genesis Plus GX, Airstriker); from the cores' ``rambase``
(``stable_retro/cores/*.json``) and their libretro memory descriptors for Master System /
Game Gear and Game Boy; DS main RAM from GBATEK (https://problemkaputt.de/gbatek.htm,
"DS Memory Map"). Systems not listed (N64, Saturn, arcade, ...) are checked when read:
:class:`~emurl.games.variables.VariableReader` turns a failed read into the same error.

Nintendo DS integrations come in two forms, told apart per integration
(:func:`ds_form`): emurl's give absolute DS addresses (``0x02000000``-``0x023FFFFF``);
stable-retro's melonDS integrations give offsets from the start of main RAM
(``0``-``0x3FFFFF``), as its core exposes main RAM as one block from 0. An integration
whose every address is below ``0x400000`` is in the offset form: its addresses are moved
by ``0x02000000`` when it loads (:attr:`~emurl.games.variables.Variable.base` records it),
so that it reads the same on both DS backends as an absolute one.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Mapping

from emurl.errors import IntegrationError
from emurl.games.variables import Variable

DS_MAIN_RAM = (0x02000000, 0x400000)
"""DS main RAM: start address and size (4 MiB). The same fact as
:data:`emurl.emulators.ds.MAIN_RAM` (games may not import emulators)."""

MEMORY: dict[str, tuple[tuple[int, int, str], ...]] = {
    "Atari2600": ((0x80, 0x80, "RIOT RAM"),),
    "Nes": ((0x0000, 0x800, "work RAM"), (0x6000, 0x2000, "cartridge RAM")),
    "Snes": ((0x0000, 0x2000, "work RAM's low mirror"), (0x700000, 0xE0000, "cartridge SRAM, as big as the cartridge's"),
             (0x7E0000, 0x20000, "work RAM")),
    "Genesis": ((0xFF0000, 0x10000, "68000 RAM"),),
    "Sms": ((0xC000, 0x2000, "RAM"),),
    "GameGear": ((0xC000, 0x2000, "RAM"),),
    "GameBoy": ((0x0000, 0x10000, "the CPU's address space"),),
    "GbColor": ((0x0000, 0x10000, "the CPU's address space"),),
    "NintendoDs": ((DS_MAIN_RAM[0], DS_MAIN_RAM[1], "main RAM"),),
}
"""System → ``(start, size, what)`` of each range its variables may read."""

ABSOLUTE, OFFSETS = "absolute", "offsets"
"""The two forms of DS addresses (:func:`ds_form`)."""


def describe_ranges(system: str) -> str:
    """``"0x7E0000-0x7FFFFF (work RAM), ..."``: :data:`MEMORY`'s ranges of ``system`` as text."""
    return ", ".join(f"{s:#x}-{s + n - 1:#x} ({what})" for s, n, what in MEMORY.get(system, ()))


def _size(v: Variable) -> int:
    """Bytes read at the variable's own address: the pointer for a pointer chain, else the value."""
    if v.pointer:
        return int(v.pointer_dtype[-1])
    count = 1
    for n in v.shape or ():
        count *= n
    return count * int(v.dtype[-1])


def _spans(v: Variable) -> list[tuple[str, int, int]]:
    """``(key, address, size)`` of each fixed place the variable reads: its address (or
    first pointer) and its address offset's source."""
    out = [("address", v.address, _size(v))]
    if v.address_offset is not None:
        out.append(("address_offset.address", v.address_offset.address, int(v.address_offset.dtype[-1])))
    return out


def _inside(address: int, size: int, ranges) -> bool:
    return any(start <= address and address + size <= start + n for start, n, _ in ranges)


def ds_form(variables: Iterable[Variable]) -> str:
    """:data:`OFFSETS` if every address of ``variables`` (and of their address offsets'
    sources) is below ``0x400000`` (stable-retro's melonDS form), else :data:`ABSOLUTE`
    (emurl's; also for no variables). Addresses as written in ``data.json`` (before any
    :attr:`~emurl.games.variables.Variable.base`)."""
    addresses = [a - v.base for v in variables for _, a, _ in _spans(v)]
    if addresses and all(0 <= a < DS_MAIN_RAM[1] for a in addresses):
        return OFFSETS
    return ABSOLUTE


def check_variables(variables: Mapping[str, Variable], system: str, file: str, hint: str = "") -> None:
    """Check that every fixed address of ``variables`` lies in ``system``'s memory
    (:data:`MEMORY`; systems not listed are not checked here).

    Raises:
        IntegrationError: ``"<file>: info.<name>.address: 0x10 (+2 bytes) is outside
            Genesis memory: 0xff0000-0xffffff (68000 RAM)"`` (plus ``hint``).
    """
    ranges = MEMORY.get(system)
    if ranges is None:
        return
    for name, v in variables.items():
        for key, address, size in _spans(v):
            if not _inside(address, size, ranges):
                written = f" (written {address - v.base:#x}, + base {v.base:#x})" if v.base else ""
                raise IntegrationError(
                    f"{file}: info.{name}.{key}: {address:#x} (+{size} bytes){written} is outside {system} memory: "
                    f"{describe_ranges(system)}{hint}"
                )


def variables_from_info(info: Mapping[str, Any], file: str, system: str) -> dict[str, Variable]:
    """``data.json``'s ``"info"`` object as variables, placed in ``system``'s memory and
    checked there: name → :class:`~emurl.games.variables.Variable`, in the file's order.

    Nintendo DS variables in stable-retro's offset form (:func:`ds_form`) come back moved
    by ``0x02000000`` (absolute addresses, ``base`` = ``0x02000000``).

    Raises:
        IntegrationError: a malformed variable (:meth:`Variable.from_json`), or an address
            outside the system's memory (:func:`check_variables`); the message names
            ``file``, the variable and what was expected.
    """
    variables = {k: Variable.from_json(k, v, file) for k, v in info.items()}
    hint = ""
    if system == "NintendoDs":
        if ds_form(variables.values()) == OFFSETS:
            variables = {k: rebase(v, DS_MAIN_RAM[0]) for k, v in variables.items()}
        else:
            hint = ("; DS integrations give every address either absolute (0x2000000-0x23fffff) or, as "
                    "stable-retro's melonDS integrations do, as offsets 0x0-0x3fffff from main RAM, not a mix")
    check_variables(variables, system, file, hint)
    return variables


def rebase(v: Variable, base: int) -> Variable:
    """``v`` with ``base`` added to its address and to its address offset's source (not to
    pointer offsets nor to ``minus``: those are the game's own pointers' values)."""
    moved = v.address_offset
    if moved is not None:
        moved = dataclasses.replace(moved, address=moved.address + base)
    return dataclasses.replace(v, address=v.address + base, address_offset=moved, base=v.base + base)


def addressing(variables: Iterable[Variable], system: str) -> str | None:
    """One line for ``emurl games show``: how a DS integration's addresses were written
    (None for other systems)."""
    if system != "NintendoDs":
        return None
    variables = list(variables)
    if any(v.base for v in variables):
        return (f"offsets from DS main RAM {DS_MAIN_RAM[0]:#010x} (stable-retro's melonDS form), "
                f"read at {DS_MAIN_RAM[0]:#010x} + offset")
    return "absolute DS addresses (emurl's form)"


__all__ = ["ABSOLUTE", "DS_MAIN_RAM", "MEMORY", "OFFSETS", "addressing", "check_variables", "describe_ranges",
           "ds_form", "rebase", "variables_from_info"]
