// Uppy Companion's S3 signing route, served over HTTP for `wrk`: the request
// Uppy's AwsS3 plugin sends Companion for a plain (non-multipart) upload,
// `GET /s3/params?filename=…&type=…&metadata[…]=…`, answered with a POST
// policy (createPresignedPost). Companion as documented for an existing
// express app, S3 configured with static keys; nothing reaches S3 (it signs).
//
//   node companion.mjs <port>
// prints one JSON line once listening ({url, method, body, content_type})
// and runs until killed (SIGTERM ends it at once). Its logs go to stderr.
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Companion's logger writes to stdout with console.log; stdout is ours.
console.log = console.error;
const { default: express } = await import('express');
const companion = await import('@uppy/companion');

const port = Number(process.argv[2] || 3020);
const host = '127.0.0.1';
const { app: companionApp } = companion.app({
  secret: 'bench-companion-secret',
  filePath: mkdtempSync(join(tmpdir(), 'companion-bench-')),
  server: { host: `${host}:${port}`, protocol: 'http' },
  uploadUrls: ['http://127.0.0.1:9000/'],
  corsOrigins: ['http://127.0.0.1:3000'],
  s3: {
    key: 'AKIAIOSFODNN7EXAMPLE',
    secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    bucket: 'courier',
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9000',
    forcePathStyle: true,
    acl: 'private',
    expires: 900,
    // Courier's key shape: uploads/<uuid>/<file name>.
    getKey: ({ filename }) => `uploads/${randomUUID()}/${filename}`,
  },
});

const app = express();
app.use(companionApp);
app.listen(port, host, () => {
  // What @uppy/aws-s3's CompanionS3.putObject sends for a file whose meta
  // is Uppy's default (name, type): URLSearchParams-encoded.
  const query = new URLSearchParams({
    filename: 'holiday photo.jpg',
    type: 'image/jpeg',
    'metadata[name]': 'holiday photo.jpg',
    'metadata[type]': 'image/jpeg',
  });
  console.error(`companion: listening on http://${host}:${port}`);
  process.stdout.write(
    JSON.stringify({ url: `http://${host}:${port}/s3/params?${query}`, method: 'GET', body: null, content_type: null }) + '\n',
  );
});
