#!/usr/bin/env python3
"""Runs frame-udp-demo (127.0.0.1 only) and checks the figures of its table.

usage: test_udp_demo.py path/to/frame-udp-demo
"""
import json
import re
import subprocess
import sys

SIZES = [5, 1200, 1, 20000, 100, 70000, 3]
PASSED = []


def check(name, cond, detail):
    if not cond:
        print("FAIL", name, detail)
        sys.exit(1)
    PASSED.append(name)
    print("ok  ", name)


def main():
    demo = sys.argv[1]
    p = subprocess.run([demo, "--json"], capture_output=True, timeout=60)
    check("exit status 0", p.returncode == 0 and p.stderr == b"", p)
    d = json.loads(p.stdout)
    check("burst sizes", d["sizes"] == SIZES and d["tcp_read"] == 4096 and d["udp_read"] == 8192, d)

    t = d["tcp_plain"]
    # Timing decides exactly how reads fall, not these facts: 91,309 bytes
    # cannot arrive in fewer than 23 reads of 4096; the two messages larger
    # than a read are split; the three first messages, queued before any
    # read, come back run together in read 1.
    check("TCP plain: counts add up", t["units"] == t["calls"] >= 23 and
          t["intact"] + t["wrong"] == t["units"] and t["refused"] == 0 and t["errors"] == 0, t)
    check("TCP plain: messages are not kept", t["intact"] < len(SIZES) and t["wrong"] >= 1, t)
    check("TCP plain: large messages split", t["status"][3].startswith("split") and
          t["status"][5].startswith("split"), t["status"])
    check("TCP plain: small messages run together", t["status"][0] == "merged into read 1" and
          t["status"][1] == "merged into read 1", t["status"])

    f = d["tcp_libframe"]
    check("TCP libframe: every message intact",
          (f["units"], f["intact"], f["wrong"], f["errors"], f["refused"]) == (7, 7, 0, 0, 0) and
          f["status"] == ["intact"] * 7 and f["calls"] >= 23, f)

    u = d["udp_plain"]
    check("UDP plain: one datagram refused (> 65,507 bytes)", u["refused"] == 1 and
          u["status"][5] == "refused by the kernel (EMSGSIZE)", u)
    check("UDP plain: the 20,000-byte datagram truncated to 8192 and accepted",
          u["status"][3] == "TRUNCATED to 8192 bytes, accepted" and u["wrong"] == 1, u)
    check("UDP plain: boundaries kept otherwise",
          (u["calls"], u["units"], u["intact"], u["errors"]) == (6, 6, 5, 0) and
          [u["status"][i] for i in (0, 1, 2, 4, 6)] == ["intact"] * 5, u)

    g = d["udp_libframe"]
    check("UDP libframe: truncation reported as DATAGRAM_TRUNCATED, not accepted",
          g["status"][3] == "error DATAGRAM_TRUNCATED" and g["errors"] == 1 and g["wrong"] == 0, g)
    check("UDP libframe: the rest intact, one refused",
          (g["calls"], g["units"], g["intact"], g["refused"]) == (6, 5, 5, 1) and
          g["status"][5] == "refused by the kernel (EMSGSIZE)", g)

    # The human-readable table shows the same figures.
    p = subprocess.run([demo], capture_output=True, timeout=60, text=True)
    check("table: exit status 0", p.returncode == 0, p)
    rows = {}
    for line in p.stdout.splitlines():
        m = re.match(r"^\s*(\D.*?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$", line)
        if m:
            rows[m.group(1).strip()] = [int(m.group(i)) for i in range(2, 6)]
    want = {
        "sends refused by the kernel": ("refused", slice(0, 4)),
        "messages handed to the application": ("units", slice(1, 4)),
        "... intact": ("intact", slice(1, 4)),
        "... wrong (merged, split, cut)": ("wrong", slice(1, 4)),
        "errors reported instead": ("errors", slice(0, 4)),
    }
    keys = ["tcp_plain", "tcp_libframe", "udp_plain", "udp_libframe"]
    for label, (field, cols) in want.items():
        expected = [d[k][field] for k in keys][cols]
        check("table row: " + label, rows.get(label, [None] * 4)[cols] == expected, (rows, expected))
    for m, size in enumerate(SIZES):
        check("table line for message %d" % m,
              re.search(r"^\s*%d\s+%d\s" % (m, size), p.stdout, re.M) is not None, p.stdout)
    print("%d checks passed" % len(PASSED))


if __name__ == "__main__":
    main()
