import { z } from 'zod';

/**
 * Request schemas of the HTTP contract (API.md). The one definition of what a valid request is:
 * the handlers parse with these, and the client imports their inferred types.
 */

/** Integer fen; never a float. */
export const Fen = z.number().int().safe();
/** Text a person typed: no control characters. */
const Text = (max: number) => z.string().max(max).regex(/^[^\p{Cc}]*$/u, 'no control characters');

export const IdempotencyKey = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

export const TierName = z.enum(['personal', 'enterprise', 'provider']);
export const SessionBody = z.union([
  z.object({ code: z.string().min(1).max(128).regex(/^[\x21-\x7e]+$/) }).strict(),
  z
    .object({
      devUser: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/),
      name: Text(32).min(1).optional(),
      tier: TierName.optional(),
      roles: z.array(z.enum(['user', 'enterprise', 'provider', 'support', 'risk', 'admin'])).max(6).optional(),
    })
    .strict(),
]);

/** 50,000 yuan per top-up at most. */
export const TopupBody = z.object({ amount: Fen.min(1).max(5_000_000) }).strict();

export const Scenes = ['none', 'birthday', 'wedding', 'new_year', 'thanks'] as const;
export const CreatePacketBody = z
  .object({
    total: Fen.min(1).max(100_000_000_000),
    count: z.number().int().min(1).max(10_000),
    mode: z.enum(['lucky', 'equal']),
    greeting: Text(50).optional(),
    scene: z.enum(Scenes).optional(),
    ttlSeconds: z.number().int().min(60).max(86_400).optional(),
  })
  .strict();

export const NewCodeBody = z
  .object({ kind: z.enum(['live', 'share']).optional(), via: z.string().max(200).optional() })
  .strict();

const CodeString = z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/);
export const ClaimBody = z.object({ code: CodeString }).strict();
export const TransferBody = z.object({ code: CodeString, amount: Fen.min(1).max(100_000_000_000), note: Text(50).optional() }).strict();
export const SweepBody = z.object({ now: z.iso.datetime({ offset: true }).optional() }).strict();

export const Cursor = z.string().max(1024).regex(/^[A-Za-z0-9_-]*$/);
export const PageQuery = z.object({ cursor: Cursor.optional(), limit: z.coerce.number().int().min(1).max(100).optional() }).strict();
export const MePacketsQuery = PageQuery.extend({ role: z.enum(['sent', 'received']).optional() }).strict();

export const PacketIdParam = z.string().regex(/^[A-Za-z0-9_-]{1,40}$/);

export type CreatePacketRequest = z.infer<typeof CreatePacketBody>;
export type SessionRequest = z.infer<typeof SessionBody>;
export type TransferRequest = z.infer<typeof TransferBody>;
