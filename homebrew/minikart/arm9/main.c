/* MiniKart: a tiny top-down kart racer for the Nintendo DS (ARM9 side).
 *
 * One game update per frame, run right after VBlank starts. All game logic is
 * integer code (fx32 = 20.12 fixed point) that depends only on the keys read in
 * each update, so the same inputs give the same frames on any emulator.
 */
#include "mk.h"
#include "tracks_gen.h"

/* ------------------------------------------------------------------ constants */
#define FX_ONE        4096
#define MAX_SPEED     3072        /* 0.75 px/frame on road */
#define ACCEL         64          /* per frame while A is held */
#define COAST_DRAG    24          /* per frame with neither A nor B */
#define BRAKE         160         /* per frame, B while moving forward */
#define REVERSE_ACCEL 32          /* per frame, B once stopped */
#define REVERSE_MAX   1075        /* 35% of MAX_SPEED */
#define OFFROAD_PCT   40          /* off-road: max speed and acceleration 40% */
#define OFFROAD_DRAG  96          /* per frame while above the off-road cap */
#define TURN_RATE     640         /* angle units per frame at full speed */
#define TURN_MIN      1536        /* any speed turns at least as fast as 50% of MAX_SPEED */
#define DRIFT_TURN    960         /* angle units per frame while drifting at full speed */
#define DRIFT_MIN     1536        /* drifting needs at least 50% of MAX_SPEED */
#define DRIFT_LOSS    6           /* drifting: speed -= speed >> DRIFT_LOSS per frame */
#define WALL_SCRAPE   4           /* sliding along a wall: speed -= speed >> 4 per frame */
#define WALL_BOUNCE   1           /* 45 degrees or more into a wall: speed = -(speed >> 1), bounced back */
#define KART_HALF     2           /* collision box: centre +-2 px */
#define COUNTDOWN     90          /* race frames 1..90: countdown, GO on frame 91 */
#define NUM_LAPS      3
#define CP_HALF_LEN   (GRASS_R + 2)

#define MAP_ROAD   0
#define MAP_FINISH 1
#define MAP_GRASS  2
#define MAP_WALL   3

#define SCENE_TITLE  0
#define SCENE_MENU   1
#define SCENE_RACE   2
#define SCENE_FINISH 3

#define ROWS_PER_FRAME 6          /* track rows rasterised per frame at race start */

/* ------------------------------------------------------------------ state */
__attribute__((section(".globals"), used)) globals_t g;

/* The driver and race status live in a pool at a track-dependent offset, so
   their addresses are not fixed: follow the pointers in the globals. */
static u8 pool[4096] __attribute__((aligned(32)));
static u8 track_map[192 * 256] __attribute__((aligned(32)));

static const track_def_t *trk;
static driver_t *drv;
static race_status_t *rs;
static u32 keys, prev_keys, pressed;
static int start_requested;
static int rows_done;             /* rows of the track rasterised so far */
static int kart_drawn;
static int old_x0, old_y0, old_x1, old_y1;
static int label_drawn;           /* 0 none, else the countdown phase shown */
static int finish_drawn;

/* ------------------------------------------------------------------ helpers */
static inline int sin_fx(u16 a) { return sin_table[a >> 8]; }
static inline int cos_fx(u16 a) { return sin_table[((a >> 8) + 64) & 255]; }
static inline int iabs(int v) { return v < 0 ? -v : v; }

static void fill_u8(u8 *p, u8 v, int n)
{
    while (n > 0 && ((u32)p & 3)) { *p++ = v; n--; }
    u32 w = v * 0x01010101u;
    u32 *q = (u32 *)p;
    while (n >= 4) { *q++ = w; n -= 4; }
    p = (u8 *)q;
    while (n-- > 0) *p++ = v;
}

static char *put_uint(char *p, u32 v, int width)
{
    char tmp[10];
    int n = 0;
    do { tmp[n++] = '0' + v % 10; v /= 10; } while (v);
    while (n < width) tmp[n++] = '0';
    while (n) *p++ = tmp[--n];
    return p;
}

static char *put_str(char *p, const char *s)
{
    while (*s) *p++ = *s++;
    return p;
}

/* m:ss.cc from a frame count (60 frames = 1 s) */
static char *put_time(char *p, s32 frames)
{
    if (frames < 0) frames = 0;
    u32 cs = (u32)frames * 100 / 60;
    p = put_uint(p, cs / 6000, 1);
    *p++ = ':';
    p = put_uint(p, (cs / 100) % 60, 2);
    *p++ = '.';
    p = put_uint(p, cs % 100, 2);
    return p;
}

