#!/usr/bin/env python3
"""bench/extraction_cv.py: site-level cross-validation of the extractor on both dev sets.

Hosts (not pages) are split into K folds by a stable hash of the host name (``www.`` dropped),
so every page of a site lands in the same fold. Folds 0..T-1 are the *tuning* hosts: the only
pages whose per-page failures a developer reads while changing rules. The other folds are the
*unseen* hosts: judged by their aggregate figures only. A change is kept only when it helps (or
does not hurt) the unseen folds of both sets; the CV gap is F1(tuning) - F1(unseen).

Each binary runs ``BIN extract --batch IN OUT`` once per set; the sets' own scorers score it:
``../shared/extraction-dev`` (snippets, micro-averaged counts) and ``../shared/extraction-dev2``
(4-gram shingles of the full reference text, precision and recall macro-averaged over pages),
and, when ``bench/extraction_dev3.py`` has built it, ``target/extraction-dev3`` (newspaper4k's
test pages, scored by dev2's scorer): a development set read page by page, so all of its pages
count as tuning hosts (fold 0) and it has no unseen side; and ``bench/extraction-dev4`` (pages
written and annotated for the project, blind to the extractor; snippets), split into folds by
host like the first two.

Usage (from the repo root):
    bench/extraction_cv.py target/release/tributary
    bench/extraction_cv.py --before /work/notes/tributary-release-base target/release/tributary
    bench/extraction_cv.py --peer "trafilatura=target/bench-peers/venv/bin/python target/bench-peers/trafilatura_batch.py {in} {out}" BIN
Options: --folds K (5), --tune T (3), --hosts (F1 per host for the tuning folds only),
--changed (tuning pages whose F1 changed against --before, with their fold; unseen
pages are only counted).
"""
import argparse
import hashlib
import json
import os
import shlex
import subprocess
import sys
import tempfile
from urllib.parse import urlparse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEV1 = os.environ.get("DEV1", os.path.join(ROOT, "..", "shared", "extraction-dev"))
DEV2 = os.environ.get("DEV2", os.path.join(ROOT, "..", "shared", "extraction-dev2"))
# Built by bench/extraction_dev3.py (newspaper4k's test pages); every page is tuning data.
DEV3 = os.environ.get("DEV3", os.path.join(ROOT, "target", "extraction-dev3"))
# Pages written for the project, annotated before anyone ran the extractor on them (snippets,
# scored by extraction-dev's scorer): see bench/extraction-dev4/README.md.
DEV4 = os.environ.get("DEV4", os.path.join(ROOT, "bench", "extraction-dev4"))


def host_of(url, fallback):
    """The page's host without ``www.``; the page name when the URL is unknown."""
    host = urlparse(url or "").hostname or ""
    host = host[4:] if host.startswith("www.") else host
    return host or "page:" + fallback


def fold_of(host, folds):
    return int(hashlib.sha1(host.encode()).hexdigest(), 16) % folds


def hosts(data):
    out = {}
    for name in os.listdir(data):
        if name.endswith(".json") and not name.startswith("LICENSE"):
            with open(os.path.join(data, name), encoding="utf-8") as f:
                out[name[:-5]] = host_of(json.load(f).get("url"), name[:-5])
    return out


def scorer_of(data):
    """The set's own scorer, else extraction-dev's (the project's own set uses its format)."""
    own = os.path.join(data, "score.py")
    return own if os.path.exists(own) else os.path.join(DEV1, "score.py")


def run_set(command, data, scorer_args, work, cwd=None):
    """Runs a batch command (``{in}``: the pages, ``{out}``: where NAME.txt go) on a set and
    returns the scorer's per-page figures."""
    pages = os.path.join(work, "in")
    out = os.path.join(work, "out")
    os.makedirs(pages, exist_ok=True)
    for name in os.listdir(data):
        if name.endswith(".html"):
            link = os.path.join(pages, name)
            if not os.path.exists(link):
                os.symlink(os.path.abspath(os.path.join(data, name)), link)
    # tributary runs outside the repo (`extract` reads ./config/tributary.toml when there is
    # one); a peer's command runs from the repo root, so its relative paths work.
    os.makedirs(out, exist_ok=True)
    subprocess.run(command.format(**{"in": shlex.quote(pages), "out": shlex.quote(out)}),
                   shell=True, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   cwd=cwd or work)
    per_doc = os.path.join(work, "per-doc.json")
    subprocess.run([sys.executable, scorer_of(data), *scorer_args(data, out),
                    "--per-doc", per_doc], check=True, stdout=subprocess.DEVNULL)
    with open(per_doc, encoding="utf-8") as f:
        return json.load(f)


def snippet_prf(docs):
    tp = sum(d["tp"] for d in docs)
    fp = sum(d["fp"] for d in docs)
    fn = sum(d["fn"] for d in docs)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def shingle_prf(docs):
    with_pred = [d["precision"] for d in docs if d.get("has_pred")]
    p = sum(with_pred) / len(with_pred) if with_pred else 0.0
    r = sum(d["recall"] for d in docs) / len(docs) if docs else 0.0
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


