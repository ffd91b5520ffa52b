/*
 * emurl._fastops: fused RGB -> gray -> area-average downscale, as
 *     cv2.resize(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), (ow, oh), interpolation=cv2.INTER_AREA)
 * within +-1 per pixel (almost always exactly), in one pass, without numpy headers.
 *
 * Gray: OpenCV's fixed-point BT.601 weights for uint8 (R 9798, G 19235, B 3735, >> 15,
 * rounded), so the gray image is bit-exact to cvtColor's.
 *
 * Resize: the per-axis tables of OpenCV's area resize (computeResizeAreaTab), built in
 * Python by emurl.fastops.area_plan and handed over as an int32 "plan" buffer, with the
 * weights in fixed point (Q14: each cell's weights sum to exactly 2^14). Each source row
 * is converted to gray once and accumulated into the output row it covers (vertical pass
 * over the full width, uint32 in Q14); each finished row is rounded to int16 in Q7 and
 * reduced horizontally. The error against OpenCV's
 * float arithmetic stays far under half a gray level before the final rounding, hence
 * the +-1 bound; the portable and the AVX2 kernels give identical results.
 *
 * On x86-64 CPUs with AVX2 (checked at import) the gray conversion (pshufb into int16
 * pairs + pmaddwd, 32 pixels a loop), the vertical pass (auto-vectorised) and the horizontal pass run in AVX2;
 * elsewhere in portable C. The AVX2 horizontal pass makes 8 outputs at a time from
 * "ops": load 16 consecutive int16 values (a window), permute pairs of them into the 8
 * lanes (vpermd) and multiply-add each lane's two weights (pmaddwd; zero where a lane
 * takes nothing from this window); a block of 8 outputs needs about K / 2 + 3 ops.
 *
 * Plan layout (int32):
 *   [MAGIC, h, w, oh, ow, K, ny, shift, owp, nops, vshift,
 *    xstart[owp], xweight[K][owp], ytab[ny][3] = (sy, dy, beta),
 *    opcount[owp / 8], ops[nops][17] = (window start, lane pair index[8], lane weights[8])]
 * owp = ow rounded up to 8 (padding: xstart 0, weight 0); ytab sorted by dy then sy;
 * xstart[dx] + K <= w; window start + 16 <= w; a lane's weights are two int16 (low:
 * first value of its pair); nops = 0 when w < 17 (scalar pass). vshift: Q14 -> Q7 of the
 * vertical sums (7); shift: the final one (Q7 + Q14 = 21).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PLAN_MAGIC 0x45524134 /* "ERA4" */
#define PLAN_HEADER 11
#define OP_SIZE 17

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define EMURL_X86 1
#include <immintrin.h>
#define EMURL_AVX2 __attribute__((target("avx2")))
#else
#define EMURL_X86 0
#endif

#if defined(_MSC_VER) && !defined(__clang__)
#define restrict __restrict
#endif

#if defined(__GNUC__) || defined(__clang__)
#define ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE static inline
#endif

typedef struct {
    int w, ow, K, ny, shift, owp, nops, vshift;
    const int32_t *xs, *xw, *yt, *opcount, *ops;
} tables_t;

static void plan_tables(const int32_t *plan, tables_t *t)
{
    t->w = plan[2], t->ow = plan[4], t->K = plan[5], t->ny = plan[6], t->shift = plan[7], t->owp = plan[8];
    t->nops = plan[9], t->vshift = plan[10];
    t->xs = plan + PLAN_HEADER;
    t->xw = t->xs + t->owp;
    t->yt = t->xw + (Py_ssize_t)t->owp * t->K;
    t->opcount = t->yt + (Py_ssize_t)t->ny * 3;
    t->ops = t->opcount + t->owp / 8;
}

typedef struct {
    const uint8_t *src;
    Py_ssize_t src_row_stride;
    int channels;
    uint8_t *dst;
    Py_ssize_t dst_row_stride;
    const int32_t *plan;
} job_t;

