import { createHash, timingSafeEqual } from 'node:crypto';

export interface BasicCredentials {
  username: string;
  password: string;
}

/** The user name and password of an `Authorization: Basic` header (RFC 7617, UTF-8), or undefined. */
export function basicCredentialsOf(header: string | undefined): BasicCredentials | undefined {
  const match = /^Basic[ \t]+([A-Za-z0-9+/=._~-]+)[ \t]*$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Whether the given credentials are the expected ones, in time that depends on neither: both
 * sides are hashed to equal lengths first, and both the name and the password are always compared.
 */
export function credentialsMatch(given: BasicCredentials | undefined, expected: BasicCredentials): boolean {
  const username = sameText(given?.username ?? '', expected.username);
  const password = sameText(given?.password ?? '', expected.password);
  return given !== undefined && username && password;
}

function sameText(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
