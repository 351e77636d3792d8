/**
 * details: the book's bibliographic details, as JSON, for `GET /details/<id>`. Like Istio's
 * details v1 it keeps no state and calls nothing.
 */
import type { RequestListener } from 'node:http';
import { productIdIn, sendJson } from '../service-runtime/responses.ts';

export interface BookDetails {
  readonly id: number;
  readonly author: string;
  readonly year: number;
  readonly type: string;
  readonly pages: number;
  readonly publisher: string;
  readonly language: string;
  readonly 'ISBN-10': string;
  readonly 'ISBN-13': string;
}

export function bookDetails(id: number): BookDetails {
  return {
    id,
    author: 'William Shakespeare',
    year: 1595,
    type: 'paperback',
    pages: 200,
    publisher: 'PublisherA',
    language: 'English',
    'ISBN-10': '1234567890',
    'ISBN-13': '123-1234567890',
  };
}

export function createDetailsHandler(): RequestListener {
  return (request, response) => {
    const path = new URL(request.url ?? '/', 'http://details').pathname;
    if (path === '/health') return sendJson(response, 200, { status: 'Details is healthy' });
    const id = productIdIn(path, 'details');
    if (request.method !== 'GET' || id === undefined) return sendJson(response, 404, { error: 'not found' });
    sendJson(response, 200, bookDetails(id));
  };
}
