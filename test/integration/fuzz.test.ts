/**
 * Fuzzed requests through the HTTP layer, judged by an oracle written from the contract (the error table,
 * the product's tier table and its send form), NOT from the server's schemas: loosening a schema
 * (an amount of 0, a float, a longer greeting…) makes this test fail.
 *
 * For every generated request (valid and invalid bodies: floats, negatives, zero, huge numbers,
 * numbers as strings, missing and extra fields, unicode, broken JSON, bad Idempotency-Keys):
 *   - the oracle says invalid → a 4xx whose code is one the oracle names (all API error codes), and
 *     nothing written: no store write at all, the caller's wallet unchanged;
 *   - the oracle says valid → never 400 VALIDATION_FAILED (a refusal for funds, limits of the
 *     day, risk… is fine), never a 5xx.
 * The caller is a personal account (the tier whose limits the oracle knows); the clock moves half
 * a minute per request so no per-minute limit is reached.
 */
import fc from 'fast-check';
import { baseDb, Clock, idem, login, makeApi, testDeps, topup, type ApiResponse, type TestUser } from '../helpers/app';

// ---------------------------------------------------------------------------------------------
// The oracle: the contract's rules, written out here on purpose.
// ---------------------------------------------------------------------------------------------

/** Every error code the API promises (README's additions included). */
const API_CODES = new Set([
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
  'CLAIM_IN_PROGRESS',
  'METHOD_NOT_ALLOWED',
]);
/** Refusals of the risk rules: they may answer a request that is otherwise wrong, and are audited. */
const RISK_CODES = ['RISK_BLOCKED', 'CODE_FROZEN', 'DEVICE_LIMIT', 'RATE_LIMITED'];

/** Personal tier (docs/rules.md): 200 yuan per packet or transfer, 1–100 shares. */
const PERSONAL_MAX_FEN = 20_000;
const PERSONAL_MAX_SHARES = 100;
/** Enterprise tier: 2,000 yuan per packet, 1–1,000 shares; a campaign makes 1–1,000 packets. */
const ENTERPRISE_MAX_FEN = 200_000;
const ENTERPRISE_MAX_SHARES = 1_000;
const CAMPAIGN_MAX_QUANTITY = 1_000;
/** A lucky share is at most 200 yuan whatever the tier. */
const LUCKY_SHARE_MAX_FEN = 20_000;
/** The campaign form's name limit: 40 characters. */
const CAMPAIGN_NAME_MAX = 40;
/** A top-up no product rule refuses (the contract sets no maximum; larger ones are not judged). */
const PLAIN_TOPUP_MAX = 1_000_000;
/** The send form's greeting limit: 50 characters (code points), no control characters. */
const GREETING_MAX = 50;
/** A transfer's note: the pay page takes as much as a greeting. */
const NOTE_MAX = 50;
const SCENES = ['none', 'birthday', 'wedding', 'new_year', 'thanks'];
const MODES = ['lucky', 'equal'];
const CODE_KINDS = ['live', 'share'];
const TIERS = ['personal', 'enterprise', 'provider'];
const STAFF_ROLES = ['support', 'risk', 'admin'];

type Verdict = { kind: 'valid' } | { kind: 'invalid'; codes: Set<string>; business: boolean } | { kind: 'unspecified' };

