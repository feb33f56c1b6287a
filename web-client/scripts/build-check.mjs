// Rebuilds into a temporary folder and fails when the checked-in dist/ differs, so the
// assets the Rust binary embeds always match the sources.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffDirs } from './diff-dirs.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'patchbay-dist-'));
try {
  execFileSync('npx', ['vite', 'build', '--outDir', tmp, '--emptyOutDir', '--logLevel', 'warn'], {
    stdio: 'inherit',
  });
  const problems = diffDirs('dist', tmp);
  if (problems.length) {
    console.error('dist/ is stale (run `npm run build` and commit dist/):');
    for (const p of problems) console.error('  ' + p);
    process.exit(1);
  }
  console.log('build:check: dist/ is current');
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
