import type { Deps } from '../../functions/src/app/deps';
import { createPacket } from '../../functions/src/app/packets';
import { claim, CLAIM_TAKEOVER_MS } from '../../functions/src/app/claims';
import { transfer, receiveCode } from '../../functions/src/app/transfers';
import { topup as topupUseCase } from '../../functions/src/app/wallet';
import { sweep } from '../../functions/src/app/sweeper';
import { FEE_ACCOUNTS } from '../../functions/src/app/context';
import { derivedId } from '../../functions/src/domain/ids';
import { homeCounter, type ShareLayout } from '../../functions/src/domain/share-counters';
import type { WriteInfo } from '../../functions/src/store/db';
import { Clock, baseDb, idem, login, makeApi, testDeps, topup, type TestUser } from '../helpers/app';
import { violations } from '../helpers/invariants';
import { seededRandom } from '../helpers/prng';

/**
 * Crash points: for every flow, for every k along its writes, a store that throws just before,
 * or just after, the k-th write. Then the user's retry (same Idempotency-Key, later in time) and
 * one sweep must leave the money invariants (docs/rules.md) intact. Seeded: CRASH_SEED replays a failure.
 * The flows that create or claim packets run in both share layouts: the recorded layout of new
 * packets (a plain packet of one counter; a packet of several counters whose claim overflows
 * its full home counter) and the slots layout of packets stored before (pinned).
 */
const SEED = Number(process.env.CRASH_SEED ?? 20261128);

class Crash extends Error {}

function crashingDeps(
  clock: Clock,
  k: number,
  when: 'before' | 'after',
  layout?: ShareLayout,
): { d: Deps; writes: () => number } {
  let n = 0;
  const hook = (phase: 'before' | 'after') => (_: WriteInfo) => {
    if (phase === 'before') n++;
    if (phase === when && n === k) throw new Crash(`crash ${when} write ${k}`);
  };
  const db = baseDb({ beforeWrite: hook('before'), afterWrite: hook('after') });
  return { d: testDeps({ db, clock, ...(layout ? { layout } : {}) }), writes: () => n };
}

interface World {
  users: TestUser[];
  packets: string[];
  topups: number;
  [k: string]: unknown;
}

interface Flow {
  name: string;
  /** How new packets record their takers in this flow (absent: the flow creates no packet). */
  layout?: ShareLayout;
  /** A claim flow: a retry after a crash must still get the share. */
  claims?: true;
  /** The writes of a clean run, when the flow pins them (so each crash point is the one meant). */
  writes?: number;
  setup(d: Deps, clock: Clock): Promise<World>;
  run(d: Deps, w: World): Promise<unknown>;
  /** How far the sweep's clock is moved after the retry. */
  sweepAfterMs: number;
}

const normalClock = () => new Clock(Date.parse('2026-11-28T02:00:00Z'));

async function fund(d: Deps, amount: number, opts: { tier?: string } = {}): Promise<TestUser> {
  const api = makeApi(d);
  const u = await login(api, opts);
  await topup(api, u, amount);
  return u;
}
const principal = (u: TestUser, tier: 'personal' | 'enterprise' = 'personal') => ({
  userId: u.userId,
  name: u.name,
  tier,
  roles: ['user'],
});

const LAYOUTS: ShareLayout[] = ['recorded', 'slots'];

/**
 * A recorded packet of 20 shares (two counters) whose claimer `c` finds its home counter full:
 * ten other accounts homed on the same counter claimed first, so `c`'s claim overflows — its
 * home take refused, the claim marker, the take on the other counter, the credit.
 */
async function overflowWorld(d: Deps): Promise<World> {
  const s = await fund(d, 10_000);
  const api = makeApi(d);
  const c = await login(api);
  const sent = await createPacket(d, principal(s), { total: 4_000, count: 20, mode: 'lucky' }, idem());
  const body = sent.body as { packet: { id: string }; shareCode: { code: string } };
  const id = body.packet.id;
  const home = homeCounter(id, c.userId, 2);
  const fillers: TestUser[] = [];
  while (fillers.length < 10) {
    const u = await login(api);
    if (homeCounter(id, u.userId, 2) !== home) continue;
    fillers.push(u);
    expect((await claim(d, principal(u), body.shareCode.code)).status).toBe(200);
  }
  return { users: [s, c, ...fillers], packets: [id], topups: 10_000, code: body.shareCode.code };
}

