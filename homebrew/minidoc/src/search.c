/* MiniDoc's CPU player, part 2: the planner's search (emurl.games.drmario.placement.search),
 * which placements the falling capsule can still reach: mask[], bit per placement (index
 * column * 4 + rotation). Frame by frame as placement.step_frame: from the capsule as the game
 * holds it, every tap (LEFT, RIGHT, A, B and the four pairs: one frame pressed, one not) and
 * the wait for the next gravity step, breadth-first in time order; a placement is reachable
 * where a node locks or where DOWN held from a node lands it. cpu.c runs it a node a slice. */
#include "cpu_int.h"

#ifdef __CC65__
/* RAM (minidoc.cfg): scalars in CPUL, the arrays in CPUB and CPUC (see cpu.c) */
#pragma bss-name (push, "CPUL")
#endif

#ifdef __CC65__
#pragma bss-name (push, "CPUB")
#endif
u8 mask[4];                         /* bit per placement: reachable */
u8 g;                                               /* gravity: frames per row */
static u8 s_x, s_y, s_r, s_ctr, s_das, s_held;      /* the capsule in step() */
u8 found;                                           /* placements marked reachable */
u8 n_x, n_y, n_r, n_ctr, n_das, n_held, n_move;     /* the node being expanded */
u16 n_t;
static u8 fx, fy, frot;                             /* fits()'s arguments */
static u8 rot_x[3], rot_r[3];                       /* expand_node(): the node after no turn, A, B */
#ifdef __CC65__
#pragma bss-name (pop)
#pragma bss-name (push, "CPUC")
#endif
u8 fr[17];                          /* bit per column of each row (from the bottom, 16 above the bottle): free */
u8 by[NB], bc[NB], bn[NB], bh[NB];  /* bucket's row, speed counter, count, head */
u16 bt[NB];                         /* bucket's time (frames from the start) */
#ifdef __CC65__
#pragma bss-name (pop)
#endif
static const u8 taps[8] = {B_LEFT, B_RIGHT, B_A, B_B, B_LEFT | B_A, B_RIGHT | B_A, B_LEFT | B_B, B_RIGHT | B_B};

/* fr[]: board.occupied is a capsule half (0x4_-0xA_) or a virus (0xD_); free is the rest */
void free_rows(u8 half)             /* half 0: the top 8 rows, 1: the bottom 8 */
{
    u8 r, c, k, m, i, end;
    fr[16] = 0xFF;                  /* above the bottle counts as free */
    i = half ? 64 : 0;
    r = half ? 8 : 16;
    for (end = r - 8; r != end; ) {
        --r;
        m = 0;
        for (c = 0; c < 8; ++c) {
            k = tl[i++] >> 4;
            if (!((k >= 4 && k <= 10) || k == 13)) m |= bitv[c];
        }
        fr[r] = m;
    }
}

static u8 fits(void)                /* placement.fits_table / _fits at (fx, fy, frot) */
{
    u8 m;
    if (fx >= 8 || fy >= 16) return 0;
    m = bitv[fx];
    if (!(fr[fy] & m)) return 0;
    if (frot & 1) return (fr[fy + 1] & m) != 0;
    return fx < 7 && (fr[fy] & bitv[fx + 1]) != 0;
}

static void turn(u8 dir)
{
    u8 nr = (s_r + dir) & 3;
    fx = s_x; fy = s_y; frot = nr;
    if (fits()) {
        s_r = nr;
    } else if (!(nr & 1)) {
        fx = s_x - 1;
        if (fits()) {
            --s_x;
            s_r = nr;
        }
    }
}

static u8 step(u8 held)             /* placement.step_frame; 1 when it locks */
{
    u8 pressed = held & ~s_held, d = 0;
    if (pressed & B_A) turn(3);
    if (pressed & B_B) turn(1);
    if (pressed & B_LEFT) {
        d = 0xFF;
        s_das = 0;
    } else if (pressed & B_RIGHT) {
        d = 1;
        s_das = 0;
    } else if (held & (B_LEFT | B_RIGHT)) {
        if (++s_das >= 16) {
            s_das = 10;
            d = (held & B_LEFT) ? 0xFF : 1;
        }
    }
    if (d) {
        fx = s_x + d; fy = s_y; frot = s_r;
        if (fits()) s_x += d;
    }
    s_held = held;
    if (++s_ctr >= ((held & B_DOWN) ? 2 : g)) {
        s_ctr = 0;
        fx = s_x; fy = s_y - 1; frot = s_r;
        if (fits()) --s_y;
        else return 1;
    }
    return 0;
}

void mark(u8 x, u8 r)
{
    u8 i = (x << 2) | r;
    if (x == 7 && !(r & 1)) return;
    if (mask[i >> 3] & bitv[i & 7]) return;
    mask[i >> 3] |= bitv[i & 7];
    ++found;
}

