import { createHmac } from 'node:crypto';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`
 * under the secret's bytes (the base64 after `whsec_`). Kept dependency-free; the tests verify it with the
 * `standardwebhooks` reference library.
 */

const PREFIX = 'whsec_';

/** The key bytes of a `whsec_<base64>` secret. Throws on any other shape (config validates it first). */
export function secretKey(secret: string): Buffer {
  if (!secret.startsWith(PREFIX)) throw new Error('webhook secret must start with whsec_');
  return Buffer.from(secret.slice(PREFIX.length), 'base64');
}

/**
 * The `webhook-signature` header value: one `v1,<signature>` per secret, space-separated, the signing secret
 * first. During a rotation every secret signs, so receivers holding either the old or the new one accept.
 */
export function signatureHeader(
  secrets: readonly string[],
  id: string,
  timestampSeconds: number,
  body: string,
): string {
  if (secrets.length === 0) throw new Error('no webhook secret to sign with');
  return secrets
    .map((secret) => {
      const mac = createHmac('sha256', secretKey(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
      return `v1,${mac}`;
    })
    .join(' ');
}
