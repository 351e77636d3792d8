/**
 * HTTP upstreams in a child process — endpoints that can really crash (SIGKILL) — for the chaos
 * and soak tests. Run as `node upstream-child.ts <name> [<name> …]`: one server per name on
 * 127.0.0.1 and a free port, each answering every request 200 with its name (after reading the
 * body). Prints `listening <name> <port>` per server, then `ready`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const names = process.argv.slice(2);
for (const name of names.length === 0 ? ['upstream'] : names) {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': name });
      response.end(name);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.stdout.write(`listening ${name} ${(server.address() as AddressInfo).port}\n`);
}
process.stdout.write('ready\n');
