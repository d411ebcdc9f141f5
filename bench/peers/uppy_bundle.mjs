// Uppy's weight in the browser: @uppy/core + @uppy/dashboard (inline) +
// @uppy/aws-s3 (through Companion), with the CSS Uppy's docs import, bundled
// and minified by esbuild for the browser into a temp dir. Prints the bytes
// as one JSON object, totals over JS + CSS (gzip level 9, brotli quality 11):
//   {"js_bytes": …, "css_bytes": …, "raw_bytes": …, "gzip_bytes": …, "brotli_bytes": …}
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'uppy-bundle-'));
const entry = join(dir, 'entry.js');
writeFileSync(
  entry,
  `import Uppy from '@uppy/core';
import Dashboard from '@uppy/dashboard';
import AwsS3 from '@uppy/aws-s3';
import '@uppy/core/css/style.min.css';
import '@uppy/dashboard/css/style.min.css';

new Uppy({ restrictions: { maxFileSize: 100 * 1024 * 1024 } })
  .use(Dashboard, { inline: true, target: '#uploader' })
  .use(AwsS3, { companionEndpoint: 'http://127.0.0.1:3020' });
`,
);

try {
  await build({
    entryPoints: [entry],
    outdir: join(dir, 'out'),
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    nodePaths: [join(here, 'node_modules')],
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  const js = readFileSync(join(dir, 'out', 'entry.js'));
  const css = readFileSync(join(dir, 'out', 'entry.css'));
  const both = [js, css];
  const sum = (f) => both.reduce((n, b) => n + f(b).length, 0);
  const result = {
    js_bytes: js.length,
    css_bytes: css.length,
    raw_bytes: js.length + css.length,
    gzip_bytes: sum((b) => gzipSync(b, { level: 9 })),
    brotli_bytes: sum((b) =>
      brotliCompressSync(b, {
        params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: b.length },
      }),
    ),
  };
  console.log(JSON.stringify(result));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
