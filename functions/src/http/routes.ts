/**
 * The route table: every HTTP route and every function of the deploy, declared once.
 *
 * From this file come
 *   - the handlers' routes (functions/handlers/*.ts bind each entry of their function to a use
 *     case with {@link bindRoutes}; the wrapper checks access, API-key scope, body, query and
 *     path parameters; the use case answers the route's response type);
 *   - the `functions:` block (API Gateway events, per-function settings) and the per-function IAM
 *     roles of serverless.yml, and the README's route × role table — written by
 *     `npm run routes` (scripts/routes.ts); test/unit/routes-generated.test.ts fails when the
 *     committed files differ from what this table generates;
 *   - the cases of the authorization matrix test and the expectations of the packaged-template
 *     test.
 *
 * Widening a role, opening a route to another role or adding a route is a change here, and
 * nowhere else.
 *
 * Pure data and schemas: no app code is imported, so scripts and tests read it cheaply.
 */
import * as z from 'zod/mini';
import type { ApiScope } from '../domain/api-keys';
import type { ErrorCode } from '../domain/errors';
import type {
  AdminAccountResponse,
  ApiKeysResponse,
  AuditResponse,
  AvatarImage,
  AvatarUploadResponse,
  AwaitingPaymentPacketResponse,
  BlacklistChangeResponse,
  BlacklistResponse,
  CampaignCodesCsv,
  CampaignsResponse,
  CampaignStats,
  ClaimResponse,
  CodeView,
  CreateApiKeyResponse,
  CreateCampaignResponse,
  CreatePacketResponse,
  CreateWithdrawalResponse,
  HealthResponse,
  LedgerResponse,
  LinkPage,
  MyPacketsResponse,
  NewCodeResponse,
  OpenCodeResponse,
  OpsResponse,
  PacketView,
  Payment,
  PendingTopupResponse,
  ProfileResponse,
  RevokeApiKeyResponse,
  RiskEventsResponse,
  RiskReportsResponse,
  SessionResponse,
  SweepReport,
  TopupResponse,
  TransferResponse,
  WalletResponse,
  WeChatPayNotifyAnswer,
  WithdrawalsResponse,
  WithdrawalView,
} from './contract';
import { PkPrefix } from '../store/keys';
import {
  AccountId,
  ApiKeyIdParam,
  AuditQuery,
  AVATAR_UPLOAD_MAX_BODY,
  AvatarUploadBody,
  BlacklistBody,
  BlacklistKindName,
  CampaignIdParam,
  ClaimBody,
  CreateApiKeyBody,
  CreateCampaignBody,
  CreatePacketBody,
  CodeParam,
  DeviceId,
  MePacketsQuery,
  NewCodeBody,
  OpenCodeQuery,
  OpsQuery,
  PacketIdParam,
  PacketViewQuery,
  PageQuery,
  PaymentIdParam,
  ProfileBody,
  RiskRangeQuery,
  SessionBody,
  SetTierBody,
  SweepBody,
  TopupBody,
  TransferBody,
  WithdrawalBody,
  WithdrawalIdParam,
} from './schemas';

/** `public`: no caller needed; `user`: any signed-in caller; a list: one of these roles. */
export type Access = 'public' | 'user' | readonly string[];

/** The DynamoDB actions a role may hold (store/db.ts maps each store call to one of these). */
export type DynamoAction =
  | 'GetItem'
  | 'PutItem'
  | 'UpdateItem'
  | 'Query'
  | 'BatchGetItem'
  | 'BatchWriteItem'
  | 'Scan'
  | 'DescribeTable';
export type IndexName = 'gsi1' | 'gsi2';
export type S3Action = 's3:GetObject' | 's3:PutObject' | 's3:ListBucket';

/** What a code path needs from AWS: actions on the table, Query on indexes, S3 rights. */
export interface Rights {
  table?: readonly DynamoAction[];
  /** Query on these indexes (writing an item that carries index keys needs no index right). */
  indexes?: readonly IndexName[];
  /** `objects`: the avatar bucket under `avatars/`; `bucket`: the bucket itself (ListBucket). */
  s3?: { objects?: readonly S3Action[]; bucket?: readonly S3Action[] };
  /** Why: the store calls behind these rights (written into serverless.yml beside the role). */
  why: string;
}

/** The marks of the route × role table (README), one per caller column. */
export const Columns = [
  'anonymous',
  'user',
  'enterprise',
  'provider',
  'support',
  'risk',
  'admin',
  'key: basic',
  'key: full',
] as const;
export type Column = (typeof Columns)[number];
export const Marks = ['✓', '✗', 'own', 'any, masked'] as const;
export type Mark = (typeof Marks)[number];

/**
 * A route's response type, from functions/src/http/contract.ts (the types the client compiles
 * against): `response: returns<WalletResponse>()`. Only the type matters — the value is
 * undefined; the handler's use case must then produce that type.
 */
