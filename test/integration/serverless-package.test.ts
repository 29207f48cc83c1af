/**
 * `osls package --stage prod` — offline, without AWS credentials — and the CloudFormation it
 * produces: the table from infra/table.json, the routes, the sweep schedule, least-privilege
 * IAM, no secret values, and every function zip < 1 MB.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const OSLS = path.join(ROOT, 'node_modules', '.bin', 'osls');
const MAX_ZIP_BYTES = 1024 * 1024;

type Json = any;

const EXPECTED_ROUTES: Record<string, string> = {
  'GET /v1/health': 'health',
  'POST /v1/session': 'session',
  'GET /v1/wallet': 'wallet',
  'POST /v1/wallet/topups': 'wallet',
  'GET /v1/wallet/ledger': 'wallet',
  'POST /v1/packets': 'packets',
  'GET /v1/packets/{id}': 'packets',
  'POST /v1/packets/{id}/codes': 'packets',
  'GET /v1/me/packets': 'packets',
  'GET /v1/codes/{code}': 'codes',
  'POST /v1/claims': 'claims',
  'GET /v1/receive-code': 'transfers',
  'POST /v1/transfers': 'transfers',
  'POST /v1/admin/sweep': 'sweep',
};
const FUNCTIONS = ['health', 'session', 'wallet', 'packets', 'codes', 'claims', 'transfers', 'sweep'];
const ALLOWED_DYNAMODB_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:DescribeTable',
];
/** Properties serverless.yml adds to infra/table.json for the AWS resource. */
const ADDED_TABLE_PROPERTIES = ['TableName', 'PointInTimeRecoverySpecification', 'DeletionProtectionEnabled'];

let outDir: string;
let run: { code: number | null; stdout: string; stderr: string };
let template: Json;
let templateText: string;
let stateText: string;

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

function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Every IAM policy statement in the template (inline role policies and policy resources). */
function iamStatements(): Json[] {
  const out: Json[] = [];
  for (const [, role] of resourcesOfType('AWS::IAM::Role')) {
    for (const policy of asArray<Json>(role.Properties.Policies)) out.push(...asArray(policy.PolicyDocument.Statement));
    expect(role.Properties.ManagedPolicyArns ?? []).toEqual(expect.not.arrayContaining([expect.stringMatching(/AdministratorAccess|AmazonDynamoDBFullAccess/)]));
  }
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const [, policy] of resourcesOfType(type)) out.push(...asArray(policy.Properties.PolicyDocument.Statement));
  }
  return out;
}

