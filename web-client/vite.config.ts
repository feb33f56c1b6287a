import { defineConfig } from 'vitest/config';
import { resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Plugin } from 'vite';

/**
 * GraphiQL's stylesheet embeds its fonts as `data:` URLs, which the server's CSP
 * (`default-src 'self'`, no `font-src data:`) refuses. This moves each one into its own
 * hashed file under assets/ and points the CSS at it.
 */
function extractDataFonts(): Plugin {
  return {
    name: 'patchbay-extract-data-fonts',
    apply: 'build',
    generateBundle(_options, bundle) {
      for (const asset of Object.values(bundle)) {
        if (asset.type !== 'asset' || !asset.fileName.endsWith('.css')) continue;
        const css = typeof asset.source === 'string' ? asset.source : Buffer.from(asset.source).toString('utf8');
        const out = css.replace(
          /url\((["']?)data:font\/(woff2?|ttf|otf);base64,([A-Za-z0-9+/=]+)\1\)/g,
          (_m, _q, ext: string, b64: string) => {
            const bytes = Buffer.from(b64, 'base64');
            const hash = createHash('sha256').update(bytes).digest('base64url').slice(0, 8);
            const fileName = `assets/font-${hash}.${ext}`;
            if (!bundle[fileName]) this.emitFile({ type: 'asset', fileName, source: bytes });
            return `url(/${fileName})`;
          },
        );
        asset.source = out;
      }
    },
  };
}

/**
 * graphql-codegen's client preset resolves `graphql(`…`)` at run time through a map of every
 * operation's source text to its parsed document, so each operation ships twice and nothing
 * is tree-shaken. This does at build time what the preset's babel plugin does: each call in
 * src/api/operations.ts becomes the generated `…Document` (or `…FragmentDoc`) it stands for.
 * A call without a generated document (stale codegen) fails the build.
 */
function precompiledDocuments(): Plugin {
  const generated = resolve(import.meta.dirname, 'src/gql/graphql.ts');
  return {
    name: 'patchbay-precompiled-documents',
    enforce: 'pre',
    transform(code, id) {
      if (!id.endsWith('/src/api/operations.ts')) return null;
      const exported = readFileSync(generated, 'utf8');
      let replaced = 0;
      const out = code.replace(
        /\bgraphql\(`\s*(query|mutation|subscription|fragment)\s+([A-Za-z_][A-Za-z0-9_]*)[^`]*`\)/g,
        (_call, kind: string, name: string) => {
          const doc = `${name}${kind === 'fragment' ? 'FragmentDoc' : 'Document'}`;
          if (!exported.includes(`export const ${doc} = `)) this.error(`no generated ${doc} for ${kind} ${name}: run npm run codegen`);
          replaced++;
          return `__documents.${doc}`;
        },
      );
      if (!replaced) return null;
      return { code: `import * as __documents from '../gql/graphql';\n${out.replace(/^import \{ graphql \} from '\.\.\/gql';$/m, '')}`, map: null };
    },
  };
}

// `npm run dev` / `npm run preview` forward the API to a running patchbay server.
const target = process.env.PATCHBAY_URL || 'http://127.0.0.1:8080';

/** The Content-Security-Policy the patchbay server sends with these pages (see README). */
export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; " +
  "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
const proxy = {
  '/graphql': { target, changeOrigin: true, ws: true },
  '/hooks': { target, changeOrigin: true },
  '/healthz': { target, changeOrigin: true },
  '/readyz': { target, changeOrigin: true },
};

export default defineConfig({
  base: '/',
  plugins: [extractDataFonts(), precompiledDocuments()],
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  server: { host: '127.0.0.1', port: 5173, strictPort: false, proxy },
  // `vite preview` serves dist/ under the server's CSP, so CSP problems show up locally.
  preview: { host: '127.0.0.1', port: 4173, strictPort: false, proxy, headers: { 'Content-Security-Policy': CSP } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    // The server sends `script-src 'self'`: no inline scripts, so no preload polyfill.
    modulePreload: { polyfill: false },
    // Fonts and images stay files (CSP-friendly, cacheable); only tiny ones inline.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 2048,
    reportCompressedSize: true,
    rolldownOptions: {
      input: {
        index: resolve(import.meta.dirname, 'index.html'),
        graphiql: resolve(import.meta.dirname, 'graphiql.html'),
      },
      onwarn(warning, warn) {
        // framer-motion (GraphiQL) marks modules "use client"; meaningless in a static bundle.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
      output: {
        entryFileNames: 'assets/[name]-[hash].js',
        chunkFileNames: 'assets/[name]-[hash].js',
        assetFileNames: 'assets/[name]-[hash][extname]',
      },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
