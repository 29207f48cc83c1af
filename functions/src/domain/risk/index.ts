/**
 * The risk engine's rules (docs/rules.md, Risk rules), as pure functions: one module per rule
 * in this folder, re-exported here.
 *
 * No I/O, no SDK, no clock: every function takes the time (`nowMs`) and the counters or state
 * the risk store returned, and answers with a {@link RiskDecision}: allow, or refuse with an API
 * error code — plus the effects to write (risk events, freezes, large-transaction reports).
 * The store (store/risk.ts) owns the atomic counting; this module owns what the counts mean.
 *
 * The six rules and where each one's state lives:
 *
 * | rule              | counted by the store                         | decided here            |
 * |-------------------|----------------------------------------------|-------------------------|
 * | breaker 熔断       | streak per receive code (trip is atomic)     | {@link decideBreaker}   |
 * | device binding    | string set of accounts per device            | {@link decideDevice}    |
 * | night velocity    | set of op ids per account per UTC+8 hour     | {@link decideNight}     |
 * | large transaction | —                                            | {@link decideLarge}     |
 * | blacklist         | entries per account / device                 | {@link checkStanding}   |
 * | marketing words   | —                                            | greeting.ts             |
 *
 * Choices made where the product rules leave room (docs/rules.md lists them too):
 * - A receive code is identified by its payee's account id: the code itself rotates every 60 s,
 *   so "one receive code" is the payee's 收款码, whatever its current rendering.
 * - Breaker: the 5th consecutive same-amount payment is **allowed** and trips the breaker; the
 *   code is then frozen for 1 h (`423 CODE_FROZEN`) and the streak starts afresh after the
 *   freeze. A streak older than `streakTtlMs` (30 days) since its last payment restarts too.
 *   The breaker is about many payers paying one code the same amount, and it must not be a
 *   weapon against the code's owner: payments under 1 yuan (`minAmount`) neither count nor
 *   break a streak, and a streak made by one payer alone freezes only that payer's payments to
 *   that code (`423 CODE_FROZEN` for them, everyone else still pays).
 * - Device binding: an account "uses" a device when it logged in or moved money with that
 *   `x-device-id` within the rolling window (7 days, by last-seen time). The 4th account is
 *   refused (`403 DEVICE_LIMIT`); the device and its (up to 3) bound accounts are then
 *   restricted from paying for 7 days (`403 RISK_BLOCKED`).
 * - Night velocity: "within 1 h" is one UTC+8 clock hour (00:00–00:59, …, 05:00–05:59), so the
 *   night is exactly six counting windows. The 11th small movement in one such hour is
 *   **refused** and freezes the account's outgoing money for 1 h from that moment (which always
 *   outlasts the hour), with one risk event per (account, hour).
 * - Large transaction: strictly over 50,000 yuan; allowed, with a report and an event.
 * - Blacklist: refuses every money movement, incoming (claims, top-ups) as well as outgoing.
 *   Freezes (breaker, device, night) only stop outgoing money.
 * - Marketing words: matched after folding (compatibility forms, marks, invisible characters,
 *   spaces, punctuation and symbols: {@link foldText}) and mapping traditional to simplified
 *   characters (domain/greeting.ts), so "免 单", "全额·返现", "免\u034F单" and "免單" are caught.
 *   Personal greetings are exempt.
 * - Every firing writes a risk event; a refusal caused by an earlier freeze writes none (the
 *   freeze's own event recorded it; the audit log records each refusal).
 */
export { MINUTE_MS, HOUR_MS, DAY_MS, hourUtc8, hourBucketUtc8, hourBucketEndMs } from '../time';
export {
  RiskRules,
  type RiskRule,
  type TierRiskRules,
  BASE_MARKETING_WORDS,
  DEFAULT_RISK_RULES,
  type RiskOverrides,
  riskRulesFor,
} from './rules';
export {
  type RiskEvent,
  type Freeze,
  type LargeReport,
  type RiskEffects,
  type RiskDecision,
  type MovementKind,
  type RiskContext,
  ALLOW,
  refuse,
  riskEventId,
  combine,
  refusalError,
} from './decision';
export { type Standing, CLEAR, activeFreeze, checkStanding } from './standing';
export * from './breaker';
export * from './device';
export * from './night';
export * from './large';
export * from './marketing';
export * from './rate';
