/* MiniDoc: the RNG, virus layouts and the capsule sequence, drawn at one moment: the frame
 * that leaves MODE_SETUP (see MEMORY.md, "The layout moment"). */
#include <string.h>
#include "minidoc.h"

static const u8 gravity_of_speed[3] = {40, 25, 15};

/* Dr. Mario's (and Tetris's) 16-bit LFSR over 0x0017/0x0018: bit 1 of each byte XORed is
 * shifted into bit 7 of 0x0017, 0x0017's bit 0 into bit 7 of 0x0018. 0x0000 (a dead
 * state) acts as 0x8988, the power-on seed. Returns the new 0x0017. */
u8 rng(void)
{
    u8 a = RNG0, b = RNG1, fb;
    if ((a | b) == 0) {
        a = 0x89;
        b = 0x88;
    }
    fb = ((a ^ b) & 0x02) << 6;
    b = (b >> 1) | (a << 7);
    a = (a >> 1) | fb;
    RNG0 = a;
    RNG1 = b;
    return a;
}

static u8 *field;

/* A virus of colour c at i would make three of a kind two cells away in a row or column. */
static u8 clashes(u8 i, u8 c)
{
    u8 col = i & 7;
    u8 v = K_VIRUS | c;
    if (col >= 2 && field[i - 2] == v) return 1;
    if (col <= 5 && field[i + 2] == v) return 1;
    if (i >= 16 && field[i - 16] == v) return 1;
    if (i < 112 && field[i + 16] == v) return 1;
    return 0;
}

/* 4 x (level + 1) viruses, colours cycling yellow, red, blue, in the bottom `height` rows:
 * a random cell, then the first empty cell from it (row-major, wrapping in the area) where
 * the colour (or the next one) clashes with nothing; failing that, the first empty cell. */
static void place_viruses(u8 level)
{
    u8 n = 4 * (level + 1);
    u8 height = level < 15 ? 10 : level < 17 ? 11 : level < 19 ? 12 : 13;
    u8 first = (16 - height) * 8, area = height * 8;
    u8 k, colour = 0, start, t, i, c, d, pass, placed;
    memset(field, EMPTY, 128);
    for (k = 0; k < n; ++k) {
        start = (rng() % height) * 8 + (rng() & 7);
        placed = 0;
        for (pass = 0; pass < 2 && !placed; ++pass) {
            for (t = 0; t < area && !placed; ++t) {
                i = start + t;
                if (i >= area) i -= area;
                i += first;
                if (field[i] != EMPTY) continue;
                for (d = 0; d < 3; ++d) {
                    c = colour + d;
                    if (c >= 3) c -= 3;
                    if (pass || !clashes(i, c)) {
                        field[i] = K_VIRUS | c;
                        placed = 1;
                        break;
                    }
                }
            }
        }
        colour = colour == 2 ? 0 : colour + 1;
    }
}

static u8 bcd(u8 n)
{
    return ((n / 10) << 4) | (n % 10);
}

/* The layout moment: P1's viruses, then P2's (two players), then the 128 capsules, all
 * from the RNG as it stands; then both players' blocks for a new game. */
void setup_level(void)
{
    u8 p, i, n;
    struct player *pl;
    PLAYERS = menu_players;
    WINNER = 0;
    memset(FIELD(0), EMPTY, 0x100);
    memset(FIELD(1), EMPTY, 0x100);
    for (p = 0; p < PLAYERS; ++p) {
        field = FIELD(p);
        place_viruses(menu_level);
    }
    for (i = 0; i < 128; ++i) {
        n = rng() & 0x0F;
        while (n >= 9) n = rng() & 0x0F;
        CAPSEQ[i] = n;
    }
    for (p = 0; p < 2; ++p) {
        pl = LIVE(p);
        n = pl->victories;
        memset(pl, 0, 0x80);
        pl->victories = n;
        pl->level = menu_level;
        pl->speed = menu_speed;
        pl->gravity = gravity_of_speed[menu_speed];
        pl->nvir = p < PLAYERS ? 4 * (menu_level + 1) : 0;
        pl->viruses = bcd(pl->nvir);
        pl->next_left = CAPSEQ[0] / 3;
        pl->next_right = CAPSEQ[0] % 3;
        pl->capidx = 1;
        pl->state = ST_FALL; /* no capsule yet */
        if (p < PLAYERS) {
            memcpy(&cur, pl, sizeof cur);
            cur_p = p;
            pf = FIELD(p);
            spawn();
            memcpy(pl, &cur, sizeof cur);
        }
    }
}