export const returns = <T>(): T => undefined as T;

export interface RouteSpec {
  /** The function (serverless.yml key, functions/handlers/<fn>.ts) that serves the route. */
  fn: FunctionName;
  access: Access;
  /** Whether an `x-api-key` may call this route, and the scope it needs. Absent: sessions only. */
  apiKey?: ApiScope;
  /** `own`: a caller acts on their own resources only; `any`: the route answers anyone allowed. */
  sees: 'own' | 'any';
  /** Cells that differ from what access, API-key scope and `sees` give. */
  marks?: Partial<Record<Column, Mark>>;
  body?: unknown;
  query?: unknown;
  /**
   * The path parameters' schema, and the error a malformed one answers (a malformed id names
   * nothing: most routes answer as for a missing resource). Every wrapped route with a path
   * parameter has one (a test holds it); standalone routes read their own path.
   */
  params?: { schema: unknown; invalid: { code: ErrorCode; message: string } };
  /**
   * Its 2xx body's type (see {@link returns}): a JSON type of the contract, or — with `media` — the
   * text or bytes of an answer that is not JSON (the contract documents each such type).
   */
  response: unknown;
  /** The content type of a 2xx answer that is not JSON (a CSV export, an image, a page); absent: JSON. */
  media?: 'text/csv' | 'image/*' | 'text/html';
  /** The route reads its body itself, unparsed (a signature over the exact bytes). */
  rawBody?: true;
  /** A larger body limit than the default 16 KB. */
  maxBodyBytes?: number;
  /** Served outside the shared wrapper (no session, no table): health, avatars, code links. */
  standalone?: true;
  /** Not an API route (the code-link pages): absent from the route × role table. */
  page?: true;
  /** API Gateway throttle of this route (the $default stage's route settings), if tighter. */
  throttle?: { rate: number; burst: number };
  rights: Rights;
}

/** Business accounts (and their keys): campaigns, and managing the keys themselves. */
const BUSINESS = ['enterprise', 'provider'] as const;
const RISK_STAFF = ['risk', 'admin'] as const;
const ADMIN = ['admin'] as const;

const PACKET_ID = {
  schema: z.object({ id: PacketIdParam }),
  invalid: { code: 'NOT_FOUND', message: '红包不存在' },
} as const;
const CAMPAIGN_ID = {
  schema: z.object({ id: CampaignIdParam }),
  invalid: { code: 'NOT_FOUND', message: '活动不存在' },
} as const;
const WITHDRAWAL_ID = {
  schema: z.object({ id: WithdrawalIdParam }),
  invalid: { code: 'NOT_FOUND', message: '没有这笔提现' },
} as const;
const PAYMENT_ID = {
  schema: z.object({ paymentId: PaymentIdParam }),
  invalid: { code: 'NOT_FOUND', message: '没有这笔支付' },
} as const;
const ACCOUNT_ID = {
  schema: z.object({ userId: AccountId }),
  invalid: { code: 'VALIDATION_FAILED', message: 'invalid account id' },
} as const;

const RW = ['GetItem', 'PutItem', 'UpdateItem', 'Query'] as const satisfies readonly DynamoAction[];

/**
 * Every route. The order is the README table's; within a function, the order of its API
 * Gateway events.
 */