/* ---- portable kernels (auto-vectorised by the compiler) --------------------------- */

ALWAYS_INLINE void gray_row3_c(const uint8_t *restrict s, uint8_t *restrict g, int w)
{
    for (int i = 0; i < w; i++)
        g[i] = (uint8_t)((s[3 * i] * 9798u + s[3 * i + 1] * 19235u + s[3 * i + 2] * 3735u + 16384u) >> 15);
}

ALWAYS_INLINE void vset(uint32_t *restrict v, const uint8_t *restrict g, uint32_t beta, int w)
{
    for (int i = 0; i < w; i++)
        v[i] = beta * g[i];
}

ALWAYS_INLINE void vadd(uint32_t *restrict v, const uint8_t *restrict g, uint32_t beta, int w)
{
    for (int i = 0; i < w; i++)
        v[i] += beta * g[i];
}

ALWAYS_INLINE void to_q7(const uint32_t *restrict v, int16_t *restrict v16, int vshift, int w)
{
    const uint32_t half = 1u << (vshift - 1);
    for (int i = 0; i < w; i++)
        v16[i] = (int16_t)((v[i] + half) >> vshift);
}

ALWAYS_INLINE void hpass_c(const int16_t *restrict v, uint8_t *restrict out, const tables_t *t)
{
    const int32_t *restrict xs = t->xs, *restrict xw = t->xw;
    const int ow = t->ow, owp = t->owp, K = t->K, shift = t->shift;
    const uint32_t half = 1u << (shift - 1);
    for (int dx = 0; dx < ow; dx++) {
        const int16_t *p = v + xs[dx];
        uint32_t acc = half; /* unsigned: no overflow is possible with a valid plan, none is UB */
        for (int k = 0; k < K; k++)
            acc += (uint32_t)xw[(Py_ssize_t)k * owp + dx] * (uint32_t)p[k];
        out[dx] = (uint8_t)(acc >> shift);
    }
}

/* ---- the driver, instantiated per instruction set --------------------------------- */

typedef void (*gray_fn)(const uint8_t *, uint8_t *, int);
typedef void (*hpass_fn)(const int16_t *, uint8_t *, const tables_t *);
typedef void (*vpass_fn)(uint32_t *, const uint8_t *, uint32_t, int);

typedef struct {
    uint8_t *gray;   /* w: the gray source row */
    uint32_t *vacc;  /* w: the vertical sums of the output row, Q14 */
    int16_t *v16;    /* w: the same in Q7 */
} scratch_t;

ALWAYS_INLINE void finish_row(const job_t *job, const scratch_t *sc, const tables_t *t, int dy, hpass_fn hpass)
{
    to_q7(sc->vacc, sc->v16, t->vshift, t->w);
    hpass(sc->v16, job->dst + (Py_ssize_t)dy * job->dst_row_stride, t);
}

ALWAYS_INLINE void run_job_impl(const job_t *job, const scratch_t *sc, gray_fn gray_row3, vpass_fn vset,
                                vpass_fn vadd, hpass_fn hpass)
{
    uint8_t *gray = sc->gray;
    uint32_t *vacc = sc->vacc;
    tables_t t;
    plan_tables(job->plan, &t);
    const int w = t.w, ny = t.ny;
    const int32_t *yt = t.yt;
    int cur_dy = -1, cached_sy = -1;

    for (int j = 0; j < ny; j++) {
        const int sy = yt[3 * j], dy = yt[3 * j + 1];
        const uint32_t beta = (uint32_t)yt[3 * j + 2];
        const uint8_t *row = job->src + (Py_ssize_t)sy * job->src_row_stride;
        const uint8_t *g;
        if (job->channels == 3) {
            if (sy != cached_sy) {
                gray_row3(row, gray, w);
                cached_sy = sy;
            }
            g = gray;
        } else {
            g = row;
        }
        if (dy != cur_dy) {
            if (cur_dy >= 0)
                finish_row(job, sc, &t, cur_dy, hpass);
            vset(vacc, g, beta, w);
            cur_dy = dy;
        } else {
            vadd(vacc, g, beta, w);
        }
    }
    if (cur_dy >= 0)
        finish_row(job, sc, &t, cur_dy, hpass);
}