/** Collects what is wrong with a request: shape problems (400) and business refusals (4xx). */
class Judge {
  shape = new Set<string>();
  business = new Set<string>();
  unspecified = false;
  bad(code = 'VALIDATION_FAILED') {
    this.shape.add(code);
  }
  refuse(...codes: string[]) {
    for (const c of codes) this.business.add(c);
  }
  verdict(): Verdict {
    // A part the contract does not judge may be refused as invalid input too.
    if (this.shape.size)
      return {
        kind: 'invalid',
        codes: new Set([...this.shape, ...this.business, ...(this.unspecified ? ['VALIDATION_FAILED'] : [])]),
        business: false,
      };
    if (this.business.size) return { kind: 'invalid', codes: this.business, business: true };
    return this.unspecified ? { kind: 'unspecified' } : { kind: 'valid' };
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
// biome-ignore lint/suspicious/noControlCharactersInRegex: the fuzzer checks what the server does with control characters.
const hasControl = (s: string) => /[\u0000-\u001f\u007f-\u009f]/.test(s);
const chars = (s: string) => [...s].length;
const KEY_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** Fields outside `allowed`, and required fields missing, are shape problems. */
function fields(j: Judge, body: unknown, required: string[], optional: string[]): Record<string, unknown> | undefined {
  if (!isPlainObject(body)) {
    j.bad();
    return undefined;
  }
  for (const k of Object.keys(body)) if (!required.includes(k) && !optional.includes(k)) j.bad();
  for (const k of required) if (!(k in body)) j.bad();
  return body;
}

function text(j: Judge, v: unknown, max: number, min = 0) {
  if (typeof v !== 'string' || chars(v) < min || chars(v) > max || hasControl(v)) j.bad();
}

/** The Idempotency-Key header: required on money calls; malformed anywhere → 400. */
function judgeKey(j: Judge, key: string | undefined, money: boolean) {
  if (key === undefined) {
    if (money) j.bad('IDEMPOTENCY_KEY_REQUIRED');
  } else if (!KEY_RE.test(key)) j.bad();
}

/** A code field: a string; a real code is judged valid, anything else the API refuses as a code. */
function code(j: Judge, v: unknown, real: boolean) {
  if (typeof v !== 'string') j.bad();
  else if (!real) j.refuse('CODE_INVALID', 'VALIDATION_FAILED', 'NOT_FOUND');
}

// Placeholders the generators use for real codes: replaced with fresh ones when sent.
const RECEIVE_CODE = '<receive-code>';
const PACKET_CODE = '<packet-code>';
const SHARE_CODE = '<share-code>';
const isReal = (v: unknown) => v === RECEIVE_CODE || v === PACKET_CODE || v === SHARE_CODE;

const oracles = {
  packet(body: unknown, key: string | undefined): Verdict {
    const j = new Judge();
    judgeKey(j, key, true);
    const b = fields(j, body, ['total', 'count', 'mode'], ['greeting', 'scene', 'ttlSeconds']);
    if (b) {
      const { total, count, mode } = b;
      if (!isInt(total) || total < 1) j.bad();
      if (!isInt(count) || count < 1) j.bad();
      else if (count > PERSONAL_MAX_SHARES) j.refuse('VALIDATION_FAILED', 'LIMIT_PER_PACKET');
      if (typeof mode !== 'string' || !MODES.includes(mode)) j.bad();
      if ('greeting' in b) text(j, b.greeting, GREETING_MAX);
      if ('scene' in b && (typeof b.scene !== 'string' || !SCENES.includes(b.scene))) j.bad();
      if ('ttlSeconds' in b && (!isInt(b.ttlSeconds) || b.ttlSeconds < 60 || b.ttlSeconds > 86_400)) j.bad();
      if (isInt(total) && total > PERSONAL_MAX_FEN) j.refuse('LIMIT_PER_PACKET');
      // Every share at least 1 fen; an equal split must be exact.
      if (isInt(total) && isInt(count) && count >= 1 && total >= 1) {
        if (count > total) j.refuse('VALIDATION_FAILED', 'EQUAL_SPLIT_UNEVEN');
        else if (mode === 'equal' && total % count !== 0) j.refuse('EQUAL_SPLIT_UNEVEN');
      }
    }
    return j.verdict();
  },
  campaign(body: unknown, key: string | undefined): Verdict {
    const j = new Judge();
    judgeKey(j, key, true);
    const b = fields(j, body, ['name', 'packet', 'quantity'], ['ttlSeconds']);
    if (b) {
      text(j, b.name, CAMPAIGN_NAME_MAX, 1);
      if (!isInt(b.quantity) || b.quantity < 1) j.bad();
      else if (b.quantity > CAMPAIGN_MAX_QUANTITY) j.refuse('VALIDATION_FAILED', 'LIMIT_PER_PACKET');
      if ('ttlSeconds' in b && (!isInt(b.ttlSeconds) || b.ttlSeconds < 60 || b.ttlSeconds > 86_400)) j.bad();
      const p = fields(j, b.packet, ['total', 'count', 'mode'], ['greeting']);
      if (p) {
        const { total, count, mode } = p;
        if (!isInt(total) || total < 1) j.bad();
        if (!isInt(count) || count < 1) j.bad();
        else if (count > ENTERPRISE_MAX_SHARES) j.refuse('VALIDATION_FAILED', 'LIMIT_PER_PACKET');
        if (typeof mode !== 'string' || !MODES.includes(mode)) j.bad();
        if ('greeting' in p) text(j, p.greeting, GREETING_MAX);
        if (isInt(total) && total > ENTERPRISE_MAX_FEN) j.refuse('LIMIT_PER_PACKET');
        if (isInt(total) && isInt(count) && count >= 1 && total >= 1) {
          if (count > total) j.refuse('VALIDATION_FAILED', 'EQUAL_SPLIT_UNEVEN');
          else if (mode === 'equal' && total % count !== 0) j.refuse('EQUAL_SPLIT_UNEVEN');
          // No lucky share over 200 yuan: a lucky packet of n shares holds at most n × 200 yuan.
          else if (mode === 'lucky' && total > count * LUCKY_SHARE_MAX_FEN)
            j.refuse('LIMIT_PER_PACKET', 'VALIDATION_FAILED');
          else if (mode === 'equal' && total / count > LUCKY_SHARE_MAX_FEN) j.unspecified = true;
        }
      }
    }
    return j.verdict();
  },
  topup(body: unknown, key: string | undefined): Verdict {
    const j = new Judge();
    judgeKey(j, key, true);
    const b = fields(j, body, ['amount'], []);
    if (b) {
      if (!isInt(b.amount) || b.amount < 1) j.bad();
      else if (b.amount > PLAIN_TOPUP_MAX) j.unspecified = true;
    }
    return j.verdict();
  },
  transfer(body: unknown, key: string | undefined): Verdict {
    const j = new Judge();
    judgeKey(j, key, true);
    const b = fields(j, body, ['code', 'amount'], ['note']);
    if (b) {
      code(j, b.code, b.code === RECEIVE_CODE);
      if (!isInt(b.amount) || b.amount < 1) j.bad();
      else if (b.amount > PERSONAL_MAX_FEN) j.refuse('LIMIT_PER_PACKET');
      if ('note' in b) text(j, b.note, NOTE_MAX);
    }
    return j.verdict();
  },
  claim(body: unknown, key: string | undefined): Verdict {
    const j = new Judge();
    judgeKey(j, key, false);
    const b = fields(j, body, ['code'], []);
    if (b) code(j, b.code, b.code === PACKET_CODE || b.code === SHARE_CODE);
    return j.verdict();
  },
  newCode(body: unknown, key: string | undefined): Verdict {
    const j = new Judge();
    judgeKey(j, key, false);
    // No body at all is the default request: a live code.
    const b = fields(j, body ?? {}, [], ['kind', 'via']);
    if (b) {
      if ('kind' in b && (typeof b.kind !== 'string' || !CODE_KINDS.includes(b.kind))) j.bad();
      if ('via' in b) code(j, b.via, b.via === SHARE_CODE);
    }
    return j.verdict();
  },
  session(body: unknown, key: string | undefined): Verdict {
    const j = new Judge();
    judgeKey(j, key, false);
    if (!isPlainObject(body) || !('devUser' in body)) {
      // The WeChat `code` login is judged elsewhere (it needs the chat app); a body that is not
      // a dev login with a devUser must at least be refused cleanly.
      if (isPlainObject(body) && typeof body.code === 'string' && Object.keys(body).length === 1) j.unspecified = true;
      else j.bad();
      return j.verdict();
    }
    const b = fields(j, body, ['devUser'], ['name', 'tier', 'roles'])!;
    if (typeof b.devUser !== 'string' || b.devUser.length === 0) j.bad();
    // The contract does not spell out a devUser's alphabet: plain ids are valid, others not judged.
    else if (!/^[A-Za-z0-9_-]{1,32}$/.test(b.devUser)) j.unspecified = true;
    if ('name' in b) {
      // A nickname: 1–20 characters, no control characters. (Longer names are not judged here:
      // the dev login predates the nickname rule.)
      if (typeof b.name !== 'string' || chars(b.name) < 1 || hasControl(b.name)) j.bad();
      else if (chars(b.name) > 20) j.unspecified = true;
    }
    if ('tier' in b && (typeof b.tier !== 'string' || !TIERS.includes(b.tier))) j.bad();
    if ('roles' in b) {
      if (!Array.isArray(b.roles) || b.roles.some((r) => typeof r !== 'string')) j.bad();
      else if (!b.roles.every((r) => STAFF_ROLES.includes(r))) j.unspecified = true;
    }
    return j.verdict();
  },
};

// ---------------------------------------------------------------------------------------------
// Generators: near-valid values, their classic breakages, and garbage.
// ---------------------------------------------------------------------------------------------

const junk = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.string({ maxLength: 8 }),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 2 }),
);
const fen = (max: number) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.integer({ min: 1, max }) },
    fc.integer({ min: max + 1, max: 2_000_000_000 }),
    fc.constantFrom(
      0,
      -1,
      -100,
      2 ** 53,
      2 ** 53 + 2,
      1e21,
      -0,
      0.5,
      1.5,
      99.99,
      1e-7,
      Number.NaN,
      Number.POSITIVE_INFINITY,
    ),
    fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    fc.integer({ min: 1, max }).map(String),
    junk,
  );
