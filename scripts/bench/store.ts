/** dynalite in this process (in memory) and the tables of infra/table.json. */
import fs from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import dynalite from 'dynalite';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';

export const REGION = 'ap-southeast-1';
const ROOT = path.resolve(__dirname, '..', '..');

export interface Store {
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

export function startDynalite(): Promise<Store> {
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      let closing: Promise<void> | undefined;
      resolve({
        endpoint: `http://127.0.0.1:${port}`,
        port,
        close: () =>
          (closing ??= new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          })),
      });
    });
  });
}

/** infra/table.json as is, with TableName added (dynalite accepts PAY_PER_REQUEST). */
export async function createTable(endpoint: string, tableName: string): Promise<void> {
  const def = JSON.parse(fs.readFileSync(path.join(ROOT, 'infra', 'table.json'), 'utf8')) as Omit<
    CreateTableCommandInput,
    'TableName'
  >;
  const client = new DynamoDBClient({
    endpoint,
    region: REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    await client.send(new CreateTableCommand({ ...def, TableName: tableName }));
    for (let i = 0; i < 200; i++) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      if (
        Table?.TableStatus === 'ACTIVE' &&
        (Table.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === 'ACTIVE')
      )
        return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`table ${tableName} did not become ACTIVE`);
  } finally {
    client.destroy();
  }
}
