import type { Server } from 'node:http';

export interface S3Sim {
  server: Server;
  port: number;
  endpoint: string;
  stats: { puts: number; gets: number; heads: number; refused: number };
  /** Keys stored in a bucket. */
  keys(bucket: string): string[];
  close(): Promise<void>;
}

export declare function startS3Sim(opts: {
  port?: number;
  host?: string;
  /** Objects on disk under this folder; in memory without it. */
  dir?: string;
  buckets: string[];
  /** Access key id → secret: when given, SigV4 signatures are verified. */
  credentials?: Record<string, string>;
  log?: (line: string) => void;
}): Promise<S3Sim>;
