/* MiniKart: shared types, hardware registers and game structures. */
#ifndef MK_H
#define MK_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef signed char s8;
typedef signed short s16;
typedef signed int s32;

#define REG32(a) (*(volatile u32 *)(a))
#define REG16(a) (*(volatile u16 *)(a))
#define REG8(a)  (*(volatile u8 *)(a))

#define DISPCNT_A   REG32(0x04000000)
#define DISPSTAT    REG16(0x04000004)
#define VCOUNT      REG16(0x04000006)
#define KEYINPUT    REG16(0x04000130)
#define IME         REG32(0x04000208)
#define IE          REG32(0x04000210)
#define IF          REG32(0x04000214)
#define VRAMCNT_A   REG8(0x04000240)
#define VRAMCNT_C   REG8(0x04000242)
#define POWCNT1     REG16(0x04000304)
#define BG3CNT_A    REG16(0x0400000E)
#define BG3PA_A     REG16(0x04000030)
#define BG3PB_A     REG16(0x04000032)
#define BG3PC_A     REG16(0x04000034)
#define BG3PD_A     REG16(0x04000036)
#define BG3X_A      REG32(0x04000038)
#define BG3Y_A      REG32(0x0400003C)
#define DISPCNT_B   REG32(0x04001000)
#define BG3CNT_B    REG16(0x0400100E)
#define BG3PA_B     REG16(0x04001030)
#define BG3PB_B     REG16(0x04001032)
#define BG3PC_B     REG16(0x04001034)
#define BG3PD_B     REG16(0x04001036)
#define BG3X_B      REG32(0x04001038)
#define BG3Y_B      REG32(0x0400103C)

#define FB_TOP      ((u16 *)0x06000000)   /* VRAM bank A, engine A BG3 bitmap */
#define FB_BOTTOM   ((u16 *)0x06200000)   /* VRAM bank C, engine B BG */

#define KEY_A      0x001
#define KEY_B      0x002
#define KEY_SELECT 0x004
#define KEY_START  0x008
#define KEY_RIGHT  0x010
#define KEY_LEFT   0x020
#define KEY_UP     0x040
#define KEY_DOWN   0x080
#define KEY_R      0x100
#define KEY_L      0x200

/* bit 15 set: an opaque pixel in a direct-colour bitmap BG (clear = transparent) */
#define RGB15(r, g, b) ((u16)((r) | ((g) << 5) | ((b) << 10) | 0x8000))

/* ---- game structures (layout documented in MEMORY.md; do not reorder) ---- */
typedef struct {
    s32 x;            /* +0x00 fx32 screen pixels */
    s32 y;            /* +0x04 */
    s32 speed;        /* +0x08 fx32 pixels/frame, negative when reversing */
    u16 angle;        /* +0x0C 65536 = full turn, 0 = +x, clockwise on screen */
    u8  floor;        /* +0x0E 0 road, 3 off-road, 8 wall contact this frame */
    u8  drifting;     /* +0x0F 0/1 */
    s32 max_speed;    /* +0x10 current cap after the floor factor */
    s32 prev_x;       /* +0x14 position before this frame's move */
    s32 prev_y;       /* +0x18 */
    s32 drift_dir;    /* +0x1C -1 left, +1 right, 0 none */
} driver_t;

typedef struct {
    s32 lap;          /* +0x00 0-based, 3 once finished */
    u16 checkpoint;   /* +0x04 index of the last checkpoint passed */
    u16 cp_count;     /* +0x06 */
    s32 progress;     /* +0x08 fx32 laps */
    s32 time;         /* +0x0C frames since GO, frozen at finish */
    u32 finished;     /* +0x10 */
    s32 lap_times[3]; /* +0x14 */
    s32 max_lap;      /* +0x20 highest lap reached */
    s32 lap_start;    /* +0x24 race time at the start of lap max_lap */
} race_status_t;

typedef struct {
    driver_t *driver;         /* 0x02100000 */
    race_status_t *race;      /* 0x02100004 */
    s32 race_frame;           /* 0x02100008 */
    u32 scene;                /* 0x0210000C */
    u32 track_id;             /* 0x02100010 */
    u32 frame;                /* 0x02100014 */
    u32 num_tracks;           /* 0x02100018 */
    u32 title_frame;          /* 0x0210001C frames since the first title frame */
    u32 keys;                 /* 0x02100020 keys held in this frame's update */
    u32 menu_cursor;          /* 0x02100024 */
    u32 max_lines;            /* 0x02100028 most scanlines one update took (diagnostic) */
    u32 magic;                /* 0x0210002C 'MKRT' once initialised */
    u32 lines;                /* 0x02100030 scanlines the last update took (diagnostic) */
    u32 swapped;              /* 0x02100034 1 when SELECT swapped the screens */
} globals_t;

typedef struct {
    const char *name;
    const u8 (*samples)[2];
    int nsamples;
    const s32 (*cps)[4];      /* centre x, centre y (fx32), direction x, y (1.12) */
    int ncps;
    s32 start_x, start_y;
    u16 start_angle;
    s16 label_x, label_y;
    s16 length;
} track_def_t;

void cpu_halt(void);
void draw_char(u16 *fb, int x, int y, char c, u16 fg, u16 bg, int scale);
void draw_text(u16 *fb, int x, int y, const char *s, u16 fg, u16 bg, int scale);

#endif
