/**
 * The route table (functions/src/http/routes.ts) is the one declaration of every route, role
 * cell and IAM right: serverless.yml's functions, throttled routes and roles, and README's
 * route × role table are generated from it (`npm run routes`). A hand edit of those parts, or a
 * table change without regenerating, fails here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateReadme, generateServerless, ROOT, routeLogicalId } from '../../scripts/routes';
import { Columns, markOf, Methods, ROUTES, splitKey, type RouteSpec } from '../../functions/src/http/routes';

const read = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');

test('serverless.yml holds exactly what the route table generates (run `npm run routes` after a table change)', () => {
  const text = read('serverless.yml');
  expect(generateServerless(text)).toBe(text);
});

test("README's route × role table is the generated one", () => {
  const text = read('README.md');
  expect(generateReadme(text)).toBe(text);
});

test('a hand edit of a generated part is caught', () => {
  const text = read('serverless.yml');
  const widened = text.replace('role: CodesRole', 'role: ClaimsRole');
  expect(widened).not.toBe(text);
  expect(generateServerless(widened)).toBe(text);
});

test('route logical ids follow the framework (what the stage DependsOn names)', () => {
  expect(routeLogicalId('GET /v1/campaigns/{id}/codes.csv')).toBe('HttpApiRouteGetV1CampaignsIdVarCodescsv');
  expect(routeLogicalId('GET /v1/codes/{code}')).toBe('HttpApiRouteGetV1CodesCodeVar');
});

test('marks follow access and API-key scope', () => {
  const cell = (key: keyof typeof ROUTES) =>
    Object.fromEntries(Columns.map((c) => [c, markOf(ROUTES[key] as RouteSpec, c)]));
  // A full-scope key route: enterprise keys (basic) are refused, provider keys (full) act as their owner.
  expect(cell('POST /v1/wallet/topups')).toMatchObject({
    anonymous: '✗',
    user: 'own',
    'key: basic': '✗',
    'key: full': 'own',
  });
  // Business-only: staff roles on a personal account are refused; keys of both scopes pass.
  expect(cell('GET /v1/campaigns')).toMatchObject({
    user: '✗',
    enterprise: 'own',
    admin: '✗',
    'key: basic': 'own',
    'key: full': 'own',
  });
  // Staff-only, no key.
  expect(cell('GET /v1/risk/events')).toMatchObject({ support: '✗', risk: '✓', admin: '✓', 'key: full': '✗' });
});

test('every wrapped route with a path parameter parses it by a schema of the table (no check left to the use case)', () => {
  const unchecked: string[] = [];
  for (const [key, spec] of Object.entries(ROUTES) as [string, RouteSpec][]) {
    const names = [...key.matchAll(/\{([^}+]+)\+?\}/g)].map((m) => m[1]!);
    if (spec.standalone || names.length === 0) continue;
    const schema = spec.params?.schema as { shape?: Record<string, unknown> } | undefined;
    const keys = Object.keys(schema?.shape ?? {}).sort();
    if (keys.join(',') !== [...names].sort().join(',')) unchecked.push(`${key}: ${keys.join(',') || 'no schema'}`);
  }
  expect(unchecked).toEqual([]);
});

test('every route names its answer: a contract type, and a media type for what is not JSON', () => {
  const entries = Object.entries(ROUTES) as [string, RouteSpec][];
  expect(entries.filter(([, spec]) => !('response' in spec)).map(([key]) => key)).toEqual([]);
  // The answers that are not JSON, each documented by its media type.
  expect(Object.fromEntries(entries.filter(([, spec]) => spec.media).map(([key, spec]) => [key, spec.media]))).toEqual({
    'GET /v1/campaigns/{id}/codes.csv': 'text/csv',
    'GET /v1/avatars/{userId}/{file}': 'image/*',
    'GET /o/{proxy+}': 'text/html',
    'GET /{file}': 'text/html',
  });
});

test('every route key is a known method and a path; any other method is refused, not cast', () => {
  for (const key of Object.keys(ROUTES)) {
    const { method, path } = splitKey(key);
    expect(Methods).toContain(method);
    expect(path.startsWith('/')).toBe(true);
  }
  expect(() => splitKey('PUT /v1/wallet')).toThrow('unknown method');
});
