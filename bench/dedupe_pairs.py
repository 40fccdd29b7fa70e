#!/usr/bin/env python3
"""Builds the labelled dedupe benchmark: pairs of entries from real article texts.

Reads the reference texts of ../shared/extraction-dev and ../shared/extraction-dev2 (articles
of at least MIN_WORDS words, with their titles) and writes one JSON object per line:
{"kind", "same" (the label), "a": {"title", "text"}, "b": {"title", "text"}}.

Positives (the same story): other page furniture, another title, small edits, a credit line,
truncation after a few paragraphs, paragraphs reordered, a live blog grown by updates.
Negatives (different stories, all hard): two articles of one site wrapped in the same
boilerplate, two stories of one event sharing names, places and quotes, a follow-up quoting
the first story, template-heavy short pages, press releases of one institution sharing their
standard paragraphs. Transformations are generic (random, seeded), never written per pair.

Usage: bench/dedupe_pairs.py [OUT.jsonl]   then   cargo run --example dedupe_pairs -- OUT.jsonl
"""

import glob
import json
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "shared")
MIN_WORDS = 120
rng = random.Random(10)


def paragraphs_of(text):
    parts = [p.strip() for p in re.split(r"\n+", text) if p.strip()]
    if len(parts) >= 3:
        return parts
    # One block: cut into paragraphs of about four sentences.
    sentences = re.split(r"(?<=[.!?。])\s+", text.strip())
    return [" ".join(sentences[i : i + 4]) for i in range(0, len(sentences), 4)]


def load_articles():
    articles = []
    for folder in ("extraction-dev", "extraction-dev2"):
        for path in sorted(glob.glob(os.path.join(SHARED, folder, "*.json"))):
            try:
                data = json.load(open(path, encoding="utf-8"))
            except (OSError, ValueError):
                continue
            body = data.get("articleBody") or ""
            if len(body.split()) < MIN_WORDS and data.get("lang") not in ("zh", "ja"):
                continue
            if len(body) < 600:
                continue
            name = os.path.basename(path)[:-5]
            host = (data.get("url") or name).split("//")[-1].split("/")[0]
            title = data.get("title") or " ".join(body.split()[:10])
            articles.append({"id": name, "host": host, "title": title,
                             "paragraphs": paragraphs_of(body)})
    return articles


def text(paragraphs):
    return "\n\n".join(paragraphs)


def entry(title, paragraphs):
    return {"title": title, "text": text(paragraphs)}


FURNITURE = [
    "Share this article on Facebook, Twitter or by email. Sign up for our daily newsletter.",
    "Read more: the latest news from our correspondents around the world.",
    "Advertisement. Continue reading below. Most popular stories this week.",
    "Comments are closed. Subscribe now for unlimited access to all our journalism.",
    "Photo: staff photographer. All rights reserved. Related topics: politics, economy, world.",
]


def other_furniture(article):
    before = rng.sample(FURNITURE, 2)
    after = rng.sample(FURNITURE, 2)
    return entry(article["title"], before[:1] + article["paragraphs"] + after)


