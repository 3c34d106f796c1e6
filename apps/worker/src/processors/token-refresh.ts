import { type AccountsDeps, createTokenRefreshProcessor, type TokenRefreshJobResult } from '@ttc/accounts';
import type { Job } from 'bullmq';

/**
 * `token.refresh`: one job per account for its whole life. Thin: `@ttc/accounts` refreshes when due (one at a time
 * per account, fenced in Postgres) and the processor moves its own job to the next due time, ending it only when the
 * account is no longer ACTIVE.
 */
export function tokenRefreshProcessor(
  deps: AccountsDeps,
): (job: Job, token?: string) => Promise<TokenRefreshJobResult> {
  return createTokenRefreshProcessor(deps);
}
