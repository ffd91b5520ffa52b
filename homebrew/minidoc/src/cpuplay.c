/* MiniDoc: the CPU as player 2 (menu "P2 CPU"). For each new P2 capsule it decides where the
 * capsule goes (cpu.c: the distilled tree, worked out in the main loop's idle time, see
 * main.c's idle()) from the capsule as it was at its first frame under control, writes the
 * decision to 0x03A8-0x03AD, then presses P2's buttons (0x00F6 / 0x00F8) to take it there:
 * A or B taps (each followed by a frame of nothing) towards the rotation, LEFT or RIGHT taps
 * towards the column, then DOWN held.
 *
 * Thinking ahead: once it has decided, it already works on the next capsule, on the board it
 * expects when this one has locked (the capsule's cells where a straight drop puts it, as
 * rules.c's lock() writes them, handed to cpu.c as extra cells: the playfield itself is never
 * written) and the next capsule as spawn() will set it up. That work is
 * the next decision only if all of it comes true: the capsule locks there, nothing clears,
 * no garbage drops (P2's state never leaves 0 until the next capsule), the same colours, the
 * start state; else it starts again from the real one. Either way the decision is the one
 * for the capsule as it is on its first frame. */
#include "minidoc.h"
#include "cpu.h"

static u8 thinking, steering, piece, prev, target_x, target_r, started;
static u8 ahead;                    /* the work in progress is for the next capsule */
static u8 ahead_ok;                 /* and what it expects still holds */
static u8 ahead_done, ahead_choice, ahead_score;
/* what it expects, in CPUB (0x0328-0x037F, minidoc.cfg): the C globals are nearly full */
#pragma bss-name (push, "CPUB")
static u8 exp_n, exp_i[2], exp_t[2];   /* the cells the lock will write: index, tile */
static u8 exp_left, exp_right, exp_gravity;
#pragma bss-name (pop)

void cpu_new_game(void)
{
    CPU_ON = (menu_p2cpu && PLAYERS == 2) ? 1 : 0;
    CPU_COL = CPU_ROT = 0xFF;
    thinking = steering = ahead = 0;
    prev = 0;
    piece = 0xFF;
}

u8 cpu_thinking(void)
{
    return thinking;
}

static void publish(u8 choice, u8 score)
{
    target_x = choice >> 2;
    target_r = choice & 3;
    CPU_COL = target_x;
    CPU_ROT = target_r;
    CPU_SCORE = score;
    CPU_FRAMES = FRAME - started;
    CPU_PIECE = piece;
    ++CPU_COUNT;
    steering = 1;
}

static u8 free_at(u8 *pf, u8 x, u8 y)   /* rules.c free_at */
{
    if (x >= 8 || y > 16) return 0;
    return y == 16 || pf[((15 - y) << 3) + x] == EMPTY;
}

static u8 fits(u8 *pf, u8 x, u8 y, u8 rot)   /* rules.c fits */
{
    if (y >= 16 || !free_at(pf, x, y)) return 0;
    return (rot & 1) ? free_at(pf, x, y + 1) : free_at(pf, x + 1, y);
}

/* After a decision for the capsule now: start on the next one, expecting this one to drop
 * straight down at (target_x, target_r) and lock (rules.c lock()). */
