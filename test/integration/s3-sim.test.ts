/**
 * The S3-protocol stand-in (scripts/s3-sim) against the real adapter (store/avatars.ts on
 * @aws-sdk/client-s3) and against raw requests: it must refuse what S3 refuses — no or a wrong
 * signature, a body whose hash is not the signed one, an unknown bucket — so that the adapter
 * passing here means it signs and addresses requests as S3 expects. Started in-process on a free
 * port, in memory and on disk.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startS3Sim, type S3Sim } from '../../scripts/s3-sim/sim.js';
import { S3AvatarStore } from '../../functions/src/store/avatars';

const BUCKET = 'hongbao-avatars-simtest';
const settings = (endpoint: string) => ({ bucket: BUCKET, region: 'ap-southeast-1', endpoint });

function raw(
  sim: S3Sim,
  method: string,
  p: string,
  headers: Record<string, string>,
  body = '',
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: sim.port, method, path: p, headers }, (res) => {
      let data = '';
      res.on('data', (c) => (data += String(c)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const auth = `AWS4-HMAC-SHA256 Credential=test/20261205/ap-southeast-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${'a'.repeat(64)}`;

describe('S3 stand-in', () => {
  let sim: S3Sim;
  beforeAll(async () => {
    sim = await startS3Sim({ buckets: [BUCKET], credentials: { test: 'test' } });
  });
  afterAll(() => sim.close());

  test('the adapter round-trips: put, exists, get; missing keys are absent, not errors', async () => {
    const store = new S3AvatarStore(settings(sim.endpoint));
    await store.put('avatars/u1/x.png', Buffer.from('png-bytes'), 'image/png');
    expect(await store.exists('avatars/u1/x.png')).toBe(true);
    expect(await store.get('avatars/u1/x.png')).toEqual({
      bytes: new Uint8Array(Buffer.from('png-bytes')),
      contentType: 'image/png',
    });
    expect(await store.exists('avatars/u1/none.png')).toBe(false);
    expect(await store.get('avatars/u1/none.png')).toBeUndefined();
    expect(sim.keys(BUCKET)).toEqual(['avatars/u1/x.png']);
  });

  test('refused: no signature (403), a wrong secret (403 SignatureDoesNotMatch), an unknown bucket (404)', async () => {
    expect((await raw(sim, 'GET', `/${BUCKET}/avatars/u1/x.png`, {})).status).toBe(403);
    const saved = process.env.AWS_SECRET_ACCESS_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = 'not-the-secret';
    try {
      const wrong = new S3AvatarStore(settings(sim.endpoint));
      await expect(wrong.put('avatars/u1/y.png', Buffer.from('y'), 'image/png')).rejects.toMatchObject({
        name: 'SignatureDoesNotMatch',
      });
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = saved;
    }
    const other = new S3AvatarStore({ ...settings(sim.endpoint), bucket: 'no-such-bucket' });
    await expect(other.put('avatars/u1/z.png', Buffer.from('z'), 'image/png')).rejects.toMatchObject({
      name: 'NoSuchBucket',
    });
    expect(sim.keys(BUCKET)).not.toContain('avatars/u1/y.png');
  });

  test('refused: a body whose SHA-256 is not the signed x-amz-content-sha256, or an unsigned payload', async () => {
    const headers = {
      authorization: auth,
      'x-amz-date': '20261205T000000Z',
      'x-amz-content-sha256': sha('what was signed'),
    };
    const tampered = await raw(sim, 'PUT', `/${BUCKET}/avatars/u1/t.png`, headers, 'something else');
    expect(tampered.status).toBe(400);
    expect(tampered.body).toContain('XAmzContentSHA256Mismatch');
    const unsigned = await raw(
      sim,
      'PUT',
      `/${BUCKET}/avatars/u1/t.png`,
      { ...headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      'x',
    );
    expect(unsigned.status).toBe(400);
    expect(sim.keys(BUCKET)).not.toContain('avatars/u1/t.png');
  });

  test('on disk: objects survive a restart', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 's3sim-'));
    try {
      const a = await startS3Sim({ buckets: [BUCKET], dir, credentials: { test: 'test' } });
      await new S3AvatarStore(settings(a.endpoint)).put('avatars/u2/k.webp', Buffer.from('webp'), 'image/webp');
      await a.close();
      const b = await startS3Sim({ buckets: [BUCKET], dir, credentials: { test: 'test' } });
      expect(await new S3AvatarStore(settings(b.endpoint)).get('avatars/u2/k.webp')).toEqual({
        bytes: new Uint8Array(Buffer.from('webp')),
        contentType: 'image/webp',
      });
      expect(b.keys(BUCKET)).toEqual(['avatars/u2/k.webp']);
      await b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