static void gray_row3_generic(const uint8_t *s, uint8_t *g, int w) { gray_row3_c(s, g, w); }
static void hpass_generic(const int16_t *v, uint8_t *out, const tables_t *t) { hpass_c(v, out, t); }

static void vset_generic(uint32_t *v, const uint8_t *g, uint32_t beta, int w) { vset(v, g, beta, w); }
static void vadd_generic(uint32_t *v, const uint8_t *g, uint32_t beta, int w) { vadd(v, g, beta, w); }

static void run_job_generic(const job_t *job, const scratch_t *sc)
{
    run_job_impl(job, sc, gray_row3_generic, vset_generic, vadd_generic, hpass_generic);
}

#if EMURL_X86
/* pshufb masks that turn 4 RGB pixels (12 bytes at offset 0 or 4 of a 16-byte lane) into
   int16 pairs: (r, g) for the R/G weights and (b, 0) -- then OR 1 -> (b, 1) -- for the
   B weight and the rounding term, both ready for pmaddwd. */
static uint8_t gray_mask[2][2][32] __attribute__((aligned(32))); /* [offset 0/4][rg/b] */

static void init_masks(void)
{
    for (int o = 0; o < 2; o++)
        for (int lane = 0; lane < 2; lane++)
            for (int j = 0; j < 4; j++) {
                const int base = 4 * o + 3 * j, at = 16 * lane + 4 * j;
                uint8_t *rg = gray_mask[o][0] + at, *b = gray_mask[o][1] + at;
                rg[0] = (uint8_t)base, rg[1] = 0x80, rg[2] = (uint8_t)(base + 1), rg[3] = 0x80;
                b[0] = (uint8_t)(base + 2), b[1] = 0x80, b[2] = 0x80, b[3] = 0x80;
            }
}

typedef struct {
    __m256i mrg0, mb0, mrg4, mb4, one_hi, crg, cbd;
} gray_consts_t;

/* gray of pixels i..i+7 as 8 int32 (lane 0: i..i+3, lane 1: i+4..i+7). Reads bytes
   [3i, 3i + 28) when i == 0, else [3i - 4, 3i + 24): never outside the row when w >= 10. */
__attribute__((target("avx2"), always_inline)) static inline __m256i gray8(const uint8_t *s, int i,
                                                                         const gray_consts_t *c)
{
    const int off4 = i != 0;
    const uint8_t *p = s + 3 * i - 4 * off4;
    __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)p)),
                                        _mm_loadu_si128((const __m128i *)(p + 12)), 1);
    __m256i rg = _mm256_shuffle_epi8(v, off4 ? c->mrg4 : c->mrg0);
    __m256i b = _mm256_or_si256(_mm256_shuffle_epi8(v, off4 ? c->mb4 : c->mb0), c->one_hi);
    return _mm256_srli_epi32(_mm256_add_epi32(_mm256_madd_epi16(rg, c->crg), _mm256_madd_epi16(b, c->cbd)), 15);
}