export const ROUTES = {
  'GET /v1/health': {
    response: returns<HealthResponse>(),
    fn: 'health',
    access: 'public',
    sees: 'any',
    standalone: true,
    rights: { table: ['DescribeTable'], why: 'one DescribeTable of TABLE_NAME — nothing else' },
  },
  'POST /v1/session': {
    response: returns<SessionResponse>(),
    fn: 'session',
    access: 'public',
    sees: 'any',
    body: SessionBody,
    rights: {
      table: RW,
      why:
        'GetItem accounts.upsert (profile exists → read it), bindDevice re-read, once-marker; PutItem accounts.upsert (new wx profile, ' +
        'if absent), audit.append (login), risk events; UpdateItem accounts.upsert overwrite (dev login), riskCount bindDevice ' +
        '(x-device-id), freezes; Query audit.append tail',
    },
  },
  'GET /v1/wallet': {
    response: returns<WalletResponse>(),
    fn: 'wallet',
    access: 'user',
    apiKey: 'basic',
    sees: 'own',
    rights: { table: ['Query', 'GetItem'], why: 'wallets.state Query, accounts.get GetItem' },
  },
  'POST /v1/wallet/topups': {
    response: returns<TopupResponse | PendingTopupResponse>(),
    fn: 'wallet',
    access: 'user',
    apiKey: 'full',
    sees: 'own',
    body: TopupBody,
    rights: {
      table: [...RW, 'BatchGetItem'],
      why:
        'idempotent (GetItem, PutItem, UpdateItem), riskCheck (blacklists and device binding: BatchGetItem; record and refusal ' +
        'audit: UpdateItem, PutItem, GetItem), movements.createTopup PutItem (+ GetItem), completeTopup: wallets.append (Query, PutItem), setTopupState UpdateItem',
    },
  },
  'GET /v1/wallet/ledger': {
    response: returns<LedgerResponse>(),
    fn: 'wallet',
    access: 'user',
    apiKey: 'basic',
    sees: 'own',
    query: PageQuery,
    rights: { table: ['Query'], why: 'wallets.page Query (table)' },
  },
  'POST /v1/packets': {
    response: returns<CreatePacketResponse | AwaitingPaymentPacketResponse>(),
    fn: 'packets',
    access: 'user',
    apiKey: 'basic',
    sees: 'own',
    body: CreatePacketBody,
    rights: {
      table: RW,
      why:
        'accounts.get GetItem; idempotent; riskCheck/riskCount/riskAfter; wallets.state Query; putShares/create PutItem (+ GetItem); ' +
        'fundPacket: wallets.append (sender debit, fee credit: Query, PutItem), packets.activate/cancel UpdateItem',
    },
  },
  'GET /v1/packets/{id}': {
    params: PACKET_ID,
    response: returns<PacketView>(),
    fn: 'packets',
    access: 'user',
    apiKey: 'basic',
    sees: 'any',
    query: PacketViewQuery,
    // The expensive reads: a packet view reads every slot (insiders).
    throttle: { rate: 1000, burst: 500 },
    rights: {
      table: ['GetItem', 'Query', 'BatchGetItem'],
      why: 'packets.get GetItem (> 100 shares: their share counters, BatchGetItem), slots Query',
    },
  },
  'POST /v1/packets/{id}/codes': {
    params: PACKET_ID,
    response: returns<NewCodeResponse>(),
    fn: 'packets',
    access: 'user',
    apiKey: 'basic',
    sees: 'own',
    body: NewCodeBody,
    rights: {
      table: ['GetItem', 'Query', 'UpdateItem', 'PutItem'],
      why: 'packets.get GetItem, slotOf Query, rateLimit UpdateItem (+ record on refusal)',
    },
  },
  'GET /v1/me/packets': {
    response: returns<MyPacketsResponse>(),
    fn: 'packets',
    access: 'user',
    apiKey: 'basic',
    sees: 'own',
    query: MePacketsQuery,
    rights: {
      table: ['GetItem', 'Query'],
      indexes: ['gsi2'],
      why: "listSent (sent): Query on gsi2, then GetItem of each packet; wallets.received (received): Query of the caller's ledger (filtered), GetItem of each packet",
    },
  },
  'GET /v1/codes/{code}': {
    params: { schema: z.object({ code: CodeParam }), invalid: { code: 'CODE_INVALID', message: '无效的二维码' } },
    response: returns<OpenCodeResponse>(),
    fn: 'codes',
    access: 'user',
    sees: 'any',
    // Group context of a group-only packet (仅限本群): encryptedData + iv, or devGroup.
    query: OpenCodeQuery,
    throttle: { rate: 2000, burst: 1000 },
    rights: {
      table: [...RW, 'BatchGetItem'],
      why:
        'GetItem payeeOfCode accounts.get (receive code), packetOfCode packets.get (packet code), accounts.sealedSessionKey (group data); ' +
        'Query claims.slotOf (has the caller claimed?); UpdateItem rateLimit countRate (every open of a valid code); PutItem ' +
        "rateLimit's first refusal of a minute (risk event, once-marker, audit.append), bindGroup (PKTGRP#, put-if-absent)",
    },
  },
  'POST /v1/claims': {
    response: returns<ClaimResponse>(),
    fn: 'claims',
    access: 'user',
    apiKey: 'full',
    sees: 'any',
    // A key claims into its owner's wallet.
    marks: { 'key: full': 'own' },
    body: ClaimBody,
    rights: {
      table: [...RW, 'BatchGetItem'],
      why:
        'GetItem packets.recent/get, shares, counter read-back, marker (repeat), bindDevice re-read, once-marker; ' +
        'UpdateItem takeRecorded (the home counter: gate, take and record; slots layout: takeShare), takeOverMarker, ' +
        'riskCount bindDevice (unless bound within the hour), freezes; PutItem wallets.append claim_credit (a ledger entry ' +
        'carrying the claim rate count and the share index; no index key), putMarker (home counter full; slots layout: ' +
        'every claim), putSlot (slots layout), audit.append (refusals), risk events; BatchGetItem riskCheck standings ' +
        '(blacklists, device binding), counters (the last-share check, overflow, claim list); Query wallets.state and ' +
        'append, slots (slots layout), audit tail',
    },
  },
  'GET /v1/receive-code': {
    response: returns<CodeView>(),
    fn: 'transfers',
    access: 'user',
    apiKey: 'full',
    sees: 'own',
    rights: { table: RW, why: 'accounts.get GetItem, rateLimit UpdateItem (+ record on refusal)' },
  },
  'POST /v1/transfers': {
    response: returns<TransferResponse>(),
    fn: 'transfers',
    access: 'user',
    apiKey: 'full',
    sees: 'own',
    body: TransferBody,
    rights: {
      table: RW,
      why:
        'accounts.get / payeeOfCode GetItem; idempotent; riskCheck (breaker GetItem), riskCount (bindDevice, countBreaker, countNight: ' +
        'UpdateItem + GetItem), riskAfter (large report PutItem); wallets.state Query; createTransfer PutItem (+ GetItem); wallets.append ' +
        'debit + credit (Query, PutItem); setTransferState UpdateItem',
    },
  },
  'POST /v1/withdrawals': {
    response: returns<CreateWithdrawalResponse>(),
    fn: 'withdrawals',
    access: 'user',
    sees: 'own',
    body: WithdrawalBody,
    rights: {
      table: RW,
      why:
        'accounts.get + accounts.openid GetItem; idempotent (GetItem, PutItem, UpdateItem); wallets.state Query; withdrawals.create ' +
        'PutItem (+ GetItem); hold and return: wallets.append / find (Query, PutItem); markBillAttempt / saveBill / finish / ' +
        'markReturned UpdateItem',
    },
  },
  'GET /v1/withdrawals': {
    response: returns<WithdrawalsResponse>(),
    fn: 'withdrawals',
    access: 'user',
    sees: 'own',
    query: PageQuery,
    rights: {
      table: ['BatchGetItem'],
      indexes: ['gsi2'],
      why: 'withdrawals.list: Query on gsi2, then BatchGetItem of the records',
    },
  },
  'GET /v1/withdrawals/{id}': {
    params: WITHDRAWAL_ID,
    response: returns<WithdrawalView>(),
    fn: 'withdrawals',
    access: 'user',
    sees: 'own',
    rights: { table: RW, why: 'withdrawals.get GetItem; an open one: applyBill (as POST)' },
  },
  'POST /v1/campaigns': {
    response: returns<CreateCampaignResponse>(),
    fn: 'campaigns',
    access: BUSINESS,
    apiKey: 'basic',
    sees: 'own',
    body: CreateCampaignBody,
    rights: {
      table: [...RW, 'BatchWriteItem'],
      why:
        'PutItem the campaign record, ledger debit and fee credit, idempotency, audit; BatchWriteItem its packets and their shares ' +
        '(deterministic, only the missing ones); GetItem profile, packets, idempotency, API keys; UpdateItem campaign state, ' +
        'idempotency completion, risk counters, API key last use; Query wallet tails, audit tail',
    },
  },
  'GET /v1/campaigns': {
    response: returns<CampaignsResponse>(),
    fn: 'campaigns',
    access: BUSINESS,
    apiKey: 'basic',
    sees: 'own',
    rights: { table: ['GetItem'], indexes: ['gsi2'], why: 'gsi2 CAMPS#<owner> (the list), GetItem of each' },
  },
  'GET /v1/campaigns/{id}': {
    params: CAMPAIGN_ID,
    response: returns<CampaignStats>(),
    fn: 'campaigns',
    access: BUSINESS,
    apiKey: 'basic',
    sees: 'own',
    // Statistics read every slot of up to 1,000 packets.
    throttle: { rate: 20, burst: 10 },
    rights: {
      table: ['GetItem', 'Query', 'BatchGetItem'],
      why: 'campaign GetItem, its packets (GetItem; > 100 shares: BatchGetItem), slots Query (stats)',
    },
  },
  'GET /v1/campaigns/{id}/codes.csv': {
    params: CAMPAIGN_ID,
    response: returns<CampaignCodesCsv>(),
    media: 'text/csv',
    fn: 'campaigns',
    access: BUSINESS,
    apiKey: 'basic',
    sees: 'own',
    // The export signs a code per packet.
    throttle: { rate: 5, burst: 5 },
    rights: { table: ['GetItem'], why: 'campaign GetItem' },
  },
  'POST /v1/api-keys': {
    response: returns<CreateApiKeyResponse>(),
    fn: 'session',
    access: BUSINESS,
    sees: 'own',
    body: CreateApiKeyBody,
    rights: { table: ['PutItem', 'GetItem'], why: 'PutItem the key and its owner-list entry' },
  },
  'GET /v1/api-keys': {
    response: returns<ApiKeysResponse>(),
    fn: 'session',
    access: BUSINESS,
    sees: 'own',
    rights: { table: ['Query', 'GetItem'], why: "Query the owner's list, GetItem each key" },
  },
  'DELETE /v1/api-keys/{keyId}': {
    params: {
      schema: z.object({ keyId: ApiKeyIdParam }),
      invalid: { code: 'NOT_FOUND', message: 'API Key 不存在或已撤销' },
    },
    response: returns<RevokeApiKeyResponse>(),
    fn: 'session',
    access: BUSINESS,
    sees: 'own',
    rights: { table: ['GetItem', 'UpdateItem'], why: 'GetItem the key, UpdateItem revoke' },
  },
  'GET /v1/audit': {
    response: returns<AuditResponse>(),
    fn: 'operations',
    // Everyone signed in reads their own log; reading another account's needs the support role
    // (checked by auditSubject, as the subject depends on the query).
    access: 'user',
    apiKey: 'full',
    sees: 'own',
    marks: { support: 'any, masked' },
    query: AuditQuery,
    rights: {
      table: ['Query', 'PutItem'],
      why: 'audit.between + wallets.page Query (table); support reads append a support_view record (audit.append: Query, PutItem)',
    },
  },
  'GET /v1/risk/events': {
    response: returns<RiskEventsResponse>(),
    fn: 'operations',
    access: RISK_STAFF,
    sees: 'any',
    query: RiskRangeQuery,
    rights: { table: ['Query'], why: 'risk.events Query (table, per day partition)' },
  },
  'GET /v1/risk/reports': {
    response: returns<RiskReportsResponse>(),
    fn: 'operations',
    access: RISK_STAFF,
    sees: 'any',
    query: RiskRangeQuery,
    rights: { table: ['Query'], why: 'risk.reports Query (table, per day partition)' },
  },
  'GET /v1/admin/blacklist': {
    response: returns<BlacklistResponse>(),
    fn: 'operations',
    access: RISK_STAFF,
    sees: 'any',
    rights: { indexes: ['gsi2'], why: 'risk.blacklist Query on gsi2 (BLACKLIST partition)' },
  },
  'POST /v1/admin/blacklist': {
    response: returns<BlacklistChangeResponse>(),
    fn: 'operations',
    access: RISK_STAFF,
    sees: 'any',
    body: BlacklistBody,
    rights: { table: RW, why: 'accounts.get GetItem, blacklistAdd PutItem, audit.append' },
  },
  'DELETE /v1/admin/blacklist/{kind}/{id}': {
    params: {
      schema: z.object({ kind: BlacklistKindName, id: DeviceId }),
      invalid: { code: 'VALIDATION_FAILED', message: 'invalid blacklist entry' },
    },
    response: returns<BlacklistChangeResponse>(),
    fn: 'operations',
    access: RISK_STAFF,
    sees: 'any',
    rights: {
      table: ['UpdateItem', 'Query', 'PutItem'],
      why: 'blacklistRemove UpdateItem (deactivates: no DeleteItem), audit.append',
    },
  },
  'GET /v1/admin/accounts/{userId}': {
    params: ACCOUNT_ID,
    response: returns<AdminAccountResponse>(),
    fn: 'operations',
    access: ADMIN,
    sees: 'any',
    rights: { table: ['GetItem'], why: 'accounts.get GetItem' },
  },
  'POST /v1/admin/accounts/{userId}/tier': {
    params: ACCOUNT_ID,
    response: returns<AdminAccountResponse>(),
    fn: 'operations',
    access: ADMIN,
    sees: 'any',
    body: SetTierBody,
    rights: { table: RW, why: 'accounts.get GetItem, accounts.setTier UpdateItem, audit.append x2' },
  },
  'GET /v1/admin/ops': {
    response: returns<OpsResponse>(),
    fn: 'operations',
    access: ADMIN,
    sees: 'any',
    query: OpsQuery,
    rights: {
      table: ['Query', 'GetItem'],
      indexes: ['gsi1'],
      why: 'ops figures Query (OPSMIN#<hour>), latest report GetItem, sweep lag Query on gsi1 (one item per due shard)',
    },
  },
  'POST /v1/admin/sweep': {
    response: returns<SweepReport>(),
    fn: 'sweep',
    access: ADMIN,
    sees: 'any',
    body: SweepBody,
    rights: { why: 'the same sweep as the schedule (its rights: the function)' },
  },
  'GET /v1/payments/{paymentId}': {
    params: PAYMENT_ID,
    response: returns<Payment>(),
    fn: 'payments',
    access: 'user',
    sees: 'own',
    rights: { table: ['GetItem'], why: 'payIns.get GetItem; maybe the completion (as the notification)' },
  },
  'POST /v1/pay/wechat/notify': {
    response: returns<WeChatPayNotifyAnswer>(),
    fn: 'payments',
    // No bearer token: the WeChat Pay signature over the raw body is its authentication.
    access: 'public',
    sees: 'any',
    rawBody: true,
    rights: {
      table: [...RW, 'BatchGetItem'],
      why:
        'payIns.get GetItem; markPaid/markClosed/settle UpdateItem; wallets.append (Query, PutItem); packets.get GetItem (+ BatchGetItem ' +
        'for > 100 shares), activatePaid/cancel UpdateItem; risk.putEvents (PutItem, GetItem); withdrawals and refunds get/finish/' +
        "markReturned GetItem, UpdateItem, a fallback's credit (Query, PutItem), packets.setRefundedTo UpdateItem, its ops event PutItem",
    },
  },
  'PATCH /v1/me': {
    response: returns<ProfileResponse>(),
    fn: 'profiles',
    access: 'user',
    sees: 'own',
    body: ProfileBody,
    rights: {
      table: ['UpdateItem', 'GetItem'],
      s3: { objects: ['s3:GetObject'], bucket: ['s3:ListBucket'] },
      why: "accounts.setProfile UpdateItem (staff tokens: roles GetItem); an uploaded avatar's reference: HeadObject (s3:GetObject) on its key",
    },
  },
  'POST /v1/me/avatar': {
    response: returns<AvatarUploadResponse>(),
    fn: 'profiles',
    access: 'user',
    sees: 'own',
    body: AvatarUploadBody,
    maxBodyBytes: AVATAR_UPLOAD_MAX_BODY,
    rights: {
      table: RW,
      s3: { objects: ['s3:PutObject'] },
      why: 'rateLimit (countRate UpdateItem; a refusal: risk event PutItem, once-marker GetItem, audit.append Query + PutItem), then PutObject under avatars/',
    },
  },
  'GET /v1/avatars/{userId}/{file}': {
    response: returns<AvatarImage>(),
    media: 'image/*',
    fn: 'avatars',
    access: 'public',
    sees: 'any',
    standalone: true,
    rights: {
      s3: { objects: ['s3:GetObject'], bucket: ['s3:ListBucket'] },
      why: 'GetObject under avatars/ — no table at all',
    },
  },
  'GET /o/{proxy+}': {
    response: returns<LinkPage>(),
    media: 'text/html',
    fn: 'links',
    access: 'public',
    sees: 'any',
    standalone: true,
    page: true,
    rights: { why: 'no table, no secret: logs and traces only' },
  },
  'GET /{file}': {
    response: returns<LinkPage>(),
    media: 'text/html',
    fn: 'links',
    access: 'public',
    sees: 'any',
    standalone: true,
    page: true,
    rights: { why: "WeChat's check file for the link rule" },
  },
} as const satisfies Record<string, RouteSpec>;

