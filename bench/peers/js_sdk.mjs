// The AWS SDK for JavaScript v3 doing Courier's signing work in-process:
// createPresignedPost (@aws-sdk/s3-presigned-post) for a POST policy like
// Courier's upload grant, and getSignedUrl (@aws-sdk/s3-request-presigner)
// for a download link. Prints the mean µs per call of each as one JSON object:
//   {"createPresignedPost_us": …, "getSignedUrl_us": …}
// Nothing is sent anywhere: the client only signs.
import { randomUUID } from 'node:crypto';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

const SECONDS = Number(process.env.BENCH_PEER_SECONDS || 2);
const SIZE = 3_500_000;

const client = new S3Client({
  region: 'us-east-1',
  endpoint: 'http://127.0.0.1:9000',
  forcePathStyle: true,
  credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
});

function presignedPost() {
  const key = `uploads/${randomUUID()}/holiday photo.jpg`;
  return createPresignedPost(client, {
    Bucket: 'courier',
    Key: key,
    Fields: {
      'Content-Type': 'image/jpeg',
      acl: 'private',
      success_action_redirect: 'http://127.0.0.1:3000/confirm-upload?token=bench',
      'x-amz-meta-filename': 'holiday photo.jpg',
    },
    Conditions: [['content-length-range', SIZE, SIZE]],
    Expires: 900,
  });
}

function signedGet() {
  const command = new GetObjectCommand({
    Bucket: 'courier',
    Key: 'files/0123456789abcdef/holiday photo.jpg',
    ResponseContentDisposition: `attachment; filename="holiday photo.jpg"; filename*=UTF-8''holiday%20photo.jpg`,
  });
  return getSignedUrl(client, command, { expiresIn: 86400 });
}

/** Mean µs per call over about SECONDS, after a warm-up of a quarter of that. */
async function time(name, f) {
  for (const end = performance.now() + (SECONDS * 1000) / 4; performance.now() < end; ) await f();
  let n = 0;
  const start = performance.now();
  const end = start + SECONDS * 1000;
  // Checks the clock every 64 calls so that reading it costs nothing.
  while (performance.now() < end) for (let i = 0; i < 64; i++, n++) await f();
  const us = ((performance.now() - start) * 1000) / n;
  console.error(`js_sdk: ${name}: ${n} calls, ${us.toFixed(1)} µs each`);
  return us;
}

console.error('js_sdk: sample', JSON.stringify(await presignedPost()), await signedGet());
const result = {
  createPresignedPost_us: await time('createPresignedPost', presignedPost),
  getSignedUrl_us: await time('getSignedUrl', signedGet),
};
console.log(JSON.stringify(result));
