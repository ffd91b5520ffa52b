/* MiniDoc's CPU player: the distilled decision tree of `emurl distill` (issue 17, phase 2)
 * playing a seat (cpu.c; features.c, search.c and cpu_int.h, their internals). Plain C for
 * cc65 (unsigned bytes, 16-bit ints, no floats, no recursion, static buffers) that host gcc
 * also compiles: tests/games/test_minidoc_cpu.py checks it against the Python player
 * (emurl.games.drmario.tree_features, placement.search, emurl.train.distill.tree.Tree.act). */
#ifndef MINIDOC_CPU_H
#define MINIDOC_CPU_H

#define CPU_FEATURES 23
#define CPU_PLACEMENTS 32

/* The tree (tree.c, exported by `emurl distill`): a score 0-255 of one placement's features. */
unsigned char emurl_tree(const unsigned char *f);

/* The decision, once cpu_slice() has returned nonzero. */
extern unsigned char cpu_choice;    /* placement index, column * 4 + rotation */
extern unsigned char cpu_score;     /* its tree score */

/* Begin a decision for the board `tiles` (128 bytes, row-major from the top-left), the
 * capsule's colours `first`/`second` (0x0381/0x0382) and the falling capsule as the game
 * holds it: x, y (from the bottom), rotation, speed counter, gravity, held buttons, das. */
void cpu_start(const unsigned char *tiles, unsigned char first, unsigned char second, unsigned char x,
               unsigned char y, unsigned char rot, unsigned char ctr, unsigned char gravity,
               unsigned char held, unsigned char das);

/* After cpu_start(): see up to 2 more cells as if written into the board (playfield index
 * 0-127, tile byte): the decision for the board a capsule will leave when it has locked,
 * worked out while it still falls (cpuplay.c). The board itself is never written. */
void cpu_extra(unsigned char n, const unsigned char *idx, const unsigned char *tile);

/* One bounded piece of the decision's work (one search node, or one placement's features);
 * nonzero when the decision is made. */
unsigned char cpu_slice(void);

#ifdef CPU_HOST
/* Host-only entry points for the tests (whole computations at once). */
void cpu_host_features(const unsigned char *tiles, unsigned char first, unsigned char second, unsigned char *out);
void cpu_host_mask(const unsigned char *tiles, unsigned char x, unsigned char y, unsigned char rot,
                   unsigned char ctr, unsigned char gravity, unsigned char held, unsigned char das,
                   unsigned char *mask);
unsigned char cpu_host_choose(const unsigned char *tiles, unsigned char first, unsigned char second,
                              unsigned char x, unsigned char y, unsigned char rot, unsigned char ctr,
                              unsigned char gravity, unsigned char held, unsigned char das,
                              unsigned char *score);
#endif

#endif
