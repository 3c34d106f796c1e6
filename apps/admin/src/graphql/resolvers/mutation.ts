import { disconnectAccount } from '@ttc/accounts';
import { jobIds, QueueNames } from '@ttc/queue';
import type { IResolvers } from 'mercurius';
import { adminError } from '../../errors.js';
import { assertAccountId, assertNoNul } from './query.js';

export const mutationResolvers: IResolvers['Mutation'] = {
  async disconnectAccount(_root, args: { id: string; reason?: string | null }, ctx) {
    assertAccountId(args.id);
    if (args.reason != null && args.reason.length > 500) {
      throw adminError('BAD_USER_INPUT', 'reason must be at most 500 characters', { argument: 'reason' });
    }
    assertNoNul(args.reason, 'reason');
    // Account errors propagate: the error formatter answers them as errors.ts says.
    await disconnectAccount(ctx.accounts, {
      accountId: args.id,
      actor: 'admin',
      ...(args.reason ? { reason: args.reason } : {}),
    });
    const account = await ctx.repo.byId(args.id);
    if (!account) throw adminError('ACCOUNT_NOT_FOUND', 'Account not found');
    return account;
  },

  async refreshAccount(_root, args: { id: string }, ctx) {
    assertAccountId(args.id);
    const account = await ctx.repo.byId(args.id);
    if (!account) throw adminError('ACCOUNT_NOT_FOUND', 'Account not found');
    if (account.status === 'DISCONNECTED') {
      throw adminError('ACCOUNT_DISCONNECTED', 'The account is disconnected: it has no tokens to refresh');
    }
    if (account.status === 'REAUTH_REQUIRED') {
      throw adminError(
        'ACCOUNT_REAUTH_REQUIRED',
        'TikTok refused this account’s refresh token: the user has to connect it again',
      );
    }
    try {
      await refreshNow(ctx.queues.tokenRefresh, args.id);
    } catch (error) {
      throw adminError('QUEUE_UNAVAILABLE', 'Could not schedule the refresh (Redis unreachable)', {}, { cause: error });
    }
    return account;
  },
};

type RefreshQueue = import('@ttc/queue').Queues['tokenRefresh'];

/**
 * Makes the account's one refresh job due now. There is only ever one job per account (deterministic id): a delayed
 * one is promoted, a waiting or running one is left alone, a failed one is retried, and a missing one is added.
 */
async function refreshNow(queue: RefreshQueue, accountId: string): Promise<void> {
  const jobId = jobIds.tokenRefresh(accountId);
  for (let attempt = 0; attempt < 3; attempt++) {
    const job = await queue.getJob(jobId);
    if (!job) {
      await queue.add(QueueNames.tokenRefresh, { accountId, reason: 'manual' }, { jobId });
      return;
    }
    const state = await job.getState();
    try {
      if (state === 'delayed') await job.promote();
      else if (state === 'failed') await job.retry('failed');
      else if (state === 'completed') {
        await job.remove();
        continue;
      }
      return;
    } catch {
      // The job changed state between the read and the action (the worker picked it up, say): look again.
    }
  }
}