/* ------------------------------------------------------------------ drawing */
static u16 map_colour(int x, int y, int t)
{
    /* Colours are chosen for their luminance as much as their hue, so that
       a grayscale 84x84 observation separates them: road mid gray (~0.52),
       grass dark green (~0.24), walls near black (~0.1), kart black with a
       white nose (contrasting with the road both ways). */
    switch (t) {
    case MAP_ROAD:
        return RGB15(16, 16, 17);
    case MAP_FINISH:
        return (((x >> 1) + (y >> 1)) & 1) ? RGB15(31, 31, 31) : RGB15(2, 2, 2);
    case MAP_GRASS:
        return ((x + y) & 8) ? RGB15(2, 10, 2) : RGB15(3, 12, 3);
    default: {
        int row = y >> 2;
        if ((y & 3) == 0 || ((x + (row & 1) * 4) & 7) == 0) return RGB15(9, 7, 6);
        return RGB15(6, 1, 1);
    }
    }
}

static void restore_rect(int x0, int y0, int x1, int y1)
{
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > 255) x1 = 255;
    if (y1 > 191) y1 = 191;
    for (int y = y0; y <= y1; y++) {
        const u8 *m = track_map + y * 256;
        u16 *fb = FB_TOP + y * 256;
        for (int x = x0; x <= x1; x++) fb[x] = map_colour(x, y, m[x]);
    }
}

static void fill_rect(u16 *fb, int x0, int y0, int w, int h, u16 c)
{
    for (int y = y0; y < y0 + h; y++) {
        if (y < 0 || y > 191) continue;
        for (int x = x0; x < x0 + w; x++)
            if (x >= 0 && x < 256) fb[y * 256 + x] = c;
    }
}

/* Top screen: full-screen clears are spread over several frames (32 rows each),
   then the pending draw function runs; no single update gets long. */
#define MENU_BG RGB15(3, 8, 20)
static void (*top_pending)(void);
static int top_clear_row = 192;

static void request_top(void (*fn)(void))
{
    top_pending = fn;
    top_clear_row = 0;
}

static void top_job(void)
{
    if (!top_pending) return;
    if (top_clear_row < 192) {
        u32 w = MENU_BG | ((u32)MENU_BG << 16);
        u32 *p = (u32 *)(FB_TOP + top_clear_row * 256);
        for (int n = 32 * 256 / 2; n > 0; n -= 8, p += 8) {
            p[0] = w; p[1] = w; p[2] = w; p[3] = w;
            p[4] = w; p[5] = w; p[6] = w; p[7] = w;
        }
        top_clear_row += 32;
        return;
    }
    void (*fn)(void) = top_pending;
    top_pending = 0;
    fn();
}

/* Bottom screen: bitmap pixels with bit 15 clear are transparent and show the
   backdrop colour (engine B palette entry 0), so text is drawn on 0 and the
   screen never needs clearing. */
#define HUD_BACKDROP RGB15(2, 3, 8)
#define HUD_FG  (RGB15(31, 31, 31))
#define HUD_HI  (RGB15(31, 28, 4))

/* Bottom-screen text: hud_line() sets what line `line` (0-7, 24 px apart, scale 2,
   20 characters) should show; hud_job() redraws at most HUD_BUDGET changed
   characters per frame, so no update is ever long. */
#define HUD_COLS 20
#define HUD_BUDGET 12
static char hud_want[8][HUD_COLS];
static char hud_shown[8][HUD_COLS];
static u16 hud_fg[8];

static void hud_line(int line, const char *s, u16 fg)
{
    char *w = hud_want[line];
    if (hud_fg[line] != fg) {
        hud_fg[line] = fg;
        for (int i = 0; i < HUD_COLS; i++) hud_shown[line][i] = 1;   /* force redraw */
    }
    int i = 0;
    for (; s[i] && i < HUD_COLS; i++) w[i] = s[i];
    for (; i < HUD_COLS; i++) w[i] = ' ';
}

static void hud_job(void)
{
    int budget = HUD_BUDGET;
    for (int line = 0; line < 8; line++) {
        for (int i = 0; i < HUD_COLS; i++) {
            char c = hud_want[line][i];
            char t = c == ' ' ? 0 : c;          /* 0: blank (transparent) cell */
            if (hud_shown[line][i] == t) continue;
            draw_char(FB_BOTTOM, 8 + i * 12, 8 + line * 24, c, hud_fg[line], 0, 2);
            hud_shown[line][i] = t;
            if (--budget == 0) return;
        }
    }
}

static void hud_clear(void)
{
    for (int i = 0; i < 8; i++) hud_line(i, "", HUD_FG);
}