const int = (min: number, max: number) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.integer({ min, max }) },
    fc.integer({ min: max + 1, max: max * 10 }),
    fc.integer({ min: -1_000, max: min - 1 }),
    fc.constantFrom(0, -1, 1.5, 2 ** 53 + 2, Number.NaN),
    fc.integer({ min, max }).map(String),
    junk,
  );
const enumOf = (values: string[]) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...values) },
    fc.constantFrom(...values.map((v) => v.toUpperCase()), '', ' lucky'),
    junk,
  );
/** Text of every kind: ASCII, CJK, emoji and other astral characters, control characters, around the limit. */
const textOf = (max: number) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.string({ unit: 'grapheme', maxLength: max }) },
    fc.string({ unit: 'binary', maxLength: max + 5 }),
    fc.constantFrom(
      '新年快乐',
      '😀'.repeat(max),
      '😀'.repeat(max + 1),
      '红'.repeat(max),
      '红'.repeat(max + 1),
      'a'.repeat(max + 1),
      'tab\there',
      'nul\u0000',
      '\u0085next',
      '  ',
      '',
    ),
    junk,
  );
const codeOf = (...real: string[]) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...real) },
    fc.constantFrom('1.k1.lnope.0.AAAA', 'x', '', ' ', '码'),
    fc.string({ maxLength: 300 }),
    junk,
  );
