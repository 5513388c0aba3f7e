import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/** An opaque `<id>.<secret>` token: the id finds the record, the secret proves possession and is stored only hashed. */
export interface SecretToken {
  id: string;
  token: string;
  hash: string;
}

export function sha256Hex(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A fresh secret and its hash, for a token whose id is settled later (a session's next refresh token). */
export function newTokenSecret(): { secret: string; hash: string } {
  const secret = randomBytes(32).toString('base64url');
  return { secret, hash: sha256Hex(secret) };
}

export function newSecretToken(id: string = randomUUID()): SecretToken {
  const { secret, hash } = newTokenSecret();
  return { id, token: `${id}.${secret}`, hash };
}

/** Two sha256 hex digests compared in constant time. */
export function sameSecretHash(a: string, b: string): boolean {
  return sameDigest(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

/** Two 32-byte digests (hashes, HMACs) compared in constant time. */
export function sameDigest(a: Buffer, b: Buffer): boolean {
  return a.length === 32 && b.length === 32 && timingSafeEqual(a, b);
}

/**
 * A key for one purpose, derived from a server secret as HMAC-SHA256(secret, purpose): one configured secret keys
 * several kinds of signature, none of which can stand in for another.
 */
export function derivedKey(serverKey: string, purpose: string): Buffer {
  return createHmac('sha256', serverKey).update(purpose).digest();
}

const TOKEN = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{16,128})$/;

/** The id and the hash of the secret of a presented token; null when it is not shaped like one of ours. */
export function readSecretToken(token: string): { id: string; hash: string } | null {
  const match = TOKEN.exec(token);
  return match ? { id: match[1]!, hash: sha256Hex(match[2]!) } : null;
}

/** The id part of a presented token, to find what it belongs to; null when it is not shaped like one of ours. */
export function secretTokenId(token: string): string | null {
  return TOKEN.exec(token)?.[1] ?? null;
}
