// Compares two folders file by file; returns a list of differences (empty when equal).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

function walk(dir, root = dir, out = []) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, root, out);
    else out.push(relative(root, path));
  }
  return out;
}

export function diffDirs(expected, actual) {
  const a = new Set(walk(expected));
  const b = new Set(walk(actual));
  const problems = [];
  for (const f of a) if (!b.has(f)) problems.push(`${f}: checked in but no longer built`);
  for (const f of b) if (!a.has(f)) problems.push(`${f}: built but not checked in`);
  for (const f of a) {
    if (b.has(f) && !readFileSync(join(expected, f)).equals(readFileSync(join(actual, f)))) {
      problems.push(`${f}: differs`);
    }
  }
  return problems;
}
