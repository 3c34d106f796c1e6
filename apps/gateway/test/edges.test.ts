// The gateway's HTTP edges against hostile or misplaced clients: slow requests, development pages, proxies, metrics.
import { sendPartialRequest } from '@ttc/testing';
import { describe, expect, it } from 'vitest';
import { API_KEY, startHarness } from './harness.js';

describe('request timeout', () => {
  it('answers 408 to a request whose body never completes', async () => {
    const h = await startHarness({ listen: true, env: { REQUEST_TIMEOUT_MS: '300' } });
    try {
      expect(
        await sendPartialRequest(h.publicUrl, {
          path: '/v1/connect-sessions',
          headers: { authorization: `Bearer ${API_KEY}` },
        }),
      ).toEqual({ status: 408 });
    } finally {
      await h.close();
    }
  });
});
