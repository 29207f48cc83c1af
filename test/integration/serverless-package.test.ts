/**
 * `osls package --stage prod` — offline, without AWS credentials — and the CloudFormation it
 * produces, checked point by point (deploy hardening):
 *   - the table from infra/table.json, with point-in-time recovery and deletion protection in
 *     every AWS stage (prod from the package; dev and sandbox through `osls print`), Retain in prod;
 *   - one IAM role per function, with exactly the actions of the table below — nothing shared,
 *     nothing wider;
 *   - secrets only as SSM references: no secret value in the template, the service state or any
 *     function zip;
 *   - the prod environment: STAGE=prod and nothing that could turn dev features on;
 *   - the routes, the sweep schedule, 30-day log groups for every function, every zip < 1 MB;
 *   - the alarms (metrics, thresholds, periods) and their SNS topic, with an optional e-mail
 *     subscription.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { DevStages, devLoginFor, loadConfig } from '../../functions/src/config';
import { Attr } from '../../functions/src/store/keys';
import { createTableInput } from '../../scripts/local-store.js';
import { generateWxPaySimKeys } from '../../scripts/wxpay-sim/keys';
import {
  FUNCTIONS as FUNCTION_TABLE,
  functionRights,
  ROUTES,
  type FunctionName,
  type RouteSpec,
} from '../../functions/src/http/routes';
import { CANARIES, oslsRun, packageStage, ROOT, type Run } from '../helpers/osls-package';

const MAX_ZIP_BYTES = 1024 * 1024;
const SERVICE = 'hongbao-codes';

type Json = any;

/**
 * What the package must hold comes from the route table (functions/src/http/routes.ts): its
 * functions, the route → function map, and each role's rights (the union of its routes' and its
 * own code paths'). This test checks that the packaged template is exactly that — serverless.yml
 * is generated from the table (test/unit/routes-generated.test.ts), osls must keep it intact.
 */
const FUNCTIONS = Object.keys(FUNCTION_TABLE) as FunctionName[];

const EXPECTED_ROUTES: Record<string, string> = Object.fromEntries(
  Object.entries(ROUTES).map(([key, r]) => [key, r.fn]),
);

/**
 * The DynamoDB rights of each function: actions on the table, and Query on the named indexes;
 * S3 rights on the avatar bucket (`bucket`) and its `avatars/` prefix.
 */
const IAM_TABLE: Record<
  string,
  { table: string[]; indexes?: Record<string, string[]>; s3?: Record<string, string[]> }
> = Object.fromEntries(
  FUNCTIONS.map((fn) => {
    const r = functionRights(fn);
    const s3: Record<string, string[]> = {};
    for (const a of r.s3Objects) (s3[a] ??= []).push('bucket/avatars/*');
    for (const a of r.s3Bucket) (s3[a] ??= []).push('bucket');
    return [
      fn,
      {
        table: r.table.map((a) => `dynamodb:${a}`),
        indexes: Object.fromEntries(r.indexes.map((i) => [i, ['dynamodb:Query']])),
        s3,
      },
    ];
  }),
);
/** Functions whose bundle may hold the S3 client, and whose environment names the avatar bucket. */
const S3_FUNCTIONS: string[] = FUNCTIONS.filter((fn) => Object.keys(IAM_TABLE[fn]!.s3 ?? {}).length > 0);
const LOG_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'];
const XRAY_ACTIONS = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];

/** The whole prod Lambda environment; anything else (DYNAMODB_ENDPOINT, WX_API_BASE, …) is refused. */
const PROD_ENVIRONMENT_KEYS = [
  ...['STAGE', 'TABLE_NAME', 'OPEN_SHARDS', 'PAYMENT_PROVIDER', 'CODE_KEYS', 'SESSION_SECRET', 'WX_APPID', 'WX_SECRET'],
  // ---- WeChat Pay money in: its settings, all SSM references in prod.
  ...[
    'WXPAY_MCHID',
    'WXPAY_MCH_SERIAL',
    'WXPAY_MCH_PRIVATE_KEY',
    'WXPAY_APIV3_KEY',
    'WXPAY_PLATFORM_KEYS',
    'WXPAY_NOTIFY_URL',
  ],
  // ---- Code links: the base of every code's link (an SSM reference, not a secret).
  'PUBLIC_BASE_URL',
  // ---- Subscribe-message templates (SSM references; `off` switches one off).
  ...['WX_TMPL_PACKET_FINISHED', 'WX_TMPL_REFUND_ARRIVED', 'WX_TMPL_WITHDRAWAL_ARRIVED'],
];
/** The /o/ function's own settings (stage params, empty unless given), on it alone. */
const LINKS_ONLY_KEYS = ['H5_APP_URL', 'WX_LINK_VERIFY_FILE', 'WX_LINK_VERIFY_CONTENT'];
/** Secrets and their SSM parameters (see serverless.env.yml for why `ssm`, not `ssm-secure`). */
const SSM_SECRETS: Record<string, string> = {
  CODE_KEYS: '{{resolve:ssm:/hongbao/prod/code-keys}}',
  SESSION_SECRET: '{{resolve:ssm:/hongbao/prod/session-secret}}',
  WX_APPID: '{{resolve:ssm:/hongbao/prod/wx-appid}}',
  WX_SECRET: '{{resolve:ssm:/hongbao/prod/wx-secret}}',
  // ---- WeChat Pay money in
  WXPAY_MCHID: '{{resolve:ssm:/hongbao/prod/wxpay-mchid}}',
  WXPAY_MCH_SERIAL: '{{resolve:ssm:/hongbao/prod/wxpay-mch-serial}}',
  WXPAY_MCH_PRIVATE_KEY: '{{resolve:ssm:/hongbao/prod/wxpay-mch-private-key}}',
  WXPAY_APIV3_KEY: '{{resolve:ssm:/hongbao/prod/wxpay-apiv3-key}}',
  WXPAY_PLATFORM_KEYS: '{{resolve:ssm:/hongbao/prod/wxpay-platform-keys}}',
  WXPAY_NOTIFY_URL: '{{resolve:ssm:/hongbao/prod/wxpay-notify-url}}',
};
/** Properties serverless.yml adds to infra/table.json for the AWS resource. */
const ADDED_TABLE_PROPERTIES = ['TableName', 'PointInTimeRecoverySpecification', 'DeletionProtectionEnabled'];
/** AWS stages other than prod, checked through `osls print` (no build, ~3 s each). */
const OTHER_AWS_STAGES = ['dev', 'sandbox'];

