#!/bin/sh
# Build MiniKart (ARM9 + ARM7 + .nds) from source, reproducibly (fixed flags, no
# timestamps, build paths mapped away), install the ROM into the emurl package
# and print its SHA-1.
#   BUILD_DIR=dir   build somewhere else (default: ./build)
#   NO_INSTALL=1    do not copy the ROM into src/emurl/games/data/MiniKart-NintendoDs/
# Needs: arm-none-eabi-gcc/binutils (Debian gcc-arm-none-eabi 12.2), python3 (stdlib).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
B="${BUILD_DIR:-$HERE/build}"
OUT="$ROOT/src/emurl/games/data/MiniKart-NintendoDs/rom.nds"
CC=arm-none-eabi-gcc
OBJCOPY=arm-none-eabi-objcopy
PYTHON=${PYTHON:-python3}
export LC_ALL=C SOURCE_DATE_EPOCH=0 PYTHONHASHSEED=0

COMMON="-O2 -ffreestanding -fno-builtin -nostdlib -fno-common -fno-ident \
 -ffunction-sections -fdata-sections -Wall -Wextra -Wno-unused-parameter \
 -ffile-prefix-map=$HERE=minikart -ffile-prefix-map=$B=build"
CFLAGS9="-mcpu=arm946e-s -mthumb -mthumb-interwork $COMMON"
CFLAGS7="-mcpu=arm7tdmi -marm $COMMON"
LDFLAGS="-Wl,--build-id=none -Wl,--gc-sections"

rm -rf "$B"
mkdir -p "$B"
cd "$HERE"

# generated tables: sin/cos, track centre lines, checkpoints
$PYTHON tools/gen_tracks.py "$B/tracks_gen.h"

# ARM9: the game
$CC $CFLAGS9 -c arm9/crt0.s -o "$B/crt0_9.o"
for f in main font; do
    $CC $CFLAGS9 -I"$B" -Iarm9 -c "arm9/$f.c" -o "$B/$f.o"
done
$CC $CFLAGS9 -T arm9/arm9.ld $LDFLAGS "$B/crt0_9.o" "$B/main.o" "$B/font.o" -lgcc -o "$B/arm9.elf"
$OBJCOPY -O binary -j .text "$B/arm9.elf" "$B/arm9.bin"

# ARM7: halts forever
$CC $CFLAGS7 -c arm7/crt0.s -o "$B/crt0_7.o"
$CC $CFLAGS7 -T arm7/arm7.ld $LDFLAGS "$B/crt0_7.o" -o "$B/arm7.elf"
$OBJCOPY -O binary -j .text "$B/arm7.elf" "$B/arm7.bin"

$PYTHON tools/mknds.py "$B/arm9.bin" "$B/arm7.bin" "$B/minikart.nds" >&2
if [ -z "${NO_INSTALL:-}" ]; then
    mkdir -p "$(dirname "$OUT")"
    cp "$B/minikart.nds" "$OUT"
fi
sha1sum "$B/minikart.nds" | cut -d' ' -f1
