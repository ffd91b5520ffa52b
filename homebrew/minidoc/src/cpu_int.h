/* The CPU player's internals, shared by its three files (cpu.h is the interface):
 *   features.c: the board's reads, the tree's features 0-21 and the greedy's score q;
 *   search.c:   the planner's reachable placements (placement.search);
 *   cpu.c:      the decision, cut into slices, and the tree call.
 * Rows are counted from the bottom as in tree_features' docstring, and a row or column
 * below 0 wraps to 255 and so reads as outside the bottle. Every variable is static storage
 * (cc65 -Cl); each file places its own in the CPU player's RAM segments (minidoc.cfg: CPUL,
 * CPUW, CPUB, CPUC). */
#ifndef MINIDOC_CPU_INT_H
#define MINIDOC_CPU_INT_H

#include "cpu.h"

typedef unsigned char u8;
typedef unsigned int u16;   /* 16 bits on cc65; wider on the host, never needed */

#define WALL 8      /* colour code of outside the bottle (tree_features._WALL) */
#define NONE 9      /* colour code of an empty cell (tree_features._EMPTY) */
#define CAP 15      /* runs are capped at 15 */
#define NB 4        /* search buckets: times pending at once are t, t + 1, t + 2 and the next row's first */

/* button bits as the game reads them (0x00F5-0x00F8) */
#define B_A 0x80
#define B_B 0x40
#define B_DOWN 0x04
#define B_LEFT 0x02
#define B_RIGHT 0x01

/* cpu.c: the decision's inputs and the buffers the search and the features take turns on */
extern union cpu_wb {
    u8 be[NB][32];                  /* the search: each bucket's nodes, x * 4 + rotation, in push order */
    u8 grid[128];                   /* then: colour code per cell, index row * 8 + column, rows from the bottom */
} wb;
extern union cpu_w {
    u8 vis[16][4];                  /* the search: planner keys (x, y, rotation) pushed */
    int q[CPU_PLACEMENTS];          /* then: greedy score per placement */
} w;
#define grid wb.grid
#define be wb.be
extern const u8 *tl;                /* the board (cpu_start) */
extern u8 ex_n, ex_i[2], ex_t[2];   /* cells to see as if written into it (cpu_extra) */
extern const u8 bitv[8];            /* 1 << i */

/* features.c */
extern u8 f[CPU_FEATURES];          /* one placement's features */
extern u8 qonly;                    /* phase 1: only what q needs */
extern u8 c1, c2;                   /* the capsule's first and second colour */
extern u8 land;                     /* the row the placement base_features() described lands in */
void columns(u8 half);
u8 base_features(u8 i);
int greedy_terms(void);

/* search.c */
extern u8 mask[4];                  /* bit per placement: reachable */
extern u8 fr[17];                   /* bit per column of each row (from the bottom, 16 above the bottle): free */
extern u8 by[NB], bc[NB], bn[NB], bh[NB];   /* bucket's row, speed counter, count, head */
extern u16 bt[NB];                  /* bucket's time (frames from the start) */
extern u8 g;                        /* gravity: frames per row */
extern u8 found;                    /* placements marked reachable */
extern u8 n_x, n_y, n_r, n_ctr, n_das, n_held, n_move;  /* the node being expanded */
extern u16 n_t;
void free_rows(u8 half);
void mark(u8 x, u8 r);
u8 expand_root(void);
void expand_node(void);
u8 pop(void);

#endif
