/**
 * `tsx scripts/wx-sim/cli.ts` — the WeChat open-API simulator on its own (the local stack runs
 * it beside the API): access tokens, subscribe messages, jscode2session.
 *
 * Environment: WX_SIM_PORT (3011), WX_APPID and WX_SECRET (what it accepts: the same values the
 * API is given), WX_TMPL_PACKET_FINISHED / WX_TMPL_REFUND_ARRIVED / WX_TMPL_WITHDRAWAL_ARRIVED
 * (the templates it knows, in the API's format: `<id>` or `<id>:<keyword>,…`).
 */
import { NotificationKinds, parseTemplateSetting } from '../../functions/src/domain/notifications';
import { TEMPLATE_ENV } from '../../functions/src/config';
import { startWxSim } from './sim';

async function main(): Promise<void> {
  const appId = process.env.WX_APPID;
  const secret = process.env.WX_SECRET;
  if (!appId || !secret) throw new Error('WX_APPID and WX_SECRET are required');
  const templates: Record<string, readonly string[]> = {};
  for (const kind of NotificationKinds) {
    const t = parseTemplateSetting(kind, process.env[TEMPLATE_ENV[kind]]);
    if (t) templates[t.id] = t.keys;
  }
  const raw = process.env.WX_SIM_PORT;
  const port = raw === undefined || raw === '' ? 3011 : Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`WX_SIM_PORT must be a port number, got ${JSON.stringify(raw)}`);
  const sim = await startWxSim({ appId, secret, templates, port, log: (line) => console.log(`[wx-sim] ${line}`) });
  // The appid only: the secret stays in the environment.
  console.log(
    `[wx-sim] WeChat open-API simulator on ${sim.baseUrl} (appid ${appId}, ${Object.keys(templates).length} templates)`,
  );
  const stop = (): void => void sim.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(`[wx-sim] ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
