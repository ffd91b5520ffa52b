/* MiniDoc's CPU player, part 1: the board's reads and the features of one placement.
 *
 * The tree scores a placement from its 23 one-byte features
 * (emurl.games.drmario.tree_features: its docstring defines each one; this file computes
 * them the same way, step by step): base_features() gives 0-13, greedy_terms() 14-21 and the
 * greedy's score q (emurl.games.drmario.greedy), whose distance below the best q is the
 * 23rd, `lag` (cpu.c). It reads the board and never writes it: its own copy of the colours,
 * grid[], takes the candidate halves. */
#include "cpu_int.h"

/* the greedy's weights (emurl.games.drmario.greedy.Weights), whole numbers */
#define W_VIRUS 100
#define W_LINE 20
#define W_TOUCH 4
#define W_COVER 6
#define W_HOLES 6
#define W_DANGER 8

#ifdef __CC65__
/* RAM (minidoc.cfg): scalars in CPUL, the arrays in CPUB and CPUC (see cpu.c) */
#pragma bss-name (push, "CPUL")
#endif

#ifdef __CC65__
#pragma bss-name (push, "CPUB")
#endif
static u8 h[8], vlow[8];            /* column heights; 1 + row of the lowest virus (0: none) */
u8 f[CPU_FEATURES];                 /* one placement's features */
#ifdef __CC65__
#pragma bss-name (pop)
#pragma bss-name (push, "CPUC")
#endif
static u8 marked[16];               /* bit per column of each row: in a run of 4+ */
#ifdef __CC65__
#pragma bss-name (pop)
#endif

u8 qonly;                           /* phase 1: only what q needs */
static u8 hmax;                     /* the highest column */
u8 c1, c2;                          /* the capsule's first and second colour */

/* ---- the board ---- */

/* grid[] and h[], vlow[] from the playfield bytes (tree_features: a cell is occupied when its
 * byte is not 0xFF and its kind not 0xB_ (cleared); its colour is the low nibble) */
void columns(u8 half)               /* half 0: the top 8 rows, 1: the bottom 8 */
{
    u8 c, r, t, i, end;
    if (!half) {
        for (c = 0; c < 8; ++c) {
            h[c] = 0;
            vlow[c] = 0;
        }
        i = 0;
        r = 16;
    } else {
        i = 64;
        r = 8;
    }
    for (end = r - 8; r != end; ) {    /* r - 1: row from the bottom; playfield row 16 - r from the top */
        --r;
        for (c = 0; c < 8; ++c) {
            t = tl[i++];
            if (t != 0xFF && (t >> 4) != 0x0B) {
                if (!h[c]) h[c] = r + 1;
                if ((t >> 4) == 0x0D) vlow[c] = r + 1;
                grid[(r << 3) | c] = t & 0x0F;
            } else {
                grid[(r << 3) | c] = NONE;
            }
        }
    }
    if (half) {
        for (i = 0; i < ex_n; ++i) {   /* the extra cells (capsule halves: occupied, no virus) */
            r = 15 - (ex_i[i] >> 3);
            c = ex_i[i] & 7;
            t = ex_t[i];
            if (t != 0xFF && (t >> 4) != 0x0B) {
                grid[(r << 3) | c] = t & 0x0F;
                if (h[c] < r + 1) h[c] = r + 1;
            }
        }
        hmax = 0;
        for (c = 0; c < 8; ++c) if (h[c] > hmax) hmax = h[c];
        for (r = 0; r < 16; ++r) marked[r] = 0;
    }
}

/* the arguments of the walks below, as globals (cheaper than cc65's parameter stack) */
static u8 ar, ac, acol;

static u8 cell(void)                /* colour code at (ar, ac); outside the bottle WALL */
{
    if (ar >= 16 || ac >= 8) return WALL;
    return grid[(ar << 3) | ac];
}

static u8 down(void)                /* cells of colour acol straight below (ar, ac) */
{
    u8 n = 0, i;
    if (!ar || ar > 16) return 0;
    i = ((ar - 1) << 3) | ac;
    while (grid[i] == acol) {
        ++n;
        if (i < 8) break;
        i -= 8;
    }
    return n;
}

static u8 side_l(void)              /* cells of colour acol left of (ar, ac) */
{
    u8 n = 0, c = ac, base;
    if (ar >= 16) return 0;
    base = ar << 3;
    while (c && c <= 8) {
        --c;
        if (grid[base | c] != acol) break;
        ++n;
    }
    return n;
}

