// A link for the browser: a forward HTTP proxy on 127.0.0.1 that holds all
// the response bodies it carries, together, to <bytes per second>, as a
// network link would. bench/run.py puts the browsers behind it (Chromium's
// --proxy-server, Firefox's proxy preferences) to time downloads at a
// link's rate rather than loopback's.
//   node bench/link-proxy.mjs <bytes per second>
// Prints its port on the first line of stdout; runs until it is stopped.
import { createServer, request } from "node:http";
import { Transform } from "node:stream";

const rate = Number(process.argv[2]);
if (!(rate > 0)) {
  console.error("usage: node bench/link-proxy.mjs <bytes per second>");
  process.exit(2);
}

// When the link is free next, in ms: each chunk takes its turn, whatever its connection.
let nextFree = 0;
const held = () => new Transform({
  transform(chunk, _encoding, done) {
    const now = performance.now();
    const start = Math.max(nextFree, now);
    nextFree = start + (chunk.length / rate) * 1000;
    if (start - now > 1) setTimeout(() => done(null, chunk), start - now);
    else done(null, chunk);
  },
});

const server = createServer((incoming, outgoing) => {
  let target;
  try {
    target = new URL(incoming.url);
  } catch {
    return outgoing.writeHead(400).end("a proxy request has an absolute URL");
  }
  const upstream = request({
    host: target.hostname, port: target.port, method: incoming.method,
    path: target.pathname + target.search, headers: incoming.headers,
  }, (answer) => {
    outgoing.writeHead(answer.statusCode, answer.headers);
    answer.pipe(held()).pipe(outgoing);
  });
  upstream.on("error", () => outgoing.destroy());
  incoming.pipe(upstream);
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
