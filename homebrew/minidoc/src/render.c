/* MiniDoc: the screen. Full screens are written with rendering off; during play a queue
 * of changed rows (and numbers) goes to the PPU in the NMI, and sprites show the falling
 * and the next capsules. Tile numbers: see tools/gen_chr.py. */
#include <string.h>
#include "minidoc.h"

#define PPUMASK (*(volatile u8 *)0x2001)
#define PPUADDR (*(volatile u8 *)0x2006)
#define PPUDATA (*(volatile u8 *)0x2007)
#define VQ_MAX  96

u8 vq[VQ_MAX + 1];
static u8 vqn;
static u8 shown_viruses[2];

static const u8 palette[32] = {
    0x0F, 0x28, 0x16, 0x12, 0x0F, 0x28, 0x16, 0x12, 0x0F, 0x28, 0x16, 0x12, 0x0F, 0x28, 0x16, 0x12,
    0x0F, 0x28, 0x16, 0x12, 0x0F, 0x28, 0x16, 0x12, 0x0F, 0x28, 0x16, 0x12, 0x0F, 0x28, 0x16, 0x12,
};

#define BOTTLE_COL(p) ((p) ? 20 : 4)
#define BOTTLE_ROW    9

static u8 tile_of(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'A' && ch <= 'Z') return ch - 'A' + 10;
    if (ch == '-') return 0x24;
    if (ch == '>') return 0x25;
    if (ch == '!') return 0x26;
    return 0xFF;
}

static void addr(u8 col, u8 row)
{
    u16 a = 0x2000 + (row << 5) + col;
    PPUADDR = a >> 8;
    PPUADDR = a & 0xFF;
}

void ppu_off(void)
{
    wait_frame();
    nmi_busy = 1;
    PPUMASK = 0;
}

void ppu_on(void)
{
    u8 n;
    PPUADDR = 0x3F;
    PPUADDR = 0x00;
    for (n = 0; n < 32; ++n) PPUDATA = palette[n];
    nmi_ready = 0;
    nmi_mask = 0x1E;
    nmi_busy = 0;
}

void hide_sprites(void)
{
    memset(OAM, 0xF0, 256);
}

void clear_screen(void)
{
    u16 n;
    addr(0, 0);
    for (n = 0; n < 960; ++n) PPUDATA = 0xFF;
    for (n = 0; n < 64; ++n) PPUDATA = 0;
}

void text(u8 col, u8 row, const char *s)
{
    addr(col, row);
    while (*s) PPUDATA = tile_of(*s++);
}

void vq_begin(void)
{
    vqn = 0;
}

void vq_end(void)
{
    vq[vqn] = 0xFF;
    nmi_ready = 1;
}

static u8 vq_entry(u8 col, u8 row, u8 n)
{
    u16 a = 0x2000 + (row << 5) + col;
    if (vqn + 3 + n > VQ_MAX) return 0;
    vq[vqn] = a >> 8;
    vq[vqn + 1] = a & 0xFF;
    vq[vqn + 2] = n;
    vqn += 3;
    return 1;
}

void qtext(u8 col, u8 row, const char *s)
{
    if (!vq_entry(col, row, strlen(s))) return;
    while (*s) vq[vqn++] = tile_of(*s++);
}

void qnum2(u8 col, u8 row, u8 bcd)
{
    if (!vq_entry(col, row, 2)) return;
    vq[vqn++] = bcd >> 4;
    vq[vqn++] = bcd & 0x0F;
}

static void draw_bottle(u8 p)
{
    u8 col = BOTTLE_COL(p), r, c;
    u8 *f = FIELD(p);
    for (r = 0; r < 16; ++r) {
        addr(col - 1, BOTTLE_ROW + r);
        PPUDATA = 0xE0;
        for (c = 0; c < 8; ++c) PPUDATA = *f++;
        PPUDATA = 0xE0;
    }
    addr(col - 1, BOTTLE_ROW + 16);
    for (c = 0; c < 10; ++c) PPUDATA = 0xE0;
    addr(col + 1, BOTTLE_ROW - 4);
    PPUDATA = tile_of('N');
    PPUDATA = tile_of('E');
    PPUDATA = tile_of('X');
    PPUDATA = tile_of('T');
    memcpy(SHOWN(p), FIELD(p), 128);
    shown_viruses[p] = LIVE(p)->viruses;
}

