import type { Server } from 'node:http';
import type { CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface LocalDynalite {
  server: Server;
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

export declare const ROOT: string;
export declare const TABLE_FILE: string;
export declare const DEFAULT_REGION: string;
export declare const LOCAL_CREDENTIALS: Readonly<{ accessKeyId: string; secretAccessKey: string }>;
export declare function readTableDefinition(): Record<string, unknown> & Omit<CreateTableCommandInput, 'TableName'>;
export declare function createTableInput(
  tableName: string,
  definition?: Record<string, unknown>,
): CreateTableCommandInput;
export declare function startDynalite(opts?: { port?: number; host?: string; path?: string }): Promise<LocalDynalite>;
export declare function localClient(endpoint: string, region?: string): DynamoDBClient;
export declare function ensureTable(
  endpoint: string,
  tableName: string,
  opts?: { region?: string; timeoutMs?: number },
): Promise<boolean>;
