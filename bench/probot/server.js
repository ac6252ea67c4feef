// Probot target for bench/run (issue 13): a Probot 14 app with one `push` handler that only
// counts, served by Probot's own `Server` (as `probot run` serves an app), offline.
//
// bench/run installs probot@14 into a temporary folder, copies this file there and runs it
// with node. Environment:
//   BENCH_LISTEN      HOST:PORT to listen on (default 127.0.0.1:0: a free port)
//   APP_ID            any app id (default 1)
//   PRIVATE_KEY_PATH  a throwaway RSA key (bench/run generates one with openssl); no token
//                     is ever requested, the handler makes no API call
//   WEBHOOK_SECRET    default bench-secret (atombot_bench::SECRET)
//   LOG_LEVEL         default warn (Probot logs every request at info), to stderr
// Deliveries go to POST /webhook (Probot verifies X-Hub-Signature-256 and needs
// X-GitHub-Event / X-GitHub-Delivery). Prints `listening on ADDR` once it accepts, answers
// `RUNS DISTINCT` at GET /bench/handled (handler runs, distinct delivery ids) and, on
// SIGTERM, prints `handled RUNS DISTINCT` and exits.
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

import pino from "pino";
import { Probot, Server } from "probot";

const [host, portText] = (process.env.BENCH_LISTEN ?? "127.0.0.1:0").split(/:(?=[^:]*$)/);

// Probot's Server takes port 0 for "unset" (3000): find a free port first.
async function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, host, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}
const port = Number(portText) || (await freePort());

let runs = 0;
const ids = new Set();

const server = new Server({
  // JSON to stderr; at warn, nothing while all is well (atombot runs at RUST_LOG=warn).
  log: pino({ name: "probot", level: process.env.LOG_LEVEL ?? "warn" }, pino.destination(2)),
  host,
  port,
  webhookPath: "/webhook",
  enablePing: false,
  enableStaticFiles: false,
  Probot: Probot.defaults({
    appId: process.env.APP_ID ?? "1",
    privateKey: readFileSync(process.env.PRIVATE_KEY_PATH, "utf8"),
    secret: process.env.WEBHOOK_SECRET ?? "bench-secret",
  }),
});

await server.load((app) => {
  app.on("push", async (context) => {
    runs += 1;
    ids.add(context.id);
  });
});

server.addHandler((req, res) => {
  if (req.method === "GET" && req.url === "/bench/handled") {
    res.writeHead(200, { "content-type": "text/plain" }).end(`${runs} ${ids.size}`);
    return true;
  }
  return false;
});

await server.start();
console.log(`listening on ${server.host}:${server.port}`);

process.on("SIGTERM", async () => {
  await server.stop().catch(() => {});
  process.stdout.write(`handled ${runs} ${ids.size}\n`, () => process.exit(0));
});
