#!/usr/bin/env python3
"""Prints "N passed, N failed" for a `bazel test` run.

Reads the test targets and their outcome from the run's console log (so
stale results of other runs are ignored), then counts the test cases in each
target's bazel-testlogs/<target>/test.xml. A target that failed without a
report (crash, timeout, build error) counts as one failure.
"""
import os
import re
import sys
import xml.etree.ElementTree as ET

LINE = re.compile(r"^(//\S+)\s+(?:\(cached\)\s+)?(PASSED|FAILED|TIMEOUT|"
                  r"FLAKY|NO STATUS|FAILED TO BUILD|INCOMPLETE)\b")


def count_cases(target):
    package, _, name = target[2:].partition(":")
    path = os.path.join("bazel-testlogs", package, name, "test.xml")
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    passed = failed = 0
    for case in root.iter("testcase"):
        if case.get("status") == "notrun" or case.find("skipped") is not None:
            continue
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        else:
            passed += 1
    return passed, failed


def main():
    with open(sys.argv[1], errors="replace") as f:
        log = f.read()
    outcomes = {}
    for line in log.splitlines():
        m = LINE.match(line.strip())
        if m:
            outcomes[m.group(1)] = m.group(2)
    passed = failed = 0
    for target, outcome in sorted(outcomes.items()):
        cases = count_cases(target) if outcome in ("PASSED", "FAILED", "FLAKY") else None
        if cases is None or (outcome != "PASSED" and cases[1] == 0):
            if outcome == "PASSED":
                passed += 1
            else:
                failed += 1
            continue
        passed += cases[0]
        failed += cases[1]
    if not outcomes and "Build completed successfully" not in log:
        failed += 1  # The build itself failed.
    print(f"{passed} passed, {failed} failed")


if __name__ == "__main__":
    main()
