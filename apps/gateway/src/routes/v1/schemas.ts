import type { AccountSummary } from '@ttc/accounts';
import { z } from 'zod';
import { hasControlCharacters } from '../../services/create-session.js';

/** With the `u` flag a surrogate only matches when it is not half of a pair. */
const LONE_SURROGATE = /\p{Cs}/u;

/** A string field whose refusal says whether it was missing or of another type. */
export function stringField(name: string) {
  return z.string({
    error: (issue) => (issue.input === undefined ? `${name} is required` : `${name} must be a string`),
  });
}

/** An upstream user id, in a body or a path: 1–255 characters of valid Unicode without control characters. */
export function userIdField(name = 'userId') {
  return (
    stringField(name)
      .min(1, `${name} must not be empty`)
      .max(255, `${name} must be at most 255 characters`)
      .refine((v) => !hasControlCharacters(v), `${name} must not contain control characters`)
      // A lone surrogate cannot be stored: Redis and Postgres receive UTF-8, where every one becomes U+FFFD, so two
      // different user ids would end up as one user, sharing each other's TikTok accounts.
      .refine((v) => !LONE_SURROGATE.test(v), `${name} must be valid Unicode text`)
  );
}

const isoDate = z.iso.datetime({ offset: true });

/** An account as upstream apps see it: profile, status, scopes, expiry times, last error, dates. Never a token. */
export const accountResponse = z.object({
  id: z.uuid(),
  userId: z.string(),
  openId: z.string(),
  unionId: z.string().nullable(),
  displayName: z.string(),
  username: z.string().nullable(),
  avatarUrl: z.string().nullable(),
  scopes: z.array(z.string()),
  status: z.enum(['ACTIVE', 'REAUTH_REQUIRED', 'DISCONNECTED']),
  accessTokenExpiresAt: isoDate.nullable(),
  refreshTokenExpiresAt: isoDate.nullable(),
  nextRefreshAt: isoDate.nullable(),
  lastError: z.string().nullable(),
  connectedAt: isoDate,
  disconnectedAt: isoDate.nullable(),
  createdAt: isoDate,
  updatedAt: isoDate,
});
export type AccountResponse = z.infer<typeof accountResponse>;

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

/** The account service's summary as the API's JSON (allow-listed fields, ISO dates). */
export function toAccountResponse(a: AccountSummary): AccountResponse {
  return {
    id: a.id,
    userId: a.userId,
    openId: a.openId,
    unionId: a.unionId,
    displayName: a.displayName,
    username: a.username,
    avatarUrl: a.avatarUrl,
    scopes: a.scopes,
    status: a.status,
    accessTokenExpiresAt: iso(a.accessTokenExpiresAt),
    refreshTokenExpiresAt: iso(a.refreshTokenExpiresAt),
    nextRefreshAt: iso(a.nextRefreshAt),
    lastError: a.lastError,
    connectedAt: a.connectedAt.toISOString(),
    disconnectedAt: iso(a.disconnectedAt),
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
  };
}
