#!/usr/bin/env python3
"""Opens every page of the built book in headless Chromium with the network cut off, as a
reader with no connection would, and fails if a page still shows raw TeX.

Usage: python3 book/tools/check-math.py BOOK_DIR BOOK_SRC
  BOOK_DIR  the built book (target/book), after book/tools/render-math.cjs
  BOOK_SRC  its Markdown sources (book/src), to know which pages must hold maths

For each page, the DOM Chromium ends with (--dump-dom) must have
  - no \\( , \\[ or $$ in the text a reader sees (outside code, scripts and styles);
  - no formula MathJax drew as an error;
  - no script, style sheet or image loaded from another host;
  - a typeset formula (an <svg> inside <mjx-container>) if its Markdown source has maths.
Prints one line per page and exits 1 if any page fails.
"""

import concurrent.futures
import html.parser
import os
import shutil
import subprocess
import sys
import tempfile

RAW_TEX = ("\\(", "\\[", "$$")
# Text inside these is not prose a reader takes for maths (code is shown as written).
SKIPPED = {"script", "style", "pre", "code", "noscript", "template", "mjx-container"}
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    # Every request goes to a proxy on a port where nothing listens: no network.
    "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
]


class Page(html.parser.HTMLParser):
    """What one dumped DOM shows: visible text, typeset formulas, errors, remote loads."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []          # open elements whose text we skip
        self.text = []           # visible text, in order
        self.in_math = 0         # depth inside <mjx-container>
        self.drawn = False       # the innermost <mjx-container> has its <svg>
        self.formulas = 0        # <mjx-container> elements holding an <svg>
        self.errors = 0          # formulas MathJax drew as errors
        self.remote = []         # resources loaded from another host

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "mjx-container":
            self.in_math += 1
            self.drawn = False
        if tag == "svg" and self.in_math and not self.drawn:
            self.drawn = True
            self.formulas += 1
        if "data-mjx-error" in attrs or (self.in_math and attrs.get("data-mml-node") == "merror"):
            self.errors += 1
        source = attrs.get("src") if tag in ("script", "img", "iframe") else None
        if tag == "link" and "stylesheet" in (attrs.get("rel") or ""):
            source = attrs.get("href")
        if source and source.startswith(("http:", "https:", "//")):
            self.remote.append(source)
        if tag in SKIPPED:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag == "mjx-container":
            self.in_math -= 1
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        if not self.stack:
            self.text.append(data)


def dump_dom(chromium, page):
    """The page's DOM after Chromium has loaded it and run its scripts."""
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom",
             "file://" + os.path.abspath(page)],
            capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0 or "<html" not in result.stdout:
        sys.exit(f"error: chromium could not open {page}:\n{result.stderr[-2000:]}")
    return result.stdout


def has_maths(source):
    with open(source, encoding="utf-8") as f:
        text = f.read()
    return "\\\\(" in text or "\\\\[" in text


def check(book_dir, book_src, chromium):
    failed = 0
    pages = sorted(p for p in os.listdir(book_dir) if p.endswith(".html"))
    # Two browsers at a time: each spends much of its run starting up and waiting.
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        doms = pool.map(lambda name: dump_dom(chromium, os.path.join(book_dir, name)), pages)
    for name, dom in zip(pages, doms):
        page = Page()
        page.feed(dom)
        text = "".join(page.text)
        problems = []
        for tex in RAW_TEX:
            at = text.find(tex)
            if at >= 0:
                snippet = " ".join(text[max(0, at - 30):at + 50].split())
                problems.append(f"raw TeX {tex} shown: …{snippet}…")
        if page.errors:
            problems.append(f"{page.errors} formula(s) drawn as MathJax errors")
        for url in page.remote:
            problems.append(f"loads {url} from the network")
        source = os.path.join(book_src, name[:-len(".html")] + ".md")
        if os.path.exists(source) and has_maths(source) and page.formulas == 0:
            problems.append(f"{os.path.basename(source)} has maths but the page shows none typeset")
        status = "FAIL" if problems else "ok"
        print(f"{status:4}  {name:22} {page.formulas:4} formulas typeset")
        for problem in problems:
            print(f"      {problem}")
        failed += bool(problems)
    print(f"{len(pages) - failed} of {len(pages)} pages show their maths typeset, offline")
    return failed == 0


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        sys.exit("error: chromium not found (Debian: apt-get install chromium)")
    sys.exit(0 if check(sys.argv[1], sys.argv[2], chromium) else 1)


if __name__ == "__main__":
    main()