def another_title(article):
    words = article["title"].split()
    rng.shuffle(words)
    return entry("Update: " + " ".join(words[: max(2, len(words) // 2)]), article["paragraphs"])


def small_edits(article):
    edited = []
    for paragraph in article["paragraphs"]:
        words = paragraph.split(" ")
        for _ in range(max(1, len(words) // 40)):
            index = rng.randrange(len(words))
            words[index] = rng.choice(["also", "said", "the", "new", words[index].upper()])
        edited.append(" ".join(words).replace("’", "'").replace("“", '"').replace("”", '"'))
    return entry(article["title"], edited)


def credit_line(article):
    credit = rng.choice(["(Reuters)", "With AFP", "Copyright 2026 The Associated Press.",
                         "This story was first published by our partner newsroom."])
    return entry(article["title"], article["paragraphs"] + [credit])


def truncated(article):
    keep, words = [], 0
    for paragraph in article["paragraphs"]:
        keep.append(paragraph)
        words += len(paragraph.split())
        if len(keep) >= 2 and words >= 80:
            break
    return entry(article["title"], keep + ["Read the full story on our website."])


def reordered(article):
    paragraphs = list(article["paragraphs"])
    rng.shuffle(paragraphs)
    return entry(article["title"], paragraphs)


def live_blog(article, donor):
    updates = [f"Update {h}:{m:02d}: " + p for (h, m), p in
               zip([(10, 5), (11, 40)], donor["paragraphs"][:2])]
    return entry(article["title"] + " (live)", updates + article["paragraphs"])


BOILERPLATE = (
    "About us: our newsroom has covered the region since 1921. We are an independent, "
    "reader-funded publication and our journalism is free for everyone to read. If you value "
    "what we do, please consider supporting us with a monthly contribution. Follow us on social "
    "media and sign up to our newsletters to receive the best of our reporting every morning."
)


def first_words(paragraphs, count):
    out, total = [], 0
    for paragraph in paragraphs:
        out.append(paragraph)
        total += len(paragraph.split())
        if total >= count:
            break
    return out


def same_site_boilerplate(a, b):
    return (entry(a["title"], a["paragraphs"] + [BOILERPLATE]),
            entry(b["title"], b["paragraphs"] + [BOILERPLATE]))


def sentences(paragraphs):
    return [s for p in paragraphs for s in re.split(r"(?<=[.!?])\s+", p) if len(s.split()) > 6]


def same_event(a, b):
    # b's own story carrying three of a's sentences (names, places, a quote) among its own.
    borrowed = rng.sample(sentences(a["paragraphs"]), k=min(3, len(sentences(a["paragraphs"]))))
    own = first_words(b["paragraphs"], 250)
    mixed = own[:1] + [" ".join(borrowed[:2])] + own[1:] + borrowed[2:]
    return entry(a["title"], a["paragraphs"]), entry(a["title"].split(":")[0], mixed)


def follow_up(a, b):
    # A later story that quotes the first one's opening paragraph, then says something new.
    quoted = "As we reported yesterday: " + a["paragraphs"][0]
    new = first_words(b["paragraphs"], 300)
    return entry(a["title"], a["paragraphs"]), entry("Follow-up: " + a["title"], [new[0], quoted] + new[1:])


TEMPLATE = ("Gallery: {what}. Click on any picture to see it full size. Share this gallery with "
            "your friends. More galleries: sport, culture, people, weather. Photos by our "
            "readers; send us yours.")


def template_pages(a, b):
    def page(article):
        caption = " ".join(article["paragraphs"][0].split()[:12])
        return entry("Gallery: " + " ".join(article["title"].split()[:5]),
                     [TEMPLATE.format(what=caption)])
    return page(a), page(b)


RELEASE_HEAD = "FOR IMMEDIATE RELEASE. The Institute today announced the following."
RELEASE_TAIL = (
    "About the Institute: the Institute is an independent research organisation founded in "
    "1965. It employs more than 2,000 researchers in 14 countries and publishes over 500 "
    "peer-reviewed studies each year on health, the environment and the economy. Its mission "
    "is to inform public policy with rigorous, transparent and openly published evidence. "
    "Media contact: press office, telephone and email on the Institute's website. Notes to "
    "editors: images are available on request. Embargoed copies of the study can be obtained "
    "from the press office."
)


def press_releases(a, b):
    def release(article):
        body = first_words(article["paragraphs"], rng.randrange(100, 220))
        return entry("The Institute: " + article["title"], [RELEASE_HEAD] + body + [RELEASE_TAIL])
    return release(a), release(b)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "dedupe_pairs.jsonl"
    articles = load_articles()
    pairs = []
    positives = [other_furniture, another_title, small_edits, credit_line, truncated, reordered]
    for index, article in enumerate(articles):
        original = entry(article["title"], article["paragraphs"])
        for make in positives:
            pairs.append({"kind": make.__name__, "same": True, "a": original, "b": make(article)})
        donor = articles[(index + 1) % len(articles)]
        pairs.append({"kind": "live_blog", "same": True, "a": original,
                      "b": live_blog(article, donor)})
    negatives = [same_site_boilerplate, same_event, follow_up, template_pages, press_releases]
    for index, article in enumerate(articles):
        other = articles[(index * 7 + 3) % len(articles)]
        if other is article:
            continue
        for make in negatives:
            a, b = make(article, other)
            pairs.append({"kind": make.__name__, "same": False, "a": a, "b": b})
    with open(out, "w", encoding="utf-8") as handle:
        for pair in pairs:
            handle.write(json.dumps(pair, ensure_ascii=False) + "\n")
    print(f"{len(articles)} articles, {len(pairs)} pairs written to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