let outDir: string;
let run: Run;
let template: Json;
let templateText: string;
let stateText: string;
const printedTables: Record<string, Run> = {};

function resourcesOfType(type: string): [string, Json][] {
  return Object.entries<Json>(template.Resources).filter(([, r]) => r.Type === type);
}

/** Function name (serverless.yml key) for a Lambda logical id such as `ClaimsLambdaFunction`. */
function functionNameOf(logicalId: string): string {
  const fn = template.Resources[logicalId];
  expect(fn?.Type).toBe('AWS::Lambda::Function');
  const handler: string = fn.Properties.Handler;
  return path.basename(handler.replace(/\.handler$/, ''));
}

/** The Lambda resource of a function (serverless.yml key). */
function lambdaOf(name: string): [string, Json] {
  const found = resourcesOfType('AWS::Lambda::Function').filter(([id]) => functionNameOf(id) === name);
  expect(found).toHaveLength(1);
  return found[0]!;
}

function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

const TABLE_ARN = { 'Fn::GetAtt': ['HongbaoTable', 'Arn'] };
const BUCKET_ARN = { 'Fn::GetAtt': ['AvatarBucket', 'Arn'] };

/**
 * A readable name for an IAM resource of this template: `table`, `index/<name>`, or
 * `log-group:<name>:*`. Anything else (a literal ARN, `*`, another table) fails the test.
 */
function resourceName(r: Json): string {
  if (r === '*') return '*';
  const s = JSON.stringify(r);
  if (s === JSON.stringify(TABLE_ARN)) return 'table';
  if (s === JSON.stringify(BUCKET_ARN)) return 'bucket';
  if (s === JSON.stringify({ 'Fn::Join': ['', [BUCKET_ARN, '/avatars/*']] })) return 'bucket/avatars/*';
  const join = r?.['Fn::Join'];
  if (
    join?.[0] === '/' &&
    join[1].length === 3 &&
    JSON.stringify(join[1][0]) === JSON.stringify(TABLE_ARN) &&
    join[1][1] === 'index'
  ) {
    return `index/${join[1][2]}`;
  }
  if (join?.[0] === ':') {
    const parts = join[1];
    const head = [
      'arn',
      { Ref: 'AWS::Partition' },
      'logs',
      { Ref: 'AWS::Region' },
      { Ref: 'AWS::AccountId' },
      'log-group',
    ];
    if (
      parts.length === 8 &&
      JSON.stringify(parts.slice(0, 6)) === JSON.stringify(head) &&
      parts[7] === '*' &&
      typeof parts[6] === 'string'
    ) {
      return `log-group:${parts[6]}:*`;
    }
  }
  throw new Error(`IAM resource of an unexpected shape: ${s}`);
}

/** action → sorted resource names, over every statement of a role's inline policies. */
function grantsOf(role: Json): Record<string, string[]> {
  const grants: Record<string, Set<string>> = {};
  for (const policy of asArray<Json>(role.Properties.Policies)) {
    for (const st of asArray<Json>(policy.PolicyDocument.Statement)) {
      // Allow-only, no inversions, no conditions to reason about.
      expect(st.Effect).toBe('Allow');
      expect(st.NotAction).toBeUndefined();
      expect(st.NotResource).toBeUndefined();
      // One condition exists: the codes view's writes, checked on their own (throttles block).
      if (st.Condition !== undefined) expect(st.Condition).toEqual(CODES_WRITE_CONDITION);
      for (const a of asArray<string>(st.Action)) {
        for (const r of asArray<Json>(st.Resource)) (grants[a] ??= new Set()).add(resourceName(r));
      }
    }
  }
  return Object.fromEntries(Object.entries(grants).map(([a, rs]) => [a, [...rs].sort()]));
}

