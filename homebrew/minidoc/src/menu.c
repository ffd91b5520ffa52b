/* MiniDoc: title screen and the menu (players 1-2, virus level 0-20, speed low/med/high,
 * player 2 a human or the CPU). */
#include "minidoc.h"

u8 menu_players = 1, menu_level, menu_speed, menu_row, menu_p2cpu;

static const char *const speed_names[3] = {"LOW", "MED", "HI "};
static const char *const p2_names[2] = {"HUMAN", "CPU  "};

#define MENU_ROWS 4

void title_enter(void)
{
    ppu_off();
    hide_sprites();
    clear_screen();
    text(12, 9, "MINIDOC");
    text(6, 12, "A CAPSULE GAME FOR TWO");
    text(10, 18, "PRESS START");
    ppu_on();
    MODE = MODE_TITLE;
}

void title_step(void)
{
    if (PRESSED1 & BTN_START) menu_enter();
}

static void show_values(u8 queued)
{
    static char num[3];
    u8 r;
    num[0] = '0' + menu_level / 10;
    num[1] = '0' + menu_level % 10;
    num[2] = 0;
    if (queued) {
        vq_begin();
        qtext(20, 11, menu_players == 1 ? "1" : "2");
        qtext(20, 13, num);
        qtext(20, 15, speed_names[menu_speed]);
        qtext(20, 17, p2_names[menu_p2cpu]);
        for (r = 0; r < MENU_ROWS; ++r) qtext(7, 11 + 2 * r, r == menu_row ? ">" : " ");
        vq_end();
    } else {
        text(20, 11, menu_players == 1 ? "1" : "2");
        text(20, 13, num);
        text(20, 15, speed_names[menu_speed]);
        text(20, 17, p2_names[menu_p2cpu]);
        for (r = 0; r < MENU_ROWS; ++r) text(7, 11 + 2 * r, r == menu_row ? ">" : " ");
    }
}

void menu_enter(void)
{
    ppu_off();
    hide_sprites();
    clear_screen();
    text(12, 5, "MINIDOC");
    text(9, 11, "PLAYERS");
    text(9, 13, "LEVEL");
    text(9, 15, "SPEED");
    text(9, 17, "P2");
    text(7, 21, "START TO PLAY");
    menu_row = 0;
    show_values(0);
    ppu_on();
    MODE = MODE_MENU;
}

/* Menu input: P1's controller only. UP/DOWN choose the line, LEFT/RIGHT change it, START plays.
 * "P2 CPU" takes effect in a two-player game. */
void menu_step(void)
{
    u8 b = PRESSED1;
    if (b & BTN_START) {
        MODE = MODE_SETUP;
        return;
    }
    if (b & BTN_UP) menu_row = menu_row ? menu_row - 1 : MENU_ROWS - 1;
    if (b & BTN_DOWN) menu_row = menu_row == MENU_ROWS - 1 ? 0 : menu_row + 1;
    if (b & (BTN_LEFT | BTN_RIGHT)) {
        if (menu_row == 0) {
            menu_players = 3 - menu_players;
        } else if (menu_row == 1) {
            if (b & BTN_RIGHT) menu_level = menu_level == 20 ? 0 : menu_level + 1;
            else menu_level = menu_level ? menu_level - 1 : 20;
        } else if (menu_row == 3) {
            menu_p2cpu ^= 1;
        } else {
            if (b & BTN_RIGHT) menu_speed = menu_speed == 2 ? 0 : menu_speed + 1;
            else menu_speed = menu_speed ? menu_speed - 1 : 2;
        }
    }
    if (b) show_values(1);
}