const flows: Flow[] = [
  ...LAYOUTS.map(
    (layout): Flow => ({
      name: `create (enterprise, with fee) [${layout}]`,
      layout,
      sweepAfterMs: 3 * 60_000,
      async setup(d) {
        const s = await fund(d, 50_000, { tier: 'enterprise' });
        const key = idem();
        // The packet id derives from the key, so the world knows it even if the create crashed.
        return { users: [s], packets: [derivedId('p', s.userId, 'packet', key)], topups: 50_000, key };
      },
      async run(d, w) {
        const out = await createPacket(
          d,
          principal(w.users[0]!, 'enterprise'),
          { total: 20_000, count: 7, mode: 'lucky' },
          w.key as string,
        );
        return out;
      },
    }),
  ),
  ...LAYOUTS.map(
    (layout): Flow => ({
      name: `claim [${layout}]`,
      layout,
      claims: true,
      // Recorded: the take on the home counter, the credit. Slots: marker, take, slot, credit.
      writes: layout === 'recorded' ? 2 : 4,
      sweepAfterMs: 25 * 3600_000,
      async setup(d) {
        const s = await fund(d, 10_000);
        const api = makeApi(d);
        const c = await login(api);
        const sent = await createPacket(d, principal(s), { total: 5_000, count: 3, mode: 'lucky' }, idem());
        const body = sent.body as { packet: { id: string }; shareCode: { code: string } };
        return { users: [s, c], packets: [body.packet.id], topups: 10_000, code: body.shareCode.code };
      },
      run: (d, w) => claim(d, principal(w.users[1]!), w.code as string),
    }),
  ),
  {
    name: 'transfer',
    sweepAfterMs: 3 * 60_000,
    async setup(d) {
      const a = await fund(d, 10_000);
      const api = makeApi(d);
      const b = await login(api);
      const rc = await receiveCode(d, principal(b));
      return { users: [a, b], packets: [], topups: 10_000, code: (rc.body as { code: string }).code, key: idem() };
    },
    run: (d, w) => transfer(d, principal(w.users[0]!), { code: w.code as string, amount: 4_321 }, w.key as string),
  },
  {
    name: 'top-up',
    sweepAfterMs: 3 * 60_000,
    async setup(d) {
      const api = makeApi(d);
      const u = await login(api);
      return { users: [u], packets: [], topups: 7_777, key: idem() };
    },
    run: (d, w) => topupUseCase(d, principal(w.users[0]!), 7_777, w.key as string),
  },
  ...LAYOUTS.map(
    (layout): Flow => ({
      name: `refund (sweep) [${layout}]`,
      layout,
      sweepAfterMs: 0,
      async setup(d, clock) {
        const s = await fund(d, 10_000);
        const api = makeApi(d);
        const c = await login(api);
        const sent = await createPacket(
          d,
          principal(s),
          { total: 6_000, count: 4, mode: 'lucky', ttlSeconds: 60 },
          idem(),
        );
        const body = sent.body as { packet: { id: string }; shareCode: { code: string } };
        await claim(d, principal(c), body.shareCode.code);
        clock.advance(61_000);
        return { users: [s, c], packets: [body.packet.id], topups: 10_000 };
      },
      run: async (d) => {
        const r = await sweep(d, d.now());
        if (r.errors > 0) throw new Crash('sweep item crashed');
        return r;
      },
    }),
  ),
  {
    // 5 counters: settled in two steps (4 + 1) with a cursor write between, a counter close per
    // counter, a void (a claim that took a share and died), a credit (one that recorded its slot
    // and died), the refund and the finish — a crash at each of them.
    name: 'refund (sweep, sharded) [slots]',
    layout: 'slots',
    sweepAfterMs: 0,
    async setup(d, clock) {
      const s = await fund(d, 60_000, { tier: 'enterprise' });
      const api = makeApi(d);
      const [c1, c2, c3] = [await login(api), await login(api), await login(api)];
      const sent = await createPacket(
        d,
        principal(s, 'enterprise'),
        { total: 50_000, count: 500, mode: 'lucky', ttlSeconds: 60 },
        idem(),
      );
      const body = sent.body as { packet: { id: string }; shareCode: { code: string } };
      const id = body.packet.id;
      await claim(d, principal(c1!), body.shareCode.code);
      expect((await d.packets.takeShare(id, clock.now())).kind).toBe('taken');
      const taken = await d.packets.takeShare(id, clock.now());
      if (taken.kind !== 'taken') throw new Error('no share left');
      const amount = (await d.packets.shares(id))!.amounts[taken.index]!;
      const seqHint = (await d.wallets.state(c2!.userId)).seq;
      await d.claims.putSlot(id, {
        index: taken.index,
        userId: c2!.userId,
        name: c2!.name,
        amount,
        at: new Date(clock.now()).toISOString(),
        seqHint,
      });
      await claim(d, principal(c3!), body.shareCode.code);
      clock.advance(61_000);
      // An enterprise packet pays a fee: the world counts its fee entry.
      return { users: [s, c1!, c2!, c3!], packets: [id], topups: 60_000, fees: true };
    },
    run: async (d) => {
      const r = await sweep(d, d.now());
      if (r.errors > 0) throw new Crash('sweep item crashed');
      return r;
    },
  },
  {
    // Three counter items written with the packet: a crash between any two, and the retry (if
    // any) leaves all three, each with its range and nothing taken.
    name: 'create, several counters (enterprise, with fee) [recorded]',
    layout: 'recorded',
    sweepAfterMs: 3 * 60_000,
    async setup(d) {
      const s = await fund(d, 50_000, { tier: 'enterprise' });
      const key = idem();
      return { users: [s], packets: [derivedId('p', s.userId, 'packet', key)], topups: 50_000, key };
    },
    async run(d, w) {
      const out = await createPacket(
        d,
        principal(w.users[0]!, 'enterprise'),
        { total: 20_000, count: 25, mode: 'lucky' },
        w.key as string,
      );
      if (out.status !== 201) return out;
      // Whatever the crash left, the packet's three counters hand out every share exactly once.
      const body = out.body as { packet: { id: string }; shareCode: { code: string } };
      const p = (await d.packets.get(body.packet.id))!;
      expect({ layout: p.layout, counters: p.counters }).toEqual({ layout: 'recorded', counters: 3 });
      const ranges = await d.packets.counters(p, true);
      expect(ranges.map((c) => [c.start, c.size, c.claimed])).toEqual([
        [0, 10, 0],
        [10, 10, 0],
        [20, 5, 0],
      ]);
      return out;
    },
  },
  {
    name: 'claim, overflowing a full home counter [recorded]',
    layout: 'recorded',
    claims: true,
    // The claim marker, the take on the other counter, the credit: the claims of the setup filled
    // the home counter in this process, which knows it full and does not try it again.
    writes: 3,
    sweepAfterMs: 25 * 3600_000,
    setup: (d) => overflowWorld(d),
    async run(d, w) {
      const c = w.users[1]!;
      const r = await claim(d, principal(c), w.code as string);
      // It did overflow: the claim marker (the gate across counters) is there, the share elsewhere.
      const p = (await d.packets.get(w.packets[0]!))!;
      expect(await d.claims.marker(p.id, c.userId)).toBeDefined();
      expect(Math.floor((await d.claims.slotOf(p, c.userId))!.index / 10)).not.toBe(homeCounter(p.id, c.userId, 2));
      return r;
    },
  },
  {
    // 5 counters of ten, each closed and its records read; a credit (a claim that took and
    // recorded its share and died before its credit), the refund and the finish — a crash at each.
    name: 'refund (sweep, recorded counters) [recorded]',
    layout: 'recorded',
    sweepAfterMs: 0,
    async setup(d, clock) {
      const s = await fund(d, 10_000);
      const api = makeApi(d);
      const [c1, c2, c3] = [await login(api), await login(api), await login(api)];
      const sent = await createPacket(
        d,
        principal(s),
        { total: 5_000, count: 50, mode: 'lucky', ttlSeconds: 60 },
        idem(),
      );
      const body = sent.body as { packet: { id: string }; shareCode: { code: string } };
      const id = body.packet.id;
      const p = (await d.packets.get(id))!;
      expect({ layout: p.layout, counters: p.counters }).toEqual({ layout: 'recorded', counters: 5 });
      expect((await claim(d, principal(c1!), body.shareCode.code)).status).toBe(200);
      // c2's take on its home counter landed (the record) and its claim died before the credit.
      const taken = await d.packets.takeRecorded(
        p,
        homeCounter(id, c2!.userId, 5),
        { userId: c2!.userId, name: c2!.name, atMs: clock.now(), seqHint: (await d.wallets.state(c2!.userId)).seq },
        clock.now(),
      );
      expect(taken.kind).toBe('taken');
      expect((await claim(d, principal(c3!), body.shareCode.code)).status).toBe(200);
      clock.advance(61_000);
      return { users: [s, c1!, c2!, c3!], packets: [id], topups: 10_000 };
    },
    run: async (d) => {
      const r = await sweep(d, d.now());
      if (r.errors > 0) throw new Crash('sweep item crashed');
      return r;
    },
  },
];

