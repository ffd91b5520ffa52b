/* MiniDoc's CPU player: `emurl distill`'s decision tree choosing where each capsule goes.
 *
 * The decision is the Python tree player's (emurl.train.distill.tree.Tree.act): of the
 * placements (anchor column x rotation, index column * 4 + rotation) the planner can still
 * reach (emurl.games.drmario.placement.search: the mask, search.c), the one whose tree score
 * is highest, the lowest index among equals (all 32 if the mask allows none). The tree scores
 * a placement from its 23 one-byte features (emurl.games.drmario.tree_features: its
 * docstring defines each one; features.c computes them the same way, step by step).
 *
 * The work is cut into slices (cpu_slice) of at most a few thousand cycles, so that the game
 * can spread it over frames:
 *   1. the search: the start node a move a slice, then a node a slice (its 8 taps and the
 *      wait). A new capsule under an empty top row skips it: every placement is reachable;
 *   2. the greedy score q of each placement (one per slice), for the feature `lag` (q's
 *      distance below the best q, known once every q is);
 *   3. features 0-13, then 14-21, then lag and the tree's score of each reachable placement.
 * It reads the board and never writes it. Everything is static (cc65 -Cl). */
#include "cpu_int.h"

#ifdef __CC65__
/* RAM (homebrew/minidoc/src/minidoc.cfg): scalars in CPUL (0x0056-0x00BF, zero page MiniDoc
 * leaves unused), the search's node lists (then the board's colours) and the union below in
 * CPUW (0x0100-0x01BF, the bottom of the 6502 stack page: MiniDoc's stack stays above
 * 0x01E0), the small arrays in CPUB (0x0328-0x037F) and CPUC (0x03B0-0x03FF), bytes after
 * each player's block that the game does not use. features.c and search.c place theirs the
 * same way. */
#pragma bss-name (push, "CPUL")
#endif

u8 cpu_choice, cpu_score;

#ifdef __CC65__
#pragma bss-name (push, "CPUW")
#endif
union cpu_wb wb;
union cpu_w w;
#ifdef __CC65__
#pragma bss-name (pop)
#pragma bss-name (push, "CPUB")
#endif
static u8 scored[4];                /* bit per placement: q is defined (it lands inside) */
#ifdef __CC65__
#pragma bss-name (pop)
#pragma bss-name (push, "CPUC")
#endif
u8 ex_n, ex_i[2], ex_t[2];          /* cells to see as if written into the board (cpu_extra) */
#ifdef __CC65__
#pragma bss-name (pop)
#endif

const u8 *tl;                       /* the board */
static int qmax;
static u8 phase, idx;
const u8 bitv[8] = {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80};

/* ---- the decision ---- */

#ifdef __CC65__
#pragma bss-name (push, "CPUB")
#endif
static u8 root_x, root_y, root_ctr;     /* the capsule at the start */
#ifdef __CC65__
#pragma bss-name (pop)
#endif

void cpu_start(const u8 *tiles, u8 first, u8 second, u8 x, u8 y, u8 rot, u8 ctr, u8 gravity, u8 held, u8 das)
{
    tl = tiles;
    c1 = first & 0x0F;
    c2 = second & 0x0F;
    g = gravity ? gravity : 1;
    root_x = n_x = x;
    root_y = n_y = y;
    n_r = rot & 3;
    root_ctr = n_ctr = ctr;
    ex_n = 0;
    n_das = das;
    n_held = held;
    n_t = 0;
    n_move = 0;
    phase = 0;
    idx = 0;
}

/* bit i of a 32-bit set. A function, not an inline test: cc65 2.19 -Oirs compiled an inline
 * `if (!(set[i >> 3] & bitv[i & 7])) continue;` into code that left X non-zero for the next
 * array index (which then read the wrong byte). */
static u8 bit_in(const u8 *set, u8 i)
{
    return set[i >> 3] & bitv[i & 7];
}

/* the work, cut in slices of at most a few thousand cycles */
enum { P_FREE0, P_FREE1, P_SEARCH, P_COL0, P_COL1, P_Q, P_BASE, P_GREEDY, P_TREE };

void cpu_extra(unsigned char n, const unsigned char *idx, const unsigned char *tile)
{
    for (ex_n = 0; ex_n < n && ex_n < 2; ++ex_n) {
        ex_i[ex_n] = idx[ex_n];
        ex_t[ex_n] = tile[ex_n];
    }
}

