/**
 * Who is signed in: Istio's productpage keeps the user name in a cookie and sends it to reviews
 * as the `end-user` header, which the sample VirtualServices match on (`end-user: jason`).
 * There are no passwords: any name signs in, as in the sample.
 */
import type { IncomingMessage } from 'node:http';

export const USER_COOKIE = 'user';
const MAX_USER_LENGTH = 64;

export function signedInUser(request: IncomingMessage): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name !== USER_COOKIE) continue;
    const user = decodeCookieValue(rest.join('='));
    return user === '' ? undefined : user;
  }
  return undefined;
}

/** A header-safe user name: printable ASCII, no separators, bounded length; else undefined. */
export function validUserName(value: string | null): string | undefined {
  const name = value?.trim() ?? '';
  return /^[A-Za-z0-9._@-]{1,64}$/.test(name) && name.length <= MAX_USER_LENGTH ? name : undefined;
}

export function userCookie(user: string | undefined): string {
  return user === undefined
    ? `${USER_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax`
    : `${USER_COOKIE}=${encodeURIComponent(user)}; Path=/; HttpOnly; SameSite=Lax`;
}

function decodeCookieValue(value: string): string {
  try {
    return validUserName(decodeURIComponent(value)) ?? '';
  } catch {
    return '';
  }
}