/* Minimap: the track at half size in the bottom-right quarter of the bottom screen
   (x 128-255, y 96-191), with the kart as a 3x3 dot. */
#define MM_X 128
#define MM_Y 96
static int mm_kx = -1, mm_ky;

static u16 mini_colour(int t)
{
    switch (t) {
    case MAP_ROAD:   return RGB15(14, 14, 15);
    case MAP_FINISH: return RGB15(31, 31, 31);
    case MAP_GRASS:  return RGB15(6, 18, 6);
    default:         return RGB15(12, 4, 3);
    }
}

static void mini_row(int y)   /* y: top-screen row, even */
{
    const u8 *m = track_map + y * 256;
    u16 *fb = FB_BOTTOM + (MM_Y + (y >> 1)) * 256 + MM_X;
    for (int x = 0; x < 128; x++) fb[x] = mini_colour(m[x * 2]);
}

static void mini_clear(void)
{
    for (int y = 0; y < 96; y++) {
        u32 *p = (u32 *)(FB_BOTTOM + (MM_Y + y) * 256 + MM_X);
        for (int x = 0; x < 64; x++) p[x] = 0;
    }
    mm_kx = -1;
}

static void mini_kart(void)
{
    int kx = (drv->x >> 13) - 1, ky = (drv->y >> 13) - 1;
    if (mm_kx >= 0) {
        for (int y = mm_ky; y < mm_ky + 3; y++)
            for (int x = mm_kx; x < mm_kx + 3; x++)
                if (x >= 0 && x < 128 && y >= 0 && y < 96)
                    FB_BOTTOM[(MM_Y + y) * 256 + MM_X + x] = mini_colour(track_map[y * 2 * 256 + x * 2]);
    }
    for (int y = ky; y < ky + 3; y++)
        for (int x = kx; x < kx + 3; x++)
            if (x >= 0 && x < 128 && y >= 0 && y < 96)
                FB_BOTTOM[(MM_Y + y) * 256 + MM_X + x] = RGB15(31, 31, 0);
    mm_kx = kx;
    mm_ky = ky;
}

static void draw_kart(void)
{
    /* 8x8 body (black; purple while drifting) and a 4x4 white nose 6 px ahead, so that
       after the 256x192 -> 84x84 observation the kart is ~3x3 pixels with its heading
       visible. Drawing only: collisions use the +-KART_HALF box. */
    int px = drv->x >> 12, py = drv->y >> 12;
    int nx = px + ((cos_fx(drv->angle) * 6 + 2048) >> 12);
    int ny = py + ((sin_fx(drv->angle) * 6 + 2048) >> 12);
    int x0 = px - 4, y0 = py - 4, x1 = px + 3, y1 = py + 3;
    if (nx - 2 < x0) x0 = nx - 2;
    if (ny - 2 < y0) y0 = ny - 2;
    if (nx + 1 > x1) x1 = nx + 1;
    if (ny + 1 > y1) y1 = ny + 1;
    if (kart_drawn) restore_rect(old_x0, old_y0, old_x1, old_y1);
    u16 body = drv->drifting ? RGB15(16, 0, 16) : RGB15(0, 0, 10);
    fill_rect(FB_TOP, px - 4, py - 4, 8, 8, body);
    fill_rect(FB_TOP, px - 3, py - 3, 6, 6, RGB15(0, 0, 0));
    fill_rect(FB_TOP, nx - 2, ny - 2, 4, 4, RGB15(31, 31, 31));
    old_x0 = x0; old_y0 = y0; old_x1 = x1; old_y1 = y1;
    kart_drawn = 1;
}