const extra = fc.dictionary(
  fc.constantFrom('extra', 'funds', 'userId', 'balance', 'fee', '__proto__', 'constructor', 'Total'),
  fc.oneof(fc.integer(), fc.string({ maxLength: 4 })),
  { maxKeys: 2 },
);

/** A record of the given fields: mostly with the required ones, any of them missing, sometimes with fields the route does not take. */
function body(shape: Record<string, fc.Arbitrary<unknown>>, required: string[] = []) {
  const full = fc.record(shape, { requiredKeys: required });
  const any = fc.record(shape, { requiredKeys: [] });
  return fc.oneof(
    { weight: 8, arbitrary: full },
    { weight: 2, arbitrary: any },
    fc.tuple(full, extra).map(([a, b]) => ({ ...b, ...a })),
    fc.jsonValue({ maxDepth: 2 }),
  );
}

const keyArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant('fresh') },
  fc.constant(undefined),
  // `max`: a fresh key of the longest valid length (a fixed one, reused with another body, is
  // rightly refused as IDEMPOTENCY_MISMATCH before the body is judged).
  fc.constantFrom('', ' ', 'has space', 'k'.repeat(65), '键', 'a/b', 'a.b', 'max'),
);

// ---------------------------------------------------------------------------------------------
// The routes under fuzz.
// ---------------------------------------------------------------------------------------------

interface Case {
  name: string;
  /** The request path (the codes route needs the caller's own packet). */
  path: () => string;
  money: boolean;
  /** The caller: the personal account, or the enterprise one (campaigns). */
  as?: 'personal' | 'enterprise';
  bodies: fc.Arbitrary<unknown>;
  oracle: (body: unknown, key: string | undefined) => Verdict;
}

let writes = 0;
const clock = new Clock(Date.parse('2026-11-28T02:00:00Z')); // 10:00 UTC+8: no night rule
const d = testDeps({ db: baseDb({ beforeWrite: () => void writes++ }), clock });
const api = makeApi(d);
let alice: TestUser;
let bob: TestUser;
let biz: TestUser;
let packet: { id: string; code: string; shareCode: string };

