import { describe, expect, it } from 'vitest';
import { WS_CLOSE_FORBIDDEN, describeError, errorField, isAuthClose, isAuthFailure } from './errors';

const gqlError = (code: string, extra: Record<string, unknown> = {}, message = 'boom') => ({
  graphQLErrors: [{ message, extensions: { code, ...extra } }],
});

describe('isAuthFailure', () => {
  it('is true for UNAUTHENTICATED and HTTP 401', () => {
    expect(isAuthFailure(gqlError('UNAUTHENTICATED'))).toBe(true);
    expect(isAuthFailure({ graphQLErrors: [], response: { status: 401 } })).toBe(true);
  });
  it('is false for other errors', () => {
    expect(isAuthFailure(gqlError('FORBIDDEN'))).toBe(false);
    expect(isAuthFailure({ networkError: new Error('offline') })).toBe(false);
    expect(isAuthFailure(null)).toBe(false);
  });
});

describe('isAuthClose', () => {
  it('recognises the 4403 close of a refused socket', () => {
    expect(isAuthClose({ code: WS_CLOSE_FORBIDDEN, reason: 'Forbidden' })).toBe(true);
    expect(isAuthClose({ code: 1006 })).toBe(false);
    expect(isAuthClose(new Error('x'))).toBe(false);
    expect(isAuthClose(null)).toBe(false);
  });
});

describe('describeError', () => {
  it('maps extension codes to screens', () => {
    expect(describeError(gqlError('UNAUTHENTICATED'))?.kind).toBe('unauthenticated');
    expect(describeError(gqlError('FORBIDDEN'))?.kind).toBe('forbidden');
    expect(describeError(gqlError('NOT_FOUND'))?.kind).toBe('not-found');
    expect(describeError(gqlError('CONFLICT'))?.title).toBe('Changed elsewhere');
    expect(describeError(gqlError('UPSTREAM_ERROR'))?.kind).toBe('upstream');
    expect(describeError(gqlError('INTEGRATION_UNAVAILABLE'))?.kind).toBe('unavailable');
    expect(describeError(gqlError('SOMETHING_NEW'))?.kind).toBe('internal');
  });
  it('carries field, retryAfterSeconds and requestId', () => {
    const v = describeError(gqlError('BAD_USER_INPUT', { field: 'input.retryPolicy.maxRetries' }, '[GraphQL] too many'));
    expect(v).toMatchObject({ kind: 'bad-input', field: 'input.retryPolicy.maxRetries', message: 'too many' });
    expect(errorField(v)).toBe('retryPolicy.maxRetries');
    expect(describeError(gqlError('RATE_LIMITED', { retryAfterSeconds: 7 }))?.retryAfterSeconds).toBe(7);
    expect(describeError(gqlError('INTERNAL', { requestId: 'req-1' }))?.requestId).toBe('req-1');
  });
  it('describes network failures and plain GraphQL errors', () => {
    expect(describeError({ graphQLErrors: [], networkError: new Error('[Network] Failed to fetch') })).toMatchObject({
      kind: 'network', message: 'Failed to fetch',
    });
    expect(describeError({ message: 'x', extensions: { code: 'NOT_FOUND' } })?.kind).toBe('not-found');
    expect(describeError({ graphQLErrors: [], response: { status: 401 } })?.kind).toBe('unauthenticated');
    expect(describeError(null)).toBeNull();
    expect(errorField(null)).toBeNull();
  });
});