static u8 side_r(void)              /* cells of colour acol right of (ar, ac) */
{
    u8 n = 0, c = ac, base;
    if (ar >= 16) return 0;
    base = ar << 3;
    while (c < 7) {
        ++c;
        if (grid[base | c] != acol) break;
        ++n;
    }
    return n;
}

/* ---- features 0-13 ---- */

#ifdef __CC65__
#pragma bss-name (push, "CPUC")
#endif
static u8 px, pr, pa, pb, gap, top, vert;           /* the placement described */
u8 land;                                            /* where it lands */
static u8 hr[2], hc[2], hcol[2], nh;                /* its halves: row, column, colour */
#ifdef __CC65__
#pragma bss-name (pop)
#endif

static u8 cap(u8 v) { return v > CAP ? CAP : v; }

/* f[0..13] of placement i (x = i / 4, rotation i % 4) and what greedy_terms() needs; 0 (and
 * all features 0) when it does not exist. With qonly, f[] is not written. */
u8 base_features(u8 i)
{
    u8 va, vb, ha, hb, ba, bb, same, m, hx, hx1;
    px = i >> 2;
    pr = i & 3;
    vert = pr & 1;
    if (pr < 2) { pa = c1; pb = c2; } else { pa = c2; pb = c1; }
    same = pa == pb;
    hx = h[px];
    if (vert) {
        land = hx;
        gap = 0;
        top = land + 2;
        if (qonly) return 1;
        ar = land; ac = px; acol = pa;
        va = down() + 1 + same;
        vb = same ? va : 1;
        ha = side_l() + side_r() + 1;
        ar = land + 1; acol = pb;
        hb = side_l() + side_r() + 1;
        ba = 0;
        bb = 0;
        if (land) { ar = land - 1; ba = cell() != pa; }
    } else {
        if (px == 7) {
            for (m = 0; m < CPU_FEATURES; ++m) f[m] = 0;
            return 0;
        }
        hx1 = h[px + 1];
        land = hx > hx1 ? hx : hx1;
        gap = hx > hx1 ? hx - hx1 : hx1 - hx;
        top = land + 1;
        if (qonly) return 1;
        ar = land; ac = px; acol = pa;
        va = (hx == land ? down() : 0) + 1;
        ha = side_l() + 1;
        if (same) { ac = px + 1; ha += 1 + side_r(); }
        ac = px + 1; acol = pb;
        vb = (hx1 == land ? down() : 0) + 1;
        hb = side_r() + 1;
        if (same) { ac = px; hb += 1 + side_l(); }
        ba = 0;
        bb = 0;
        if (land) {
            ar = land - 1;
            if (hx == land) { ac = px; ba = cell() != pa; }
            if (hx1 == land) { ac = px + 1; bb = cell() != pb; }
        }
    }
    f[0] = vert;
    f[1] = px;
    f[2] = land;
    f[3] = gap;
    f[4] = va = cap(va);
    f[5] = vb = cap(vb);
    f[6] = ha = cap(ha);
    f[7] = hb = cap(hb);
    m = va;
    if (vb > m) m = vb;
    if (ha > m) m = ha;
    if (hb > m) m = hb;
    f[8] = m;
    f[9] = ba;
    f[10] = bb;
    f[11] = top;
    f[12] = same;
    f[13] = (px >= 2 && px <= 5 && top > 10) ? top - 10 : 0;
    for (m = 14; m < CPU_FEATURES; ++m) f[m] = 0;
    return 1;
}

/* ---- features 14-21 and q: the greedy's terms with the capsule written in ---- */

static const unsigned int danger8[11] = {0, 8, 32, 72, 128, 200, 288, 392, 512, 648, 800};  /* 8 d^2 */

/* marked[] is all 0 between calls (the count below clears what it set) */
static u8 k, row, c, lo, hi, bits, n, lines, nm, nv, touch, cover, height, danger, mlo, mhi, hgt;

static void mark_rows(void)         /* bits into marked[lo..hi]... of one column c */
{
    u8 m = bitv[c];
    for (n = lo; n <= hi && (marked[n] & m); ++n) {}
    if (n > hi) return;             /* a run already counted (through the other half) */
    ++lines;
    for (n = lo; n <= hi; ++n) marked[n] |= m;
    if (lo < mlo) mlo = lo;
    if (hi > mhi) mhi = hi;
}