/** Values the contract refuses for a number of fen (and their typed look-alikes). */
const badFen = [0, 0, -1, -20_000, 0.5, 1.5, 100.01, 1e-7, '100', 2 ** 53, 2 ** 53 + 2, 1e21, null, true, [], {}];
/** Text the product refuses: one character over, control characters, not text at all. */
const badText = (max: number) => [
  '红'.repeat(max + 1),
  '红'.repeat(max + 1),
  '😀'.repeat(max + 1),
  'a'.repeat(max + 1),
  'nul\u0000',
  'tab\t',
  'line\nbreak',
  'c1\u0085',
  42,
  null,
  [],
];
const badCode = [42, null, [], {}, 'x', '1.k1.lnope.0.AAAA', 'c'.repeat(300)];
/** Valid text, the limit included: CJK, emoji (two UTF-16 units each), plain. */
const goodText = (max: number) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'grapheme-composite', maxLength: max }) },
    fc.constantFrom('新年快乐', '😀'.repeat(max), '红'.repeat(max), 'a'.repeat(max), '', '  '),
  );
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
/** Drops the keys whose value is undefined (an absent optional field). */
const compact = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/**
 * The bodies of a route: valid ones (the limits included), each with exactly one field broken
 * (so a single loosened rule shows), one required field missing, one field too many, and
 * free-form records and JSON values.
 */
function bodiesOf(spec: {
  valid: fc.Arbitrary<Record<string, unknown>>;
  faults: Record<string, unknown[]>;
  required: string[];
  loose: fc.Arbitrary<unknown>;
}) {
  // A field first, then one of its faults: every field's rules get their share of the runs.
  const faults = fc
    .constantFrom(...Object.keys(spec.faults))
    .chain((k) => fc.constantFrom(...spec.faults[k]!).map((v) => [k, v] as const));
  return fc.oneof(
    { weight: 4, arbitrary: spec.valid },
    { weight: 10, arbitrary: fc.tuple(spec.valid, faults).map(([b, [k, v]]) => ({ ...b, [k]: v })) },
    ...(spec.required.length
      ? [fc.tuple(spec.valid, fc.constantFrom(...spec.required)).map(([b, k]) => compact({ ...b, [k]: undefined }))]
      : []),
    fc
      .tuple(
        spec.valid,
        fc.constantFrom('extra', 'userId', 'balance', 'fee', 'Total', '__proto__'),
        fc.oneof(fc.integer(), fc.string({ maxLength: 4 })),
      )
      .map(([b, k, v]) => {
        const out: Record<string, unknown> = { ...b };
        Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
        return out;
      }),
    { weight: 2, arbitrary: spec.loose },
  );
}

