// Helpers for the end-to-end suite: the patchbay server, a local upstream, a webhook
// receiver, the static site (served by patchbay itself, or `vite preview` as a stand-in).
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer as createNetServer } from 'node:net';

export const ROOT = resolve(import.meta.dirname, '..');

/** Starts `patchbay serve` on a fresh data dir and port; resolves with its base URL and login URL. */
export async function startPatchbay(bin, { log }) {
  if (!existsSync(bin)) throw new Error(`patchbay binary not found at ${bin} (set PATCHBAY_BIN)`);
  const dataDir = mkdtempSync(join(tmpdir(), 'patchbay-e2e-'));
  const args = ['--data-dir', dataDir, '--listen', '127.0.0.1:0', '--allow-private-networks', 'serve'];
  log(`starting ${bin} ${args.join(' ')}`);
  const child = spawn(bin, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATCHBAY_LOG_LEVEL: process.env.PATCHBAY_LOG_LEVEL || 'warn', NO_COLOR: '1' },
  });
  let output = '';
  const found = await new Promise((resolveFound, reject) => {
    const timer = setTimeout(() => reject(new Error(`patchbay printed no login URL within 60 s:\n${output}`)), 60_000);
    const scan = (chunk) => {
      output += chunk.toString();
      // "Log in to GraphiQL by opening: http://127.0.0.1:PORT/graphql#token=pbk_…"
      const login = output.match(/(https?:\/\/[^\s#]+)(#token=([A-Za-z0-9_.~-]+))/);
      const base = output.match(/GraphiQL:\s+(https?:\/\/[^\s/]+(?::\d+)?)/) || output.match(/(https?:\/\/127\.0\.0\.1:\d+)/);
      if (login && base) {
        clearTimeout(timer);
        resolveFound({ base: base[1].replace(/\/$/, ''), loginUrl: login[1] + login[2], token: login[3] });
      }
    };
    child.stdout.on('data', scan);
    child.stderr.on('data', scan);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`patchbay exited with ${code} before it was ready:\n${output}`));
    });
  });
  return { ...found, dataDir, child, output: () => output };
}

const PAGED_TOTAL = 23;

/**
 * A local upstream API for the integration: GET / (connection check), GET /health (health
 * checks; answers 503 after `setHealthy(false)`), GET /items, and GET /pages?page=&limit=
 * (23 records in pages, for syncs).
 */
export async function startUpstream() {
  const requests = [];
  let healthy = true;
  const server = createServer((req, res) => {
    requests.push({ method: req.method, url: req.url, headers: req.headers });
    if (req.url?.startsWith('/health') && !healthy) {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: false }));
    } else if (req.url === '/' || req.url?.startsWith('/health')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true }));
    } else if (req.url?.startsWith('/pages')) {
      // A paginated collection for syncs: ?page=N (from 1) &limit=M, 23 records, each page
      // answered after 300 ms so a run's progress can be watched.
      const url = new URL(req.url, 'http://upstream');
      const page = Math.max(1, Number(url.searchParams.get('page')) || 1);
      const limit = Math.min(100, Math.max(1, Number(url.searchParams.get('limit')) || 10));
      const items = [];
      for (let i = (page - 1) * limit; i < Math.min(PAGED_TOTAL, page * limit); i++) items.push({ id: `rec-${i + 1}`, title: `Record ${i + 1}` });
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ page, items }));
      }, 300);
    } else if (req.url?.startsWith('/items')) {
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'e2e' });
      res.end(JSON.stringify({ items: [{ id: 1, title: 'first item' }, { id: 2, title: 'second item' }] }));
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'not found' }));
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    pagedTotal: PAGED_TOTAL,
    setHealthy: (value) => { healthy = value; },
    close: () => new Promise((r) => server.close(r)),
  };
}

/** A webhook receiver that records every POST and answers 200. */
export async function startReceiver() {
  const received = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ url: req.url, headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('received');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/hook`, received, close: () => new Promise((r) => server.close(r)) };
}

export async function freePort() {
  const srv = createNetServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

async function fetchText(url, headers = {}) {
  try {
    const res = await fetch(url, { headers, redirect: 'manual' });
    return { status: res.status, text: await res.text(), headers: res.headers };
  } catch {
    return { status: 0, text: '', headers: new Headers() };
  }
}

/**
 * Where the pages come from. `server`: patchbay serves the dashboard at `/` and GraphiQL at
 * GET /graphql (Accept: text/html). `preview`: `vite preview` serves dist/ (with the CSP)
 * and proxies /graphql to patchbay. `auto` (default) uses the server when it serves them.
 */
export async function resolveSite(patchbayBase, mode, { log }) {
  const html = { Accept: 'text/html' };
  const root = await fetchText(patchbayBase + '/', html);
  const serverHasDashboard = root.status === 200 && root.text.includes('patchbay-dashboard');
  if (mode === 'server' || (mode === 'auto' && serverHasDashboard)) {
    if (!serverHasDashboard) throw new Error('PATCHBAY_E2E_SITE=server but the server does not serve the dashboard at /');
    const gq = await fetchText(patchbayBase + '/graphql', html);
    const graphiqlPath = gq.text.includes('patchbay-graphiql') ? '/graphql' : '/graphiql.html';
    const csp = root.headers.get('content-security-policy');
    if (!csp) log('WARNING: the server sends no Content-Security-Policy with the dashboard');
    return { base: patchbayBase, graphiqlPath, mode: 'server', csp, close: async () => {} };
  }
  log('the server does not serve the dashboard yet: serving dist/ with `vite preview` (CSP on, /graphql proxied)');
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'preview', '--port', String(port), '--strictPort'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATCHBAY_URL: patchbayBase },
  });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const r = await fetchText(base + '/', html);
    if (r.status === 200) {
      return {
        base, graphiqlPath: '/graphiql.html', mode: 'preview', csp: r.headers.get('content-security-policy'),
        close: async () => { child.kill('SIGTERM'); },
      };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGTERM');
  throw new Error(`vite preview did not start:\n${out}`);
}

export async function gql(base, token, query, variables = {}) {
  const res = await fetch(base + '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return res.json();
}

export async function waitFor(fn, { timeout = 15_000, interval = 200, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, interval));
  }
  throw new Error(`timed out waiting for ${what}${last instanceof Error ? ': ' + last.message : ''}`);
}
