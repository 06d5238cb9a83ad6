/*
 * Intel ISA-L as an independent reference for dfs's Reed-Solomon codec. Built by
 * isal_cross_test.ts (and make_isal_vectors.ts) with `gcc -O2 isal_harness.c -lisal`.
 *
 * stdin: a header of four little-endian uint32: mode, k, m, length; then, by mode:
 *   'E' (encode): k data shards of `length` bytes.
 *       stdout: the m parity shards, from gf_gen_cauchy1_matrix + ec_init_tables +
 *       ec_encode_data.
 *   'M' (matrix): nothing more. stdout: the (k+m) x k matrix of gf_gen_cauchy1_matrix.
 *   'D' (decode): k uint32 indices of present shards (ascending), then those k shards.
 *       stdout: the k data shards, rebuilt ISA-L's way: gf_invert_matrix on the present
 *       rows, then ec_init_tables + ec_encode_data with the rows of the missing data shards
 *       (present data shards are copied through).
 * Exit status 0 on success, 1 on bad input or a singular matrix.
 */
#include <isa-l/erasure_code.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void read_all(void *buf, size_t n) {
  if (n && fread(buf, 1, n, stdin) != n) {
    fprintf(stderr, "isal_harness: short input\n");
    exit(1);
  }
}

static void write_all(const void *buf, size_t n) {
  if (n && fwrite(buf, 1, n, stdout) != n) {
    fprintf(stderr, "isal_harness: short write\n");
    exit(1);
  }
}

static uint32_t read_u32(void) {
  uint8_t b[4];
  read_all(b, 4);
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

int main(void) {
  uint32_t mode = read_u32(), k = read_u32(), m = read_u32(), len = read_u32();
  if (k < 1 || m < 1 || k + m > 256 || len > (1u << 28)) {
    fprintf(stderr, "isal_harness: bad shape k=%u m=%u length=%u\n", k, m, len);
    return 1;
  }
  uint32_t n = k + m;
  uint8_t *a = malloc(n * k);
  gf_gen_cauchy1_matrix(a, (int)n, (int)k);
  if (mode == 'M') {
    write_all(a, n * k);
    return 0;
  }
  uint8_t *tables = malloc(32 * k * m);
  uint8_t **in = calloc(n, sizeof(uint8_t *)), **out = calloc(n, sizeof(uint8_t *));
  if (mode == 'E') {
    for (uint32_t i = 0; i < k; i++) {
      in[i] = malloc(len ? len : 1);
      read_all(in[i], len);
    }
    for (uint32_t i = 0; i < m; i++) out[i] = malloc(len ? len : 1);
    ec_init_tables((int)k, (int)m, &a[k * k], tables);
    if (len) ec_encode_data((int)len, (int)k, (int)m, tables, in, out);
    for (uint32_t i = 0; i < m; i++) write_all(out[i], len);
    return 0;
  }
  if (mode == 'D') {
    uint32_t present[256];
    uint8_t *b = malloc(k * k), *d = malloc(k * k), *c = malloc(k * k);
    for (uint32_t i = 0; i < k; i++) {
      present[i] = read_u32();
      if (present[i] >= n || (i && present[i] <= present[i - 1])) {
        fprintf(stderr, "isal_harness: bad present list\n");
        return 1;
      }
    }
    for (uint32_t i = 0; i < k; i++) {
      in[i] = malloc(len ? len : 1);
      read_all(in[i], len);
      memcpy(&b[k * i], &a[k * present[i]], k);
    }
    if (gf_invert_matrix(b, d, (int)k) < 0) {
      fprintf(stderr, "isal_harness: singular decode matrix\n");
      return 1;
    }
    /* data shard i is present at position p, or missing: take row i of the inverse */
    uint32_t missing[256], nmissing = 0;
    for (uint32_t i = 0; i < k; i++) {
      int found = 0;
      for (uint32_t p = 0; p < k; p++) found |= present[p] == i;
      if (!found) {
        memcpy(&c[k * nmissing], &d[k * i], k);
        out[nmissing] = malloc(len ? len : 1);
        missing[nmissing++] = i;
      }
    }
    if (nmissing && len) {
      ec_init_tables((int)k, (int)nmissing, c, tables);
      ec_encode_data((int)len, (int)k, (int)nmissing, tables, in, out);
    }
    for (uint32_t i = 0, next = 0; i < k; i++) {
      if (next < nmissing && missing[next] == i) {
        write_all(out[next++], len);
      } else {
        for (uint32_t p = 0; p < k; p++) {
          if (present[p] == i) write_all(in[p], len);
        }
      }
    }
    return 0;
  }
  fprintf(stderr, "isal_harness: unknown mode %u\n", mode);
  return 1;
}