/** Deps whose new packets take `layout` (absent: the configured one). */
const layoutDeps = (clock: Clock, layout?: ShareLayout) => testDeps({ clock, ...(layout ? { layout } : {}) });

describe.each(flows)('crash points: $name', (flow) => {
  test('every write, before and after: retry (or none) + one sweep restore the money invariants', async () => {
    // Count the flow's writes on a clean run first.
    const probeClock = normalClock();
    const probe = crashingDeps(probeClock, Number.MAX_SAFE_INTEGER, 'before', flow.layout);
    const probeWorld = await flow.setup(layoutDeps(probeClock, flow.layout), probeClock);
    const start = probe.writes();
    await flow.run(probe.d, probeWorld);
    const total = probe.writes() - start;
    expect(total).toBeGreaterThanOrEqual(1);
    if (flow.writes !== undefined) expect(total).toBe(flow.writes);

    const failures: string[] = [];
    for (let k = 1; k <= total; k++) {
      for (const [when, retry] of [
        ['before', true],
        ['after', true],
        ['before', false],
        ['after', false],
      ] as const) {
        const clock = normalClock();
        const seed = SEED + k * 4 + (when === 'after' ? 1 : 0) + (retry ? 0 : 2);
        const normal = layoutDeps(clock, flow.layout);
        normal.random = seededRandom(seed);
        const world = await flow.setup(normal, clock);
        const crashing = crashingDeps(clock, k, when, flow.layout);
        crashing.d.random = seededRandom(seed);
        let crashed = false;
        try {
          await flow.run(crashing.d, world);
        } catch (err) {
          if (!(err instanceof Crash)) throw err;
          crashed = true;
        }
        // The user comes back later (past any in-flight window) and retries the same request —
        // or never does, and the sweep alone must restore the invariants.
        clock.advance(CLAIM_TAKEOVER_MS + 1_000);
        const retried = retry ? await flow.run(normal, world) : undefined;
        if (flow.claims && crashed && retry) {
          // A retried claim still gets a share (shares left, one claimer).
          expect((retried as { status: number }).status).toBe(200);
        }
        clock.advance(flow.sweepAfterMs);
        const report = await sweep(normal, clock.now());
        if (report.errors) failures.push(`${flow.name} k=${k} ${when} retry=${retry}: sweep errors`);
        const v = await violations(normal, {
          users: world.users.map((u) => u.userId),
          packets: world.packets,
          // A top-up that crashed and was never retried may or may not have happened.
          ...(flow.name === 'top-up' ? {} : { topups: world.topups }),
          ...(flow.name.startsWith('create') || world.fees === true ? { feeAccounts: FEE_ACCOUNTS } : {}),
        });
        for (const msg of v) failures.push(`${flow.name} k=${k} ${when} retry=${retry} (seed ${seed}): ${msg}`);
      }
    }
    expect(failures).toEqual([]);
  }, 180_000);
});
