#!/usr/bin/env bash
# bench/extraction.sh: scores tributary's extractor, the naive <body> baseline, trafilatura
# (Python) and the Rust crates dom_smoothie, rs-trafilatura and trafilatura (trafilatura-rs) on
# ../shared/extraction-dev in one run; prints precision, recall, F1, pages per CPU-second
# (extraction loop, and whole process incl. start-up) and F1 per language. Peers are installed
# throw-away under target/bench-peers/ (never in Cargo.toml); a peer that cannot be installed
# or built gets a "not measured: <reason>" row instead of stopping the run.
#
# Usage: bench/extraction.sh            (from anywhere; run from the repo root)
#        SKIP_PEERS=1 bench/extraction.sh   only tributary and the baseline
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DATA=${DATA:-../shared/extraction-dev}
# The project's own set (bench/extraction-dev4) has extraction-dev's format and scorer.
SCORER=$DATA/score.py
[ -e "$SCORER" ] || SCORER=../shared/extraction-dev/score.py
OUT=target/bench-extraction
PEERS=target/bench-peers
mkdir -p "$OUT" "$PEERS"
rm -f "$OUT"/*.json "$OUT"/*.log "$OUT"/*.time "$OUT"/*.reason "$OUT"/*.label

echo "== building tributary (release)"
cargo build --release --quiet --bin tributary --example extract_batch || exit 1
if target/release/tributary extract --help 2>/dev/null | grep -q -- '--batch'; then
    TRIBUTARY="$ROOT/target/release/tributary extract --batch {in} {out}"
else
    TRIBUTARY="$ROOT/target/release/examples/extract_batch {in} {out}"
fi
BASELINE="$ROOT/target/release/examples/extract_batch --baseline {in} {out}"

# --- peers -------------------------------------------------------------------------------
# build_rust_peer DIR BIN DEPENDENCY_LINE < extract_text.rs: writes a throw-away cargo project
# under $PEERS/DIR whose main.rs is the common batch driver below plus the peer's
# `fn extract_text(&str) -> String` read from stdin; builds it into $PEERS/rust-target and sets
# PEER_COMMAND (empty if the build failed: $OUT/DIR.reason then says why, for the table) and
# $OUT/DIR.label (crate name and resolved version, from the generated Cargo.lock).
build_rust_peer() {
    local dir=$1 bin=$2 dependency=$3 crate
    crate=${dependency%% *}
    echo "== building $dir peer under $PEERS/$dir"
    mkdir -p "$PEERS/$dir/src"
    cat >"$PEERS/$dir/Cargo.toml" <<TOML
[package]
name = "$bin"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
$dependency
encoding_rs = "0.8"
chardetng = "1"
TOML
    { cat <<'RS'
//! Benchmark peer behind the scorer's batch interface (IN_DIR OUT_DIR).
use std::time::Instant;

/// BOM, valid UTF-8, else chardetng's guess (the peers take text, not bytes).
fn decode(bytes: &[u8]) -> String {
    if let Some((encoding, _)) = encoding_rs::Encoding::for_bom(bytes) {
        return encoding.decode(bytes).0.into_owned();
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_string();
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let encoding = detector.guess(None, chardetng::Utf8Detection::Allow);
    encoding.decode(bytes).0.into_owned()
}

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (in_dir, out_dir) = (&args[1], &args[2]);
    let mut pages: Vec<_> = std::fs::read_dir(in_dir).unwrap()
        .filter_map(|e| e.ok()).map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "html")).collect();
    pages.sort();
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    for path in pages {
        let html = decode(&std::fs::read(&path).unwrap_or_default());
        // A peer that panics on a page scores an empty text for it, like a failed extraction.
        let text = std::panic::catch_unwind(|| extract_text(&html)).unwrap_or_default();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        std::fs::write(format!("{out_dir}/{name}.txt"), text).unwrap();
    }
    let timing = format!("{{\"seconds\": {}, \"cpu_seconds\": {}}}",
        wall.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    std::fs::write(format!("{out_dir}/timing.json"), timing).unwrap();
}

RS
      cat; } >"$PEERS/$dir/src/main.rs"
    PEER_COMMAND=""
    if CARGO_TARGET_DIR="$PEERS/rust-target" cargo build --release --quiet \
        --manifest-path "$PEERS/$dir/Cargo.toml" >"$PEERS/$dir-build.log" 2>&1; then
        PEER_COMMAND="$ROOT/$PEERS/rust-target/release/$bin {in} {out}"
        echo "$crate $(grep -A1 "^name = \"$crate\"\$" "$PEERS/$dir/Cargo.lock" \
            | sed -n 's/^version = "\(.*\)"/\1/p') (Rust$([ "$dir" = "$crate" ] || echo ", $dir"))" \
            >"$OUT/$dir.label"
    else
        echo "   $dir could not be built (see $PEERS/$dir-build.log)"
        echo "not measured: build failed, $(grep -m1 '^error' "$PEERS/$dir-build.log" \
            | cut -c1-100)" >"$OUT/$dir.reason"
    fi
}

TRAFILATURA=""
DOM_SMOOTHIE=""
RS_TRAFILATURA=""
TRAFILATURA_RS=""
if [ -z "${SKIP_PEERS:-}" ]; then
    echo "== installing trafilatura into $PEERS/venv"
    if [ ! -x "$PEERS/venv/bin/python" ]; then python3 -m venv "$PEERS/venv"; fi
    if "$PEERS/venv/bin/pip" install -q trafilatura lxml_html_clean >"$PEERS/pip.log" 2>&1 \
        && "$PEERS/venv/bin/python" -c 'import trafilatura' 2>>"$PEERS/pip.log"; then
        cat >"$PEERS/trafilatura_batch.py" <<'PY'
"""Batch interface for trafilatura: IN_DIR OUT_DIR -> OUT_DIR/NAME.txt + timing.json."""
import json, os, sys, time
import trafilatura

in_dir, out_dir = sys.argv[1], sys.argv[2]
names = sorted(n for n in os.listdir(in_dir) if n.endswith(".html"))
wall, cpu = time.perf_counter(), time.process_time()
for name in names:
    with open(os.path.join(in_dir, name), "rb") as f:
        data = f.read()
    # The set's NAME.json beside the page (the link's target) gives its URL, as the sets'
    # READMEs ran trafilatura: extract(page, url=url, include_comments=False).
    meta = os.path.realpath(os.path.join(in_dir, name))[:-5] + ".json"
    try:
        with open(meta, encoding="utf-8") as f:
            url = json.load(f).get("url")
    except (OSError, ValueError):
        url = None
    try:
        text = trafilatura.extract(data, url=url, include_comments=False) or ""
    except Exception:
        text = ""
    with open(os.path.join(out_dir, name[:-5] + ".txt"), "w", encoding="utf-8") as f:
        f.write(text)
with open(os.path.join(out_dir, "timing.json"), "w") as f:
    json.dump({"seconds": time.perf_counter() - wall, "cpu_seconds": time.process_time() - cpu}, f)
PY
        TRAFILATURA="$ROOT/$PEERS/venv/bin/python $ROOT/$PEERS/trafilatura_batch.py {in} {out}"
        echo "trafilatura $("$PEERS/venv/bin/python" -c 'import trafilatura; print(trafilatura.__version__)') (Python)" \
            >"$OUT/trafilatura.label"
    else
        echo "   trafilatura could not be installed (see $PEERS/pip.log)"
        echo "not measured: pip install failed, see $PEERS/pip.log" >"$OUT/trafilatura.reason"
    fi

    # Rust peers: one throw-away cargo project each, same driver (decode, loop, timing.json),
    # only `extract_text` differs. A peer that does not build gets a "not measured" row.
    build_rust_peer dom_smoothie dom-smoothie-batch 'dom_smoothie = "0.19"' <<'RS'
/// Readability port: takes text; `text_content` is the article's plain text.
fn extract_text(html: &str) -> String {
    dom_smoothie::Readability::new(html, None, None)
        .ok()
        .and_then(|mut readability| readability.parse().ok())
        .map(|article| article.text_content.to_string())
        .unwrap_or_default()
}
RS
    DOM_SMOOTHIE=$PEER_COMMAND
    build_rust_peer rs-trafilatura rs-trafilatura-batch 'rs-trafilatura = "0.2"' <<'RS'
/// Defaults (comments excluded, tables kept, fallback on), like trafilatura's own defaults.
/// Fed the shared decoder's text rather than `extract_bytes`, whose own sniffing only reads
/// `<meta>` and assumes UTF-8 otherwise: the comparison is about extraction, not charsets.
fn extract_text(html: &str) -> String {
    rs_trafilatura::extract_with_options(html, &rs_trafilatura::Options::default())
        .map(|result| result.content_text)
        .unwrap_or_default()
}
RS
    RS_TRAFILATURA=$PEER_COMMAND
    build_rust_peer trafilatura-rs trafilatura-rs-batch 'trafilatura = "0.6"' <<'RS'
/// Fallback on and comments excluded, matching the Python run's `extract(...)` defaults.
fn extract_text(html: &str) -> String {
    let options = trafilatura::Options::default()
        .with_fallback(true)
        .with_exclude_comments(true);
    trafilatura::extract(html, &options)
        .map(|result| result.content_text)
        .unwrap_or_default()
}
RS
    TRAFILATURA_RS=$PEER_COMMAND
fi

# --- runs --------------------------------------------------------------------------------
run() {
    local name=$1 command=$2
    if [ -z "$command" ]; then
        [ -e "$OUT/$name.reason" ] || echo "not measured: ${SKIP_PEERS:+SKIP_PEERS set}" \
            >"$OUT/$name.reason"
        cat "$OUT/$name.reason" >"$OUT/$name.log"
        return
    fi
    echo "== $name"
    python3 "$SCORER" --data "$DATA" \
        --batch-cmd "/usr/bin/time -f '%U %S' -o $ROOT/$OUT/$name.time $command" \
        --per-doc "$OUT/$name.json" >"$OUT/$name.log" 2>&1
    grep -E 'precision|extraction loop' "$OUT/$name.log" | sed 's/^/   /'
    [ -e "$OUT/$name.json" ] || echo "not measured: the batch run failed, see $OUT/$name.log" \
        >"$OUT/$name.reason"
}
run tributary "$TRIBUTARY"
run baseline-body "$BASELINE"
run trafilatura "$TRAFILATURA"
run dom_smoothie "$DOM_SMOOTHIE"
run rs-trafilatura "$RS_TRAFILATURA"
run trafilatura-rs "$TRAFILATURA_RS"

# --- table -------------------------------------------------------------------------------
python3 - "$OUT" "$DATA" <<'PY'
import json, os, re, sys
out, data = sys.argv[1], sys.argv[2]
names = ["tributary", "baseline-body", "trafilatura", "dom_smoothie", "rs-trafilatura",
         "trafilatura-rs"]
langs = {}
for f in os.listdir(data):
    if f.endswith(".json"):
        langs[f[:-5]] = json.load(open(os.path.join(data, f), encoding="utf-8")).get("lang", "und")
def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)
main_langs = ["en", "de", "es", "fr", "pl", "pt"]
print("\n| extractor | precision | recall | F1 | pages/CPU-s (loop) | pages/CPU-s (process) | " + " | ".join("F1 " + l for l in main_langs) + " | F1 other |")
print("|---" * (7 + len(main_langs)) + "|")
for name in names:
    label_file = os.path.join(out, name + ".label")
    label = open(label_file).read().strip() if os.path.exists(label_file) else name
    per_doc = os.path.join(out, name + ".json")
    if not os.path.exists(per_doc):
        reason_file = os.path.join(out, name + ".reason")
        reason = open(reason_file).read().strip() if os.path.exists(reason_file) else "not measured"
        print(f"| {label} | {reason} |" + " |" * (5 + len(main_langs)))
        continue
    docs = json.load(open(per_doc, encoding="utf-8"))
    totals, by_lang = [0, 0, 0], {}
    for doc, v in docs.items():
        lang = langs.get(doc, "und")
        lang = lang if lang in main_langs else "other"
        counts = by_lang.setdefault(lang, [0, 0, 0])
        for i, key in enumerate(["tp", "fp", "fn"]):
            totals[i] += v[key]; counts[i] += v[key]
    p, r, f = prf(*totals)
    if all("has_pred" in v for v in docs.values()):
        # A full-text scorer (extraction-dev2's): precision is averaged over the pages with a
        # prediction and recall over all pages, as its own overall line does.
        with_pred = [v["precision"] for v in docs.values() if v["has_pred"]]
        p = sum(with_pred) / len(with_pred) if with_pred else 0.0
        r = sum(v["recall"] for v in docs.values()) / len(docs) if docs else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
    log = open(os.path.join(out, name + ".log")).read()
    loop = re.search(r"\(([\d.]+) pages per CPU-second\)", log)
    loop = f"{float(loop.group(1)):.0f}" if loop else "n/a"
    proc = "n/a"
    tfile = os.path.join(out, name + ".time")
    if os.path.exists(tfile):
        user, system = map(float, open(tfile).read().split()[-2:])
        proc = f"{len(docs) / (user + system):.0f}" if user + system else "n/a"
    lang_f1 = [f"{prf(*by_lang[l])[2]:.3f}" if l in by_lang else "-" for l in main_langs + ["other"]]
    print(f"| {label} | {p:.3f} | {r:.3f} | {f:.3f} | {loop} | {proc} | " + " | ".join(lang_f1) + " |")
PY
echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