export type RouteKey = keyof typeof ROUTES;
export type RoutesTable = typeof ROUTES;

/** Per-function deploy settings and the rights of code paths that are not routes. */
export interface FunctionSpec {
  /** A comment above the function in serverless.yml. */
  note?: string;
  timeout?: number;
  memorySize?: number;
  reservedConcurrency?: number;
  /** Raw serverless.yml values (variables allowed). */
  environment?: Record<string, string>;
  /** An EventBridge schedule (`rate(...)`), on in every stage unless `sweepScheduleEnabled` says otherwise. */
  schedule?: string;
  /**
   * Rights beyond its routes': a schedule's run, and the shared wrapper of every wrapped route
   * (staff roles and API keys GetItem, the per-minute operator figures UpdateItem).
   */
  rights?: Rights;
  /** Its PutItem/UpdateItem only on items whose partition key starts with one of these. */
  writesOnlyUnder?: readonly string[];
  /** Comments inside its role (serverless.yml), after the rights' reasons. */
  roleNote?: string;
}

/** Every function, in serverless.yml's order. */
export const FUNCTIONS = {
  health: {},
  session: {
    roleNote:
      'Every function whose routes take `x-api-key` authenticates it the same way (GetItem key and profile, UpdateItem last use, ' +
      'audit.append): all of them already hold these actions.',
  },
  wallet: {},
  packets: {},
  codes: {
    note: 'The open view: changes nothing but the read limit.',
    writesOnlyUnder: [
      PkPrefix.riskCount,
      PkPrefix.riskEvent,
      PkPrefix.riskOnce,
      PkPrefix.audit,
      PkPrefix.opsMinute,
      PkPrefix.groupBinding,
    ],
    roleNote:
      'Its writes reach only the risk store, the audit log, the operator figures and group bindings: a flaw in the open view still cannot write a ledger, packet or slot.',
  },
  claims: {
    note:
      'The claim path relies on the 6 s bound. Reserved: a claim burst always has these instances, and can never take more (the ' +
      "table's write ceiling, about 5,700 claims/s, is reached at ~250 instances of ~40 ms claims). An account still at Lambda's " +
      'small starting quota must raise it first (AWS keeps 100 unreserved).',
    timeout: 6,
    memorySize: 1024,
    reservedConcurrency: 250,
  },
  transfers: {},
  operations: { note: 'Audit log, risk events/reports and admin changes (roles: README "Roles").' },
  sweep: {
    note:
      'One handler for both triggers; it tells the HTTP event from the schedule event. At most two sweeps at once (the ' +
      "schedule's and an admin's; concurrent sweeps are safe, but a pile-up would only contend on the same due items).",
    reservedConcurrency: 2,
    schedule: 'rate(1 minute)',
    rights: {
      table: [...RW, 'BatchWriteItem', 'BatchGetItem'],
      indexes: ['gsi1'],
      why:
        'app/sweeper.ts (schedule and POST /v1/admin/sweep; the schedule needs no IAM here: EventBridge invokes through the ' +
        "function's resource policy): Query due work on gsi1 (sharded DUE#<n>), wallets.find/state/append, claims.slots; GetItem " +
        'packets.get, movements.transfer/topup; PutItem voidSlot, wallets.append; UpdateItem packets.cancel/activate/beginSettle/' +
        "closeCounter/advanceSettle/finishSettle, setTransferState, setTopupState; BatchGetItem share counters, claim credits at each slot's " +
        "seqHint+1 (settlePacket); BatchWriteItem a campaign's missing packets (completeCampaign, after its request died)",
    },
  },
  campaigns: {
    note: 'Enterprise campaigns: up to 1,000 packets per call, written with BatchWriteItem.',
    timeout: 29,
    memorySize: 1024,
  },
  reconcile: {
    note:
      'Hourly reconciliation (app/reconcile.ts): reads everything, writes only its report and ops events; emits ' +
      'ReconciliationMismatches (alarm below). Whole-table work: 15 minutes allowed.',
    timeout: 900,
    memorySize: 1024,
    schedule: 'rate(1 hour)',
    rights: {
      table: ['Scan', 'Query', 'GetItem', 'PutItem', 'BatchGetItem'],
      indexes: ['gsi2'],
      why:
        "Scan discovery of accounts, packets, markers and top-ups — the only Scan; Query each ledger page, a packet's slots; gsi2: a " +
        "claimer's credits (only for a packet whose credit fingerprint differs from its shares); GetItem packet, shares, markers, " +
        'top-up and campaign records; PutItem the report, the latest copy, one ops event per mismatch — it never repairs',
    },
  },
  withdrawals: {
    note:
      'Withdrawals (提现, app/withdrawals.ts). WeChat Pay calls (create, query) take up to 10 s each: more time than the default. ' +
      "(The sweep's withdrawal step uses the same calls, all within SweepRole already.)",
    timeout: 29,
  },
  payments: {
    note: 'WeChat Pay money in (app/payments.ts) and its notification URL (transfer bills: app/withdrawals.ts applyBill).',
  },
  links: {
    note:
      "Code links (<PUBLIC_BASE_URL>/o/<code>): what a browser outside WeChat gets for a code link, and WeChat's check file for the " +
      'link rule (under /o/, where WeChat looks for a rule ending in /o/, and at the root). Reads no table and no secret: its role ' +
      'may write its logs and traces only.',
    memorySize: 128,
    environment: {
      H5_APP_URL: '${param:h5AppUrl}',
      WX_LINK_VERIFY_FILE: '${param:wxLinkVerifyFile}',
      WX_LINK_VERIFY_CONTENT: '${param:wxLinkVerifyContent}',
    },
  },
  profiles: {
    note: 'Nickname and avatar (app/profiles.ts): writes the avatar bucket and the profile item. One of the two functions that bundle the S3 client.',
    environment: { AVATAR_BUCKET: '${self:custom.avatarBucket.${sls:stage}, self:custom.avatarBucket.aws}' },
    roleNote: 'ListBucket: without it S3 answers a missing key with 403 instead of 404 (HeadObject).',
  },
  avatars: {
    note: 'Serves uploaded avatars (public, immutable); reads the avatar bucket only, no table.',
    environment: { AVATAR_BUCKET: '${self:custom.avatarBucket.${sls:stage}, self:custom.avatarBucket.aws}' },
  },
} as const satisfies Record<string, FunctionSpec>;