const cases: Case[] = [
  {
    name: 'POST /v1/packets',
    path: () => '/v1/packets',
    money: true,
    bodies: bodiesOf({
      // Packets the contract allows: an equal split exact, up to 100 shares and 200 yuan.
      valid: fc
        .record({
          count: fc.oneof(fc.integer({ min: 1, max: PERSONAL_MAX_SHARES }), fc.constantFrom(1, PERSONAL_MAX_SHARES)),
          per: fc.integer({ min: 1, max: 200 }),
          mode: fc.constantFrom(...MODES),
          greeting: opt(goodText(GREETING_MAX)),
          scene: opt(fc.constantFrom(...SCENES)),
          ttlSeconds: opt(fc.oneof(fc.integer({ min: 60, max: 86_400 }), fc.constantFrom(60, 86_400))),
        })
        .map(({ per, count, ...b }) =>
          compact({ ...b, count, total: Math.min(count * per, PERSONAL_MAX_FEN - (PERSONAL_MAX_FEN % count)) }),
        ),
      faults: {
        total: [...badFen, PERSONAL_MAX_FEN + 1, PERSONAL_MAX_FEN + 1, 2_000_000_000],
        count: [0, 0, -1, 1.5, '5', PERSONAL_MAX_SHARES + 1, PERSONAL_MAX_SHARES + 1, 10_000, null],
        mode: ['LUCKY', 'random', '', null, 1],
        greeting: badText(GREETING_MAX),
        scene: ['party', '', 'Wedding', null, 1],
        ttlSeconds: [59, 59, 59, 86_401, 86_401, 86_401, 0, 60.5, '60', -60, null],
      },
      required: ['total', 'count', 'mode'],
      loose: body(
        {
          total: fen(PERSONAL_MAX_FEN),
          count: int(1, PERSONAL_MAX_SHARES),
          mode: enumOf(MODES),
          greeting: textOf(GREETING_MAX),
          scene: enumOf(SCENES),
          ttlSeconds: int(60, 86_400),
        },
        ['total', 'count', 'mode'],
      ),
    }),
    oracle: oracles.packet,
  },
  {
    name: 'POST /v1/wallet/topups',
    path: () => '/v1/wallet/topups',
    money: true,
    bodies: bodiesOf({
      valid: fc.record({ amount: fc.oneof(fc.integer({ min: 1, max: PLAIN_TOPUP_MAX }), fc.constant(1)) }),
      faults: { amount: badFen },
      required: ['amount'],
      loose: body({ amount: fen(PLAIN_TOPUP_MAX) }, ['amount']),
    }),
    oracle: oracles.topup,
  },
  {
    name: 'POST /v1/transfers',
    path: () => '/v1/transfers',
    money: true,
    bodies: bodiesOf({
      valid: fc
        .record({
          code: fc.constant(RECEIVE_CODE),
          amount: fc.oneof(fc.integer({ min: 1, max: PERSONAL_MAX_FEN }), fc.constantFrom(1, PERSONAL_MAX_FEN)),
          note: opt(goodText(NOTE_MAX)),
        })
        .map(compact),
      faults: {
        amount: [...badFen, PERSONAL_MAX_FEN + 1, PERSONAL_MAX_FEN + 1],
        code: badCode,
        note: badText(NOTE_MAX),
      },
      required: ['code', 'amount'],
      loose: body({ code: codeOf(RECEIVE_CODE), amount: fen(PERSONAL_MAX_FEN), note: textOf(NOTE_MAX) }, [
        'code',
        'amount',
      ]),
    }),
    oracle: oracles.transfer,
  },
  {
    name: 'POST /v1/campaigns',
    path: () => '/v1/campaigns',
    money: true,
    as: 'enterprise',
    bodies: bodiesOf({
      // Small campaigns the contract allows (each store write counts; the limits are the faults').
      valid: fc
        .record({
          name: fc.oneof(
            fc.string({ unit: 'grapheme-composite', minLength: 1, maxLength: CAMPAIGN_NAME_MAX }),
            fc.constantFrom('双十一', '红'.repeat(CAMPAIGN_NAME_MAX), '😀'.repeat(CAMPAIGN_NAME_MAX)),
          ),
          quantity: fc.integer({ min: 1, max: 3 }),
          count: fc.integer({ min: 1, max: 10 }),
          per: fc.integer({ min: 1, max: 500 }),
          mode: fc.constantFrom(...MODES),
          greeting: opt(goodText(GREETING_MAX)),
          ttlSeconds: opt(fc.constantFrom(60, 3_600, 86_400)),
        })
        .map(({ count, per, mode, greeting, ...b }) =>
          compact({ ...b, packet: compact({ total: count * per, count, mode, greeting }) }),
        ),
      faults: {
        name: ['', '红'.repeat(CAMPAIGN_NAME_MAX + 1), 'nul\u0000', 42, null],
        quantity: [0, -1, 1.5, '2', CAMPAIGN_MAX_QUANTITY + 1, null],
        ttlSeconds: [59, 86_401, 0, '60'],
        packet: [
          null,
          [],
          'packet',
          { total: 0, count: 1, mode: 'equal' },
          { total: 1.5, count: 1, mode: 'equal' },
          { total: '100', count: 1, mode: 'equal' },
          { total: ENTERPRISE_MAX_FEN + 1, count: 1_000, mode: 'lucky' },
          { total: 100, count: 0, mode: 'equal' },
          { total: 2_000, count: ENTERPRISE_MAX_SHARES + 1, mode: 'lucky' },
          { total: 100, count: 3, mode: 'equal' },
          { total: 100, count: 1, mode: 'LUCKY' },
          { total: 100, count: 1 },
          { total: 100, count: 1, mode: 'equal', greeting: '红'.repeat(GREETING_MAX + 1) },
          { total: 100, count: 1, mode: 'equal', extra: 1 },
          { total: 30_000, count: 1, mode: 'lucky' },
        ],
      },
      required: ['name', 'packet', 'quantity'],
      loose: body(
        {
          name: textOf(CAMPAIGN_NAME_MAX),
          quantity: int(1, 3),
          packet: body({ total: fen(10_000), count: int(1, 10), mode: enumOf(MODES), greeting: textOf(GREETING_MAX) }, [
            'total',
            'count',
            'mode',
          ]),
        },
        ['name', 'packet', 'quantity'],
      ),
    }),
    oracle: oracles.campaign,
  },
  {
    name: 'POST /v1/claims',
    path: () => '/v1/claims',
    money: false,
    bodies: bodiesOf({
      valid: fc.record({ code: fc.constantFrom(PACKET_CODE, SHARE_CODE) }),
      faults: { code: [...badCode, ''] },
      required: ['code'],
      loose: body({ code: codeOf(PACKET_CODE, SHARE_CODE) }, ['code']),
    }),
    oracle: oracles.claim,
  },
  {
    name: 'POST /v1/packets/{id}/codes',
    path: () => `/v1/packets/${packet.id}/codes`,
    money: false,
    bodies: fc.oneof(
      fc.constant(undefined),
      bodiesOf({
        valid: fc.record({ kind: opt(fc.constantFrom(...CODE_KINDS)), via: opt(fc.constant(SHARE_CODE)) }).map(compact),
        faults: { kind: ['LIVE', 'receive', '', null, 1], via: [...badCode, ''] },
        required: [],
        loose: body({ kind: enumOf(CODE_KINDS), via: codeOf(SHARE_CODE) }),
      }),
    ),
    oracle: oracles.newCode,
  },
  {
    name: 'POST /v1/session',
    path: () => '/v1/session',
    money: false,
    bodies: fc.oneof(
      bodiesOf({
        valid: fc
          .record({
            devUser: fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/),
            name: opt(fc.string({ unit: 'grapheme-composite', minLength: 1, maxLength: 20 })),
            tier: opt(fc.constantFrom(...TIERS)),
            roles: opt(fc.subarray(STAFF_ROLES)),
          })
          .map(compact),
        faults: {
          devUser: [42, null, '', []],
          name: ['', 'nul\u0000', 'line\nbreak', 42, null],
          tier: ['gold', '', 'PERSONAL', null],
          roles: ['admin', [1], null, {}],
        },
        required: ['devUser'],
        loose: body(
          {
            devUser: fc.oneof(
              { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/) },
              fc.string({ maxLength: 40 }),
              junk,
            ),
            name: textOf(20),
            tier: enumOf(TIERS),
            roles: fc.oneof(fc.subarray(STAFF_ROLES), junk),
          },
          ['devUser'],
        ),
      }),
      body({ code: codeOf('wx-login-code') }, ['code']),
    ),
    oracle: oracles.session,
  },
];