/* ------------------------------------------------------------------ track */
static void raster_row(int y)
{
    u8 *row = track_map + y * 256;
    fill_u8(row, MAP_WALL, 256);
    for (int pass = 0; pass < 2; pass++) {
        int r = pass ? ROAD_R : GRASS_R;
        const u8 *hw = pass ? hw_road : hw_grass;
        u8 v = pass ? MAP_ROAD : MAP_GRASS;
        int lo = 0, hi = -1;               /* pending merged span */
        for (int i = 0; i < trk->nsamples; i++) {
            int dy = iabs(y - trk->samples[i][1]);
            if (dy > r) continue;
            int sx = trk->samples[i][0];
            int a = sx - hw[dy], b = sx + hw[dy];
            if (hi >= lo && a <= hi + 1 && b >= lo - 1) {
                if (a < lo) lo = a;
                if (b > hi) hi = b;
                continue;
            }
            if (hi >= lo) {
                if (lo < 0) lo = 0;
                if (hi > 255) hi = 255;
                fill_u8(row + lo, v, hi - lo + 1);
            }
            lo = a; hi = b;
        }
        if (hi >= lo) {
            if (lo < 0) lo = 0;
            if (hi > 255) hi = 255;
            fill_u8(row + lo, v, hi - lo + 1);
        }
    }
    /* start/finish line: 4 px band just past checkpoint 0, across the road */
    const s32 *c = trk->cps[0];
    int cx = c[0] >> 12, cy = c[1] >> 12;
    if (iabs(y - cy) <= ROAD_R + 4) {
        for (int x = cx - ROAD_R - 4; x <= cx + ROAD_R + 4; x++) {
            if (x < 0 || x > 255 || row[x] != MAP_ROAD) continue;
            int dx = (x << 12) + 2048 - c[0], dyy = (y << 12) + 2048 - c[1];
            int along = ((dx >> 4) * c[2] + (dyy >> 4) * c[3]) >> 8;
            if (along >= 0 && along < 4 * FX_ONE) row[x] = MAP_FINISH;
        }
    }
    u16 *fb = FB_TOP + y * 256;
    for (int x = 0; x < 256; x++) fb[x] = map_colour(x, y, row[x]);
    if (!(y & 1)) mini_row(y);
}

static int floor_at(int px, int py)
{
    if (px < 0 || px > 255 || py < 0 || py > 191) return MAP_WALL;
    return track_map[py * 256 + px];
}

static int blocked(s32 x, s32 y)
{
    int px = x >> 12, py = y >> 12;
    return floor_at(px - KART_HALF, py - KART_HALF) == MAP_WALL ||
           floor_at(px + KART_HALF, py - KART_HALF) == MAP_WALL ||
           floor_at(px - KART_HALF, py + KART_HALF) == MAP_WALL ||
           floor_at(px + KART_HALF, py + KART_HALF) == MAP_WALL;
}

/* ------------------------------------------------------------------ race logic */
/* signed distance (fx32 px) of (x, y) past checkpoint line i, along its direction */
static s32 cp_along(int i, s32 x, s32 y)
{
    const s32 *c = trk->cps[i];
    return (((x - c[0]) >> 4) * c[2] + ((y - c[1]) >> 4) * c[3]) >> 8;
}

static s32 cp_side(int i, s32 x, s32 y)
{
    const s32 *c = trk->cps[i];
    return (((x - c[0]) >> 4) * -c[3] + ((y - c[1]) >> 4) * c[2]) >> 8;
}

/* +1: crossed line i forwards this frame, -1: backwards, 0: neither */
static int crossed(int i)
{
    s32 a0 = cp_along(i, drv->prev_x, drv->prev_y);
    s32 a1 = cp_along(i, drv->x, drv->y);
    if ((a0 < 0) == (a1 < 0)) return 0;
    if (iabs(cp_side(i, drv->x, drv->y)) > CP_HALF_LEN * FX_ONE) return 0;
    return a1 >= 0 ? 1 : -1;
}

static void update_progress(void)
{
    int n = trk->ncps;
    if (rs->finished) return;
    int next = rs->checkpoint + 1 == n ? 0 : rs->checkpoint + 1;
    if (crossed(next) > 0) {
        if (next == 0) {
            rs->lap++;
            if (rs->lap > rs->max_lap) {
                rs->max_lap = rs->lap;
                if (rs->lap <= NUM_LAPS) {
                    rs->lap_times[rs->lap - 1] = rs->time - rs->lap_start;
                    rs->lap_start = rs->time;
                }
            }
        }
        rs->checkpoint = next;
    } else if (crossed(rs->checkpoint) < 0) {
        if (rs->checkpoint == 0) {
            rs->lap--;
            rs->checkpoint = n - 1;
        } else {
            rs->checkpoint--;
        }
    }
    if (rs->lap >= NUM_LAPS) {
        rs->lap = NUM_LAPS;
        rs->checkpoint = 0;
        rs->finished = 1;
        rs->progress = NUM_LAPS * FX_ONE;
        return;
    }
    /* fraction between the last passed checkpoint and the next one */
    int cp = rs->checkpoint;
    next = cp + 1 == n ? 0 : cp + 1;
    s32 d0 = cp_along(cp, drv->x, drv->y);
    s32 d1 = cp_along(next, drv->x, drv->y);
    s32 frac = 0;
    if (d0 > 0 && d0 - d1 > 16) {
        frac = (s32)(((u32)d0 << 8) / (u32)((d0 - d1) >> 4));
        if (frac > FX_ONE - 1) frac = FX_ONE - 1;
    }
    rs->progress = rs->lap * FX_ONE + (cp * FX_ONE + frac) / n;
}