export type FunctionName = keyof typeof FUNCTIONS;

/**
 * What every function whose routes go through the shared wrapper needs besides its routes:
 * staff roles re-read and API keys authenticated (GetItem; a key's last use UpdateItem), and
 * the per-minute operator figures (UpdateItem).
 */
export const WRAPPER_RIGHTS: Rights = {
  table: ['GetItem', 'UpdateItem'],
  why: 'the wrapper: staff roles and API keys GetItem, the per-minute operator figures UpdateItem',
};

/** The routes of one function, in table order, as `[key, spec]`. */
export function routesOf(fn: FunctionName): [RouteKey, RouteSpec][] {
  return (Object.entries(ROUTES) as [RouteKey, RouteSpec][]).filter(([, r]) => r.fn === fn);
}

/** The HTTP methods the API uses. */
export const Methods = ['GET', 'POST', 'PATCH', 'DELETE'] as const;
export type Method = (typeof Methods)[number];
const isMethod = (m: string): m is Method => (Methods as readonly string[]).includes(m);

/** `GET /v1/x` → method and path; a key with another method is a mistake in the table (throws). */
export function splitKey(key: string): { method: Method; path: string } {
  const at = key.indexOf(' ');
  const method = key.slice(0, at);
  if (!isMethod(method)) throw new Error(`route ${key}: unknown method`);
  return { method, path: key.slice(at + 1) };
}

