/*
 * Native baseline for bench/erasure_native.ts: Intel ISA-L's Reed-Solomon encode and decode,
 * single-threaded, on data in cache (the same buffers, over and over).
 *
 *   gcc -O2 -o isal_bench isal_bench.c -lisal
 *   ./isal_bench K M SHARD_BYTES LOST MILLIS
 *
 * Encodes K data shards of SHARD_BYTES into M parity shards with the Cauchy matrix of
 * gf_gen_cauchy1_matrix (the matrix dfs uses), then decodes after losing the first LOST data
 * shards, ISA-L's way: invert the K x K matrix of the first K surviving rows
 * (gf_invert_matrix), take the rows of the lost shards, ec_init_tables, ec_encode_data. The
 * decode is timed whole, inversion included. Each is run for about MILLIS ms in 5 rounds;
 * the median round is printed as MiB/s of DATA (K * SHARD_BYTES per operation), one JSON
 * object on stdout: by process CPU time (per core: robust when other processes share the
 * machine) and by wall-clock time.
 */
#include <isa-l/erasure_code.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUNDS 5

static double clock_s(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}
static double now(void) { return clock_s(CLOCK_MONOTONIC); }
static double cpu(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static uint32_t state = 0x5eed;
static uint8_t rnd(void) {
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return (uint8_t)(state >> 24);
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s K M SHARD_BYTES LOST MILLIS\n", argv[0]);
    return 2;
  }
  int k = atoi(argv[1]), m = atoi(argv[2]), len = atoi(argv[3]), lost = atoi(argv[4]);
  double millis = atof(argv[5]);
  if (k < 1 || m < 1 || k + m > 255 || len < 1 || lost < 1 || lost > m || lost > k) {
    fprintf(stderr, "bad arguments\n");
    return 2;
  }
  int n = k + m;
  uint8_t *a = malloc(n * k), *b = malloc(k * k), *d = malloc(k * k), *c = malloc(m * k);
  uint8_t *enc_tbls = malloc(32 * k * m), *dec_tbls = malloc(32 * k * m);
  uint8_t *shards[256], *recovered[256], *sources[256];
  for (int i = 0; i < n; i++) {
    if (posix_memalign((void **)&shards[i], 64, len)) return 1;
    if (i < k) for (int x = 0; x < len; x++) shards[i][x] = rnd();
  }
  for (int i = 0; i < lost; i++) {
    if (posix_memalign((void **)&recovered[i], 64, len)) return 1;
  }
  gf_gen_cauchy1_matrix(a, n, k);

  double enc[ROUNDS], dec[ROUNDS], enc_cpu[ROUNDS], dec_cpu[ROUNDS];
  double mib = (double)k * len / (1024.0 * 1024.0);
  ec_init_tables(k, m, &a[k * k], enc_tbls);
  ec_encode_data(len, k, m, enc_tbls, shards, &shards[k]); /* warm up */
  for (int r = 0; r < ROUNDS; r++) {
    long ops = 0;
    double t0 = now(), c0 = cpu(), t1;
    do {
      ec_init_tables(k, m, &a[k * k], enc_tbls);
      ec_encode_data(len, k, m, enc_tbls, shards, &shards[k]);
      ops++;
    } while ((t1 = now()) - t0 < millis / 1000.0 / ROUNDS);
    enc[r] = ops * mib / (t1 - t0);
    enc_cpu[r] = ops * mib / (cpu() - c0);
  }

  /* shards 0..lost-1 are lost; the first k survivors are lost..lost+k-1 */
  for (int r = 0; r < ROUNDS; r++) {
    long ops = 0;
    double t0 = now(), c0 = cpu(), t1;
    do {
      for (int i = 0; i < k; i++) {
        memcpy(&b[k * i], &a[k * (lost + i)], k);
        sources[i] = shards[lost + i];
      }
      if (gf_invert_matrix(b, d, k) < 0) {
        fprintf(stderr, "singular\n");
        return 1;
      }
      for (int i = 0; i < lost; i++) memcpy(&c[k * i], &d[k * i], k);
      ec_init_tables(k, lost, c, dec_tbls);
      ec_encode_data(len, k, lost, dec_tbls, sources, recovered);
      ops++;
    } while ((t1 = now()) - t0 < millis / 1000.0 / ROUNDS);
    dec[r] = ops * mib / (t1 - t0);
    dec_cpu[r] = ops * mib / (cpu() - c0);
  }
  for (int i = 0; i < lost; i++) {
    if (memcmp(recovered[i], shards[i], len) != 0) {
      fprintf(stderr, "decode mismatch on shard %d\n", i);
      return 1;
    }
  }
  qsort(enc, ROUNDS, sizeof(double), cmp);
  qsort(dec, ROUNDS, sizeof(double), cmp);
  qsort(enc_cpu, ROUNDS, sizeof(double), cmp);
  qsort(dec_cpu, ROUNDS, sizeof(double), cmp);
  printf("{\"k\":%d,\"m\":%d,\"len\":%d,\"lost\":%d,\"encodeCpu\":%.1f,\"decodeCpu\":%.1f,"
         "\"encodeWall\":%.1f,\"decodeWall\":%.1f}\n",
         k, m, len, lost, enc_cpu[ROUNDS / 2], dec_cpu[ROUNDS / 2], enc[ROUNDS / 2], dec[ROUNDS / 2]);
  return 0;
}
