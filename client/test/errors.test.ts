import { ErrorCodes } from '../../functions/src/domain/errors';
import { ApiError, ERROR_MESSAGES, messageFor } from '../src/api/errors';

const CJK = /[\u4e00-\u9fff]/;

describe('error messages', () => {
  test('every API error code has a plain Chinese message', () => {
    const codes = Object.keys(ErrorCodes);
    expect(codes.length).toBeGreaterThan(15);
    const missing = codes.filter(
      (c) => !(c in ERROR_MESSAGES) || !CJK.test(ERROR_MESSAGES[c as keyof typeof ERROR_MESSAGES]),
    );
    expect(missing).toEqual([]);
  });

  test('the codes API.md lists are all there', () => {
    for (const code of [
      'VALIDATION_FAILED',
      'IDEMPOTENCY_KEY_REQUIRED',
      'UNAUTHENTICATED',
      'FORBIDDEN',
      'DEV_LOGIN_DISABLED',
      'NOT_FOUND',
      'IDEMPOTENCY_MISMATCH',
      'CODE_INVALID',
      'CODE_EXPIRED',
      'PACKET_FINISHED',
      'PACKET_EXPIRED',
      'INSUFFICIENT_FUNDS',
      'LIMIT_PER_PACKET',
      'LIMIT_DAILY',
      'EQUAL_SPLIT_UNEVEN',
      'GREETING_REJECTED',
      'RISK_BLOCKED',
      'CODE_FROZEN',
      'DEVICE_LIMIT',
      'RATE_LIMITED',
      'GROUP_ONLY',
      'WITHDRAWAL_LIMIT',
      'PAYMENT_REQUIRED',
    ]) {
      expect(ERROR_MESSAGES[code as keyof typeof ERROR_MESSAGES]).toMatch(CJK);
      expect(messageFor(code)).toBe(ERROR_MESSAGES[code as keyof typeof ERROR_MESSAGES]);
    }
  });

  test('messages are distinct for the states a claimer sees', () => {
    const shown = ['PACKET_FINISHED', 'PACKET_EXPIRED', 'CODE_INVALID', 'CODE_EXPIRED'].map((c) => messageFor(c));
    expect(new Set(shown).size).toBe(4);
    expect(messageFor('PACKET_FINISHED')).toBe('手慢了，红包派完了');
    expect(messageFor('CODE_INVALID')).toBe('无效的红包码');
  });

  test('an unknown code still gets a Chinese message, never the raw code', () => {
    expect(messageFor('SOMETHING_NEW')).toMatch(CJK);
    expect(messageFor(undefined)).toMatch(CJK);
    expect(new ApiError('SOMETHING_NEW', 418).message).not.toContain('SOMETHING_NEW');
  });

  test('retryable: no answer, 5xx and claims in flight; not a refusal', () => {
    expect(new ApiError('NETWORK_ERROR', 0).retryable).toBe(true);
    expect(new ApiError('INTERNAL', 500).retryable).toBe(true);
    expect(new ApiError('CLAIM_IN_PROGRESS', 409).retryable).toBe(true);
    expect(new ApiError('INSUFFICIENT_FUNDS', 402).retryable).toBe(false);
    expect(new ApiError('IDEMPOTENCY_MISMATCH', 409).retryable).toBe(false);
  });
});