const DYNAMO_ORDER: readonly DynamoAction[] = [
  'DescribeTable',
  'Scan',
  'GetItem',
  'PutItem',
  'UpdateItem',
  'Query',
  'BatchWriteItem',
  'BatchGetItem',
];
const S3_ORDER: readonly S3Action[] = ['s3:PutObject', 's3:GetObject', 's3:ListBucket'];

/** The rights of a function's role: the union of its routes', its own, and the wrapper's when it has wrapped routes. */
export function functionRights(fn: FunctionName): {
  table: DynamoAction[];
  indexes: IndexName[];
  s3Objects: S3Action[];
  s3Bucket: S3Action[];
  writesOnlyUnder?: readonly string[];
  why: string[];
} {
  const spec: FunctionSpec = FUNCTIONS[fn];
  const routes = routesOf(fn);
  const parts: Array<[string, Rights]> = routes.map(([k, r]) => [k, r.rights]);
  if (spec.rights) parts.push([fn, spec.rights]);
  if (routes.some(([, r]) => !('standalone' in r && r.standalone))) parts.push(['every route', WRAPPER_RIGHTS]);
  const table = new Set<DynamoAction>();
  const indexes = new Set<IndexName>();
  const objects = new Set<S3Action>();
  const bucket = new Set<S3Action>();
  for (const [, r] of parts) {
    for (const a of r.table ?? []) table.add(a);
    for (const i of r.indexes ?? []) indexes.add(i);
    for (const a of r.s3?.objects ?? []) objects.add(a);
    for (const a of r.s3?.bucket ?? []) bucket.add(a);
  }
  // A Query on an index is a Query: the table statement names it too (as every role does today).
  if (indexes.size) table.add('Query');
  return {
    table: DYNAMO_ORDER.filter((a) => table.has(a)),
    indexes: [...indexes].sort(),
    s3Objects: S3_ORDER.filter((a) => objects.has(a)),
    s3Bucket: S3_ORDER.filter((a) => bucket.has(a)),
    ...('writesOnlyUnder' in spec ? { writesOnlyUnder: spec.writesOnlyUnder } : {}),
    why: parts.map(([k, r]) => `${k}: ${r.why}`),
  };
}

