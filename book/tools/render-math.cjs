// Typesets the book's maths at build time: every \( … \) and \[ … \] in the built HTML
// pages becomes an inline SVG, so the book shows its formulas with no network and no
// JavaScript at read time.
//
// Usage: NODE_PATH=DIR/node_modules node book/tools/render-math.cjs BOOK_DIR
// where DIR holds mathjax-full and jsdom (installed by book/tools/build.sh, never committed) and
// BOOK_DIR is mdBook's output (target/book). Rewrites every BOOK_DIR/*.html in place.
// A formula MathJax cannot parse (an unknown macro, an unbalanced brace) is an error that
// names the page and the formula; the pages are then left as they were.
'use strict';

const fs = require('fs');
const path = require('path');
const { mathjax } = require('mathjax-full/js/mathjax.js');
const { TeX } = require('mathjax-full/js/input/tex.js');
const { SVG } = require('mathjax-full/js/output/svg.js');
const { jsdomAdaptor } = require('mathjax-full/js/adaptors/jsdomAdaptor.js');
const { JSDOM } = require('jsdom');
const { RegisterHTMLHandler } = require('mathjax-full/js/handlers/html.js');
const { AllPackages } = require('mathjax-full/js/input/tex/AllPackages.js');

// Not the two that would hide a mistake: `noerrors` shows bad TeX as text and `noundefined`
// draws an unknown macro in red. Without them a bad formula is an error, and the build fails.
const PACKAGES = AllPackages.filter((name) => name !== 'noerrors' && name !== 'noundefined');

// jsdom parses the pages as a browser would (MathJax's own light parser stops on mdBook's).
const adaptor = jsdomAdaptor(JSDOM);
const failures = [];
RegisterHTMLHandler(adaptor);

// One page's HTML with its maths typeset (MathJax skips <pre>, <code> and <script>).
function typesetPage(html, page) {
  const tex = new TeX({
    packages: PACKAGES,
    inlineMath: [['\\(', '\\)']],
    displayMath: [['\\[', '\\]'], ['$$', '$$']],
    // Record the failure, then let MathJax draw its usual error box so the page still builds.
    formatError: (jax, err) => {
      failures.push(`${page}: ${err.message} in \\(${jax.latex}\\)`);
      return jax.formatError(err);
    },
  });
  // 'local': each formula carries the glyph outlines it uses, so a formula still draws
  // when the print page or a search result shows it away from the rest of its page.
  const svg = new SVG({ fontCache: 'local' });
  const doc = mathjax.document(html, { InputJax: tex, OutputJax: svg });
  doc.render();
  const count = Array.from(doc.math).length;
  const out = adaptor.doctype(doc.document) + '\n' + adaptor.outerHTML(adaptor.root(doc.document));
  return { out, count };
}

function main() {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node render-math.cjs BOOK_DIR');
    process.exit(2);
  }
  const pages = fs.readdirSync(dir).filter((name) => name.endsWith('.html')).sort();
  const rendered = [];
  let total = 0;
  for (const name of pages) {
    const file = path.join(dir, name);
    const { out, count } = typesetPage(fs.readFileSync(file, 'utf8'), name);
    rendered.push([file, out]);
    total += count;
    if (count > 0) console.log(`${String(count).padStart(5)} formulas  ${name}`);
  }
  if (failures.length > 0) {
    for (const failure of failures) console.error(`error: ${failure}`);
    console.error(`error: ${failures.length} formula(s) MathJax could not typeset; pages left as they were`);
    process.exit(1);
  }
  for (const [file, out] of rendered) fs.writeFileSync(file, out);
  console.log(`typeset ${total} formulas in ${pages.length} pages`);
}

try {
  main();
} catch (err) {
  console.error(`error: ${err.message}`);
  process.exit(1);
}
