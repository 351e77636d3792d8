/** The few response shapes the Bookinfo services answer with. */
import type { ServerResponse } from 'node:http';

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

export function sendText(response: ServerResponse, status: number, contentType: string, text: string): void {
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

/** The numeric product id in `/<prefix>/<id>`, or undefined when the path is not that. */
export function productIdIn(path: string, prefix: string): number | undefined {
  const match = new RegExp(`^/${prefix}/(\\d{1,9})$`).exec(path);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