const KEY_SCOPE: Partial<Record<Column, ApiScope>> = { 'key: basic': 'basic', 'key: full': 'full' };
/** The role a column's caller holds besides `user` (a key acts as its owner: enterprise, provider). */
const COLUMN_ROLE: Record<Column, string | undefined> = {
  anonymous: undefined,
  user: undefined,
  enterprise: 'enterprise',
  provider: 'provider',
  support: 'support',
  risk: 'risk',
  admin: 'admin',
  'key: basic': 'enterprise',
  'key: full': 'provider',
};

/** The mark of one cell of the route × role table, from the route's access, key scope and `sees`. */
export function markOf(r: RouteSpec, column: Column): Mark {
  const override = r.marks?.[column];
  if (override) return override;
  const allowed = (() => {
    if (r.access === 'public') return true;
    if (column === 'anonymous') return false;
    const scope = KEY_SCOPE[column];
    if (scope && (!r.apiKey || !(scope === 'full' || r.apiKey === 'basic'))) return false;
    if (r.access === 'user') return true;
    const role = COLUMN_ROLE[column];
    return role !== undefined && r.access.includes(role);
  })();
  if (!allowed) return '✗';
  return r.sees === 'own' ? 'own' : '✓';
}

/** The route × role table: every API route (not the code-link pages) with its marks. */
export function roleMatrix(): Array<{ route: RouteKey; marks: Record<Column, Mark> }> {
  return (Object.entries(ROUTES) as [RouteKey, RouteSpec][])
    .filter(([, r]) => !r.page)
    .map(([route, r]) => ({
      route,
      marks: Object.fromEntries(Columns.map((c) => [c, markOf(r, c)])) as Record<Column, Mark>,
    }));
}
