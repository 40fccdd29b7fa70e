#!/usr/bin/env python3
"""bench/extraction_dev3.py: builds extraction-dev3, a third development set, from newspaper4k's tests.

The sdist of newspaper4k (pinned version and SHA-256 below) ships ``tests/data/``: real article
pages (``html/NAME.html``), newspaper's own extraction of each (``txt/NAME.txt``) and metadata
(``metadata/NAME.json``: url, language, title). This script downloads that sdist with pip into
``target/extraction-dev3-src/`` and writes ``target/extraction-dev3/`` in extraction-dev2's
format (``NAME.html`` byte for byte, ``NAME.json`` with url, title, lang, articleBody), so that
``../shared/extraction-dev2/score.py --data target/extraction-dev3`` scores it and
``bench/extraction_cv.py`` picks it up as a third set. The data is fetched, never committed.

Kept: pages with both an html and a txt file. Left out: pages without a reference (site fronts
``*_main_site``, ``sample_rss``, the meta-refresh stubs, a page with no txt), and a page that is
byte for byte another one (``video_article_01`` is ``cleveland.com1``).

The reference is newspaper4k's output, committed as the expected result of its regression tests:
a reference, not gospel (newspaper keeps a kicker or a caption here and there, and drops a lead
paragraph on one page, as its own test notes).

Usage (from the repo root): bench/extraction_dev3.py [--out DIR]
"""
import argparse
import ast
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "newspaper4k"
VERSION = "0.9.6"
SDIST = f"{PACKAGE}-{VERSION}.tar.gz"
SHA256 = "a3f2f0e017dddb6f1019ee77aaa8980e13e6ecea0b949abc7167aae4770d2d0e"
SCORER = os.path.join(ROOT, "..", "shared", "extraction-dev2", "score.py")


def fetch(src):
    """Downloads the pinned sdist (once) and checks its hash; returns its path."""
    path = os.path.join(src, SDIST)
    if not os.path.exists(path):
        os.makedirs(src, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--no-binary", ":all:", f"{PACKAGE}=={VERSION}", "-d", src], check=True)
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != SHA256:
        sys.exit(f"{path}: sha256 {digest}, expected {SHA256}")
    return path


def read_tests(sdist):
    """The sdist's tests/data files and conftest.py, as {relative path: bytes}."""
    prefix = f"{PACKAGE}-{VERSION}/tests/"
    files = {}
    with tarfile.open(sdist) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.startswith(prefix):
                files[member.name[len(prefix):]] = tar.extractfile(member).read()
    return files


def fixture_pages(conftest):
    """(name, url, lang) triples of conftest's language fixture: the URL and language of the
    pages that have no metadata file."""
    out = {}
    for node in ast.walk(ast.parse(conftest)):
        if isinstance(node, ast.Tuple) and len(node.elts) == 3:
            try:
                name, url, lang = (ast.literal_eval(e) for e in node.elts)
            except ValueError:
                continue
            if all(isinstance(x, str) for x in (name, url, lang)) and url.startswith("http"):
                out[name] = (url, lang)
    return out


def page_attr(page, pattern):
    match = re.search(pattern, page, re.I | re.S)
    return html.unescape(match.group(1)).strip() if match else None


def describe(name, page_bytes, metadata, fixtures):
    """url, title and lang of a page: its metadata file, else the test fixture, else the page."""
    page = page_bytes.decode("utf-8", "replace")
    url, lang = fixtures.get(name, (None, None))
    url = metadata.get("url") or url or page_attr(
        page, r'<link[^>]*rel="canonical"[^>]*href="([^"]+)"')
    title = metadata.get("title") or page_attr(
        page, r'<meta[^>]*property="og:title"[^>]*content="([^"]*)"') or page_attr(
        page, r"<title[^>]*>(.*?)</title>")
    lang = metadata.get("language") or lang or page_attr(page, r'<html[^>]*\slang="([^"]+)"')
    return {"url": url, "title": title, "lang": (lang or "").split("-")[0].lower() or None}


def build(files, out):
    fixtures = fixture_pages(files["conftest.py"])
    names = sorted(p[len("data/html/"):-5] for p in files
                   if p.startswith("data/html/") and p.endswith(".html"))
    seen = {}
    kept, skipped = [], []
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    for name in names:
        page = files[f"data/html/{name}.html"]
        text = files.get(f"data/txt/{name}.txt")
        digest = hashlib.sha256(page).hexdigest()
        if text is None:
            skipped.append(f"{name} (no reference text)")
            continue
        if digest in seen:
            skipped.append(f"{name} (same page as {seen[digest]})")
            continue
        seen[digest] = name
        raw_meta = files.get(f"data/metadata/{name}.json")
        metadata = json.loads(raw_meta) if raw_meta else {}
        record = describe(name, page, metadata, fixtures)
        lines = [" ".join(line.split()) for line in text.decode("utf-8").splitlines()]
        record["articleBody"] = "\n".join(line for line in lines if line)
        record["source_test"] = f"{PACKAGE} {VERSION} tests/data/*/{name}"
        with open(os.path.join(out, name + ".html"), "wb") as f:
            f.write(page)
        with open(os.path.join(out, name + ".json"), "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False, indent=1)
        kept.append(f"{name} ({record['lang']}, {record['url']})")
    # The CV script runs the set's own score.py: dev2's scorer, which takes --data.
    os.symlink(os.path.abspath(SCORER), os.path.join(out, "score.py"))
    return kept, skipped


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "target", "extraction-dev3"))
    ap.add_argument("--src", default=os.path.join(ROOT, "target", "extraction-dev3-src"))
    args = ap.parse_args()
    kept, skipped = build(read_tests(fetch(args.src)), args.out)
    print(f"{args.out}: {len(kept)} pages")
    for line in kept:
        print("  kept", line)
    for line in skipped:
        print("  skipped", line)


if __name__ == "__main__":
    main()
