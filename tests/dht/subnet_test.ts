import assert from "node:assert/strict";
import { subnetOf } from "../../src/dht/subnet.ts";

Deno.test("ipv4_hosts_are_grouped_by_their_slash_24", () => {
  assert.equal(subnetOf("203.0.113.7:4000"), "v4:203.0.113");
  assert.equal(subnetOf("203.0.113.250:9"), "v4:203.0.113", "same /24, other host and port");
  assert.equal(subnetOf("203.0.114.7:4000"), "v4:203.0.114", "next /24 is another group");
  assert.equal(subnetOf("8.8.8.8:53"), "v4:8.8.8");
});

Deno.test("ipv6_hosts_are_grouped_by_their_slash_48", () => {
  assert.equal(subnetOf("[2001:db8:1:2::5]:4000"), "v6:2001:db8:1");
  assert.equal(subnetOf("[2001:db8:1:ffff::9]:4000"), "v6:2001:db8:1", "same /48");
  assert.equal(subnetOf("[2001:DB8:1::1]:4000"), "v6:2001:db8:1", "case does not matter");
  assert.equal(
    subnetOf("[2001:0db8:0001:0000:0000:0000:0000:0001]:4000"),
    "v6:2001:db8:1",
    "leading zeros do not matter",
  );
  assert.equal(subnetOf("[2001:db8:2::5]:4000"), "v6:2001:db8:2", "another /48");
});

Deno.test("loopback_and_private_ipv4_addresses_are_exempt", () => {
  for (
    const address of [
      "127.0.0.1:4000",
      "127.255.0.9:4000",
      "10.0.0.1:4000",
      "10.255.255.254:4000",
      "172.16.0.1:4000",
      "172.31.255.254:4000",
      "192.168.0.1:4000",
      "192.168.255.254:4000",
      "localhost:4000",
      "0.0.0.0:4000",
    ]
  ) {
    assert.equal(subnetOf(address), null, address);
  }
});

Deno.test("addresses_just_outside_the_private_ranges_are_grouped", () => {
  assert.equal(subnetOf("172.15.0.1:4000"), "v4:172.15.0");
  assert.equal(subnetOf("172.32.0.1:4000"), "v4:172.32.0");
  assert.equal(subnetOf("192.169.0.1:4000"), "v4:192.169.0");
  assert.equal(subnetOf("11.0.0.1:4000"), "v4:11.0.0");
  assert.equal(subnetOf("126.0.0.1:4000"), "v4:126.0.0");
});

Deno.test("loopback_unique_local_and_link_local_ipv6_addresses_are_exempt", () => {
  for (
    const address of [
      "[::1]:4000",
      "[::]:4000",
      "[fc00::1]:4000",
      "[fdff:ffff::1]:4000",
      "[fe80::1]:4000",
      "[febf:ffff::1]:4000",
      "[::ffff:127.0.0.1]:4000",
      "[::ffff:10.1.2.3]:4000",
      "[::ffff:192.168.1.1]:4000",
    ]
  ) {
    assert.equal(subnetOf(address), null, address);
  }
  assert.equal(subnetOf("[fec0::1]:4000"), "v6:fec0:0:0", "fec0:: is past fe80::/10");
  assert.equal(subnetOf("[fb00::1]:4000"), "v6:fb00:0:0", "fb00:: is before fc00::/7");
});

Deno.test("an_ipv4_mapped_ipv6_address_counts_as_its_ipv4_slash_24", () => {
  assert.equal(subnetOf("[::ffff:203.0.113.9]:4000"), "v4:203.0.113");
  assert.equal(subnetOf("[::FFFF:203.0.113.9]:4000"), "v4:203.0.113");
});

Deno.test("host_names_are_grouped_by_name", () => {
  assert.equal(subnetOf("example.com:4000"), "name:example.com");
  assert.equal(subnetOf("Example.COM:4000"), "name:example.com");
});

Deno.test("an_address_that_does_not_parse_is_null", () => {
  for (
    const address of [
      "",
      "nonsense",
      "203.0.113.7",
      "203.0.113.7:0",
      "203.0.113.7:65536",
      "[1::2::3]:4000",
      "[2001:db8::zz]:4000",
      "[1:2:3:4:5:6:7:8:9]:4000",
      "[1:2:3]:4000",
    ]
  ) {
    assert.equal(subnetOf(address), null, JSON.stringify(address));
  }
});

// BUG (src/dht/subnet.ts, ipv6() line 68 and subnetOf() lines 35-37): an IPv6 literal whose last
// 32 bits are written as a dotted quad ("2001:db8:1:2::1.2.3.4", valid per RFC 4291 and accepted
// by parseAddress) does not parse in ipv6(), and an unparsable IPv6 host returns null: the address
// is treated as exempt. A peer on one /48 can so put any number of contacts in a bucket by
// spelling its addresses this way. Fails until fixed.
Deno.test("an_ipv6_address_with_an_embedded_dotted_quad_is_grouped_not_exempt", () => {
  assert.equal(subnetOf("[2001:db8:1:2::1.2.3.4]:4000"), "v6:2001:db8:1");
  assert.equal(subnetOf("[2001:db8:1:2::5.6.7.8]:4000"), "v6:2001:db8:1");
});

// BUG (src/dht/subnet.ts, subnetOf() line 31): only the dotted form of an IPv4-mapped address
// ("::ffff:203.0.113.9") is mapped to IPv4. The same address in hex ("::ffff:cb00:7109") falls in
// the group "v6:0:0:0" shared by every mapped address of the Internet, and the hex form of
// loopback ("::ffff:7f00:1") is not exempt. Fails until fixed.
Deno.test("an_ipv4_mapped_address_in_hex_counts_as_its_ipv4_address", () => {
  assert.equal(subnetOf("[::ffff:cb00:7109]:4000"), "v4:203.0.113");
  assert.equal(subnetOf("[::ffff:7f00:1]:4000"), null);
});
