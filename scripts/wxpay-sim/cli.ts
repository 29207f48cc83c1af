/**
 * `tsx scripts/wxpay-sim/cli.ts` — the WeChat Pay simulator on its own (the local stack runs it
 * beside the API). Keys persist in $HONGBAO_DATA_DIR/wxpay-sim-keys.json (default .data/) so
 * orders survive a restart of either side.
 *
 * Environment: WXPAY_SIM_PORT (3010), WXPAY_SIM_NOTIFY_URL (default: each order's notify_url),
 * WXPAY_SIM_RETRY_SCALE (0.001), HONGBAO_DATA_DIR (.data).
 */
import path from 'node:path';
import { loadOrCreateWxPaySimKeys } from './keys';
import { startWxPaySim } from './sim';

function numberEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0)
    throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`);
  return n;
}

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '..', '..');
  const dataDir = path.resolve(root, process.env.HONGBAO_DATA_DIR || '.data');
  const keyFile = path.join(dataDir, 'wxpay-sim-keys.json');
  const keys = loadOrCreateWxPaySimKeys(keyFile);
  const sim = await startWxPaySim({
    keys,
    port: numberEnv('WXPAY_SIM_PORT', 3010),
    retryScale: numberEnv('WXPAY_SIM_RETRY_SCALE', 0.001),
    ...(process.env.WXPAY_SIM_NOTIFY_URL ? { notifyUrl: process.env.WXPAY_SIM_NOTIFY_URL } : {}),
    log: (line) => console.log(`[wxpay-sim] ${line}`),
  });
  // The ids only: the keys stay in the file.
  console.log(
    `[wxpay-sim] WeChat Pay v3 simulator on ${sim.baseUrl} (mchid ${keys.mchid}, platform key ${keys.platformPublicKeyId}, keys in ${keyFile})`,
  );
  const stop = (): void => void sim.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(`[wxpay-sim] ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
