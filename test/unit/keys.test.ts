/**
 * keys.ts parses what it builds: every reader of a key goes through these parsers, so a key
 * format changed in one place is read back right everywhere.
 */
import {
  AuditKeys,
  ItemSk,
  Keys,
  OpsKeys,
  PkPrefix,
  RiskKeys,
  accountOfPk,
  blacklistedOf,
  claimMarkerOf,
  freezeReasonOf,
  parseTimeKey,
  refOfPk,
} from '../../functions/src/store/keys';

describe('keys.ts parses the keys it builds', () => {
  test('time-ordered sort keys: due index, ops events, figures minutes', () => {
    const at = '2026-12-05T08:00:00.000Z';
    expect(parseTimeKey(Keys.due(3, at, 'pk_abc').gsi1sk)).toEqual({ at, id: 'pk_abc' });
    expect(parseTimeKey(OpsKeys.eventSk(at, 'rc_1-00001'))).toEqual({ at, id: 'rc_1-00001' });
    expect(parseTimeKey(OpsKeys.minuteSk(at, 'i_x'))).toEqual({ at, id: 'i_x' });
    expect(parseTimeKey(RiskKeys.eventSk(at, 'ev#tail'))).toEqual({ at, id: 'ev#tail' });
  });

  test('partition keys: accounts, claim markers, due items', () => {
    expect(accountOfPk(Keys.ledgerPk('u_1'))).toBe('u_1');
    expect(accountOfPk(Keys.profile('u_2').pk)).toBe('u_2');
    expect(accountOfPk(Keys.packet('p_1').pk)).toBeUndefined();
    expect(claimMarkerOf(Keys.claimMarker('p_9', 'u_9').pk)).toEqual({ packetId: 'p_9', userId: 'u_9' });
    expect(claimMarkerOf(Keys.packet('p_9').pk)).toBeUndefined();
    expect(refOfPk(Keys.campaign('c_1').pk)).toEqual({ kind: 'campaign', id: 'c_1' });
    expect(refOfPk(Keys.payment('pay_1').pk)).toEqual({ kind: 'payment', id: 'pay_1' });
    expect(refOfPk(Keys.profile('u_1').pk)).toBeUndefined();
  });

  test('risk sort keys: freezes and blacklist entries', () => {
    expect(freezeReasonOf(RiskKeys.freezeSk('night_velocity'))).toBe('night_velocity');
    expect(freezeReasonOf(RiskKeys.bindSk)).toBeUndefined();
    expect(blacklistedOf(RiskKeys.blacklisted('device', 'dev:1.a').gsi2sk)).toEqual({ kind: 'device', id: 'dev:1.a' });
    expect(blacklistedOf(RiskKeys.blacklisted('account', 'u_7').gsi2sk)).toEqual({ kind: 'account', id: 'u_7' });
  });

  test('the prefixes and kinds read on their own are the ones the builders write', () => {
    expect(Keys.ledgerEntry('u_1', 3).pk.startsWith(PkPrefix.ledger)).toBe(true);
    expect(RiskKeys.night('u_1', '2026-12-05T02').pk.startsWith(PkPrefix.riskCount)).toBe(true);
    expect(RiskKeys.eventPk('2026-12-05', 1).startsWith(PkPrefix.riskEvent)).toBe(true);
    expect(RiskKeys.onceMarker('ev_1').pk.startsWith(PkPrefix.riskOnce)).toBe(true);
    expect(AuditKeys.record('u_1', 1).pk.startsWith(PkPrefix.audit)).toBe(true);
    expect(OpsKeys.minutePk('2026-12-05T02').startsWith(PkPrefix.opsMinute)).toBe(true);
    expect(Keys.groupBinding('pk_1').pk.startsWith(PkPrefix.groupBinding)).toBe(true);
    expect([
      Keys.profile('u').sk,
      Keys.packet('p').sk,
      Keys.claimMarker('p', 'u').sk,
      Keys.topup('t').sk,
      Keys.payment('x').sk,
    ]).toEqual([ItemSk.profile, ItemSk.packet, ItemSk.marker, ItemSk.topup, ItemSk.payment]);
  });
});