EMURL_AVX2 static void gray_row3_avx2(const uint8_t *s, uint8_t *g, int w)
{
    if (w < 32) {
        gray_row3_c(s, g, w);
        return;
    }
    gray_consts_t c;
    c.mrg0 = _mm256_load_si256((const __m256i *)gray_mask[0][0]);
    c.mb0 = _mm256_load_si256((const __m256i *)gray_mask[0][1]);
    c.mrg4 = _mm256_load_si256((const __m256i *)gray_mask[1][0]);
    c.mb4 = _mm256_load_si256((const __m256i *)gray_mask[1][1]);
    c.one_hi = _mm256_set1_epi32(1 << 16);
    c.crg = _mm256_set1_epi32((19235 << 16) | 9798); /* (r, g) */
    c.cbd = _mm256_set1_epi32((16384 << 16) | 3735); /* (b, 1): B weight + rounding */
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int i = 0;; i += 32) {
        if (i + 32 > w)
            i = w - 32; /* the last block overlaps the one before: same values rewritten */
        __m256i v0 = gray8(s, i, &c), v1 = gray8(s, i + 8, &c), v2 = gray8(s, i + 16, &c), v3 = gray8(s, i + 24, &c);
        __m256i b = _mm256_packus_epi16(_mm256_packus_epi32(v0, v1), _mm256_packus_epi32(v2, v3));
        _mm256_storeu_si256((__m256i *)(g + i), _mm256_permutevar8x32_epi32(b, order));
        if (i + 32 >= w)
            break;
    }
}

EMURL_AVX2 static void hpass_avx2(const int16_t *v, uint8_t *out, const tables_t *t)
{
    if (t->nops == 0) {
        hpass_c(v, out, t);
        return;
    }
    const __m256i half = _mm256_set1_epi32(1 << (t->shift - 1));
    const __m128i sh = _mm_cvtsi32_si128(t->shift);
    const int ow = t->ow, nblocks = t->owp / 8;
    const int32_t *op = t->ops;
    for (int b = 0; b < nblocks; b++) {
        __m256i acc = half;
        for (int n = t->opcount[b]; n > 0; n--, op += OP_SIZE) {
            __m256i win = _mm256_loadu_si256((const __m256i *)(v + op[0]));
            __m256i idx = _mm256_loadu_si256((const __m256i *)(op + 1));
            __m256i wt = _mm256_loadu_si256((const __m256i *)(op + 9));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_permutevar8x32_epi32(win, idx), wt));
        }
        acc = _mm256_sra_epi32(acc, sh);
        __m128i p16 = _mm_packus_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
        __m128i p8 = _mm_packus_epi16(p16, p16);
        const int dx = 8 * b;
        if (dx + 8 <= ow) {
            _mm_storel_epi64((__m128i *)(out + dx), p8);
        } else {
            uint8_t tmp[16];
            _mm_storeu_si128((__m128i *)tmp, p8);
            memcpy(out + dx, tmp, (size_t)(ow - dx));
        }
    }
}

/* v (+)= beta * g with pmaddwd: g zero-extended to int32 is the int16 pair (g, 0) */
EMURL_AVX2 static void vset_avx2(uint32_t *v, const uint8_t *g, uint32_t beta, int w)
{
    const __m256i b = _mm256_set1_epi32((int)beta);
    int i = 0;
    for (; i + 8 <= w; i += 8) {
        __m256i x = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(g + i)));
        _mm256_storeu_si256((__m256i *)(v + i), _mm256_madd_epi16(x, b));
    }
    vset(v + i, g + i, beta, w - i);
}

EMURL_AVX2 static void vadd_avx2(uint32_t *v, const uint8_t *g, uint32_t beta, int w)
{
    const __m256i b = _mm256_set1_epi32((int)beta);
    int i = 0;
    for (; i + 8 <= w; i += 8) {
        __m256i x = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(g + i)));
        __m256i acc = _mm256_loadu_si256((const __m256i *)(v + i));
        _mm256_storeu_si256((__m256i *)(v + i), _mm256_add_epi32(acc, _mm256_madd_epi16(x, b)));
    }
    vadd(v + i, g + i, beta, w - i);
}

EMURL_AVX2 static void run_job_avx2(const job_t *job, const scratch_t *sc)
{
    run_job_impl(job, sc, gray_row3_avx2, vset_avx2, vadd_avx2, hpass_avx2);
}
#endif

