import assert from "node:assert/strict";
import {
  escapeLabelValue,
  type MetricFamily,
  writeExposition,
} from "../../../src/api/metrics/exposition.ts";
import { Histogram } from "../../../src/api/metrics/histogram.ts";
import { ApiMetrics, operationOf } from "../../../src/api/metrics/api_metrics.ts";
import { InvalidArgumentError } from "../../../src/errors.ts";
import { parseExposition, valueOf } from "./prom_parse.ts";

function sample(): MetricFamily[] {
  const h = new Histogram(["op"], [0.1, 1, 10]);
  for (const v of [0.05, 0.1, 0.5, 3, 30, 30]) h.observe(["get"], v);
  h.observe(["put"], 0.2);
  return [
    { name: "x_things_total", help: "Things.\nTwo lines \\ back", type: "counter", samples: [] },
    {
      name: "x_by_peer_total",
      help: "Per peer.",
      type: "counter",
      samples: [
        { labels: { peer: 'a "quoted"\\ name\nnext' }, value: 2 },
        { labels: { peer: "plain" }, value: 1e21 },
      ],
    },
    { name: "x_ratio", help: "Ratio.", type: "gauge", samples: [{ value: 0.25 }] },
    { name: "x_inf", help: "Inf.", type: "gauge", samples: [{ value: Infinity }] },
    { name: "x_seconds", help: "Latency.", type: "histogram", samples: h.samples() },
  ];
}

Deno.test("every_line_parses_as_the_exposition_grammar", () => {
  const text = writeExposition(sample());
  const scrape = parseExposition(text);
  assert.equal(scrape.types.get("x_seconds"), "histogram");
  assert.equal(scrape.help.get("x_things_total"), "Things.\nTwo lines \\ back");
  assert.equal(valueOf(scrape, "x_ratio"), 0.25);
  assert.equal(valueOf(scrape, "x_inf"), Infinity);
  assert.equal(valueOf(scrape, "x_by_peer_total", { peer: "plain" }), 1e21);
});

Deno.test("label_values_are_escaped_and_read_back", () => {
  const text = writeExposition(sample());
  assert.ok(text.includes('x_by_peer_total{peer="a \\"quoted\\"\\\\ name\\nnext"} 2\n'), text);
  const scrape = parseExposition(text);
  assert.equal(valueOf(scrape, "x_by_peer_total", { peer: 'a "quoted"\\ name\nnext' }), 2);
  assert.equal(escapeLabelValue('\\"\n'), '\\\\\\"\\n');
});

Deno.test("histogram_buckets_are_cumulative_and_end_in_inf_equal_to_count", () => {
  const scrape = parseExposition(writeExposition(sample()));
  const le = (v: string) => valueOf(scrape, "x_seconds_bucket", { op: "get", le: v });
  assert.deepEqual([le("0.1"), le("1"), le("10"), le("+Inf")], [2, 3, 4, 6]);
  assert.equal(valueOf(scrape, "x_seconds_count", { op: "get" }), 6);
  assert.equal(valueOf(scrape, "x_seconds_sum", { op: "get" }), 0.05 + 0.1 + 0.5 + 3 + 30 + 30);
  assert.equal(valueOf(scrape, "x_seconds_count", { op: "put" }), 1);
});

Deno.test("help_and_type_come_once_before_each_family", () => {
  const lines = writeExposition(sample()).split("\n");
  assert.equal(lines[0], "# HELP x_things_total Things.\\nTwo lines \\\\ back");
  assert.equal(lines[1], "# TYPE x_things_total counter");
  assert.equal(lines.filter((l) => l.startsWith("# TYPE x_seconds ")).length, 1);
});

Deno.test("the_writer_refuses_duplicates_and_bad_names", () => {
  const bad: MetricFamily[][] = [
    [{ name: "a", help: "", type: "gauge", samples: [{ value: 1 }, { value: 2 }] }],
    [
      { name: "a", help: "", type: "gauge", samples: [] },
      { name: "a", help: "", type: "gauge", samples: [] },
    ],
    [{ name: "a_count", help: "", type: "counter", samples: [] }],
    [{ name: "1a", help: "", type: "gauge", samples: [] }],
    [{ name: "a", help: "", type: "gauge", samples: [{ labels: { "b-c": "x" }, value: 1 }] }],
    [{
      name: "h",
      help: "",
      type: "histogram",
      samples: [{ bounds: [2, 1], counts: [0, 0, 0], sum: 0 }],
    }],
    [{ name: "h", help: "", type: "histogram", samples: [{ bounds: [1], counts: [0], sum: 0 }] }],
  ];
  for (const families of bad) {
    assert.throws(() => writeExposition(families), InvalidArgumentError, JSON.stringify(families));
  }
});

Deno.test("the_test_parser_rejects_what_the_format_does_not_allow", () => {
  for (
    const text of [
      "a 1\n", // no TYPE
      "# TYPE a gauge\na 1\na 2\n", // duplicate series
      '# TYPE a gauge\na{b="x\ny"} 1\n', // raw newline in a label value
      "# TYPE a gauge\na one\n",
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 0\nh_count 1\n',
      '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 0\nh_count 1\n',
    ]
  ) {
    assert.throws(() => parseExposition(text), Error, text);
  }
});

Deno.test("operations_are_told_from_the_request_line", () => {
  const base = "/api/v1";
  assert.equal(operationOf("POST", "/api/v1/files", base), "put");
  assert.equal(operationOf("POST", "/api/v1/files/", base), "put");
  assert.equal(operationOf("GET", "/api/v1/files/x", base), "get");
  assert.equal(operationOf("DELETE", "/api/v1/files/x", base), "delete");
  assert.equal(operationOf("HEAD", "/api/v1/files/x", base), "get");
  assert.equal(operationOf("HEAD", "/api/v1/files", base), undefined);
  assert.equal(operationOf("GET", "/api/v1/files", base), undefined);
  assert.equal(operationOf("GET", "/api/v1/files/x/stat", base), undefined);
  assert.equal(operationOf("GET", "/api/v1/filesx/y", base), undefined);
});

Deno.test("a_get_is_recorded_at_the_end_of_its_body_or_as_cancelled", async () => {
  const m = new ApiMetrics();
  const res = m.finish("get", performance.now(), new Response("hello"));
  assert.equal(m.count("get", "ok"), 0);
  assert.equal(await res.text(), "hello");
  assert.equal(m.count("get", "ok"), 1);
  const res2 = m.finish("get", performance.now(), new Response("hello"));
  await res2.body!.cancel();
  assert.equal(m.count("get", "cancelled"), 1);
  const failing = new ReadableStream({ pull: (c) => c.error(new Error("disk")) });
  const res3 = m.finish("get", performance.now(), new Response(failing));
  await assert.rejects(res3.arrayBuffer());
  assert.equal(m.count("get", "error"), 1);
  m.finish("put", performance.now(), new Response("{}", { status: 507 }));
  assert.equal(m.count("put", "error"), 1);
  const scrape = parseExposition(writeExposition(m.families()));
  assert.equal(
    valueOf(scrape, "dfs_api_operation_duration_seconds_count", { op: "get", method: "GET" }),
    3,
  );
  assert.equal(
    valueOf(scrape, "dfs_api_operations_total", { op: "put", method: "POST", outcome: "error" }),
    1,
  );
});