/** What IAM_TABLE says a function's role must grant, in the shape of {@link grantsOf}. */
function expectedGrants(name: string): Record<string, string[]> {
  const want: Record<string, Set<string>> = {};
  for (const a of LOG_ACTIONS) (want[a] ??= new Set()).add(`log-group:/aws/lambda/${SERVICE}-prod-${name}:*`);
  // Active tracing: X-Ray has no resource-level permissions, so `*` — for these two actions only.
  for (const a of XRAY_ACTIONS) (want[a] ??= new Set()).add('*');
  const spec = IAM_TABLE[name]!;
  for (const a of spec.table) (want[a] ??= new Set()).add('table');
  for (const [index, actions] of Object.entries(spec.indexes ?? {}))
    for (const a of actions) (want[a] ??= new Set()).add(`index/${index}`);
  for (const [a, resources] of Object.entries(spec.s3 ?? {})) for (const r of resources) (want[a] ??= new Set()).add(r);
  return Object.fromEntries(Object.entries(want).map(([a, rs]) => [a, [...rs].sort()]));
}

/** Every file of a zip, uncompressed (stored or deflate; the function zips need nothing more). */
function unzip(file: string): Array<{ name: string; data: Buffer }> {
  const buf = fs.readFileSync(file);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${file}: not a zip`);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out: Array<{ name: string; data: Buffer }> = [];
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`${file}: bad central directory`);
    const method = buf.readUInt16LE(p + 10);
    const size = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(start, start + size);
    if (method !== 0 && method !== 8) throw new Error(`${file}: ${name} uses compression method ${method}`);
    out.push({ name, data: method === 8 ? zlib.inflateRawSync(raw) : Buffer.from(raw) });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** The secret values this machine holds: the test environment's, local `npm start`'s (.data/secrets.json), the canaries. */
function knownSecrets(): string[] {
  const sources: Array<Record<string, string | undefined>> = [process.env];
  const local = path.join(ROOT, '.data', 'secrets.json');
  if (fs.existsSync(local)) sources.push(JSON.parse(fs.readFileSync(local, 'utf8')));
  const out: string[] = [];
  for (const src of sources) {
    for (const name of ['CODE_KEYS', 'SESSION_SECRET', 'WX_APPID', 'WX_SECRET']) {
      const v = src[name];
      if (!v) continue;
      out.push(v);
      // Each signing key's secret alone (CODE_KEYS is `id:secret,id:secret`).
      if (name === 'CODE_KEYS') for (const entry of v.split(',')) out.push(entry.slice(entry.indexOf(':') + 1));
    }
  }
  out.push(...Object.values(CANARIES));
  return out.filter((s) => s.length >= 12);
}

beforeAll(async () => {
  // Shared with prod-boots.test.ts (cached by input hash); one osls at a time (the helper's lock).
  const packaged = await packageStage('prod');
  run = packaged.run;
  outDir = packaged.dir;
  if (run.code === 0) {
    templateText = packaged.templateText!;
    template = packaged.template;
    stateText = packaged.stateText!;
  }
  for (const stage of OTHER_AWS_STAGES) {
    printedTables[stage] = await oslsRun(
      ['print', '--stage', stage, '--path', 'resources.Resources.HongbaoTable', '--format', 'json'],
      20_000,
    );
  }
}, 350_000);

describe('osls package --stage prod (no AWS credentials)', () => {
  test('exits 0', () => {
    if (run.code !== 0) throw new Error(`osls package failed (${run.code}):\n${run.stdout}\n${run.stderr}`);
    expect(template.Resources).toBeDefined();
  });

  test('the table is infra/table.json plus name, PITR and deletion protection; Retain in prod', () => {
    const tables = resourcesOfType('AWS::DynamoDB::Table');
    expect(tables).toHaveLength(1);
    const [, table] = tables[0]!;
    const definition = JSON.parse(fs.readFileSync(path.join(ROOT, 'infra', 'table.json'), 'utf8'));
    const props = { ...table.Properties };
    expect(props.TableName).toBe('hongbao-prod');
    expect(props.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(props.DeletionProtectionEnabled).toBe(true);
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
    for (const k of ADDED_TABLE_PROPERTIES) delete props[k];
    // Every property of infra/table.json, unchanged, and nothing else.
    expect(props).toEqual(definition);
    expect(
      table.Properties.GlobalSecondaryIndexes.map((g: Json) => [g.IndexName, g.Projection.ProjectionType]),
    ).toEqual([
      ['gsi1', 'KEYS_ONLY'],
      ['gsi2', 'KEYS_ONLY'],
    ]);
  });

  test("audit records expire: TTL is enabled on the audit store's attribute (not on the local table)", () => {
    const [, table] = resourcesOfType('AWS::DynamoDB::Table')[0]!;
    expect(Attr.ttl).toBe('expiresAt');
    expect(table.Properties.TimeToLiveSpecification).toEqual({ AttributeName: Attr.ttl, Enabled: true });
    // dynalite has no UpdateTimeToLive and CreateTable knows no TTL: the local table leaves it out.
    expect(createTableInput('hongbao-local')).not.toHaveProperty('TimeToLiveSpecification');
  });

  test.each(OTHER_AWS_STAGES)('stage %s: the table has PITR and deletion protection too (osls print)', (stage) => {
    const r = printedTables[stage]!;
    if (r.code !== 0) throw new Error(`osls print --stage ${stage} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    const table = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
    expect(table.Properties.TableName).toBe(`hongbao-${stage}`);
    expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.Properties.DeletionProtectionEnabled).toBe(true);
  });

  test('every function: nodejs22.x, its own name; claims 6 s / 1024 MB', () => {
    const fns = resourcesOfType('AWS::Lambda::Function');
    expect(fns.map(([id]) => functionNameOf(id)).sort()).toEqual([...FUNCTIONS].sort());
    for (const [id, fn] of fns) {
      const p = fn.Properties;
      expect(p.Runtime).toBe('nodejs22.x');
      expect(p.FunctionName).toBe(`${SERVICE}-prod-${functionNameOf(id)}`);
      if (functionNameOf(id) === 'claims') {
        expect(p.Timeout).toBe(6);
        expect(p.MemorySize).toBe(1024);
      }
    }
  });

  test('prod environment: STAGE=prod, nothing that enables dev features, secrets only as SSM references', () => {
    for (const [id, fn] of resourcesOfType('AWS::Lambda::Function')) {
      const vars: Record<string, string> = fn.Properties.Environment.Variables;
      const name = functionNameOf(id);
      // Exactly these keys: no DYNAMODB_ENDPOINT (local store), no WX_API_BASE (stub login),
      // no SESSION_TTL_SECONDS, no DEV_*-style switch. Dev login and test clocks follow STAGE
      // alone (functions/src/config.ts `devFeatures`: local, test, sandbox).
      // The avatar bucket reaches only the two functions that use it, as the stack's own bucket.
      const expectedKeys = [
        ...PROD_ENVIRONMENT_KEYS,
        ...(S3_FUNCTIONS.includes(name) ? ['AVATAR_BUCKET'] : []),
        ...(name === 'links' ? LINKS_ONLY_KEYS : []),
      ];
      expect({ name, keys: Object.keys(vars).sort() }).toEqual({ name, keys: [...expectedKeys].sort() });
      if (S3_FUNCTIONS.includes(name)) expect(vars.AVATAR_BUCKET).toEqual({ Ref: 'AvatarBucket' });
      expect(vars.PUBLIC_BASE_URL).toBe('{{resolve:ssm:/hongbao/prod/public-base-url}}');
      expect(vars.STAGE).toBe('prod');
      expect(vars.TABLE_NAME).toBe('hongbao-prod');
      expect(vars.OPEN_SHARDS).toBe('8');
      // Not the sandbox provider: prod fails closed at cold start until a real one exists.
      expect(vars.PAYMENT_PROVIDER).toBe('wechatpay');
      // `ssm`, not `ssm-secure`: CloudFormation resolves `ssm-secure` only in the properties
      // AWS lists for it, and Lambda environment variables are not among them (AWS docs,
      // "Get a secure string value from Systems Manager Parameter Store"); see serverless.env.yml.
      for (const [secret, ref] of Object.entries(SSM_SECRETS))
        expect({ name, secret, value: vars[secret] }).toEqual({ name, secret, value: ref });
      for (const [k, v] of Object.entries(vars))
        if (/SECRET|KEY|TOKEN|PASSWORD/i.test(k))
          expect(v).toMatch(/^\{\{resolve:ssm:\/hongbao\/prod\/[a-z0-9-]+\}\}$/);
    }
    // The real config code on this environment (secrets stand in for the SSM values) turns dev
    // features off, and refuses to start without real WeChat Pay settings or with the sandbox.
    // That such a config refuses dev login (403 DEV_LOGIN_DISABLED) is tested in
    // test/integration/errors-and-auth.test.ts.
    const [, health] = lambdaOf('health');
    const env = {
      ...health.Properties.Environment.Variables,
      CODE_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
      SESSION_SECRET: Buffer.alloc(32, 2).toString('base64'),
      WX_APPID: 'wxapp',
      WX_SECRET: 'wxsecret',
      PUBLIC_BASE_URL: 'https://hb.example.cn',
      // Template ids stand in for their SSM values too.
      WX_TMPL_PACKET_FINISHED: 'tmplFinished',
      WX_TMPL_REFUND_ARRIVED: 'tmplRefund',
      WX_TMPL_WITHDRAWAL_ARRIVED: 'off',
    };
    // The SSM references themselves are no keys; real ones start it.
    expect(() => loadConfig(env)).toThrow(/WXPAY|WeChat Pay/);
    const sim = generateWxPaySimKeys();
    const wxpay = {
      WXPAY_MCHID: sim.mchid,
      WXPAY_MCH_SERIAL: sim.merchantSerialNo,
      WXPAY_MCH_PRIVATE_KEY: sim.merchantPrivateKey,
      WXPAY_APIV3_KEY: sim.apiV3Key,
      WXPAY_PLATFORM_KEYS: JSON.stringify({ [sim.platformPublicKeyId]: sim.platformPublicKey }),
      WXPAY_NOTIFY_URL: 'https://api.example.com/v1/pay/wechat/notify',
    };
    expect(() => loadConfig({ ...env, ...wxpay, PAYMENT_PROVIDER: 'sandbox' })).toThrow(/PAYMENT_PROVIDER/);
    expect(() => loadConfig({ ...env, ...wxpay, PAYMENT_PROVIDER: undefined })).toThrow(/PAYMENT_PROVIDER/);
    const cfg = loadConfig({ ...env, ...wxpay });
    expect(cfg.paymentProvider).toBe('wechatpay');
    expect(cfg.stage).toBe('prod');
    expect(cfg.devFeatures).toBe(false);
    expect(cfg.dynamoEndpoint).toBeUndefined();
    expect(DevStages).not.toContain(env.STAGE);
    expect(devLoginFor(env.STAGE, 'a-dev-login-secret-of-enough-length-0123')).toEqual({ mode: 'off' });
    expect(templateText).not.toContain('ssm-secure');
  });

  test('no secret value reaches the template, the service state or any function zip', () => {
    const secrets = knownSecrets();
    expect(secrets.length).toBeGreaterThan(2); // global-setup provides CODE_KEYS and SESSION_SECRET; the canaries
    const zips = fs.readdirSync(outDir).filter((f) => f.endsWith('.zip'));
    expect(zips.sort()).toEqual(FUNCTIONS.map((f) => `${f}.zip`).sort());
    const artifacts: Array<[string, string]> = [
      ['template', templateText],
      ['serverless-state.json', stateText],
    ];
    for (const zip of zips) {
      const entries = unzip(path.join(outDir, zip));
      // The reader really saw the bundle (a broken reader would pass every scan).
      expect(entries.some((e) => e.name.endsWith('.js') && e.data.includes('exports'))).toBe(true);
      for (const entry of entries) artifacts.push([`${zip}:${entry.name}`, entry.data.toString('latin1')]);
    }
    for (const [where, text] of artifacts) {
      for (const s of secrets) {
        if (text.includes(s)) throw new Error(`a secret value (${s.length} chars) is in ${where}`);
      }
    }
  });

  test('HTTP API routes map to their functions', () => {
    const routes = resourcesOfType('AWS::ApiGatewayV2::Route');
    const got: Record<string, string> = {};
    for (const [, route] of routes) {
      const integrationId: string = route.Properties.Target['Fn::Join'][1][1].Ref;
      const uri = template.Resources[integrationId].Properties.IntegrationUri;
      got[route.Properties.RouteKey] = functionNameOf(uri['Fn::GetAtt'][0]);
    }
    expect(got).toEqual(EXPECTED_ROUTES);
    const [[, api]] = resourcesOfType('AWS::ApiGatewayV2::Api') as [[string, Json]];
    expect(api.Properties.CorsConfiguration.AllowHeaders).toEqual(
      expect.arrayContaining(['Authorization', 'Idempotency-Key', 'X-Device-Id']),
    );
  });

  test.each([
    ['sweep', 'rate(1 minute)'],
    ['reconcile', 'rate(1 hour)'],
  ])('%s runs on its schedule, %s (a rule targeting it, allowed to invoke it)', (name, rate) => {
    const rules = resourcesOfType('AWS::Events::Rule');
    const matching = rules.filter(([, r]) => r.Properties.ScheduleExpression === rate);
    expect(matching).toHaveLength(1);
    const [ruleId, rule] = matching[0]!;
    expect(rule.Properties.State).toBe('ENABLED');
    const targets = rule.Properties.Targets.map((t: Json) => functionNameOf(t.Arn['Fn::GetAtt'][0]));
    expect(targets).toEqual([name]);
    // EventBridge invokes through the function's resource policy, not through any IAM role.
    const [fnId] = lambdaOf(name);
    const permissions = resourcesOfType('AWS::Lambda::Permission').filter(
      ([, p]) =>
        p.Properties.Principal === 'events.amazonaws.com' && p.Properties.FunctionName['Fn::GetAtt'][0] === fnId,
    );
    expect(permissions).toHaveLength(1);
    expect(permissions[0]![1].Properties.SourceArn['Fn::GetAtt'][0]).toBe(ruleId);
  });

  test('alarms: reconciliation mismatch, 5xx rate, DynamoDB throttles, sweep lag — each to the alarm topic', () => {
    const alarms = Object.fromEntries(resourcesOfType('AWS::CloudWatch::Alarm'));
    const topic = resourcesOfType('AWS::SNS::Topic');
    expect(topic).toHaveLength(1);
    const [topicId] = topic[0]!;
    for (const a of Object.values(alarms) as Json[]) expect(a.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    const service = [{ Name: 'service', Value: 'hongbao-codes' }];
    expect(alarms.ReconciliationMismatchAlarm.Properties).toMatchObject({
      Namespace: 'HongbaoCodes',
      MetricName: 'ReconciliationMismatches',
      Dimensions: service,
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(alarms.SweepLagAlarm.Properties).toMatchObject({
      Namespace: 'HongbaoCodes',
      MetricName: 'SweepLagSeconds',
      Dimensions: service,
      Statistic: 'Maximum',
      Threshold: 300,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'breaching',
    });
    const http = alarms.Http5xxAlarm.Properties;
    const httpMetrics = http.Metrics.filter((m: Json) => m.MetricStat).map((m: Json) => m.MetricStat.Metric);
    expect(httpMetrics.map((m: Json) => `${m.Namespace}/${m.MetricName}`).sort()).toEqual([
      'AWS/ApiGateway/5xx',
      'AWS/ApiGateway/Count',
    ]);
    for (const m of httpMetrics) expect(m.Dimensions).toEqual([{ Name: 'ApiId', Value: { Ref: 'HttpApi' } }]);
    expect(template.Resources.HttpApi.Type).toBe('AWS::ApiGatewayV2::Api');
    expect(http.Metrics.find((m: Json) => m.ReturnData).Expression).toMatch(/errors \/ requests/);
    const throttle = alarms.DynamoThrottleAlarm.Properties;
    const tMetrics = throttle.Metrics.filter((m: Json) => m.MetricStat).map((m: Json) => m.MetricStat.Metric);
    expect(tMetrics.map((m: Json) => m.MetricName).sort()).toEqual(['ReadThrottleEvents', 'WriteThrottleEvents']);
    for (const m of tMetrics) expect(m.Dimensions).toEqual([{ Name: 'TableName', Value: { Ref: 'HongbaoTable' } }]);
    expect(throttle.Threshold).toBe(0);
  });

  test('alarm thresholds and periods; the e-mail subscription exists only when a stage param gives an address', () => {
    const alarms = Object.fromEntries(resourcesOfType('AWS::CloudWatch::Alarm'));
    expect(Object.keys(alarms).sort()).toEqual([
      'DynamoThrottleAlarm',
      'Http5xxAlarm',
      'ReconciliationMismatchAlarm',
      'SweepLagAlarm',
    ]);
    // Any mismatch in an hour's runs; no run (no data) is not a mismatch.
    expect(alarms.ReconciliationMismatchAlarm.Properties).toMatchObject({
      Period: 3600,
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    // Oldest due work > 300 s in each of 2 consecutive minutes.
    expect(alarms.SweepLagAlarm.Properties).toMatchObject({ Period: 60, EvaluationPeriods: 2 });
    expect(alarms.SweepLagAlarm.Properties.DatapointsToAlarm ?? 2).toBe(2);
    // 5xx: 100 × errors ÷ requests > 1 over 5 minutes, only once there are at least 5 errors.
    const http = alarms.Http5xxAlarm.Properties;
    expect(http).toMatchObject({
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    const stat = (id: string) => http.Metrics.find((m: Json) => m.Id === id).MetricStat;
    expect(stat('errors')).toMatchObject({ Period: 300, Stat: 'Sum', Metric: { MetricName: '5xx' } });
    expect(stat('requests')).toMatchObject({ Period: 300, Metric: { MetricName: 'Count' } });
    expect(http.Metrics.find((m: Json) => m.ReturnData).Expression.replace(/\s+/g, '')).toBe(
      'IF(errors>=5,100*errors/requests,0)',
    );
    // Throttles: any read or write throttle event on the table in 5 minutes.
    const throttle = alarms.DynamoThrottleAlarm.Properties;
    expect(throttle).toMatchObject({ EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanThreshold' });
    for (const m of throttle.Metrics.filter((x: Json) => x.MetricStat))
      expect(m.MetricStat).toMatchObject({ Period: 300, Stat: 'Sum' });

    const [[topicId]] = resourcesOfType('AWS::SNS::Topic') as [[string, Json]];
    const subs = resourcesOfType('AWS::SNS::Subscription');
    expect(subs).toHaveLength(1);
    const [, sub] = subs[0]!;
    expect(sub.Condition).toBe('AlarmEmailGiven');
    expect(sub.Properties).toMatchObject({ TopicArn: { Ref: topicId }, Protocol: 'email' });
    // Packaged without an address: the condition is false, CloudFormation creates no subscription.
    expect(template.Conditions.AlarmEmailGiven).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
    expect(sub.Properties.Endpoint).toBe('');
  });

  test('every function is traced (X-Ray active tracing)', () => {
    for (const name of FUNCTIONS) expect(lambdaOf(name)[1].Properties.TracingConfig).toEqual({ Mode: 'Active' });
  });

  test('IAM: one role per function, trusted by Lambda only, no shared role or policy', () => {
    expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
    expect(resourcesOfType('AWS::IAM::Policy')).toEqual([]);
    expect(resourcesOfType('AWS::IAM::ManagedPolicy')).toEqual([]);
    const roles = resourcesOfType('AWS::IAM::Role');
    expect(roles).toHaveLength(FUNCTIONS.length);
    const used = new Set<string>();
    for (const name of FUNCTIONS) {
      const [, fn] = lambdaOf(name);
      const roleId: string = fn.Properties.Role['Fn::GetAtt'][0];
      expect(fn.Properties.Role).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
      expect(used.has(roleId)).toBe(false);
      used.add(roleId);
      const role = template.Resources[roleId];
      expect(role.Type).toBe('AWS::IAM::Role');
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ]);
    }
  });

  test.each(FUNCTIONS)(
    'IAM %s: exactly its actions, on its log group, the table and the indexes it queries',
    (name) => {
      const [, fn] = lambdaOf(name);
      const role = template.Resources[fn.Properties.Role['Fn::GetAtt'][0]];
      expect(grantsOf(role)).toEqual(expectedGrants(name));
      // The log group granted is the function's own, as created in this template.
      const [, group] = resourcesOfType('AWS::Logs::LogGroup').find(([id]) =>
        asArray<string>(fn.DependsOn).includes(id),
      )!;
      expect(group.Properties.LogGroupName).toBe(`/aws/lambda/${fn.Properties.FunctionName}`);
    },
  );

  test('IAM: no wildcard action or resource, no DeleteItem, transactions or table administration; Scan for reconcile only', () => {
    const statements = resourcesOfType('AWS::IAM::Role').flatMap(([, r]) =>
      asArray<Json>(r.Properties.Policies).flatMap((p) => asArray<Json>(p.PolicyDocument.Statement)),
    );
    for (const st of statements) {
      for (const a of asArray<string>(st.Action)) expect(a).not.toMatch(/\*/);
      const xrayOnly = asArray<string>(st.Action).every((a) => XRAY_ACTIONS.includes(a));
      for (const r of asArray<Json>(st.Resource)) {
        // `*` only where AWS offers nothing narrower (X-Ray's two write actions).
        if (!xrayOnly) expect(resourceName(r)).not.toMatch(/^\*$|index\/\*/);
        expect(resourceName(r)).not.toMatch(/index\/\*/);
      }
    }
    expect(templateText).not.toMatch(/dynamodb:(\*|DeleteItem|Transact|PartiQL|DeleteTable|UpdateTable|CreateTable)/);
    const batchWriters = resourcesOfType('AWS::IAM::Role').filter(([, r]) =>
      JSON.stringify(r.Properties.Policies).includes('dynamodb:BatchWriteItem'),
    );
    expect(batchWriters.map(([id]) => id).sort()).toEqual(['CampaignsRole', 'SweepRole']);
    const batchGetters = resourcesOfType('AWS::IAM::Role').filter(([, r]) =>
      JSON.stringify(r.Properties.Policies).includes('dynamodb:BatchGetItem'),
    );
    expect(batchGetters.map(([id]) => id).sort()).toEqual([
      'CampaignsRole',
      'ClaimsRole',
      'CodesRole',
      'PacketsRole',
      'PaymentsRole',
      'ReconcileRole',
      'SweepRole',
      'WalletRole',
      'WithdrawalsRole',
    ]);
    const scanners = resourcesOfType('AWS::IAM::Role').filter(([, r]) =>
      JSON.stringify(r.Properties.Policies).includes('dynamodb:Scan'),
    );
    expect(scanners.map(([id]) => id)).toEqual(['ReconcileRole']);
  });

  test('log groups: one per function, 30 days', () => {
    const groups = resourcesOfType('AWS::Logs::LogGroup');
    expect(groups.map(([, g]) => g.Properties.LogGroupName).sort()).toEqual(
      FUNCTIONS.map((f) => `/aws/lambda/${SERVICE}-prod-${f}`).sort(),
    );
    for (const [, g] of groups) expect(g.Properties.RetentionInDays).toBe(30);
  });

  test('the avatar bucket: private (public access blocked, no ACLs), encrypted, TLS only; Retain in prod', () => {
    // Besides the framework's own deployment bucket, one bucket: the avatars'.
    const buckets = resourcesOfType('AWS::S3::Bucket').filter(([id]) => id !== 'ServerlessDeploymentBucket');
    expect(buckets.map(([id]) => id)).toEqual(['AvatarBucket']);
    const [, bucket] = buckets[0]!;
    expect(bucket.DeletionPolicy).toBe('Retain');
    const p = bucket.Properties;
    expect(p.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(p.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    expect(p.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe(
      'AES256',
    );
    expect(p.WebsiteConfiguration).toBeUndefined();
    expect(p.AccessControl).toBeUndefined();
    const policies = resourcesOfType('AWS::S3::BucketPolicy').filter(
      ([, p]) => JSON.stringify(p.Properties.Bucket) === JSON.stringify({ Ref: 'AvatarBucket' }),
    );
    expect(policies).toHaveLength(1);
    const statements = asArray<Json>(policies[0]![1].Properties.PolicyDocument.Statement);
    // Deny-only: the policy grants nobody anything (the functions' roles do, narrowly).
    for (const st of statements) expect(st.Effect).toBe('Deny');
    expect(statements[0].Condition).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
    // Only the two avatar roles name the bucket.
    const s3Roles = resourcesOfType('AWS::IAM::Role').filter(([, r]) =>
      JSON.stringify(r.Properties.Policies).includes('"s3:'),
    );
    expect(s3Roles.map(([id]) => id).sort()).toEqual(['AvatarsRole', 'ProfilesRole']);
    const putters = resourcesOfType('AWS::IAM::Role').filter(([, r]) =>
      JSON.stringify(r.Properties.Policies).includes('s3:PutObject'),
    );
    expect(putters.map(([id]) => id)).toEqual(['ProfilesRole']);
  });

  test('only the profiles and avatars zips carry the S3 client', () => {
    for (const name of FUNCTIONS) {
      const js = unzip(path.join(outDir, `${name}.zip`))
        .filter((e) => e.name.endsWith('.js'))
        .map((e) => e.data.toString('latin1'))
        .join('');
      // A string of the S3 client itself (its service id in the endpoint rules and signer).
      const hasS3 = js.includes('PutObjectCommand') || js.includes('"AmazonS3"');
      expect({ name, hasS3 }).toEqual({ name, hasS3: S3_FUNCTIONS.includes(name) });
    }
  });

  test('one zip per function, each < 1 MB', () => {
    const zips = fs.readdirSync(outDir).filter((f) => f.endsWith('.zip'));
    expect(zips.sort()).toEqual(FUNCTIONS.map((f) => `${f}.zip`).sort());
    const sizes = Object.fromEntries(zips.map((z) => [z, fs.statSync(path.join(outDir, z)).size]));
    console.log(`function zip sizes (bytes): ${JSON.stringify(sizes)}`);
    for (const [zip, size] of Object.entries(sizes)) {
      expect({ zip, size, underLimit: size < MAX_ZIP_BYTES }).toEqual({ zip, size, underLimit: true });
    }
  });
});

/** The only IAM condition: the codes view writes its read counter, risk events, audit, figures and group bindings only. */
const CODES_WRITE_CONDITION = {
  'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': functionRights('codes').writesOnlyUnder!.map((k) => `${k}*`) },
};

describe('throttles: API Gateway routes and reserved concurrency (prod package)', () => {
  /** Throttled routes of the HTTP API's $default stage: rate (requests/s) and burst. */
  const EXPENSIVE_READS: Record<string, { rate: number; burst: number }> = Object.fromEntries(
    (Object.entries(ROUTES) as [string, RouteSpec][])
      .filter(([, r]) => r.throttle)
      .map(([key, r]) => [key, r.throttle!]),
  );

  test('the $default stage throttles every route, the expensive reads tighter; each throttled route exists and the stage waits for it', () => {
    const stages = resourcesOfType('AWS::ApiGatewayV2::Stage');
    expect(stages).toHaveLength(1);
    const [, stage] = stages[0]!;
    expect(stage.Properties.StageName).toBe('$default');
    const def = stage.Properties.DefaultRouteSettings;
    expect(def).toMatchObject({ ThrottlingRateLimit: 2000, ThrottlingBurstLimit: 1000 });
    const settings = stage.Properties.RouteSettings as Record<string, Json>;
    expect(Object.keys(settings).sort()).toEqual(Object.keys(EXPENSIVE_READS).sort());
    const routes = resourcesOfType('AWS::ApiGatewayV2::Route');
    for (const [key, want] of Object.entries(EXPENSIVE_READS)) {
      expect(settings[key]).toEqual({ ThrottlingRateLimit: want.rate, ThrottlingBurstLimit: want.burst });
      expect(want.rate).toBeLessThanOrEqual(def.ThrottlingRateLimit);
      // A route setting for a route that does not exist (yet) fails the deploy.
      const route = routes.find(([, r]) => r.Properties.RouteKey === key);
      expect(route).toBeDefined();
      expect(asArray<string>(stage.DependsOn)).toContain(route![0]);
    }
  });

  test('the codes view counts its reads, but may write only the risk store, the audit log, the figures and group bindings (LeadingKeys)', () => {
    const [, fn] = lambdaOf('codes');
    const role = template.Resources[fn.Properties.Role['Fn::GetAtt'][0]];
    const statements = asArray<Json>(role.Properties.Policies).flatMap((p) =>
      asArray<Json>(p.PolicyDocument.Statement),
    );
    const writes = statements.filter((st) =>
      asArray<string>(st.Action).some((a) => /dynamodb:(PutItem|UpdateItem)/.test(a)),
    );
    expect(writes).toHaveLength(1);
    expect(asArray<string>(writes[0]!.Action).sort()).toEqual(['dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(writes[0]!.Condition).toEqual(CODES_WRITE_CONDITION);
    // No other role carries a condition.
    const conditioned = resourcesOfType('AWS::IAM::Role').filter(([, r]) =>
      JSON.stringify(r.Properties.Policies).includes('"Condition"'),
    );
    expect(conditioned.map(([id]) => id)).toEqual([fn.Properties.Role['Fn::GetAtt'][0]]);
  });

  test('reserved concurrency: claims 250, sweep 2; no other function reserves any', () => {
    const reserved = Object.fromEntries(
      FUNCTIONS.map((name) => [name, lambdaOf(name)[1].Properties.ReservedConcurrentExecutions]),
    );
    expect(reserved).toEqual(
      Object.fromEntries(FUNCTIONS.map((name) => [name, name === 'claims' ? 250 : name === 'sweep' ? 2 : undefined])),
    );
  });
});