SETS = [
    ("extraction-dev", DEV1, lambda data, out: ["--data", data, "--pred-dir", out], snippet_prf),
    ("extraction-dev2", DEV2, lambda data, out: ["--data", data, "--pred-dir", out], shingle_prf),
    ("extraction-dev3", DEV3, lambda data, out: ["--data", data, "--pred-dir", out], shingle_prf),
    ("extraction-dev4", DEV4, lambda data, out: ["--data", data, "--pred-dir", out], snippet_prf),
]
ALL_TUNING = {"extraction-dev3"}


def fmt(prf):
    return f"{prf[2]:.3f} ({prf[0]:.3f}/{prf[1]:.3f})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("binary")
    ap.add_argument("--before", help="a second binary to compare against (e.g. main's)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--tune", type=int, default=3, help="folds 0..T-1 are the tuning hosts")
    ap.add_argument("--hosts", action="store_true", help="F1 per host, tuning folds only")
    ap.add_argument("--changed", action="store_true",
                    help="with --before: pages whose F1 changed (names and folds only)")
    ap.add_argument("--peer", action="append", default=[], metavar="LABEL=COMMAND",
                    help="another extractor's batch command ({in} {out}), scored on the same "
                         "folds: its own gap shows how much of ours is the folds' difficulty")
    args = ap.parse_args()
    batch = "{} extract --batch {{in}} {{out}}"
    binaries = [("after", batch.format(shlex.quote(os.path.abspath(args.binary))), None)]
    if args.before:
        binaries.append(("before", batch.format(shlex.quote(os.path.abspath(args.before))), None))
    binaries += [(*peer.split("=", 1), ROOT) for peer in args.peer]
    with tempfile.TemporaryDirectory() as work:
        for set_name, data, scorer_args, prf in SETS:
            if not os.path.isdir(data):
                print(f"\n## {set_name}: skipped, {data} is absent (dev3: bench/extraction_dev3.py builds it)")
                continue
            page_host = hosts(data)
            fold_of_set = (lambda h, k: 0) if set_name in ALL_TUNING else fold_of
            results = {}
            for label, command, cwd in binaries:
                results[label] = run_set(command, data, scorer_args,
                                         os.path.join(work, set_name + label), cwd)
            print(f"\n## {set_name}: {len(page_host)} pages, {len(set(page_host.values()))} hosts,"
                  f" {args.folds} folds by host (tuning: 0..{args.tune - 1}); F1 (P/R)")
            head = "| fold | pages | " + " | ".join(label for label, _, _ in binaries)
            print(head + (" | delta F1 |" if args.before else " |"))
            print("|---" * (2 + len(binaries) + (1 if args.before else 0)) + "|")
            groups = {f"fold {k}": [n for n, h in page_host.items()
                                    if fold_of_set(h, args.folds) == k] for k in range(args.folds)}
            groups["tuning"] = [n for n, h in page_host.items()
                                if fold_of_set(h, args.folds) < args.tune]
            groups["unseen"] = [n for n, h in page_host.items()
                                if fold_of_set(h, args.folds) >= args.tune]
            groups["all"] = list(page_host)
            figures = {}
            for group, names in groups.items():
                if not names:
                    continue
                row = [prf([results[label][n] for n in names if n in results[label]])
                       for label, _, _ in binaries]
                figures[group] = row
                delta = f" | {row[0][2] - row[1][2]:+.3f}" if args.before else ""
                print(f"| {group} | {len(names)} | " + " | ".join(fmt(x) for x in row)
                      + delta + " |")
            for index, (label, _, _) in enumerate(binaries):
                if set_name in ALL_TUNING:
                    break  # no unseen hosts, no gap
                gap = figures["tuning"][index][2] - figures["unseen"][index][2]
                folds = [figures[f"fold {k}"][index][2] for k in range(args.folds)]
                print(f"CV gap {label} (tuning - unseen): {gap:+.3f}; "
                      f"fold F1 spread {min(folds):.3f}..{max(folds):.3f}")
            if args.changed and args.before:
                # Unseen pages are counted, never named: their failures must not be read.
                unseen_up = unseen_down = 0
                for name in sorted(page_host):
                    after, before = (prf([results[label].get(name)]) if name in results[label]
                                     else (0, 0, 0) for label in ("after", "before"))
                    if abs(after[2] - before[2]) <= 1e-9:
                        continue
                    fold = fold_of_set(page_host[name], args.folds)
                    if fold < args.tune or set_name in ALL_TUNING:
                        print(f"  changed: {name} fold {fold}"
                              f" F1 {before[2]:.3f} -> {after[2]:.3f}")
                    elif after[2] > before[2]:
                        unseen_up += 1
                    else:
                        unseen_down += 1
                if unseen_up or unseen_down:
                    print(f"  changed on unseen hosts: {unseen_up} up, {unseen_down} down")
            if args.hosts:
                tuned = sorted({h for h in page_host.values() if fold_of_set(h, args.folds) < args.tune})
                for host in tuned:
                    names = [n for n, h in page_host.items() if h == host]
                    row = [prf([results[label][n] for n in names]) for label, _, _ in binaries]
                    print(f"  {host}: " + "  ".join(fmt(x) for x in row) + "  " + " ".join(names))


if __name__ == "__main__":
    main()