typedef void (*job_fn)(const job_t *, const scratch_t *);
static job_fn run_job = run_job_generic;
static const char *isa_name = "generic";

/* ---- Python binding --------------------------------------------------------------- */

static int is_byte_format(const Py_buffer *v)
{
    if (v->itemsize != 1)
        return 0;
    if (v->format == NULL)
        return 1;
    const char *f = v->format;
    if (*f == '=' || *f == '<' || *f == '>' || *f == '|' || *f == '@')
        f++;
    return strcmp(f, "B") == 0;
}

PyDoc_STRVAR(gray_resize_area_doc,
"gray_resize_area(src, dst, plan)\n"
"--\n\n"
"Write cv2.resize(cv2.cvtColor(src, COLOR_RGB2GRAY), (ow, oh), interpolation=INTER_AREA)\n"
"into dst, within +-1 per pixel.\n\n"
"src: uint8 buffer (h, w, 3) RGB, or (h, w) / (h, w, 1) already gray; rows may be strided\n"
"    (a crop view is fine) but each row's pixels must be contiguous.\n"
"dst: writable uint8 buffer (oh, ow), each row contiguous.\n"
"plan: the int32 buffer of emurl.fastops.area_plan(h, w, oh, ow).\n");

static PyObject *last_plan = NULL;

static const char *check_plan(const Py_buffer *pv)
{
    const int32_t *plan = (const int32_t *)pv->buf;
    if (pv->len < (Py_ssize_t)(PLAN_HEADER * sizeof(int32_t)) || ((uintptr_t)pv->buf % sizeof(int32_t)) != 0 ||
        plan[0] != PLAN_MAGIC)
        return "plan: not a plan from emurl.fastops.area_plan (of this emurl version)";
    const int h = plan[1], w = plan[2], oh = plan[3], ow = plan[4], K = plan[5], ny = plan[6], owp = plan[8];
    const int nops = plan[9], vshift = plan[10];
    if (h <= 0 || w <= 0 || oh <= 0 || ow <= 0 || K <= 0 || ny <= 0 || plan[7] != 21 || vshift != 7 || owp < ow || owp % 8 != 0 || nops < 0 || (w < 17 && nops != 0))
        return "plan: corrupt (sizes)";
    const int64_t need =
        PLAN_HEADER + (int64_t)owp * (1 + K) + (int64_t)ny * 3 + owp / 8 + (int64_t)nops * OP_SIZE;
    if ((int64_t)pv->len != need * (int64_t)sizeof(int32_t))
        return "plan: corrupt (length)";
    tables_t t;
    plan_tables(plan, &t);
    for (int i = 0; i < owp; i++)
        if (t.xs[i] < 0 || t.xs[i] + K > w)
            return "plan: corrupt (x index)";
    for (int64_t i = 0; i < (int64_t)owp * K; i++)
        if (t.xw[i] < 0 || t.xw[i] > (1 << 14))
            return "plan: corrupt (x weight)";
    for (int j = 0; j < ny; j++)
        if (t.yt[3 * j] < 0 || t.yt[3 * j] >= h || t.yt[3 * j + 1] < 0 || t.yt[3 * j + 1] >= oh ||
            t.yt[3 * j + 2] < 0 || t.yt[3 * j + 2] > (1 << 14) || (j > 0 && t.yt[3 * j + 1] < t.yt[3 * j - 2]))
            return "plan: corrupt (y table)";
    int64_t total = 0;
    for (int b = 0; b < owp / 8; b++) {
        if (t.opcount[b] < 0)
            return "plan: corrupt (op count)";
        total += t.opcount[b];
    }
    if (total != nops)
        return "plan: corrupt (op count)";
    for (int n = 0; n < nops; n++) {
        const int32_t *op = t.ops + (Py_ssize_t)n * OP_SIZE;
        if (op[0] < 0 || op[0] + 16 > w)
            return "plan: corrupt (window)";
        for (int i = 1; i <= 8; i++)
            if (op[i] < 0 || op[i] > 7)
                return "plan: corrupt (lane index)";
        for (int i = 9; i <= 16; i++) {
            const uint32_t pair = (uint32_t)op[i];
            if ((pair & 0xFFFF) > (1 << 14) || (pair >> 16) > (1 << 14))
                return "plan: corrupt (lane weights)";
        }
    }
    return NULL;
}

