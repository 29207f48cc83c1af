/**
 * A small S3-protocol stand-in for the avatar bucket, so the real S3 adapter
 * (functions/src/store/avatars.ts, @aws-sdk/client-s3) runs unchanged in `npm start` and the
 * tests. Path-style only (`/<bucket>/<key>`), the three calls the adapter makes:
 *   PUT  → PutObject    HEAD → HeadObject    GET → GetObject
 *
 * What it checks, as S3 would refuse it:
 *   - a SigV4 `Authorization` header (AWS4-HMAC-SHA256, scope …/s3/aws4_request, host,
 *     x-amz-date and x-amz-content-sha256 among the signed headers) — and, when `credentials`
 *     are given, the signature itself, recomputed from the canonical request (403
 *     SignatureDoesNotMatch otherwise);
 *   - `x-amz-content-sha256` equal to the SHA-256 of the body received (400
 *     XAmzContentSHA256Mismatch), `UNSIGNED-PAYLOAD` refused for PUT;
 *   - the bucket exists (404 NoSuchBucket), the key exists (404 NoSuchKey).
 * Objects live under `dir` (`.data/s3/<bucket>/<key>` for `npm start`, with the content type and
 * cache control beside each as `<key>.meta.json`) or in memory when no `dir` is given (tests).
 * Not S3: no listing, no multipart, no versioning, no ACLs — the adapter uses none of them.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const MAX_OBJECT_BYTES = 5 * 1024 * 1024;
const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([a-z0-9-]+)\/s3\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');
const hmac = (key, s) => crypto.createHmac('sha256', key).update(s).digest();

function xmlError(res, status, code, message) {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** S3's canonical query string: parameters sorted, names and values URI-encoded. */
function canonicalQuery(search) {
  const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return [...new URLSearchParams(search)]
    .map(([k, v]) => [enc(k), enc(v)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** The SigV4 signature S3 expects for this request (S3 signs the path as sent, not double-encoded). */
function expectedSignature(req, rawPath, search, m, secret) {
  const [, , date, region, signedHeaders] = m;
  const names = signedHeaders.split(';');
  const headers = names
    .map(
      (n) =>
        `${n}:${String(req.headers[n] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const canonical = [
    req.method,
    rawPath,
    canonicalQuery(search),
    headers,
    signedHeaders,
    req.headers['x-amz-content-sha256'],
  ].join('\n');
  const scope = `${date}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', req.headers['x-amz-date'], scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), 's3'), 'aws4_request');
  return crypto.createHmac('sha256', key).update(toSign).digest('hex');
}

/** Memory or directory storage of objects: { body: Buffer, meta: { contentType, cacheControl, etag, lastModified } }. */
function storage(dir) {
  if (!dir) {
    const objects = new Map();
    return {
      get: (bucket, key) => objects.get(`${bucket}/${key}`),
      put: (bucket, key, obj) => void objects.set(`${bucket}/${key}`, obj),
      keys: (bucket) =>
        [...objects.keys()].filter((k) => k.startsWith(`${bucket}/`)).map((k) => k.slice(bucket.length + 1)),
    };
  }
  const file = (bucket, key) => path.join(dir, bucket, ...key.split('/'));
  return {
    get(bucket, key) {
      try {
        const body = fs.readFileSync(file(bucket, key));
        const meta = JSON.parse(fs.readFileSync(`${file(bucket, key)}.meta.json`, 'utf8'));
        return { body, meta };
      } catch {
        return undefined;
      }
    },
    put(bucket, key, obj) {
      const f = file(bucket, key);
      fs.mkdirSync(path.dirname(f), { recursive: true });
      // Body first, its meta file last: a crash between leaves an object the stand-in does not list.
      fs.writeFileSync(f, obj.body);
      fs.writeFileSync(`${f}.meta.json`, JSON.stringify(obj.meta));
    },
    keys(bucket) {
      const root = path.join(dir, bucket);
      const out = [];
      const walk = (d, prefix) => {
        if (!fs.existsSync(d)) return;
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
          if (e.isDirectory()) walk(path.join(d, e.name), `${prefix}${e.name}/`);
          else if (e.name.endsWith('.meta.json')) out.push(`${prefix}${e.name.slice(0, -'.meta.json'.length)}`);
        }
      };
      walk(root, '');
      return out.sort();
    },
  };
}

/**
 * Starts the stand-in.
 * @param {{ port?: number, host?: string, dir?: string, buckets: string[],
 *   credentials?: Record<string, string>, log?: (line: string) => void }} opts
 *   `credentials`: access key id → secret; when given, signatures are verified.
 */
function startS3Sim(opts) {
  const host = opts.host ?? '127.0.0.1';
  const buckets = new Set(opts.buckets);
  const store = storage(opts.dir);
  const stats = { puts: 0, gets: 0, heads: 0, refused: 0 };

  const server = http.createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size <= MAX_OBJECT_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      try {
        handle(req, res, Buffer.concat(chunks), size);
      } catch (err) {
        xmlError(res, 500, 'InternalError', err instanceof Error ? err.message : 'error');
      }
    });
  });

  function refuse(res, status, code, message) {
    stats.refused++;
    opts.log?.(`refused ${status} ${code}`);
    xmlError(res, status, code, message);
  }

  function handle(req, res, body, size) {
    const url = new URL(req.url ?? '/', 'http://s3.local');
    const rawPath = (req.url ?? '/').split('?')[0];
    const auth = AUTH.exec(req.headers.authorization ?? '');
    if (!auth) return refuse(res, 403, 'AccessDenied', 'a SigV4 Authorization header is required');
    const signed = auth[4].split(';');
    for (const h of ['host', 'x-amz-content-sha256', 'x-amz-date']) {
      if (!signed.includes(h)) return refuse(res, 403, 'AccessDenied', `${h} must be signed`);
    }
    const payload = req.headers['x-amz-content-sha256'];
    if (req.method === 'PUT' && payload === 'UNSIGNED-PAYLOAD')
      return refuse(res, 400, 'XAmzContentSHA256Mismatch', 'the payload must be signed');
    if (payload !== 'UNSIGNED-PAYLOAD' && payload !== sha256(body))
      return refuse(res, 400, 'XAmzContentSHA256Mismatch', 'x-amz-content-sha256 does not match the body');
    if (opts.credentials) {
      const secret = opts.credentials[auth[1]];
      if (secret === undefined) return refuse(res, 403, 'InvalidAccessKeyId', 'unknown access key');
      const want = expectedSignature(req, rawPath, url.search, auth, secret);
      if (!crypto.timingSafeEqual(Buffer.from(want), Buffer.from(auth[5])))
        return refuse(res, 403, 'SignatureDoesNotMatch', 'the signature does not match');
    }
    const parts = rawPath.split('/').slice(1);
    const bucket = decodeURIComponent(parts[0] ?? '');
    const key = parts
      .slice(1)
      .map((p) => decodeURIComponent(p))
      .join('/');
    if (!buckets.has(bucket)) return refuse(res, 404, 'NoSuchBucket', 'the bucket does not exist');
    if (!key || key.split('/').some((seg) => seg === '' || seg === '.' || seg === '..'))
      return refuse(res, 400, 'InvalidRequest', 'path-style object key required');

    if (req.method === 'PUT') {
      if (size > MAX_OBJECT_BYTES) return refuse(res, 400, 'EntityTooLarge', 'object too large for the stand-in');
      const etag = `"${crypto.createHash('md5').update(body).digest('hex')}"`;
      store.put(bucket, key, {
        body,
        meta: {
          contentType: req.headers['content-type'] ?? 'binary/octet-stream',
          ...(req.headers['cache-control'] ? { cacheControl: req.headers['cache-control'] } : {}),
          etag,
          lastModified: new Date().toUTCString(),
        },
      });
      stats.puts++;
      res.writeHead(200, { etag, 'content-length': 0 });
      return res.end();
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      const obj = store.get(bucket, key);
      if (req.method === 'GET') stats.gets++;
      else stats.heads++;
      if (!obj) {
        if (req.method === 'HEAD') {
          res.writeHead(404, { 'content-length': 0 });
          return res.end();
        }
        return xmlError(res, 404, 'NoSuchKey', 'The specified key does not exist.');
      }
      res.writeHead(200, {
        'content-type': obj.meta.contentType,
        'content-length': obj.body.length,
        etag: obj.meta.etag,
        'last-modified': obj.meta.lastModified,
        ...(obj.meta.cacheControl ? { 'cache-control': obj.meta.cacheControl } : {}),
      });
      return res.end(req.method === 'GET' ? obj.body : undefined);
    }
    return refuse(res, 405, 'MethodNotAllowed', 'the stand-in answers PUT, GET and HEAD only');
  }

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      const { port } = server.address();
      let closing;
      resolve({
        server,
        port,
        endpoint: `http://${host}:${port}`,
        stats,
        /** Keys stored in a bucket (tests: "nothing written"). */
        keys: (bucket) => store.keys(bucket),
        close: () =>
          (closing ??= new Promise((done) => {
            server.close(() => done());
            server.closeIdleConnections?.();
          })),
      });
    });
  });
}

module.exports = { startS3Sim };
