import { describe, expect, it } from "vitest";
import { classifyIp, formatIp, inCidr, parseCidr, parseIPv4, parseIPv6, parseIp } from "../src/policy/address.ts";

const kind = (ip: string) => classifyIp(ip)?.kind;

describe("parseIPv4", () => {
  it.each(["0.0.0.0", "127.0.0.1", "255.255.255.255", "8.8.8.8"])("accepts %s", (ip) => {
    expect(parseIPv4(ip)).toBeDefined();
  });
  it.each([
    "256.0.0.1",
    "1.2.3",
    "1.2.3.4.5",
    "01.2.3.4",
    "0x7f.0.0.1",
    "1.2.3.-4",
    " 1.2.3.4",
    "1.2.3.4 ",
    "",
    "a.b.c.d",
    "2130706433",
  ])("refuses %j (only canonical dotted quads)", (ip) => {
    expect(parseIPv4(ip)).toBeUndefined();
  });
});

describe("parseIPv6", () => {
  it.each([
    ["::", "::"],
    ["::1", "::1"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["2001:DB8::1", "2001:db8::1"],
    ["::ffff:127.0.0.1", "::ffff:7f00:1"],
    ["fe80::1:2:3:4", "fe80::1:2:3:4"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["1::", "1::"],
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
  ])("parses %s as %s", (text, formatted) => {
    const ip = parseIPv6(text);
    expect(ip).toBeDefined();
    expect(formatIp(ip!)).toBe(formatted);
  });
  it.each(["1:2:3:4:5:6:7:8:9", "1::2::3", ":::", "12345::", "fe80::1%eth0", "g::1", "1:2:3:4:5:6:7", "::ffff:1.2.3"])(
    "refuses %j",
    (text) => {
      expect(parseIPv6(text)).toBeUndefined();
    },
  );
  it("accepts brackets through parseIp", () => {
    expect(parseIp("[::1]")?.family).toBe(6);
    expect(parseIp("[127.0.0.1]")).toBeUndefined();
  });
});

describe("CIDR", () => {
  it("matches by prefix", () => {
    const cidr = parseCidr("10.0.0.0/8")!;
    expect(inCidr(parseIp("10.255.1.2")!, cidr)).toBe(true);
    expect(inCidr(parseIp("11.0.0.1")!, cidr)).toBe(false);
    expect(inCidr(parseIp("::ffff:10.0.0.1")!, cidr)).toBe(false);
    const odd = parseCidr("172.16.0.0/12")!;
    expect(inCidr(parseIp("172.31.255.255")!, odd)).toBe(true);
    expect(inCidr(parseIp("172.32.0.0")!, odd)).toBe(false);
    expect(inCidr(parseIp("1.2.3.4")!, parseCidr("0.0.0.0/0")!)).toBe(true);
  });
  it.each(["10.0.0.0/33", "::/129", "10.0.0.0/", "x/8", "10.0.0.0/a"])("refuses %j", (text) => {
    expect(parseCidr(text)).toBeUndefined();
  });
});

describe("classifyAddress: IPv4", () => {
  it.each([
    ["8.8.8.8", "public"],
    ["1.1.1.1", "public"],
    ["93.184.216.34", "public"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["10.0.0.1", "private"],
    ["172.16.0.1", "private"],
    ["172.31.0.1", "private"],
    ["172.32.0.1", "public"],
    ["192.168.1.1", "private"],
    ["169.254.1.1", "link-local"],
    ["169.254.169.254", "metadata"],
    ["169.254.170.2", "metadata"],
    ["100.100.100.200", "metadata"],
    ["100.64.0.1", "shared"],
    ["100.127.255.255", "shared"],
    ["100.128.0.0", "public"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["240.0.0.1", "reserved"],
    ["192.0.0.192", "reserved"],
    ["192.0.2.1", "documentation"],
    ["198.51.100.1", "documentation"],
    ["203.0.113.9", "documentation"],
    ["198.18.0.1", "reserved"],
    ["192.88.99.1", "reserved"],
  ])("%s is %s", (ip, expected) => {
    expect(kind(ip)).toBe(expected);
  });
});

describe("classifyAddress: IPv6", () => {
  it.each([
    ["2606:4700:4700::1111", "public"],
    ["2a00:1450:4001::200e", "public"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["fe80::1", "link-local"],
    ["febf::1", "link-local"],
    ["fc00::1", "private"],
    ["fd12:3456::1", "private"],
    ["fec0::1", "private"],
    ["ff02::1", "multicast"],
    ["2001:db8::1", "documentation"],
    ["2001::1", "reserved"],
    ["100::1", "reserved"],
    ["64:ff9b:1::1", "private"],
    ["fd00:ec2::254", "metadata"],
    ["3fff::1", "public"],
    ["4000::1", "reserved"],
    ["::2", "unspecified"],
  ])("%s is %s", (ip, expected) => {
    expect(kind(ip)).toBe(expected);
  });

  it.each([
    ["::ffff:127.0.0.1", "loopback", "127.0.0.1"],
    ["::ffff:7f00:1", "loopback", "127.0.0.1"],
    ["::ffff:169.254.169.254", "metadata", "169.254.169.254"],
    ["::ffff:10.1.2.3", "private", "10.1.2.3"],
    ["::ffff:8.8.8.8", "public", "8.8.8.8"],
    ["64:ff9b::a9fe:a9fe", "metadata", "169.254.169.254"],
    ["64:ff9b::7f00:1", "loopback", "127.0.0.1"],
    ["64:ff9b::808:808", "public", "8.8.8.8"],
    ["2002:7f00:1::", "loopback", "127.0.0.1"],
    ["2002:c0a8:101::1", "private", "192.168.1.1"],
    ["2002:808:808::1", "public", "8.8.8.8"],
    ["::127.0.0.1", "loopback", "127.0.0.1"],
    ["::8.8.8.8", "reserved", "8.8.8.8"],
  ])("%s carries %s (%s)", (ip, expected, embedded) => {
    const cls = classifyIp(ip);
    expect(cls?.kind).toBe(expected);
    expect(cls?.embedded).toBe(embedded);
  });
});
