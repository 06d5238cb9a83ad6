import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/errors.ts";
import { ReadBufferPool } from "../../src/store/read_buffer_pool.ts";

Deno.test("pool_lends_a_buffer_to_one_holder_until_released", () => {
  const pool = new ReadBufferPool({ bufferSize: 64, maxBuffers: 2 });
  const a = pool.acquire();
  const b = pool.acquire();
  assert.ok(a && b && a !== b);
  assert.equal(a.length, 64);
  assert.equal(pool.acquire(), undefined, "both lent: none to hand out");
  assert.equal(pool.lent, 2);
  pool.release(a);
  assert.deepEqual([pool.lent, pool.idle], [1, 1]);
  assert.equal(pool.acquire(), a, "the released buffer is reused");
  assert.equal(pool.acquire(), undefined);
});

Deno.test("pool_ignores_a_second_release_and_foreign_buffers", () => {
  const pool = new ReadBufferPool({ bufferSize: 8, maxBuffers: 2 });
  const a = pool.acquire()!;
  pool.release(a);
  pool.release(a); // must not put it in the idle list twice
  pool.release(new Uint8Array(8));
  assert.deepEqual([pool.lent, pool.idle], [0, 1]);
  const x = pool.acquire()!;
  const y = pool.acquire()!;
  assert.notEqual(x, y, "one buffer handed out twice");
});

Deno.test("pool_drops_a_buffer_released_without_reuse_and_makes_a_new_one", () => {
  const pool = new ReadBufferPool({ bufferSize: 8, maxBuffers: 1 });
  const a = pool.acquire()!;
  pool.release(a, false);
  assert.deepEqual([pool.lent, pool.idle], [0, 0]);
  const b = pool.acquire()!;
  assert.notEqual(b, a);
  assert.equal(b.length, 8);
});

Deno.test("pool_stays_bounded_over_many_lends", () => {
  const pool = new ReadBufferPool({ bufferSize: 16, maxBuffers: 3 });
  const seen = new Set<Uint8Array>();
  for (let round = 0; round < 50; round++) {
    const held = [pool.acquire()!, pool.acquire()!, pool.acquire()!];
    assert.equal(pool.acquire(), undefined);
    for (const b of held) seen.add(b);
    for (const b of held) pool.release(b);
    assert.ok(pool.idle <= 3);
  }
  assert.equal(seen.size, 3);
});

Deno.test("pool_rejects_bad_options", () => {
  assert.throws(() => new ReadBufferPool({ bufferSize: 0, maxBuffers: 1 }), InvalidArgumentError);
  assert.throws(() => new ReadBufferPool({ bufferSize: 8, maxBuffers: 0 }), InvalidArgumentError);
  assert.throws(() => new ReadBufferPool({ bufferSize: 1.5, maxBuffers: 1 }), InvalidArgumentError);
});