static void update_kart(int can_drive)
{
    u32 k = can_drive ? keys : 0;
    int fl = floor_at(drv->x >> 12, drv->y >> 12);
    int offroad = fl == MAP_GRASS;
    s32 maxs = offroad ? MAX_SPEED * OFFROAD_PCT / 100 : MAX_SPEED;
    s32 acc = offroad ? ACCEL * OFFROAD_PCT / 100 : ACCEL;
    s32 sp = drv->speed;

    if (!can_drive && rs->finished) {
        /* race over: roll to a stop */
        if (sp > 0) sp = sp > BRAKE / 2 ? sp - BRAKE / 2 : 0;
        else if (sp < 0) sp = sp < -BRAKE / 2 ? sp + BRAKE / 2 : 0;
    } else if (k & KEY_A) {
        if (sp < maxs) { sp += acc; if (sp > maxs) sp = maxs; }
    } else if (k & KEY_B) {
        if (sp > 0) { sp -= BRAKE; if (sp < 0) sp = 0; }
        else if (sp > -REVERSE_MAX) { sp -= REVERSE_ACCEL; if (sp < -REVERSE_MAX) sp = -REVERSE_MAX; }
    } else {
        if (sp > 0) { sp -= COAST_DRAG; if (sp < 0) sp = 0; }
        else if (sp < 0) { sp += COAST_DRAG; if (sp > 0) sp = 0; }
    }
    if (sp > maxs) { sp -= OFFROAD_DRAG; if (sp < maxs) sp = maxs; }
    if (sp < -REVERSE_MAX) sp = -REVERSE_MAX;

    /* steering: rate scales with speed; R held while steering = drift */
    int steer = (k & KEY_RIGHT) ? 1 : (k & KEY_LEFT) ? -1 : 0;
    int drifting = 0;
    if (steer && (k & KEY_R) && sp >= DRIFT_MIN) drifting = 1;
    int rate = drifting ? DRIFT_TURN : TURN_RATE;
    int mag = iabs(sp);
    if (mag > MAX_SPEED) mag = MAX_SPEED;
    if (mag > 0 && mag < TURN_MIN) mag = TURN_MIN;   /* a slow kart still turns (off a wall) */
    int turn = rate * mag / MAX_SPEED;
    if (sp < 0) turn = -turn;            /* reversing: the nose swings the other way */
    drv->angle = (u16)(drv->angle + steer * turn);
    if (drifting) sp -= sp >> DRIFT_LOSS;
    drv->drifting = (u8)drifting;
    drv->drift_dir = drifting ? steer : 0;

    /* move, sliding along walls */
    s32 dx = (sp * cos_fx(drv->angle)) >> 12;
    s32 dy = (sp * sin_fx(drv->angle)) >> 12;
    drv->prev_x = drv->x;
    drv->prev_y = drv->y;
    /* Walls as in Mario Kart DS: scraping along one costs speed but the kart keeps
       moving (and can steer away); driving straight into one bounces it back. */
    int hit = 0;
    if (!blocked(drv->x + dx, drv->y + dy)) {
        drv->x += dx; drv->y += dy;
    } else {
        /* glancing (under 45 degrees into the wall): slide along the free axis */
        hit = 1;
        if (iabs(dx) >= iabs(dy) && !blocked(drv->x + dx, drv->y)) { drv->x += dx; sp -= sp >> WALL_SCRAPE; }
        else if (iabs(dy) >= iabs(dx) && !blocked(drv->x, drv->y + dy)) { drv->y += dy; sp -= sp >> WALL_SCRAPE; }
        else sp = -(sp >> WALL_BOUNCE);
    }
    drv->speed = sp;
    fl = floor_at(drv->x >> 12, drv->y >> 12);
    drv->floor = hit ? 8 : (fl == MAP_GRASS ? 3 : 0);
    /* report the cap for the floor the kart now stands on (used next frame) */
    drv->max_speed = fl == MAP_GRASS ? MAX_SPEED * OFFROAD_PCT / 100 : MAX_SPEED;
}

/* ------------------------------------------------------------------ scenes */
static void draw_title_top(void)
{
    fill_rect(FB_TOP, 0, 120, 256, 8, RGB15(12, 12, 13));
    for (int x = 0; x < 256; x += 16) fill_rect(FB_TOP, x, 123, 8, 2, RGB15(31, 31, 31));
    draw_text(FB_TOP, 32, 48, "MINIKART", RGB15(31, 28, 0), MENU_BG, 4);
    draw_text(FB_TOP, 62, 150, "PRESS START", RGB15(31, 31, 31), MENU_BG, 2);
}

