// Bundle size: raw and gzip -9 bytes of what each page loads up front (the HTML, its entry
// script, modulepreloads and stylesheets), and of all of dist/. `npm run size` after a build.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const DIST = resolve(import.meta.dirname, '../dist');
const gz = (buf) => gzipSync(buf, { level: 9 }).length;
const kb = (n) => `${(n / 1000).toFixed(1)} KB`;

function upFront(html) {
  const text = readFileSync(join(DIST, html), 'utf8');
  const files = [html];
  for (const m of text.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)) files.push(m[1]);
  return files;
}

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const rows = [];
for (const [page, html] of [['dashboard', 'index.html'], ['GraphiQL', 'graphiql.html']]) {
  const files = upFront(html);
  let raw = 0;
  let zipped = 0;
  for (const f of files) {
    const buf = readFileSync(join(DIST, f));
    raw += buf.length;
    zipped += gz(buf);
  }
  rows.push([page, files.length, raw, zipped]);
}
const all = walk(DIST);
rows.push(['all of dist/', all.length, ...all.reduce(([r, z], f) => { const b = readFileSync(f); return [r + b.length, z + gz(b)]; }, [0, 0])]);
for (const [page, n, raw, zipped] of rows) console.log(`${page.padEnd(14)} ${String(n).padStart(3)} files  raw ${kb(raw).padStart(10)}  gzip ${kb(zipped).padStart(9)}`);