/* q of the placement base_features() just described (land < 16) and, unless qonly,
 * f[14..21]. The halves are written into grid[] meanwhile (their cells are empty: they lie
 * on the stack). */
int greedy_terms(void)
{
    unsigned int pos, neg;
    hr[0] = land;
    hc[0] = px;
    hcol[0] = pa;
    hr[1] = vert ? land + 1 : land;
    hc[1] = vert ? px : px + 1;
    hcol[1] = pb;
    nh = hr[1] < 16 ? 2 : 1;        /* a vertical one locked in the top row keeps one half */
    grid[(hr[0] << 3) | hc[0]] = pa;
    if (nh == 2) grid[(hr[1] << 3) | hc[1]] = pb;
    lines = 0;
    mlo = 16;
    mhi = 0;
    for (k = 0; k < nh; ++k) {
        row = hr[k];
        c = hc[k];
        acol = hcol[k];
        ar = row;
        ac = c;
        /* the row through the half */
        lo = c - side_l();
        hi = c + side_r();
        if (hi - lo >= 3) {
            bits = (u8)(0xFF << lo) & (u8)(0xFF >> (7 - hi));
            if ((marked[row] & bits) != bits) {
                ++lines;
                marked[row] |= bits;
                if (row < mlo) mlo = row;
                if (row > mhi) mhi = row;
            }
        }
        /* the column through the half */
        lo = row - down();
        hi = row;
        while (hi < 15 && grid[((hi + 1) << 3) | c] == acol) ++hi;
        if (hi - lo >= 3) mark_rows();
    }
    nm = nv = 0;
    touch = cover = 0;
    if (lines) {
        for (row = mlo; row <= mhi; ++row) {
            bits = marked[row];
            if (!bits) continue;
            marked[row] = 0;
            for (c = 0; c < 8; ++c) {
                if (!(bits & bitv[c])) continue;
                ++nm;
                if ((tl[((15 - row) << 3) + c] >> 4) == 0x0D) ++nv;   /* a half's cell is empty there */
            }
        }
        height = hmax;
        danger = h[3] > h[4] ? h[3] : h[4];
    } else {
        hgt = top < 16 ? top : 16;
        for (k = 0; k < nh; ++k) {
            row = hr[k];
            c = hc[k];
            acol = hcol[k];
            /* the same colour beside it, the other half not counted */
            if (!(vert && k == 0) && row < 15 && grid[((row + 1) << 3) | c] == acol) ++touch;
            if (row > 0) {
                n = grid[((row - 1) << 3) | c];
                if (!(vert && k == 1) && n == acol) ++touch;
                /* resting on another colour with a virus lower in the column */
                if (n != NONE && n != acol && vlow[c] > 0 && vlow[c] <= row) ++cover;
            }
            if (!(!vert && k == 0) && c < 7 && grid[(row << 3) | (c + 1)] == acol) ++touch;
            if (!(!vert && k == 1) && c > 0 && grid[(row << 3) | (c - 1)] == acol) ++touch;
        }
        height = hgt;
        for (c = 0; c < 8; ++c) if (h[c] > height && c != hc[0] && c != hc[1]) height = h[c];
        danger = (hc[0] == 3 || hc[0] == 4 || hc[1] == 3 || hc[1] == 4) ? hgt : 0;
        if (h[3] > danger && hc[0] != 3 && hc[1] != 3) danger = h[3];
        if (h[4] > danger && hc[0] != 4 && hc[1] != 4) danger = h[4];
    }
    grid[(hr[0] << 3) | hc[0]] = NONE;
    if (nh == 2) grid[(hr[1] << 3) | hc[1]] = NONE;
    danger = danger > 6 ? danger - 6 : 0;
    if (!qonly) {
        f[14] = cap(nv);
        f[15] = lines;
        f[16] = cap(nm - nv);
        f[17] = touch;
        f[18] = cover;
        f[19] = lines ? 0 : gap;
        f[20] = height;
        f[21] = danger;
    }
    pos = (u8)(nm - nv) + (touch << 2);
    for (n = nv; n; --n) pos += W_VIRUS;
    for (n = lines; n; --n) pos += W_LINE;
    neg = (u8)(cover * W_COVER) + height + danger8[danger];
    if (!lines) neg += (u8)(gap * W_HOLES);
    return (int)pos - (int)neg;
}

#ifdef __CC65__
#pragma bss-name (pop)
#endif