/** Replaces the placeholders with real, fresh codes (minted before the request is measured). */
async function realize(v: unknown): Promise<unknown> {
  if (v === RECEIVE_CODE) return (await api('GET', '/v1/receive-code', { token: bob.token })).body.code;
  if (v === PACKET_CODE)
    return (await api('POST', `/v1/packets/${packet.id}/codes`, { token: alice.token, body: { kind: 'live' } })).body
      .code;
  if (v === SHARE_CODE) return packet.shareCode;
  if (Array.isArray(v)) return Promise.all(v.map(realize));
  if (isPlainObject(v))
    return Object.fromEntries(
      await Promise.all(Object.entries(v).map(async ([k, x]) => [k, await realize(x)] as const)),
    );
  return v;
}

const walletOf = async (u: TestUser) => {
  const w = await d.wallets.state(u.userId);
  return { balance: w.balance, seq: w.seq };
};

describe('fuzzed requests, judged by the contract (not by the server’s schemas)', () => {
  /**
   * Fresh accounts and packet, per route and again whenever the moving clock nears the end of a
   * session (2 h) — shrinking a failure re-runs the property many more times than numRuns.
   */
  let fixtureAt = 0;
  async function fixture() {
    if (alice && clock.now() - fixtureAt < 90 * 60_000) return;
    fixtureAt = clock.now();
    alice = await login(api);
    bob = await login(api);
    biz = await login(api, { tier: 'enterprise' });
    await topup(api, biz, 1_000_000);
    await topup(api, alice, 1_000_000);
    const r = await api('POST', '/v1/packets', {
      token: alice.token,
      idem: idem(),
      body: { total: 20_000, count: 100, mode: 'lucky' },
    });
    expect(r.status).toBe(201);
    packet = { id: r.body.packet.id, code: r.body.code.code, shareCode: r.body.shareCode.code };
  }
  beforeEach(() => {
    fixtureAt = -Infinity;
  });

  test.each(cases)(
    '$name',
    async ({ path, bodies, oracle, as }) => {
      const seen = { valid: 0, invalid: 0 };
      await fc.assert(
        fc.asyncProperty(
          bodies,
          keyArb,
          fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
          async (generated, keyChoice, broken) => {
            // Half a minute per request: per-minute limits never decide; codes are minted fresh.
            clock.advance(30_000);
            await fixture();
            const key =
              keyChoice === 'fresh' ? idem() : keyChoice === 'max' ? idem().padEnd(64, 'k').slice(0, 64) : keyChoice;
            // What the server receives: JSON drops undefined fields and turns NaN/Infinity to null.
            const sent = generated === undefined ? undefined : JSON.parse(JSON.stringify(await realize(generated)));
            // Broken JSON (a cut-off body) is always invalid.
            const raw = broken && sent !== undefined ? JSON.stringify(sent).slice(0, -1) : undefined;
            const verdict: Verdict =
              raw !== undefined
                ? { kind: 'invalid', codes: new Set(['VALIDATION_FAILED']), business: false }
                : oracle(generated === undefined ? undefined : replacePlaceholders(generated, sent), key);
            const caller = as === 'enterprise' ? biz : alice;
            const before = await walletOf(caller);
            writes = 0;
            const r: ApiResponse = await api('POST', path(), {
              token: caller.token,
              ...(key !== undefined ? { headers: { 'idempotency-key': key } } : {}),
              ...(raw !== undefined ? { rawBody: raw } : sent !== undefined ? { body: sent } : {}),
            });
            const wrote = writes;
            const code = r.body?.error?.code as string | undefined;
            const what = () =>
              JSON.stringify(
                { body: sent, raw, key, verdict, status: r.status, error: r.body?.error, writes: wrote },
                (_, v) => (v instanceof Set ? [...v] : v),
              );
            const check = (ok: boolean, rule: string) => {
              if (!ok) throw new Error(`${rule}: ${what()}`);
            };
            check(r.status < 500, 'never a 5xx');
            if (r.status >= 400)
              check(code !== undefined && API_CODES.has(code), 'a refusal carries an API error code');
            if (verdict.kind === 'invalid') {
              seen.invalid++;
              const allowed = verdict.business ? [...verdict.codes, ...RISK_CODES] : [...verdict.codes];
              check(r.status >= 400 && r.status < 500, 'invalid → 4xx');
              check(allowed.includes(code!), `invalid → one of ${allowed.join('|')}`);
              // Nothing written (a risk refusal's own audit record aside), the wallet untouched.
              if (!RISK_CODES.includes(code!)) check(wrote === 0, 'invalid → no store write');
              check(JSON.stringify(await walletOf(caller)) === JSON.stringify(before), 'invalid → wallet unchanged');
            } else if (verdict.kind === 'valid') {
              seen.valid++;
              check(code !== 'VALIDATION_FAILED', 'valid → never VALIDATION_FAILED');
            } else if (r.status === 400) {
              check(wrote === 0, 'refused input → no store write');
            }
          },
        ),
        {
          numRuns: Number(process.env.FUZZ_RUNS ?? 240),
          seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined,
        },
      );
      // Both sides of the oracle were exercised.
      expect(seen.valid).toBeGreaterThan(10);
      expect(seen.invalid).toBeGreaterThan(10);
    },
    600_000,
  );
});

/**
 * The oracle judges the generated request, where a real code is still its placeholder (the
 * placeholder is what says "a real code"); everything else as the server receives it.
 */
function replacePlaceholders(generated: unknown, sent: unknown): unknown {
  if (isReal(generated)) return generated;
  if (Array.isArray(generated) && Array.isArray(sent)) return sent.map((s, i) => replacePlaceholders(generated[i], s));
  if (isPlainObject(generated) && isPlainObject(sent))
    return Object.fromEntries(Object.entries(sent).map(([k, s]) => [k, replacePlaceholders(generated[k], s)]));
  return sent;
}