static void push(u16 t)             /* the capsule in step() as a node at time t */
{
    u8 b, e = (s_x << 2) | s_r;
    u8 *v = &w.vis[s_y][e >> 3];
    if (*v & bitv[e & 7]) return;
    *v |= bitv[e & 7];
    for (b = 0; b < NB && !(bn[b] && bt[b] == t); ++b) {}
    if (b == NB) {
        for (b = 0; b < NB && bn[b]; ++b) {}
        if (b == NB) return;        /* never: at most 4 times are pending at once */
        bt[b] = t;
        by[b] = s_y;
        bc[b] = s_ctr;
        bh[b] = 0;
    }
    be[b][bh[b] + bn[b]] = e;
    ++bn[b];
}

static void load(void)
{
    s_x = n_x;
    s_y = n_y;
    s_r = n_r;
    s_ctr = n_ctr;
    s_das = n_das;
    s_held = n_held;
}

/* The wait: nothing pressed until the next gravity step (placement.search). */
static void wait_move(void)
{
    u8 n = g > n_ctr ? g - n_ctr : 1;
    fx = n_x; fy = n_y - 1; frot = n_r;
    if (fits()) {
        s_x = n_x;
        s_y = n_y - 1;
        s_r = n_r;
        s_ctr = 0;
        push(n_t + n);
    } else {
        mark(n_x, n_r);
    }
}

/* One move of the start node (which may hold buttons): n_move 0-7 the taps, 8 the wait,
 * frame by frame as step_frame. 1 when done. */
u8 expand_root(void)
{
    load();
    if (n_move < 8) {
        if (step(taps[n_move]) || step(0)) mark(s_x, s_r);
        else push(n_t + 2);
        ++n_move;
        return 0;
    }
    if (n_held) {                   /* let go of the held buttons for one frame */
        if (step(0)) mark(s_x, s_r);
        else push(n_t + 1);
        return 1;
    }
    wait_move();
    return 1;
}

/* expand_node()'s tap i: its turn (0 none, 1 A, 2 B) and its move (LEFT 0xFF, RIGHT 1) */
static const u8 tap_turn[8] = {0, 0, 1, 2, 1, 1, 2, 2};
static const u8 tap_move[8] = {0xFF, 1, 0, 0, 0xFF, 1, 0xFF, 1};

/* All moves of a node that holds nothing (every node but the start): the same frames as
 * expand_root() without the frame-by-frame bookkeeping. A tap is its rotation (A or B, the
 * same from this node for every tap), its move, then two frames of gravity; das never
 * matters (a LEFT or RIGHT held is always a new press). */
void expand_node(void)
{
    u8 i, x, y, r, c, d;
    rot_x[0] = n_x;
    rot_r[0] = n_r;
    for (i = 1; i < 3; ++i) {
        s_x = n_x;
        s_y = n_y;
        s_r = n_r;
        turn(i == 1 ? 3 : 1);
        rot_x[i] = s_x;
        rot_r[i] = s_r;
    }
    for (i = 0; i < 8; ++i) {
        x = rot_x[tap_turn[i]];
        r = rot_r[tap_turn[i]];
        y = n_y;
        d = tap_move[i];
        if (d) {
            fx = x + d; fy = y; frot = r;
            if (fits()) x += d;
        }
        c = n_ctr + 1;              /* frame 1 (pressed), then frame 2 (nothing) */
        if (c >= g) {
            c = 0;
            fx = x; fy = y - 1; frot = r;
            if (!fits()) { mark(x, r); continue; }
            --y;
        }
        if (++c >= g) {
            c = 0;
            fx = x; fy = y - 1; frot = r;
            if (!fits()) { mark(x, r); continue; }
            --y;
        }
        s_x = x;
        s_y = y;
        s_r = r;
        s_ctr = c;
        push(n_t + 2);
    }
    wait_move();
}

/* The next node in time order (then push order); 0 when none is left. */
u8 pop(void)
{
    u8 b, best = NB, e;
    for (b = 0; b < NB; ++b) if (bn[b] && (best == NB || bt[b] < bt[best])) best = b;
    if (best == NB) return 0;
    e = be[best][bh[best]];
    ++bh[best];
    --bn[best];
    n_x = e >> 2;
    n_r = e & 3;
    n_y = by[best];
    n_ctr = bc[best];
    n_t = bt[best];
    n_das = 0;                      /* no node but the root holds a button: das is never used */
    n_held = 0;
    n_move = 0;
    mark(n_x, n_r);                 /* its drop (DOWN held) lands it where it is */
    return 1;
}

#ifdef __CC65__
#pragma bss-name (pop)
#endif
