#!/bin/sh
# Build MiniDoc (iNES NROM: 32 KiB PRG + 8 KiB CHR) from source with Debian's cc65,
# reproducibly (ld65 writes no timestamps; fixed flags), install the ROM into the emurl
# package and print its SHA-1.
#   BUILD_DIR=dir   build somewhere else (default: ./build)
#   NO_INSTALL=1    do not copy the ROM into src/emurl/games/data/MiniDoc-Nes/
#   TREE=file.c     the CPU player's tree, C as `emurl distill` exports it (default: the
#                   shipped one, tree/tree.c, which the committed ROM carries)
# Needs: cc65 (Debian 2.19: cc65, ca65, ld65, none.lib), python3 (stdlib).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
B="${BUILD_DIR:-$HERE/build}"
OUT="$ROOT/src/emurl/games/data/MiniDoc-Nes/rom.nes"
PYTHON=${PYTHON:-python3}
TREE=$(cd "$(dirname "${TREE:-$HERE/tree/tree.c}")" && pwd)/$(basename "${TREE:-$HERE/tree/tree.c}")
CC65_HOME=${CC65_HOME:-/usr/share/cc65}
export LC_ALL=C SOURCE_DATE_EPOCH=0

rm -rf "$B"
mkdir -p "$B"
cd "$HERE/src"

$PYTHON ../tools/gen_chr.py "$B/chr.bin"
cp "$TREE" "$B/tree.c"
cc65 -t none -Oirs -Cl --cpu 6502 -o "$B/tree.s" "$B/tree.c"
ca65 --cpu 6502 -o "$B/tree.o" "$B/tree.s"
for f in main menu layout rules render cpu features search cpuplay; do
    # -Cl: locals are static (nothing recurses; the C stack is 88 bytes at 0x0728)
    cc65 -t none -Oirs -Cl --cpu 6502 -I . -o "$B/$f.s" "$f.c"
    ca65 --cpu 6502 -o "$B/$f.o" "$B/$f.s"
done
ca65 --cpu 6502 -I "$CC65_HOME/asminc" --bin-include-dir "$B" -o "$B/crt0.o" crt0.s
ld65 -C minidoc.cfg -m "$B/minidoc.map" -o "$B/minidoc.nes" \
    "$B/crt0.o" "$B/main.o" "$B/menu.o" "$B/layout.o" "$B/rules.o" "$B/render.o" \
    "$B/cpu.o" "$B/features.o" "$B/search.o" "$B/cpuplay.o" "$B/tree.o" \
    "$CC65_HOME/lib/none.lib"
if [ -z "${NO_INSTALL:-}" ]; then
    mkdir -p "$(dirname "$OUT")"
    cp "$B/minidoc.nes" "$OUT"
fi
sha1sum "$B/minidoc.nes" | cut -d' ' -f1
