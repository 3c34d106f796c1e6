import { describe, expect, it } from 'vitest';
import { parseCallbackQuery, TikTokErrorCode } from '../src/index.js';

describe('parseCallbackQuery', () => {
  it('reads code, state and the granted scopes', () => {
    expect(parseCallbackQuery('?code=abc*0!x&state=s1&scopes=user.info.basic%2Cvideo.list')).toEqual({
      kind: 'code',
      code: 'abc*0!x',
      state: 's1',
      scopes: ['user.info.basic', 'video.list'],
    });
  });

  it('accepts a URL, URLSearchParams and a framework query object alike', () => {
    const expected = { kind: 'code', code: 'c', state: 's', scopes: ['user.info.basic'] };
    expect(parseCallbackQuery(new URL('https://app.example/cb?code=c&state=s&scopes=user.info.basic'))).toEqual(
      expected,
    );
    expect(parseCallbackQuery(new URLSearchParams({ code: 'c', state: 's', scopes: 'user.info.basic' }))).toEqual(
      expected,
    );
    expect(parseCallbackQuery({ code: 'c', state: 's', scopes: 'user.info.basic', other: 1 })).toEqual(expected);
    expect(parseCallbackQuery({ code: ['c'], state: 's', scopes: 'user.info.basic' })).toEqual(expected);
  });

  it('gives no scopes when TikTok sends none', () => {
    expect(parseCallbackQuery('code=c&state=s')).toMatchObject({ kind: 'code', scopes: [] });
  });

  it('reads a denial with its description and state', () => {
    expect(parseCallbackQuery('error=access_denied&error_description=User+cancelled&state=s1')).toEqual({
      kind: 'error',
      error: 'access_denied',
      errorDescription: 'User cancelled',
      state: 's1',
    });
  });

  it('reads a denial without state or description', () => {
    expect(parseCallbackQuery({ error: 'access_denied' })).toEqual({
      kind: 'error',
      error: 'access_denied',
      errorDescription: undefined,
      state: undefined,
    });
  });

  it('treats an error next to a code as an error, so nothing is exchanged', () => {
    expect(parseCallbackQuery('code=c&state=s&error=server_error').kind).toBe('error');
  });

  it.each([
    ['no code', 'state=s'],
    ['no state', 'code=c'],
    ['an empty code', 'code=&state=s'],
    ['an empty error', 'error=&state=s'],
    ['a repeated code', 'code=a&code=b&state=s'],
    ['a repeated state', 'code=a&state=s&state=t'],
    ['an oversized state', `code=c&state=${'x'.repeat(5000)}`],
    ['nothing at all', ''],
  ])('refuses a query with %s', (_label, query) => {
    expect(() => parseCallbackQuery(query)).toThrow(
      expect.objectContaining({ code: TikTokErrorCode.INVALID_CALLBACK }),
    );
  });

  it.each([
    ['an array of codes', { code: ['a', 'b'], state: 's' }],
    ['a numeric state', { code: 'a', state: 5 }],
    ['a nested object', { code: { x: 1 }, state: 's' }],
  ])('refuses a query object with %s', (_label, query) => {
    expect(() => parseCallbackQuery(query)).toThrow(
      expect.objectContaining({ code: TikTokErrorCode.INVALID_CALLBACK }),
    );
  });

  it('never puts the code in the error message', () => {
    try {
      parseCallbackQuery('code=secret-code-value&code=secret-code-value&state=s');
      expect.unreachable();
    } catch (error) {
      expect(String(error)).not.toContain('secret-code-value');
    }
    try {
      parseCallbackQuery(`code=secret-code-value&state=${'x'.repeat(5000)}`);
      expect.unreachable();
    } catch (error) {
      expect(String(error)).not.toContain('secret-code-value');
      expect(String(error)).toContain('state');
    }
  });
});