unsigned char cpu_slice(void)
{
    u8 s, i, j;
    int v;
    switch (phase) {
    case P_FREE0:
        for (i = 0; i < 16; ++i) for (j = 0; j < 4; ++j) w.vis[i][j] = 0;
        for (i = 0; i < 4; ++i) mask[i] = scored[i] = 0;
        for (i = 0; i < NB; ++i) bn[i] = 0;
        found = 0;
        free_rows(0);
        phase = P_FREE1;
        return 0;
    case P_FREE1:
        free_rows(1);
        for (i = 0; i < ex_n; ++i) {  /* the extra cells: board.occupied for capsule kinds 0x4_-0xA_ */
            j = ex_t[i] >> 4;
            if ((j >= 4 && j <= 10) || j == 13) fr[15 - (ex_i[i] >> 3)] &= ~bitv[ex_i[i] & 7];
        }
        if (!n_held) w.vis[root_y & 15][((root_x << 2) | n_r) >> 3] |= bitv[((root_x << 2) | n_r) & 7];
        mark(n_x, n_r);
        /* A new capsule (3, 15, rotation 0) under an empty top row, pressing nothing that
         * moves it, at least 8 frames before gravity: 4 taps reach every placement in the top
         * row, so the search would find them all (tests/games/test_minidoc_cpu.py checks the
         * masks against the search's) */
        if (root_x == 3 && root_y == 15 && n_r == 0 && fr[15] == 0xFF && !(n_held & (B_A | B_B | B_LEFT | B_RIGHT))
            && root_ctr < g && g - root_ctr >= 8) {
            mask[0] = mask[1] = mask[2] = 0xFF;
            mask[3] = 0xAF;         /* all but (7, 0) and (7, 2) */
            found = 30;
        }
        phase = P_SEARCH;
        return 0;
    case P_SEARCH:                  /* one move a slice */
        if (found < 30 && n_t == 0 && !expand_root()) return 0;   /* the start node, a move a slice */
        if (found < 30 && n_t != 0) expand_node();                /* a node a slice */
        if (found >= 30 || !pop()) phase = P_COL0;
        return 0;
    case P_COL0:
        columns(0);
        phase = P_COL1;
        return 0;
    case P_COL1:
        columns(1);
        phase = P_Q;
        qonly = 1;
        qmax = -32767;
        return 0;
    case P_Q:                       /* q of placement idx */
        if (base_features(idx) && land < 16) {
            v = greedy_terms();
            w.q[idx] = v;
            scored[idx >> 3] |= bitv[idx & 7];
            if (v > qmax) qmax = v;
        }
        if (++idx == CPU_PLACEMENTS) {
            idx = 0;
            phase = P_BASE;
            qonly = 0;
            cpu_choice = 0xFF;
            cpu_score = 0;
            if (!(mask[0] | mask[1] | mask[2] | mask[3])) mask[0] = mask[1] = mask[2] = mask[3] = 0xFF;
        }
        return 0;
    case P_BASE:                    /* features 0-13 of placement idx */
        if (!bit_in(mask, idx)) break;
        phase = (base_features(idx) && land < 16) ? P_GREEDY : P_TREE;
        return 0;
    case P_GREEDY:                  /* features 14-21 */
        greedy_terms();
        phase = P_TREE;
        return 0;
    default:                        /* lag, the tree's score */
        if (bit_in(scored, idx)) {
            v = qmax - w.q[idx];
            f[22] = v > 255 ? 255 : (u8)v;
        }
        s = emurl_tree(f);
        if (cpu_choice == 0xFF || s > cpu_score) {
            cpu_choice = idx;
            cpu_score = s;
        }
        phase = P_BASE;
        break;
    }
    return ++idx == CPU_PLACEMENTS;     /* P_BASE or P_TREE: the next placement */
}

#ifdef CPU_HOST
void cpu_host_features(const u8 *tiles, u8 first, u8 second, u8 *out)
{
    u8 i, j;
    int v;
    tl = tiles;
    c1 = first & 0x0F;
    c2 = second & 0x0F;
    ex_n = 0;
    columns(0);
    columns(1);
    qonly = 0;
    for (i = 0; i < 4; ++i) scored[i] = 0;
    qmax = -32767;
    for (i = 0; i < CPU_PLACEMENTS; ++i) {
        if (base_features(i) && land < 16) {
            v = greedy_terms();
            w.q[i] = v;
            scored[i >> 3] |= bitv[i & 7];
            if (v > qmax) qmax = v;
        }
        for (j = 0; j < CPU_FEATURES; ++j) out[i * CPU_FEATURES + j] = f[j];
    }
    for (i = 0; i < CPU_PLACEMENTS; ++i) {
        if (scored[i >> 3] & bitv[i & 7]) {
            v = qmax - w.q[i];
            out[i * CPU_FEATURES + 22] = v > 255 ? 255 : (u8)v;
        }
    }
}

void cpu_host_mask(const u8 *tiles, u8 x, u8 y, u8 rot, u8 ctr, u8 gravity, u8 held, u8 das, u8 *out)
{
    u8 i;
    cpu_start(tiles, 0, 0, x, y, rot, ctr, gravity, held, das);
    while (phase <= P_SEARCH) cpu_slice();
    for (i = 0; i < CPU_PLACEMENTS; ++i) out[i] = (mask[i >> 3] & bitv[i & 7]) ? 1 : 0;
}

u8 cpu_host_choose(const u8 *tiles, u8 first, u8 second, u8 x, u8 y, u8 rot, u8 ctr, u8 gravity, u8 held, u8 das,
                   u8 *score)
{
    cpu_start(tiles, first, second, x, y, rot, ctr, gravity, held, das);
    while (!cpu_slice()) {}
    *score = cpu_score;
    return cpu_choice;
}
#endif

#ifdef __CC65__
#pragma bss-name (pop)
#endif
