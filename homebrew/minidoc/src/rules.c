/* MiniDoc: the rules for the player being processed (`cur`, playfield `pf`): moving and
 * rotating the capsule, gravity, locking, matches of 4+, loose halves falling, chains,
 * garbage to the opponent, spawning and topping out. */
#include <string.h>
#include "minidoc.h"

static u8 mark[16];                 /* a bit per cell of each row: matched this step */
static const u8 bit[8] = {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80};
static u8 i, r, c, v, k;

/* Cell (x, y) (y from the bottom) is inside the bottle and empty; y = 16, just above the
 * top row, counts as free (a vertical capsule's upper half may stick out there). */
static u8 free_at(u8 x, u8 y)
{
    if (x >= 8 || y > 16) return 0;
    return y == 16 || pf[((15 - y) << 3) + x] == EMPTY;
}

/* The capsule fits at (x, y) in rotation rot: anchor (x, y), the bottom-left half, and,
 * horizontal (rot 0/2), (x + 1, y), vertical (rot 1/3), (x, y + 1). */
static u8 fits(u8 x, u8 y, u8 rot)
{
    if (y >= 16 || !free_at(x, y)) return 0;
    return (rot & 1) ? free_at(x, y + 1) : free_at(x + 1, y);
}

static void try_move(u8 dx)
{
    if (fits(cur.x + dx, cur.y, cur.rot)) cur.x += dx;
}

/* Dr. Mario's rotations (first colour = 0x0301, second = 0x0302): 0 first left, second
 * right; 1 first bottom, second top; 2 first right, second left; 3 first top, second
 * bottom. dir 3 (A, clockwise) steps 0 -> 3 -> 2 -> 1 -> 0; dir 1 (B) the other way. Back
 * to horizontal against a wall or a block, the capsule kicks one column left. */
static void rotate(u8 dir)
{
    u8 nr = (cur.rot + dir) & 3;
    if (fits(cur.x, cur.y, nr)) {
        cur.rot = nr;
    } else if (!(nr & 1) && fits(cur.x - 1, cur.y, nr)) {
        --cur.x;
        cur.rot = nr;
    }
}

static void send_garbage(u8 n)
{
    struct player *opp = LIVE(cur_p ^ 1);
    if (n > 4) n = 4;
    opp->garbage += n;
    if (opp->garbage > 4) opp->garbage = 4;
}

/* Garbage: one single half per pending count, random colours, in distinct random empty
 * columns of the top row; they then fall as loose halves. */
static void drop_garbage(void)
{
    u8 n = cur.garbage, t;
    cur.garbage = 0;
    while (n--) {
        c = rng() & 7;
        for (t = 0; t < 8 && pf[c] != EMPTY; ++t) c = (c + 1) & 7;
        if (pf[c] != EMPTY) break;
        v = rng() & 3;
        pf[c] = K_SINGLE | (v == 3 ? 0 : v);
    }
}

void spawn(void)
{
    if (pf[3] != EMPTY || pf[4] != EMPTY) {
        cur.state = ST_LOST;
        return;
    }
    cur.left = cur.next_left;
    cur.right = cur.next_right;
    v = CAPSEQ[cur.capidx & 0x7F];
    ++cur.capidx;
    cur.next_left = v / 3;
    cur.next_right = v % 3;
    cur.x = 3;
    cur.y = 15;
    cur.rot = 0;
    cur.speedctr = 0;
    cur.das = 0;
    cur.chain = 0;
    cur.state = ST_PLAY;
}

/* The end of a move: send 2+ lines to the opponent, drop pending garbage, or spawn. */
static void end_move(void)
{
    if (PLAYERS == 2 && cur.lines >= 2) send_garbage(cur.lines);
    cur.lines = 0;
    if (cur.garbage) {
        drop_garbage();
        cur.state = ST_FALL;
        cur.timer = FALL_FRAMES;
    } else {
        spawn();
    }
}

static u8 colour_at(u8 j)
{
    u8 t = pf[j];
    if (t == EMPTY || (t & 0xF0) == K_CLEARED) return 0xFF;
    return t & 0x0F;
}

/* Mark runs of 4+ of one colour in rows and columns; returns how many runs. */
static u8 find_matches(void)
{
    u8 runs = 0, n, col, t;
    memset(mark, 0, sizeof mark);
    for (r = 0; r < 16; ++r) {
        for (c = 0; c < 8; c += n) {
            i = (r << 3) + c;
            col = colour_at(i);
            for (n = 1; c + n < 8 && col != 0xFF && colour_at(i + n) == col; ++n) {}
            if (col != 0xFF && n >= 4) {
                ++runs;
                for (t = 0; t < n; ++t) mark[r] |= bit[c + t];
            }
        }
    }
    for (c = 0; c < 8; ++c) {
        for (r = 0; r < 16; r += n) {
            i = (r << 3) + c;
            col = colour_at(i);
            for (n = 1; r + n < 16 && col != 0xFF && colour_at(i + (n << 3)) == col; ++n) {}
            if (col != 0xFF && n >= 4) {
                ++runs;
                for (t = 0; t < n; ++t) mark[r + t] |= bit[c];
            }
        }
    }
    return runs;
}