beforeAll(async () => {
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hongbao-package-'));
  // No AWS credentials of any kind: packaging must work offline.
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (/^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|PROFILE|DEFAULT_PROFILE)$/.test(k)) delete env[k];
  env.AWS_CONFIG_FILE = path.join(outDir, 'no-aws-config');
  env.AWS_SHARED_CREDENTIALS_FILE = path.join(outDir, 'no-aws-credentials');
  env.AWS_EC2_METADATA_DISABLED = 'true';
  env.SLS_TELEMETRY_DISABLED = '1';
  run = await new Promise((resolve) => {
    const child = spawn(OSLS, ['package', '--stage', 'prod', '--package', outDir], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: `${stderr}\n${err.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr: signal ? `${stderr}\nkilled by ${signal} (240 s timeout?)` : stderr });
    });
  });
  if (run.code === 0) {
    templateText = fs.readFileSync(path.join(outDir, 'cloudformation-template-update-stack.json'), 'utf8');
    template = JSON.parse(templateText);
    stateText = fs.readFileSync(path.join(outDir, 'serverless-state.json'), 'utf8');
  }
}, 250_000);

afterAll(() => {
  if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
});

describe('osls package --stage prod (no AWS credentials)', () => {
  test('exits 0', () => {
    if (run.code !== 0) throw new Error(`osls package failed (${run.code}):\n${run.stdout}\n${run.stderr}`);
    expect(template.Resources).toBeDefined();
  });

  test('the table is infra/table.json plus name, PITR and deletion protection', () => {
    const tables = resourcesOfType('AWS::DynamoDB::Table');
    expect(tables).toHaveLength(1);
    const [, table] = tables[0]!;
    const definition = JSON.parse(fs.readFileSync(path.join(ROOT, 'infra', 'table.json'), 'utf8'));
    const props = { ...table.Properties };
    expect(props.TableName).toBe('hongbao-prod');
    expect(props.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(props.DeletionProtectionEnabled).toBe(true);
    expect(table.DeletionPolicy).toBe('Retain');
    for (const k of ADDED_TABLE_PROPERTIES) delete props[k];
    // Every property of infra/table.json, unchanged, and nothing else.
    expect(props).toEqual(definition);
    expect(table.Properties.GlobalSecondaryIndexes.map((g: Json) => [g.IndexName, g.Projection.ProjectionType])).toEqual([
      ['gsi1', 'KEYS_ONLY'],
      ['gsi2', 'KEYS_ONLY'],
    ]);
  });

  test('every function: nodejs22.x, the prod environment without secret values; claims 6 s / 1024 MB', () => {
    const fns = resourcesOfType('AWS::Lambda::Function');
    expect(fns.map(([id]) => functionNameOf(id)).sort()).toEqual([...FUNCTIONS].sort());
    for (const [id, fn] of fns) {
      const p = fn.Properties;
      expect(p.Runtime).toBe('nodejs22.x');
      const vars = p.Environment.Variables;
      expect(vars.STAGE).toBe('prod');
      expect(vars.TABLE_NAME).toBe('hongbao-prod');
      expect(vars.OPEN_SHARDS).toBe('8');
      expect(vars.DYNAMODB_ENDPOINT).toBeUndefined();
      expect(vars.PAYMENT_PROVIDER).not.toBe('sandbox');
      expect(vars.CODE_KEYS).toBe('{{resolve:ssm:/hongbao/prod/code-keys}}');
      expect(vars.SESSION_SECRET).toBe('{{resolve:ssm:/hongbao/prod/session-secret}}');
      if (functionNameOf(id) === 'claims') {
        expect(p.Timeout).toBe(6);
        expect(p.MemorySize).toBe(1024);
      }
    }
  });

  test('no secret value from the environment reaches the template or the service state', () => {
    const secrets: string[] = [];
    for (const name of ['CODE_KEYS', 'SESSION_SECRET']) {
      const v = process.env[name];
      if (!v) continue;
      secrets.push(v);
      for (const entry of v.split(',')) secrets.push(entry.slice(entry.indexOf(':') + 1)); // each key's secret alone
    }
    expect(secrets.length).toBeGreaterThan(0); // global-setup provides them
    for (const s of secrets) {
      expect(templateText.includes(s)).toBe(false);
      expect(stateText.includes(s)).toBe(false);
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
    expect(api.Properties.CorsConfiguration.AllowHeaders).toEqual(expect.arrayContaining(['Authorization', 'Idempotency-Key', 'X-Device-Id']));
  });

  test('the sweep runs every minute (schedule rule targeting the sweep function)', () => {
    const rules = resourcesOfType('AWS::Events::Rule');
    const minute = rules.filter(([, r]) => r.Properties.ScheduleExpression === 'rate(1 minute)');
    expect(minute).toHaveLength(1);
    const [, rule] = minute[0]!;
    expect(rule.Properties.State).toBe('ENABLED');
    const targets = rule.Properties.Targets.map((t: Json) => functionNameOf(t.Arn['Fn::GetAtt'][0]));
    expect(targets).toEqual(['sweep']);
  });

  test('IAM: only the listed DynamoDB actions, on the table and its indexes', () => {
    const statements = iamStatements();
    const tableId = resourcesOfType('AWS::DynamoDB::Table')[0]![0];
    const dynamoActions = new Set<string>();
    for (const st of statements) {
      const actions = asArray<string>(st.Action);
      expect(st.NotAction).toBeUndefined();
      for (const a of actions) {
        expect(a).not.toBe('*');
        if (!a.toLowerCase().startsWith('dynamodb:')) continue;
        expect(st.Effect).toBe('Allow');
        dynamoActions.add(a);
        expect(st.NotResource).toBeUndefined();
        for (const r of asArray<Json>(st.Resource)) {
          expect(r).not.toBe('*');
          expect(JSON.stringify(r)).toContain(`"${tableId}"`); // the table ARN (or <table arn>/index/*)
        }
      }
    }
    expect([...dynamoActions].sort()).toEqual([...ALLOWED_DYNAMODB_ACTIONS].sort());
    expect(templateText).not.toMatch(/dynamodb:\*|TransactWriteItems|TransactGetItems|dynamodb:Scan|dynamodb:DeleteTable/);
    // The index ARN (`<table arn>/index/*`) is granted too.
    expect(JSON.stringify(statements)).toMatch(/"index","\*"/);
  });

  test('log groups keep 30 days', () => {
    const groups = resourcesOfType('AWS::Logs::LogGroup');
    expect(groups).toHaveLength(FUNCTIONS.length);
    for (const [, g] of groups) expect(g.Properties.RetentionInDays).toBe(30);
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