static void enter_title(void)
{
    g.scene = SCENE_TITLE;
    g.driver = 0;
    g.race = 0;
    g.race_frame = 0;
    request_top(draw_title_top);
    if (trk) mini_clear();       /* coming back from a race */
    hud_clear();
    hud_line(1, "MINIKART DS", HUD_HI);
    hud_line(3, "A     ACCELERATE", HUD_FG);
    hud_line(4, "B     BRAKE/REVERSE", HUD_FG);
    hud_line(5, "LEFT/RIGHT  STEER", HUD_FG);
    hud_line(6, "R     DRIFT", HUD_FG);
}

static void draw_menu(void)
{
    if (top_pending) return;     /* drawn once the screen is cleared */
    for (u32 i = 0; i < NUM_TRACKS; i++) {
        char buf[24], *p = buf;
        *p++ = i == g.menu_cursor ? '>' : ' ';
        *p++ = ' ';
        p = put_uint(p, i + 1, 1);
        *p++ = ' ';
        p = put_str(p, track_defs[i].name);
        *p = 0;
        draw_text(FB_TOP, 40, 80 + i * 24, buf, i == g.menu_cursor ? RGB15(31, 28, 0) : RGB15(31, 31, 31), MENU_BG, 2);
    }
}

static void draw_menu_top(void)
{
    draw_text(FB_TOP, 56, 32, "SELECT TRACK", RGB15(31, 31, 31), MENU_BG, 2);
    draw_menu();
}

static void enter_menu(void)
{
    g.scene = SCENE_MENU;
    g.menu_cursor = 0;
    g.track_id = 0;
    request_top(draw_menu_top);
    hud_clear();
    hud_line(1, "UP/DOWN  CHOOSE", HUD_FG);
    hud_line(2, "A/START  RACE", HUD_FG);
}

static void start_race(void)
{
    u32 t = g.track_id;
    trk = &track_defs[t];
    /* pool layout depends on the track: the pointers must be followed */
    drv = (driver_t *)(pool + 0x100 + t * 0x140);
    rs = (race_status_t *)(pool + 0x900 + t * 0xA0);
    fill_u8((u8 *)drv, 0, sizeof(*drv));
    fill_u8((u8 *)rs, 0, sizeof(*rs));
    drv->x = trk->start_x;
    drv->y = trk->start_y;
    drv->prev_x = drv->x;
    drv->prev_y = drv->y;
    drv->angle = trk->start_angle;
    drv->max_speed = MAX_SPEED;
    drv->floor = 0;
    rs->cp_count = (u16)trk->ncps;
    g.scene = SCENE_RACE;
    g.race_frame = 1;
    g.driver = drv;
    g.race = rs;
    rows_done = 0;
    kart_drawn = 0;
    label_drawn = 0;
    finish_drawn = 0;
    top_pending = 0;             /* the track rasteriser repaints the whole top screen */
    hud_clear();
    /* the minimap repaints the bottom-right quarter: forget any text there */
    for (int line = 4; line < 8; line++)
        for (int i = 10; i < HUD_COLS; i++) hud_shown[line][i] = 0;
}

static void draw_label(const char *s, u16 fg)
{
    int w = 0;
    while (s[w]) w++;
    int x = trk->label_x + 24 - w * 9, y = trk->label_y;
    fill_rect(FB_TOP, x - 3, y - 3, w * 18 + 6, 30, RGB15(0, 0, 0));
    draw_text(FB_TOP, x, y, s, fg, RGB15(0, 0, 0), 3);
}

static void race_hud(void)
{
    char buf[24], *p;
    p = put_str(buf, "TRACK ");
    p = put_uint(p, g.track_id + 1, 1);
    *p++ = ' ';
    p = put_str(p, trk->name);
    *p = 0;
    hud_line(0, buf, HUD_HI);

    int lap = rs->lap < 0 ? 0 : rs->lap;
    if (lap > NUM_LAPS - 1) lap = NUM_LAPS - 1;
    p = put_str(buf, "LAP ");
    p = put_uint(p, lap + 1, 1);
    *p++ = '/';
    p = put_uint(p, NUM_LAPS, 1);
    p = put_str(p, "   CP ");
    p = put_uint(p, rs->checkpoint, 2);
    *p++ = '/';
    p = put_uint(p, rs->cp_count, 2);
    *p = 0;
    hud_line(2, buf, HUD_FG);

    p = put_str(buf, "TIME ");
    p = put_time(p, rs->time);
    p = put_str(p, drv->floor == 3 ? "  GRASS" : drv->floor == 8 ? "  WALL" : "");
    *p = 0;
    hud_line(3, buf, HUD_FG);

    /* lines 4-7 share the screen with the minimap: 10 characters at most */
    p = put_str(buf, "SPD ");
    p = put_uint(p, (u32)(iabs(drv->speed) * 100) >> 12, 3);
    if (drv->speed < 0) p = put_str(p, " R");
    *p = 0;
    hud_line(4, buf, HUD_FG);

    for (int i = 0; i < NUM_LAPS; i++) {
        if (rs->max_lap <= i) break;
        p = put_str(buf, "L");
        p = put_uint(p, i + 1, 1);
        *p++ = ' ';
        p = put_time(p, rs->lap_times[i]);
        *p = 0;
        hud_line(5 + i, buf, HUD_FG);
    }
}