/* Marked cells become 0xB_ (flashing); the other half of a capsule cut in two becomes single. */
static void apply_marks(void)
{
    for (r = 0; r < 16; ++r) {
        if (!mark[r]) continue;
        for (c = 0; c < 8; ++c) {
            if (!(mark[r] & bit[c])) continue;
            i = (r << 3) + c;
            v = pf[i];
            k = v & 0xF0;
            if (k == K_TOP && !(mark[r + 1] & bit[c])) pf[i + 8] = K_SINGLE | (pf[i + 8] & 0x0F);
            else if (k == K_BOTTOM && !(mark[r - 1] & bit[c])) pf[i - 8] = K_SINGLE | (pf[i - 8] & 0x0F);
            else if (k == K_LEFT && !(mark[r] & bit[c + 1])) pf[i + 1] = K_SINGLE | (pf[i + 1] & 0x0F);
            else if (k == K_RIGHT && !(mark[r] & bit[c - 1])) pf[i - 1] = K_SINGLE | (pf[i - 1] & 0x0F);
            pf[i] = K_CLEARED | (v & 0x0F);
        }
    }
}

/* After a lock or a fall: clear what matches, else the move is over. */
static void settle(void)
{
    u8 runs = find_matches();
    if (runs) {
        cur.lines += runs;
        ++cur.chain;
        apply_marks();
        cur.state = ST_CLEAR;
        cur.timer = CLEAR_FRAMES;
    } else {
        end_move();
    }
}

/* Flashing over: empty the cleared cells, count the viruses left. */
static void remove_cleared(void)
{
    u8 n = 0;
    for (i = 0; i < 128; ++i) {
        v = pf[i] & 0xF0;
        if (v == K_CLEARED) pf[i] = EMPTY;
        else if (v == K_VIRUS) ++n;
    }
    cur.nvir = n;
    cur.viruses = ((n / 10) << 4) | (n % 10);
}

/* Every unsupported single half, vertical capsule or horizontal capsule (both halves
 * unsupported) falls one row; viruses never fall. Returns whether anything moved. */
static u8 fall_once(void)
{
    u8 moved = 0;
    for (r = 14; r != 0xFF; --r) {
        for (c = 0; c < 8; ++c) {
            i = (r << 3) + c;
            v = pf[i];
            k = v & 0xF0;
            if (k == K_SINGLE || k == K_BOTTOM) {
                if (pf[i + 8] != EMPTY) continue;
                pf[i + 8] = v;
                pf[i] = EMPTY;
                if (k == K_BOTTOM && r) {
                    pf[i] = pf[i - 8];
                    pf[i - 8] = EMPTY;
                }
                moved = 1;
            } else if (k == K_LEFT) {
                if (pf[i + 8] == EMPTY && pf[i + 9] == EMPTY) {
                    pf[i + 8] = v;
                    pf[i + 9] = pf[i + 1];
                    pf[i] = EMPTY;
                    pf[i + 1] = EMPTY;
                    moved = 1;
                }
                ++c;
            }
        }
    }
    return moved;
}

/* Write the falling capsule into the playfield (kinds by rotation), then settle. A
 * vertical capsule that lands with its upper half above the bottle keeps only its lower
 * half, as a single. */
static void lock(void)
{
    u8 a = cur.left, b = cur.right, t;   /* a: the top or left half, b: bottom or right */
    i = ((15 - cur.y) << 3) + cur.x;
    cur.state = ST_FALL; /* not controllable from here on */
    ++cur.capsules;
    if (cur.rot == 1 || cur.rot == 2) {
        t = a;
        a = b;
        b = t;
    }
    if (cur.rot & 1) {
        if (cur.y == 15) {
            pf[i] = K_SINGLE | b;
        } else {
            pf[i - 8] = K_TOP | a;
            pf[i] = K_BOTTOM | b;
        }
    } else {
        pf[i] = K_LEFT | a;
        pf[i + 1] = K_RIGHT | b;
    }
    settle();
}

static void control(void)
{
    u8 held = cur_p ? HELD2 : HELD1;
    u8 pressed = cur_p ? PRESSED2 : PRESSED1;
    u8 dir = 0;
    if (pressed & BTN_A) rotate(3);
    if (pressed & BTN_B) rotate(1);
    if (pressed & BTN_LEFT) {
        dir = 0xFF;
        cur.das = 0;
    } else if (pressed & BTN_RIGHT) {
        dir = 1;
        cur.das = 0;
    } else if (held & (BTN_LEFT | BTN_RIGHT)) {
        if (++cur.das >= 16) {      /* auto-repeat: after 16 frames, then every 6 */
            cur.das = 10;
            dir = (held & BTN_LEFT) ? 0xFF : 1;
        }
    }
    if (dir) try_move(dir);
    if (++cur.speedctr >= ((held & BTN_DOWN) ? 2 : cur.gravity)) {
        cur.speedctr = 0;
        if (fits(cur.x, cur.y - 1, cur.rot)) --cur.y;
        else lock();
    }
}

void step_player(void)
{
    switch (cur.state) {
    case ST_PLAY:
        control();
        break;
    case ST_CLEAR:
        if (--cur.timer == 0) {
            remove_cleared();
            if (cur.nvir == 0) {
                cur.state = ST_WON;
                break;
            }
            cur.state = ST_FALL;
            cur.timer = FALL_FRAMES;
        }
        break;
    case ST_FALL:
        if (--cur.timer == 0) {
            cur.timer = FALL_FRAMES;
            if (!fall_once()) settle();
        }
        break;
    }
}
