#!/usr/bin/env python3
"""bench/soak_farm.py: a loopback feed farm whose feeds grow with time, for bench/soak.sh.

Feed N (/feed/N.xml) gains one entry every PERIOD seconds (pairs 0-1, 4-5... fast, the others slow)
and lists its newest LISTED entries, each with a few KB of text unique to it. Every 4th entry of
feeds 2k and 2k+1 links to the same page (/wire/k/I): the same story through two feeds, which
tributary merges. Answers carry an ETag and honour If-None-Match (304), as real feeds do.

Time is frozen when the file FREEZE exists (its content: the epoch second to freeze at), so the
soak can stop the growth, let the daemon catch up, and check what every feed lists.

    soak_farm.py PORT FEEDS FAST_PERIOD SLOW_PERIOD LISTED START_EPOCH FREEZE_FILE
    soak_farm.py --listing FEEDS FAST_PERIOD SLOW_PERIOD LISTED START_EPOCH AT_EPOCH
        (prints "feed<TAB>guid<TAB>link" for every listed entry at AT_EPOCH)
"""
import hashlib
import os
import random
import sys
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WORDS = ("river delta harbour council budget winter school market railway bridge vote "
         "museum festival drought harvest storm court hospital minister station league "
         "summit treaty energy forest village island factory strike election bakery").split()


def period(feed, fast, slow):
    return fast if (feed // 2) % 2 == 0 else slow


def entry_count(feed, fast, slow, start, now):
    return max(0, int((now - start) // period(feed, fast, slow)))


def entry(feed, index, fast, slow, start):
    """guid, link, title, published epoch, text of entry `index` of `feed`."""
    guid = f"soak-{feed}-{index}"
    if index % 4 == 0:
        link = f"/wire/{feed // 2}/{index}"
    else:
        link = f"/story/{feed}/{index}"
    rng = random.Random(f"{feed}/{index}")
    if index % 4 == 0:
        rng = random.Random(link)
    text = " ".join(rng.choice(WORDS) + str(rng.randrange(1000)) for _ in range(600))
    published = start + (index + 1) * period(feed, fast, slow)
    return guid, link, f"Story {index} of feed {feed}", published, text


def listing(feed, fast, slow, listed, start, now):
    count = entry_count(feed, fast, slow, start, now)
    return [entry(feed, index, fast, slow, start)
            for index in range(count - 1, max(-1, count - 1 - listed), -1)]


def render(feed, base, entries):
    items = []
    for guid, link, title, published, text in entries:
        items.append(
            f"<item><guid isPermaLink=\"false\">{guid}</guid><title>{title}</title>"
            f"<link>{base}{link}</link><pubDate>{formatdate(published, usegmt=True)}</pubDate>"
            f"<description>{text}</description></item>")
    return (f"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel>"
            f"<title>Soak feed {feed}</title><link>{base}/</link><description>soak</description>"
            + "".join(items) + "</channel></rss>").encode()


def main():
    if sys.argv[1] == "--listing":
        feeds, fast, slow, listed, start = (int(a) for a in sys.argv[2:7])
        at = float(sys.argv[7])
        for feed in range(feeds):
            for guid, link, *_ in listing(feed, fast, slow, listed, start, at):
                print(f"{feed}\t{guid}\t{link}")
        return
    port, feeds, fast, slow, listed, start = (int(a) for a in sys.argv[1:7])
    freeze = sys.argv[7]
    base = f"http://127.0.0.1:{port}"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            now = time.time()
            if os.path.exists(freeze):
                with open(freeze) as f:
                    now = float(f.read().strip() or now)
            parts = self.path.strip("/").split("/")
            if len(parts) == 2 and parts[0] == "feed" and parts[1].endswith(".xml"):
                feed = int(parts[1][:-4])
                if feed >= feeds:
                    return self.send_error(404)
                body = render(feed, base, listing(feed, fast, slow, listed, start, now))
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_error(404)

    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
