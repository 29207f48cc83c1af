/**
 * The S3 adapter of {@link AvatarStore}: the one module that imports the S3 client. Only the
 * functions that upload (profiles) or serve (avatars) avatars import it — every other bundle
 * stays free of the S3 client (serverless-package.test.ts checks the zips).
 *
 * Locally and in tests `endpoint` points at the S3-protocol stand-in (scripts/s3-sim), path-style;
 * on AWS the bucket is reached by its regional endpoint with the function role's credentials.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { AvatarStore } from '../app/ports';
import type { AvatarSettings } from '../config';

function isMissing(err: unknown): boolean {
  if (err instanceof S3ServiceException)
    return err.$metadata.httpStatusCode === 404 || err.name === 'NoSuchKey' || err.name === 'NotFound';
  return false;
}

export class S3AvatarStore implements AvatarStore {
  private readonly s3: S3Client;

  constructor(
    private readonly opts: AvatarSettings,
    client?: S3Client,
  ) {
    this.s3 =
      client ??
      new S3Client({
        region: opts.region,
        // Small objects, one call each: a stuck request should fail the upload, not the Lambda.
        maxAttempts: 3,
        // Checksums only where S3 requires them: the payload hash (x-amz-content-sha256) is signed anyway.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        ...(opts.endpoint
          ? {
              endpoint: opts.endpoint,
              forcePathStyle: true,
              // The stand-in checks that requests are signed, not by whom.
              credentials: {
                accessKeyId: process.env.AWS_ACCESS_KEY_ID || 'local',
                secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || 'local',
              },
            }
          : {}),
      });
  }

  async put(key: string, bytes: Uint8Array, contentType: string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.opts.bucket,
        Key: key,
        Body: bytes,
        ContentType: contentType,
        // The key is the content's hash: the object never changes.
        CacheControl: 'public, max-age=31536000, immutable',
      }),
    );
  }

  async get(key: string): Promise<{ bytes: Uint8Array; contentType: string } | undefined> {
    try {
      const r = await this.s3.send(new GetObjectCommand({ Bucket: this.opts.bucket, Key: key }));
      if (!r.Body) return undefined;
      return { bytes: await r.Body.transformToByteArray(), contentType: r.ContentType ?? 'application/octet-stream' };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: this.opts.bucket, Key: key }));
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }
}