static void race_update(void)
{
    s32 rf = g.race_frame;
    int racing = rf > COUNTDOWN && !rs->finished;
    if (racing) rs->time = rf - COUNTDOWN;
    if (rf > COUNTDOWN) {
        update_kart(racing);
        update_progress();
    }
    if (rs->finished && g.scene == SCENE_RACE) g.scene = SCENE_FINISH;
    /* everything below only draws */
    if (rows_done < 192) {
        for (int i = 0; i < ROWS_PER_FRAME && rows_done < 192; i++) raster_row(rows_done++);
    }

    /* countdown label: 3 (1-30), 2 (31-60), 1 (61-90), GO (91-150) */
    int phase = rf <= 30 ? 1 : rf <= 60 ? 2 : rf <= 90 ? 3 : rf <= 150 ? 4 : 0;
    if (rows_done >= 192 && phase != label_drawn && g.scene == SCENE_RACE) {
        int w = 3;
        int x = trk->label_x + 24 - w * 9 - 3, y = trk->label_y - 3;
        if (phase == 0) restore_rect(x, y, x + w * 18 + 5, y + 29);
        else draw_label(phase == 4 ? "GO!" : phase == 1 ? " 3 " : phase == 2 ? " 2 " : " 1 ",
                        phase == 4 ? RGB15(0, 31, 0) : RGB15(31, 31, 0));
        label_drawn = phase;
    }
    if (rs->finished && !finish_drawn) {
        finish_drawn = 1;
        char buf[16], *p = buf;
        p = put_time(p, rs->time);
        *p = 0;
        int x = trk->label_x - 30, y = trk->label_y - 8;
        fill_rect(FB_TOP, x - 4, y - 4, 116, 48, RGB15(0, 0, 0));
        draw_text(FB_TOP, x + 4, y, "FINISH", RGB15(31, 31, 0), RGB15(0, 0, 0), 3);
        draw_text(FB_TOP, x + 10, y + 28, buf, RGB15(31, 31, 31), RGB15(0, 0, 0), 2);
    }
    if (rows_done >= 192) {
        draw_kart();
        mini_kart();
    }
    race_hud();
    if (g.scene == SCENE_FINISH) {
        char buf[24], *p = put_str(buf, "FINISH ");
        p = put_time(p, rs->time);
        *p = 0;
        hud_line(1, buf, HUD_HI);
    } else if (rf <= COUNTDOWN) {
        hud_line(1, rf <= 30 ? "READY  3" : rf <= 60 ? "READY  2" : "READY  1", HUD_HI);
    } else {
        hud_line(1, "GO!", HUD_HI);
    }
}

/* ------------------------------------------------------------------ main loop */
/* Top screen view. Title and menus: the bitmap as it is. Race: a chase view, as on
   Mario Kart DS's top screen: the bitmap (track and kart, drawn in track
   coordinates) is rotated and moved by BG3's affine matrix so that the kart sits at
   (VIEW_X, VIEW_Y) with its nose pointing up. Display only: the game state is the
   same either way. Outside the bitmap the backdrop shows, in the wall colour. */
#define VIEW_X 128
#define VIEW_Y 144
#define VIEW_BACKDROP RGB15(6, 1, 1)

static void set_view(void)
{
    if ((g.scene == SCENE_RACE || g.scene == SCENE_FINISH) && drv) {
        /* screen (sx, sy) -> track (x, y) = kart + (sx - VIEW_X) * right + (sy - VIEW_Y) * back,
           right = (-sin, cos), back = (-cos, -sin); matrix 8.8, reference point 20.8 */
        s32 s = sin_fx(drv->angle) >> 4, c = cos_fx(drv->angle) >> 4;
        s32 pa = -s, pb = -c, pc = c, pd = -s;
        BG3PA_A = (u16)pa;
        BG3PB_A = (u16)pb;
        BG3PC_A = (u16)pc;
        BG3PD_A = (u16)pd;
        BG3X_A = (u32)((drv->x >> 4) - VIEW_X * pa - VIEW_Y * pb);
        BG3Y_A = (u32)((drv->y >> 4) - VIEW_X * pc - VIEW_Y * pd);
    } else {
        BG3PA_A = 0x100;
        BG3PB_A = 0;
        BG3PC_A = 0;
        BG3PD_A = 0x100;
        BG3X_A = 0;
        BG3Y_A = 0;
    }
}

