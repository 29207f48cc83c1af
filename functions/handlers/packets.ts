import { httpHandler, route } from '../src/http/wrapper';
import { CreatePacketBody, MePacketsQuery, NewCodeBody, PacketIdParam, PacketViewQuery } from '../src/http/schemas';
import { decodeCursor, encodeCursor } from '../src/http/cursor';
import { createPacket, getPacket, myPackets, newPacketCode } from '../src/app/packets';
import { Keys } from '../src/store/keys';
import { fail } from '../src/domain/errors';

function packetId(params: Record<string, string>): string {
  const r = PacketIdParam.safeParse(params.id);
  return r.success ? r.data : fail('NOT_FOUND', '红包不存在');
}

/** POST /v1/packets · GET /v1/packets/{id} · POST /v1/packets/{id}/codes · GET /v1/me/packets */
export const routes = [
  route({
    method: 'POST',
    path: '/v1/packets',
    access: 'user',
    apiKey: 'basic',
    body: CreatePacketBody,
    run: ({ d, who, body, idemKey, deviceId }) => createPacket(d, who, body, idemKey, deviceId),
  }),
  route({
    method: 'GET',
    path: '/v1/packets/{id}',
    access: 'user',
    apiKey: 'basic',
    query: PacketViewQuery,
    run: async ({ d, who, params, query }) => {
      const id = packetId(params);
      const out = await getPacket(d, who, id, decodeCursor(query.forwardsCursor, { pk: Keys.forwardsPk(id) }));
      const { lastKey, ...rest } = out.body as { lastKey?: Record<string, unknown>; forwards?: unknown };
      // The cursor of the forwarding tree's next page, for those who see the tree.
      return { status: 200, body: rest.forwards ? { ...rest, forwardsCursor: encodeCursor(lastKey) } : rest };
    },
  }),
  route({
    method: 'POST',
    path: '/v1/packets/{id}/codes',
    access: 'user',
    apiKey: 'basic',
    body: NewCodeBody,
    run: ({ d, who, params, body }) => newPacketCode(d, who, packetId(params), body.kind ?? 'live', body.via),
  }),
  route({
    method: 'GET',
    path: '/v1/me/packets',
    access: 'user',
    apiKey: 'basic',
    query: MePacketsQuery,
    run: async ({ d, who, query }) => {
      const role = query.role ?? 'sent';
      // The received list pages through the caller's own ledger (claim credits carry no index entry).
      const expect: Record<string, string> = role === 'sent' ? { gsi2pk: Keys.sentPk(who.userId) } : { pk: Keys.ledgerPk(who.userId) };
      const out = await myPackets(d, who, role, query.limit ?? 20, decodeCursor(query.cursor, expect));
      const { lastKey, ...rest } = out.body as { lastKey?: Record<string, unknown> };
      return { status: 200, body: { ...rest, cursor: encodeCursor(lastKey) } };
    },
  }),
];

export const handler = httpHandler(routes);