static void think_ahead(void)
{
    struct player *p = LIVE(1);
    u8 *pf = FIELD(1);
    u8 y = 15, a = p->left, b = p->right, t, i;
    if (!fits(pf, target_x, y, target_r)) return;
    while (fits(pf, target_x, y - 1, target_r)) --y;
    if (target_r == 1 || target_r == 2) {
        t = a;
        a = b;
        b = t;
    }
    i = ((15 - y) << 3) + target_x;
    if (target_r & 1) {
        if (y == 15) {
            exp_n = 1;
            exp_i[0] = i;
            exp_t[0] = K_SINGLE | b;
        } else {
            exp_n = 2;
            exp_i[0] = i - 8;
            exp_t[0] = K_TOP | a;
            exp_i[1] = i;
            exp_t[1] = K_BOTTOM | b;
        }
    } else {
        exp_n = 2;
        exp_i[0] = i;
        exp_t[0] = K_LEFT | a;
        exp_i[1] = i + 1;
        exp_t[1] = K_RIGHT | b;
    }
    exp_left = p->next_left;
    exp_right = p->next_right;
    exp_gravity = p->gravity;
    /* spawn(): x 3, y 15, rotation 0, speed counter 0, das 0; held: DOWN, the last button */
    cpu_start(pf, exp_left, exp_right, 3, 15, 0, 0, exp_gravity, BTN_DOWN, 0);
    cpu_extra(exp_n, exp_i, exp_t);
    ahead = ahead_ok = thinking = 1;
    ahead_done = 0;
}

/* One slice of the decision (main.c's idle loop); the decision's bytes when it is made. */
void cpu_think(void)
{
    struct player *p = LIVE(1);
    if (ahead) {
        if (!ahead_ok) {
            thinking = 0;
            return;
        }
        if (cpu_slice()) {
            ahead_done = 1;
            ahead_choice = cpu_choice;
            ahead_score = cpu_score;
            thinking = 0;
        }
        return;
    }
    if (p->state != ST_PLAY || p->capsules != piece) {
        thinking = 0;               /* it locked before the decision: the board has changed */
        return;
    }
    if (!cpu_slice()) return;
    thinking = 0;
    publish(cpu_choice, cpu_score);
    think_ahead();
}

static u8 steer(struct player *p)
{
    u8 b = 0;
    if (prev & (BTN_A | BTN_B | BTN_LEFT | BTN_RIGHT)) return 0;   /* a tap is one frame down, one up */
    if (p->rot != target_r) b = (((target_r - p->rot) & 3) == 1) ? BTN_B : BTN_A;
    if (p->x < target_x) b |= BTN_RIGHT;
    else if (p->x > target_x) b |= BTN_LEFT;
    return b ? b : BTN_DOWN;
}

/* The work done ahead is this capsule's decision: everything it expected came true. */
static u8 as_expected(struct player *p)
{
    u8 *pf = FIELD(1), k;
    if (!ahead || !ahead_ok || p->capsules != (u8)(piece + 1)) return 0;
    if (p->left != exp_left || p->right != exp_right || p->gravity != exp_gravity || prev != BTN_DOWN) return 0;
    if (p->x != 3 || p->y != 15 || p->rot != 0 || p->speedctr != 0 || p->das != 0) return 0;
    for (k = 0; k < exp_n; ++k) if (pf[exp_i[k]] != exp_t[k]) return 0;
    return 1;
}

/* After read_pads(), before the frame's game logic: P2's buttons for this frame. The game
 * logic sees them as it sees a controller's: held in 0x00F8, newly pressed in 0x00F6. */
void cpu_pad(void)
{
    struct player *p = LIVE(1);
    u8 b = 0;
    if (p->state != ST_PLAY) ahead_ok = 0;   /* a clear, halves falling, garbage: another board */
    if (p->state == ST_PLAY) {
        if (p->capsules != piece) {
            /* its first frame under control (held: the buttons the game read last frame) */
            steering = 0;
            started = FRAME;
            if (as_expected(p)) {
                piece = p->capsules;
                ahead = 0;
                if (ahead_done) {
                    publish(ahead_choice, ahead_score);
                    think_ahead();
                    b = steer(p);
                }
                /* else: the work goes on as this capsule's (cpu_think) */
            } else {
                piece = p->capsules;
                ahead = 0;
                cpu_start(FIELD(1), p->left, p->right, p->x, p->y, p->rot, p->speedctr, p->gravity, prev, p->das);
                thinking = 1;
            }
        } else if (steering) {
            b = steer(p);
        }
    } else if (!ahead) {
        thinking = steering = 0;
    } else {
        steering = 0;
    }
    PRESSED2 = b & ~prev;
    HELD2 = b;
    prev = b;
}
