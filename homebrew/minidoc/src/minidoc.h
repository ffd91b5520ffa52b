/* MiniDoc: shared declarations. RAM addresses follow Dr. Mario (NES)'s public map where it
 * has the item (src/emurl/games/data/MiniDoc-Nes/MEMORY.md lists every one). */
#ifndef MINIDOC_H
#define MINIDOC_H

typedef unsigned char u8;
typedef unsigned int u16;

#define MEM(a)      (*(volatile u8 *)(a))
#define RNG0        MEM(0x0017)     /* LFSR state, Dr. Mario's */
#define RNG1        MEM(0x0018)
#define FRAME       MEM(0x0043)     /* +1 every NMI */
#define MODE        MEM(0x0046)
#define WINNER      MEM(0x0055)     /* 0 none / draw, 1 P1, 2 P2 */
#define PRESSED1    MEM(0x00F5)
#define PRESSED2    MEM(0x00F6)
#define HELD1       MEM(0x00F7)
#define HELD2       MEM(0x00F8)
#define PLAYERS     MEM(0x0727)
#define CAPSEQ      ((u8 *)0x0780)  /* 128 capsules, each left * 3 + right */
/* the CPU player 2's decision (cpuplay.c; MEMORY.md): ours, after P2's block */
#define CPU_COL     MEM(0x03A8)     /* chosen anchor column 0-7 (0xFF: none yet) */
#define CPU_ROT     MEM(0x03A9)     /* chosen rotation 0-3 */
#define CPU_SCORE   MEM(0x03AA)     /* its tree score 0-255 */
#define CPU_COUNT   MEM(0x03AB)     /* decisions made, +1 each (wraps) */
#define CPU_FRAMES  MEM(0x03AC)     /* frames from the capsule's first frame to the decision */
#define CPU_PIECE   MEM(0x03AD)     /* 0x03A7 (P2's capsules placed) of the capsule decided */
#define CPU_ON      MEM(0x03AE)     /* 1: the CPU plays P2 in this game */
#define LOOPS       MEM(0x03AF)     /* frames the game logic ran (+1 each; 0x0043 minus this grows with lag frames) */
#define OAM         ((u8 *)0x0200)

#define MODE_TITLE  0
#define MODE_MENU   1
#define MODE_SETUP  2   /* RNG frozen; the layout is drawn when it ends */
#define MODE_PLAY   4
#define MODE_OVER   7
#define SETUP_FRAMES 4

#define BTN_A       0x80
#define BTN_B       0x40
#define BTN_SELECT  0x20
#define BTN_START   0x10
#define BTN_UP      0x08
#define BTN_DOWN    0x04
#define BTN_LEFT    0x02
#define BTN_RIGHT   0x01

#define EMPTY       0xFF
#define K_TOP       0x40
#define K_BOTTOM    0x50
#define K_LEFT      0x60
#define K_RIGHT     0x70
#define K_SINGLE    0x80
#define K_CLEARED   0xB0
#define K_VIRUS     0xD0

/* player state (0x0307) */
#define ST_PLAY     0   /* a capsule is falling under control */
#define ST_CLEAR    1   /* matched cells (0xB_) flashing */
#define ST_FALL     2   /* unsupported halves falling */
#define ST_WON      3   /* cleared all own viruses */
#define ST_LOST     4   /* topped out */

#define CLEAR_FRAMES 16
#define FALL_FRAMES  6

/* One player's block: 0x0300 (P1) / 0x0380 (P2). Fields marked DM sit at Dr. Mario's offsets. */
struct player {
    u8 unused00;
    u8 left;        /* 01 DM falling capsule colour "left" (0 yellow 1 red 2 blue) */
    u8 right;       /* 02 DM falling capsule colour "right" */
    u8 unused03[2];
    u8 x;           /* 05 DM column 0-7 of the anchor half */
    u8 y;           /* 06 DM row of the anchor half counted from the bottom, 0x0F top */
    u8 state;       /* 07 ST_* */
    u8 timer;       /* 08 frames left in ST_CLEAR / to the next ST_FALL step */
    u8 lines;       /* 09 runs of 4+ cleared in this move, chains included */
    u8 garbage;     /* 0A halves the opponent sent, dropped before the next capsule */
    u8 speed;       /* 0B DM speed setting 0 low 1 med 2 high */
    u8 das;         /* 0C LEFT/RIGHT auto-repeat counter */
    u8 capidx;      /* 0D index in 0x0780 of the capsule after "next" */
    u8 chain;       /* 0E clear steps in this move */
    u8 gravity;     /* 0F frames per row at this speed */
    u8 unused10[2];
    u8 speedctr;    /* 12 DM frames since the capsule last fell a row */
    u8 unused13[3];
    u8 level;       /* 16 DM virus level 0-20 */
    u8 unused17[3];
    u8 next_left;   /* 1A DM */
    u8 next_right;  /* 1B DM */
    u8 unused1c[2];
    u8 victories;   /* 1E DM */
    u8 unused1f[5];
    u8 viruses;     /* 24 DM viruses left, BCD */
    u8 rot;         /* 25 DM rotation 0-3 */
    u8 nvir;        /* 26 viruses left, binary */
    u8 capsules;    /* 27 capsules placed (wraps) */
};

#define LIVE(p)     ((struct player *)(0x0300 + ((p) ? 0x80 : 0)))
#define FIELD(p)    ((u8 *)((p) ? 0x0500 : 0x0400))
#define SHOWN(p)    ((u8 *)((p) ? 0x0580 : 0x0480))

/* crt0.s */
extern u8 nmi_count, nmi_ready, nmi_busy, nmi_mask;
#pragma zpsym ("nmi_count")
#pragma zpsym ("nmi_ready")
#pragma zpsym ("nmi_busy")
#pragma zpsym ("nmi_mask")
void wait_frame(void);
void read_pads(void);
u16 __fastcall__ changed_rows(u8 p);

/* main.c: the player being processed (a copy of its block) and its playfield */
extern struct player cur;
extern u8 cur_p;
extern u8 *pf;
#pragma zpsym ("pf")
extern u8 menu_players, menu_level, menu_speed, menu_p2cpu;

/* layout.c */
u8 rng(void);
void setup_level(void);

/* rules.c */
void step_player(void);
void spawn(void);

/* render.c */
extern u8 vq[];
void ppu_off(void);
void ppu_on(void);
void clear_screen(void);
void text(u8 col, u8 row, const char *s);
void qtext(u8 col, u8 row, const char *s);
void qnum2(u8 col, u8 row, u8 bcd);
void vq_begin(void);
void vq_end(void);
void draw_board(void);
void render_play(void);
void hide_sprites(void);

/* cpuplay.c */
void cpu_new_game(void);
u8 cpu_thinking(void);
void cpu_think(void);
void cpu_pad(void);

/* menu.c */
void title_enter(void);
void title_step(void);
void menu_enter(void);
void menu_step(void);

#endif