/* The whole play screen: bottles, labels, virus counts (rendering off). */
void draw_board(void)
{
    ppu_off();
    hide_sprites();
    clear_screen();
    draw_bottle(0);
    text(13, 9, "VIRUS");
    text(14, 11, "P1");
    text(14, 12, "  ");
    addr(14, 12);
    PPUDATA = LIVE(0)->viruses >> 4;
    PPUDATA = LIVE(0)->viruses & 0x0F;
    if (PLAYERS == 2) {
        draw_bottle(1);
        text(14, 14, "P2");
        addr(14, 15);
        PPUDATA = LIVE(1)->viruses >> 4;
        PPUDATA = LIVE(1)->viruses & 0x0F;
    }
    text(13, 19, "LEVEL");
    addr(14, 20);
    PPUDATA = menu_level / 10;
    PPUDATA = menu_level % 10;
    render_play();
    ppu_on();
}

static void sprite(u8 slot, u8 col, u8 row, u8 tile)
{
    u8 *o = OAM + (slot << 2);
    o[0] = (row << 3) - 1;
    o[1] = tile;
    o[2] = 0;
    o[3] = col << 3;
}

static void capsule_sprites(u8 p)
{
    struct player *pl = LIVE(p);
    u8 col = BOTTLE_COL(p), slot = p << 2, a = pl->left, b = pl->right, t;
    u8 row = BOTTLE_ROW + 15 - pl->y;
    sprite(slot + 2, col + 3, BOTTLE_ROW - 2, K_LEFT | pl->next_left);
    sprite(slot + 3, col + 4, BOTTLE_ROW - 2, K_RIGHT | pl->next_right);
    if (pl->state != ST_PLAY) {
        OAM[slot << 2] = 0xF0;
        OAM[(slot + 1) << 2] = 0xF0;
        return;
    }
    if (pl->rot == 1 || pl->rot == 2) {   /* a: top or left half, b: bottom or right */
        t = a;
        a = b;
        b = t;
    }
    if (pl->rot & 1) {
        if (pl->y == 15) OAM[slot << 2] = 0xF0; /* above the bottle */
        else sprite(slot, col + pl->x, row - 1, K_TOP | a);
        sprite(slot + 1, col + pl->x, row, K_BOTTOM | b);
    } else {
        sprite(slot, col + pl->x, row, K_LEFT | a);
        sprite(slot + 1, col + pl->x + 1, row, K_RIGHT | b);
    }
}

/* Queue the rows whose tiles differ from what the screen shows (as many as fit). */
static void queue_rows(u8 p)
{
    static u16 rows;
    static u8 *f, *s;
    static u8 r, i;
    rows = changed_rows(p);
    if (!rows) return;
    f = FIELD(p);
    s = SHOWN(p);
    for (r = 0, i = 0; r < 16; ++r, i += 8, rows >>= 1) {
        if (!(rows & 1)) continue;
        if (!vq_entry(BOTTLE_COL(p), BOTTLE_ROW + r, 8)) return;
        memcpy(vq + vqn, f + i, 8);
        memcpy(s + i, f + i, 8);
        vqn += 8;
    }
}

void render_play(void)
{
    u8 p;
    vq_begin();
    for (p = 0; p < PLAYERS; ++p) {
        capsule_sprites(p);
        if (shown_viruses[p] != LIVE(p)->viruses) {
            shown_viruses[p] = LIVE(p)->viruses;
            qnum2(14, p ? 15 : 12, shown_viruses[p]);
        }
        queue_rows(p);
    }
    vq_end();
}
