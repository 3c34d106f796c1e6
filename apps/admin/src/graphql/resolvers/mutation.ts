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
    await ctx.accounts.disconnect({
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
      await ctx.accounts.refreshJobs.requestNow(args.id);
    } catch (error) {
      throw adminError('QUEUE_UNAVAILABLE', 'Could not schedule the refresh (Redis unreachable)', {}, { cause: error });
    }
    return account;
  },
};