static PyObject *gray_resize_area(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "gray_resize_area(src, dst, plan) takes exactly 3 arguments");
        return NULL;
    }
    Py_buffer sv, dv, pv;
    if (PyObject_GetBuffer(args[0], &sv, PyBUF_RECORDS_RO) < 0)
        return NULL;
    if (PyObject_GetBuffer(args[1], &dv, PyBUF_RECORDS) < 0) {
        PyBuffer_Release(&sv);
        return NULL;
    }
    if (PyObject_GetBuffer(args[2], &pv, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&sv);
        PyBuffer_Release(&dv);
        return NULL;
    }
    const int32_t *plan = (const int32_t *)pv.buf;
    int h = 0, w = 0, channels = 1;
    const char *err = NULL;
    /* a plan is immutable bytes: validate each new one once (we hold a reference to the
       last one validated, so its identity cannot be reused by another object) */
    if (args[2] != last_plan || !PyBytes_CheckExact(args[2])) {
        err = check_plan(&pv);
        if (!err && PyBytes_CheckExact(args[2])) {
            Py_XDECREF(last_plan);
            Py_INCREF(args[2]);
            last_plan = args[2];
        }
    }
    if (!err) {
        if (!is_byte_format(&sv))
            err = "src must be a uint8 array";
        else if (sv.ndim == 2) {
            h = (int)sv.shape[0], w = (int)sv.shape[1];
            if (sv.strides[1] != 1)
                err = "src rows must be contiguous (use np.ascontiguousarray)";
        } else if (sv.ndim == 3) {
            h = (int)sv.shape[0], w = (int)sv.shape[1], channels = (int)sv.shape[2];
            if (channels != 3 && channels != 1)
                err = "src must have 3 (RGB) or 1 channels";
            else if (sv.strides[2] != 1 || sv.strides[1] != channels)
                err = "src rows must be contiguous (use np.ascontiguousarray)";
        } else
            err = "src must be (h, w, 3), (h, w, 1) or (h, w)";
    }
    if (!err && (h != plan[1] || w != plan[2]))
        err = "src shape does not match the plan";
    if (!err) {
        if (!is_byte_format(&dv) || dv.ndim != 2)
            err = "dst must be a 2-D uint8 array";
        else if (dv.shape[0] != plan[3] || dv.shape[1] != plan[4])
            err = "dst shape does not match the plan";
        else if (dv.strides[1] != 1)
            err = "dst rows must be contiguous";
    }
    uint8_t stack_gray[1024];
    uint32_t stack_acc[1024];
    int16_t stack_v16[1024];
    scratch_t sc = {stack_gray, stack_acc, stack_v16};
    void *heap = NULL;
    if (!err && w > 1024) {
        heap = malloc((size_t)w * (sizeof(uint32_t) + sizeof(int16_t) + 1));
        if (!heap)
            err = "out of memory";
        sc.vacc = (uint32_t *)heap;
        sc.v16 = (int16_t *)(sc.vacc + w);
        sc.gray = (uint8_t *)(sc.v16 + w);
    }
    if (!err) {
        job_t job = {(const uint8_t *)sv.buf, sv.strides[0], channels, (uint8_t *)dv.buf, dv.strides[0], plan};
        /* a screen takes ~10 us: holding the GIL costs less than handing it over (another
           thread may keep it for a whole switch interval); only big images release it */
        if ((int64_t)h * w * channels >= (1 << 20)) {
            Py_BEGIN_ALLOW_THREADS
            run_job(&job, &sc);
            Py_END_ALLOW_THREADS
        } else {
            run_job(&job, &sc);
        }
    }
    free(heap);
    PyBuffer_Release(&sv);
    PyBuffer_Release(&dv);
    PyBuffer_Release(&pv);
    if (err) {
        PyErr_SetString(PyExc_ValueError, err);
        return NULL;
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(rgb555_to_rgb_doc,
"rgb555_to_rgb(src, dst)\n\n"
"Expand 15-bit pixels (uint16: red in bits 0-4, green 5-9, blue 10-14, as the DS and\n"
"DeSmuME's display buffer hold them) to RGB888 (each channel << 3). src: a buffer of N\n"
"uint16; dst: a writable buffer of 3N uint8.");

static PyObject *rgb555_to_rgb(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "rgb555_to_rgb(src, dst) takes 2 arguments");
        return NULL;
    }
    Py_buffer sv, dv;
    if (PyObject_GetBuffer(args[0], &sv, PyBUF_C_CONTIGUOUS) < 0)
        return NULL;
    if (PyObject_GetBuffer(args[1], &dv, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0) {
        PyBuffer_Release(&sv);
        return NULL;
    }
    Py_ssize_t n = sv.len / 2;
    if (dv.len != 3 * n) {
        PyBuffer_Release(&sv);
        PyBuffer_Release(&dv);
        PyErr_SetString(PyExc_ValueError, "rgb555_to_rgb: dst must hold 3 bytes per src pixel");
        return NULL;
    }
    const uint16_t *s = (const uint16_t *)sv.buf;
    uint8_t *d = (uint8_t *)dv.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        uint16_t v = s[i];
        d[3 * i] = (uint8_t)((v & 31) << 3);
        d[3 * i + 1] = (uint8_t)(((v >> 5) & 31) << 3);
        d[3 * i + 2] = (uint8_t)(((v >> 10) & 31) << 3);
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&sv);
    PyBuffer_Release(&dv);
    Py_RETURN_NONE;
}