static void video_init(void)
{
    POWCNT1 = 0x8203;            /* LCDs, engine A, engine B; engine A on top */
    VRAMCNT_A = 0x81;            /* bank A: engine A BG, 0x06000000 */
    VRAMCNT_C = 0x84;            /* bank C: engine B BG, 0x06200000 */
    DISPCNT_A = 0x00010805;      /* mode 5, BG3 on, normal display */
    BG3CNT_A = 0x4084;           /* 256x256 direct-colour bitmap at base 0, no wraparound */
    REG16(0x05000000) = VIEW_BACKDROP;  /* engine A backdrop */
    /* rows 192-255 of the bitmap are never drawn: transparent (backdrop) */
    for (u32 *p = (u32 *)(FB_TOP + 192 * 256); p < (u32 *)(FB_TOP + 256 * 256); p++) *p = 0;
    set_view();
    DISPCNT_B = 0x00010805;      /* mode 5, BG3 on, normal display */
    BG3CNT_B = 0x4084;           /* 256x256 direct-colour bitmap at base 0 */
    BG3PA_B = 0x100;
    BG3PB_B = 0;
    BG3PC_B = 0;
    BG3PD_B = 0x100;
    BG3X_B = 0;
    BG3Y_B = 0;
    REG16(0x05000400) = HUD_BACKDROP;   /* engine B backdrop */
}

static void wait_vblank(void)
{
    while (!(IF & 1)) cpu_halt();
    IF = 1;
}

int main(void)
{
    video_init();
    g.num_tracks = NUM_TRACKS;
    DISPSTAT = 1 << 3;           /* VBlank IRQ request on */
    IE = 1;
    IF = ~0u;
    IME = 1;                     /* CPSR.I stays set: the IRQ exception is never taken,
                                    but melonDS only wakes a CP15 halt with IME = 1 */
    g.magic = 0x54524B4D;        /* 'MKRT' */
    IF = 1;                      /* the first update waits for a real VBlank start */
    int booted = 0;
    for (int i = 0; i < 8; i++) hud_line(i, "", HUD_FG);

    for (;;) {
        wait_vblank();
        g.frame++;
        keys = ~KEYINPUT & 0x3FF;
        pressed = keys & ~prev_keys;
        prev_keys = keys;
        g.keys = keys;
        if (pressed & KEY_SELECT) {
            /* display only: swap which screen shows the track (stable-retro's
               melonDS core shows just one screen); no effect on the game state */
            g.swapped ^= 1;
            POWCNT1 = g.swapped ? 0x0203 : 0x8203;
        }

        switch (g.scene) {
        case SCENE_TITLE:
            g.title_frame++;
            if (!booted) { booted = 1; enter_title(); }  /* drawn from the first update on */
            else if (pressed & KEY_START) enter_menu();
            top_job();
            break;
        case SCENE_MENU:
            g.title_frame++;
            if (start_requested) {
                start_requested = 0;
                start_race();
                race_update();
            } else if (pressed & (KEY_A | KEY_START)) {
                start_requested = 1;
            } else if (pressed & (KEY_UP | KEY_DOWN)) {
                if (pressed & KEY_DOWN) g.menu_cursor = g.menu_cursor + 1 >= NUM_TRACKS ? 0 : g.menu_cursor + 1;
                else g.menu_cursor = g.menu_cursor == 0 ? NUM_TRACKS - 1 : g.menu_cursor - 1;
                g.track_id = g.menu_cursor;
                draw_menu();
            }
            if (g.scene == SCENE_MENU) top_job();
            break;
        case SCENE_RACE:
        case SCENE_FINISH:
            g.title_frame++;
            g.race_frame++;
            race_update();
            if (g.scene == SCENE_FINISH && (pressed & KEY_START)) enter_title();
            break;
        }
        hud_job();
        set_view();
        /* diagnostic: scanlines this update took (VBlank starts at line 192) */
        u32 v = VCOUNT;
        u32 used = v >= 192 ? v - 192 : v + 263 - 192;
        if (used > g.max_lines) g.max_lines = used;
        g.lines = used;
    }
}
