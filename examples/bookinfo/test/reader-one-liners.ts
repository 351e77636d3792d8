/**
 * The `node -e` one-liners the README's security and resilience walk-throughs give the reader
 * (curl-free, so that Node alone is enough), run here exactly as written there:
 * `node -e "<script>" <argument>`. Each script is one line with no double quote, `$`, backtick
 * or `!`, so that it pastes into a POSIX shell inside double quotes unchanged (the shell keeps a
 * backslash before `n` or `r` as it is).
 */
import { execFile } from 'node:child_process';

/** Twenty concurrent GETs of the URL; prints how many answers had each status and response flags. */
export const CONCURRENT_LOADS =
  "Promise.all(Array.from({ length: 20 }, () => fetch(process.argv[1]).then(async (r) => { await r.arrayBuffer(); return r.status + ' ' + (r.headers.get('x-weft-response-flags') ?? '-') }))).then((all) => { const counts = {}; for (const a of all) counts[a] = (counts[a] ?? 0) + 1; console.log(JSON.stringify(counts)) })";

/** A plaintext HTTP request to 127.0.0.1:<port>: prints the status, or why there was none. */
export const PLAINTEXT_CALL =
  "fetch('http://127.0.0.1:' + process.argv[1] + '/productpage').then((r) => console.log('HTTP', r.status), (e) => console.log('refused:', e.cause?.message ?? e.message))";

/** TLS to 127.0.0.1:<port> without a client certificate, then a GET: prints the status line, or the refusal. */
export const TLS_WITHOUT_CERTIFICATE = String.raw`require('node:tls').connect({ host: '127.0.0.1', port: Number(process.argv[1]), rejectUnauthorized: false }, function () { this.write('GET /productpage HTTP/1.1\r\nhost: productpage\r\n\r\n') }).on('data', (d) => console.log('HTTP', String(d).split('\r\n')[0])).on('error', (e) => console.log('refused:', e.code))`;

/** Sums a Prometheus endpoint's istio_requests_total with reporter=destination: the requests the process received. */
export const REQUESTS_RECEIVED =
  "fetch(process.argv[1]).then((r) => r.text()).then((t) => console.log('received', t.split('\\n').filter((l) => /^istio_requests_total.reporter=.destination/.test(l)).reduce((n, l) => n + Number(l.split(' ').pop()), 0), 'requests'))";

const RUN_TIMEOUT_MS = 30_000;

/** Runs `node -e script argument` as the reader would, and resolves with what it printed. */
export function runOneLiner(script: string, argument: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', script, argument],
      { timeout: RUN_TIMEOUT_MS, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error !== null)
          reject(new Error(`node -e failed: ${error.message}\n${stderr}`, { cause: error }));
        else resolve(stdout.trim());
      },
    );
  });
}
