/*
 * GF(2^8) multiply-accumulate kernel of dfs's Reed-Solomon codec, in WebAssembly SIMD.
 *
 * Built by build.sh (clang --target=wasm32 -msimd128, and once more with -mrelaxed-simd
 * -DDFS_RELAXED_SIMD) into src/file/erasure/wasm/gf_kernel_wasm.ts; wasm_kernel.ts drives it.
 * No libc, no stack arrays: the module imports its memory and exports three functions.
 *
 * The math. Multiplying a byte x by a constant c in GF(2^8) is linear over GF(2), so
 * c*x = c*(x & 0x0f) ^ c*(x & 0xf0): two look-ups in 16-entry tables, one indexed by the low
 * nibble, one by the high nibble. `i8x16.swizzle` does 16 such look-ups at once (it is x86's
 * pshufb and ARM's tbl), so one coefficient costs two swizzles and an XOR per 16 bytes. This
 * is the split-table technique of ISA-L's and Jerasure's SIMD kernels. The field polynomial is
 * 0x11d, as in gf256.ts and ISA-L.
 *
 * How the loops are arranged, and why (measured on V8 and JavaScriptCore, x86-64):
 * - Rows (outputs) are done four at a time. For each input, the 2 x 4 nibble tables of the
 *   group stay in registers while the whole region is swept 64 bytes per iteration: each
 *   64-byte input block is loaded and split into nibbles once for all four outputs, which are
 *   updated in place (the first input writes them, the others XOR into them). The caller
 *   keeps regions small enough (a chunk of each vector) for the outputs to stay in L1/L2.
 *   Accumulating all outputs in registers instead (ISA-L's order) measured the same or
 *   slower here: with 16 xmm registers V8 spills the accumulators.
 * - The 0x0f mask arrives as an argument: V8 re-materialises v128 constants inside loops
 *   (three instructions per use), an argument stays in a register.
 * - i8x16.relaxed_swizzle (when built with DFS_RELAXED_SIMD) compiles to a bare pshufb; the
 *   strict swizzle needs an extra saturating add per look-up on x86 to send indices >= 16 to
 *   zero. The indices here are always < 16, where both have the same, fully defined result,
 *   so the two builds compute identical bytes.
 */
#include <stdint.h>
#include <wasm_simd128.h>

#ifdef DFS_RELAXED_SIMD
#define SWIZZLE wasm_i8x16_relaxed_swizzle
#else
#define SWIZZLE wasm_i8x16_swizzle
#endif

#define EXPORT(name) __attribute__((export_name(name)))

static uint8_t gf_mul(uint8_t a, uint8_t b) {
  uint8_t p = 0;
  while (b) {
    if (b & 1) p ^= a;
    a = (uint8_t)((a << 1) ^ ((a & 0x80) ? 0x1d : 0));
    b >>= 1;
  }
  return p;
}

/*
 * Fills the nibble tables of all 256 coefficients into tables[0..8191]: bytes 32c..32c+15 are
 * c * x and bytes 32c+16..32c+31 are c * (x << 4), for x = 0..15. Call once. (The caller
 * owns the memory: a static array would be shipped as an 8 KiB data segment of zeros, since
 * imported memory is not known to be zero.)
 */
EXPORT("gf_init") void gf_init(uint8_t *tables) {
  for (int c = 0; c < 256; c++) {
    for (int x = 0; x < 16; x++) {
      tables[c * 32 + x] = gf_mul((uint8_t)c, (uint8_t)x);
      tables[c * 32 + 16 + x] = gf_mul((uint8_t)c, (uint8_t)(x << 4));
    }
  }
}

/* Writes the 32-byte nibble tables of coef[0..count-1] to dst, in order (both 16-aligned). */
EXPORT("gf_prepare")
void gf_prepare(const uint8_t *tables, const uint8_t *coef, uint32_t count, uint8_t *dst) {
  for (uint32_t i = 0; i < count; i++) {
    const uint8_t *src = tables + coef[i] * 32;
    wasm_v128_store(dst + i * 32, wasm_v128_load(src));
    wasm_v128_store(dst + i * 32 + 16, wasm_v128_load(src + 16));
  }
}

/*
 * One group of G output rows (G = 1..4), 64 bytes per iteration.
 * tabs: the group's nibble tables, row-major over (row, input), 32 bytes each, row stride n.
 * in: n input vectors at in + j * stride; out: G output vectors at out + g * stride.
 * len: a multiple of 64.
 */
#define GROUP(G)                                                                               \
  static void group##G(const uint8_t *tabs, uint32_t n, const uint8_t *in, uint8_t *out,       \
                       uint32_t stride, uint32_t len, v128_t mask) {                           \
    for (uint32_t j = 0; j < n; j++) {                                                         \
      v128_t tl[G], th[G];                                                                     \
      for (int g = 0; g < G; g++) {                                                            \
        tl[g] = wasm_v128_load(tabs + (g * n + j) * 32);                                       \
        th[g] = wasm_v128_load(tabs + (g * n + j) * 32 + 16);                                  \
      }                                                                                        \
      const uint8_t *p = in + j * stride;                                                      \
      for (uint32_t x = 0; x < len; x += 64) {                                                 \
        v128_t lo[4], hi[4];                                                                   \
        for (int v = 0; v < 4; v++) {                                                          \
          v128_t d = wasm_v128_load(p + x + 16 * v);                                           \
          lo[v] = wasm_v128_and(d, mask);                                                      \
          hi[v] = wasm_v128_and(wasm_u16x8_shr(d, 4), mask);                                   \
        }                                                                                      \
        for (int g = 0; g < G; g++) {                                                          \
          for (int v = 0; v < 4; v++) {                                                        \
            uint8_t *o = out + g * stride + x + 16 * v;                                        \
            v128_t r = wasm_v128_xor(SWIZZLE(tl[g], lo[v]), SWIZZLE(th[g], hi[v]));            \
            wasm_v128_store(o, j == 0 ? r : wasm_v128_xor(wasm_v128_load(o), r));              \
          }                                                                                    \
        }                                                                                      \
      }                                                                                        \
    }                                                                                          \
  }

GROUP(1)
GROUP(2)
GROUP(3)
GROUP(4)

/*
 * out[r][x] = XOR over j of coef[r][j] * in[j][x], for r < rows, x < len, where tabs holds
 * the prepared tables of the rows x n coefficients (gf_prepare), input j is at in + j * stride,
 * output r at out + r * stride, len is a multiple of 64 and nibble_mask is 0x0f. Outputs are
 * overwritten; with n = 0 they are left alone (the caller zeroes them).
 */
EXPORT("gf_mul_add")
void gf_mul_add(const uint8_t *tabs, uint32_t rows, uint32_t n, const uint8_t *in, uint8_t *out,
                uint32_t stride, uint32_t len, uint32_t nibble_mask) {
  v128_t mask = wasm_i8x16_splat((int8_t)nibble_mask);
  uint32_t r = 0;
  for (; r + 4 <= rows; r += 4) group4(tabs + r * n * 32, n, in, out + r * stride, stride, len, mask);
  switch (rows - r) {
    case 3: group3(tabs + r * n * 32, n, in, out + r * stride, stride, len, mask); break;
    case 2: group2(tabs + r * n * 32, n, in, out + r * stride, stride, len, mask); break;
    case 1: group1(tabs + r * n * 32, n, in, out + r * stride, stride, len, mask); break;
  }
}
