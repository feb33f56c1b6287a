// Regenerates the typed GraphQL documents into a temporary folder and fails when the
// checked-in src/gql/ differs (schema.graphql or an operation changed without `npm run codegen`).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffDirs } from './diff-dirs.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'patchbay-codegen-'));
try {
  execFileSync('npx', ['graphql-codegen', '--config', 'codegen.mjs', '--silent'], {
    stdio: 'inherit',
    env: { ...process.env, CODEGEN_OUT: tmp + '/' },
  });
  const problems = diffDirs('src/gql', tmp);
  if (problems.length) {
    console.error('src/gql is stale (run `npm run codegen`):');
    for (const p of problems) console.error('  ' + p);
    process.exit(1);
  }
  console.log('codegen:check: src/gql is current');
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