static PyObject *set_isa(PyObject *self, PyObject *arg)
{
    (void)self;
    const char *name = PyUnicode_AsUTF8(arg);
    if (!name)
        return NULL;
    if (strcmp(name, "generic") == 0) {
        run_job = run_job_generic;
        isa_name = "generic";
    }
#if EMURL_X86
    else if (strcmp(name, "avx2") == 0 && __builtin_cpu_supports("avx2")) {
        run_job = run_job_avx2;
        isa_name = "avx2";
    }
#endif
    else {
        PyErr_Format(PyExc_ValueError, "instruction set %R is not available here", arg);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *get_isa(PyObject *self, PyObject *unused)
{
    (void)self, (void)unused;
    return PyUnicode_FromString(isa_name);
}

static PyMethodDef methods[] = {
    {"gray_resize_area", (PyCFunction)(void (*)(void))gray_resize_area, METH_FASTCALL, gray_resize_area_doc},
    {"rgb555_to_rgb", (PyCFunction)(void (*)(void))rgb555_to_rgb, METH_FASTCALL, rgb555_to_rgb_doc},
    {"isa", get_isa, METH_NOARGS, "The kernels in use: 'avx2' or 'generic'."},
    {"set_isa", set_isa, METH_O, "Pick the kernels ('avx2' or 'generic'), for tests and benchmarks."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "emurl._fastops",
    "Fused image preprocessing for emurl (see emurl.fastops).", -1, methods,
};

PyMODINIT_FUNC PyInit__fastops(void)
{
#if EMURL_X86
    init_masks();
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) {
        run_job = run_job_avx2;
        isa_name = "avx2";
    }
#endif
    PyObject *m = PyModule_Create(&module);
    if (m && (PyModule_AddIntConstant(m, "PLAN_MAGIC", PLAN_MAGIC) < 0 ||
              PyModule_AddIntConstant(m, "PLAN_HEADER", PLAN_HEADER) < 0)) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
