"""Reads each feed file with feedparser, as real readers do, and fails on any complaint.

Usage: python3 feedparser_check.py EXPECTED_ENTRIES FILE...
Exits non-zero (with the reason) when feedparser reports bozo, finds a different number of
entries, or an entry lacks its title, link, date or content.
"""
import sys

import feedparser

expected = int(sys.argv[1])
failures = []
for path in sys.argv[2:]:
    with open(path, "rb") as handle:
        parsed = feedparser.parse(handle.read())
    if parsed.bozo:
        failures.append(f"{path}: bozo: {parsed.bozo_exception!r}")
    if len(parsed.entries) != expected:
        failures.append(f"{path}: {len(parsed.entries)} entries, expected {expected}")
    for index, entry in enumerate(parsed.entries):
        for field in ("title", "link"):
            if not entry.get(field):
                failures.append(f"{path}: entry {index} has no {field}")
        if not (entry.get("published_parsed") or entry.get("updated_parsed")):
            failures.append(f"{path}: entry {index} has no parsable date")
        content = entry.get("content") or []
        if not (content and content[0].get("value")) and not entry.get("summary"):
            failures.append(f"{path}: entry {index} has no content")
if failures:
    print("\n".join(failures))
    sys.exit(1)
print(f"feedparser read {len(sys.argv) - 2} feeds without complaint")
