/* MiniDoc: the main loop and the mode machine (title, menu, set-up, play, game over). */
#include <string.h>
#include "minidoc.h"

#pragma bss-name (push, "ZEROPAGE")
u8 *pf;
#pragma bss-name (pop)

struct player cur;
u8 cur_p;
u8 setup_timer;

static void game_over_text(void)
{
    vq_begin();
    if (PLAYERS == 1) {
        qtext(12, 4, WINNER ? "CLEAR!  " : "GAME OVER");
    } else if (WINNER == 0) {
        qtext(12, 4, "DRAW    ");
    } else {
        qtext(12, 4, WINNER == 1 ? "P1 WINS " : "P2 WINS ");
    }
    qtext(10, 27, "PRESS START");
    vq_end();
}

/* After both players' frame: a win (all own viruses cleared) or a top-out ends the game. */
static void check_end(void)
{
    u8 s1 = LIVE(0)->state, s2 = LIVE(1)->state;
    u8 w1, w2;
    if (PLAYERS == 1) {
        if (s1 < ST_WON) return;
        WINNER = (s1 == ST_WON) ? 1 : 0;
    } else {
        w1 = (s1 == ST_WON) || (s2 == ST_LOST);
        w2 = (s2 == ST_WON) || (s1 == ST_LOST);
        if (!w1 && !w2) return;
        WINNER = (w1 && !w2) ? 1 : (w2 && !w1) ? 2 : 0;
    }
    if (WINNER) ++LIVE(WINNER - 1)->victories;
    MODE = MODE_OVER;
}

/* Until the next NMI: the CPU player's decision goes on in the time the frame leaves. A
 * slice that runs past the NMI delays this frame's logic by at most one slice. */
static void idle(void)
{
    u8 c = nmi_count;
    while (*(volatile u8 *)&nmi_count == c) {
        if (cpu_thinking()) cpu_think();
    }
}

static void play_step(void)
{
    for (cur_p = 0; cur_p < PLAYERS; ++cur_p) {
        memcpy(&cur, LIVE(cur_p), sizeof cur);
        pf = FIELD(cur_p);
        step_player();
        memcpy(LIVE(cur_p), &cur, sizeof cur);
    }
    check_end();
    if (MODE == MODE_OVER) game_over_text();
    else render_play();
}

void main(void)
{
    RNG0 = 0x89;
    RNG1 = 0x88;
    memset(FIELD(0), EMPTY, 0x100);
    memset(FIELD(1), EMPTY, 0x100);
    title_enter();
    for (;;) {
        idle();
        read_pads();
        switch (MODE) {
        case MODE_TITLE:
            rng();
            title_step();
            break;
        case MODE_MENU:
            rng();
            menu_step();
            if (MODE == MODE_SETUP) setup_timer = SETUP_FRAMES;
            break;
        case MODE_SETUP:
            /* The RNG stands still here: 0x0017/0x0018 written now decide the layout. */
            if (--setup_timer == 0) {
                setup_level();
                cpu_new_game();
                draw_board();
                MODE = MODE_PLAY;
            }
            break;
        case MODE_PLAY:
            ++LOOPS;
            if (CPU_ON) cpu_pad();
            rng();
            play_step();
            break;
        default: /* MODE_OVER: the last rows catch up on screen; START: the menu */
            if (PRESSED1 & BTN_START) menu_enter();
            else render_play();
            break;
        }
    }
}
