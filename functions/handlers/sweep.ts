import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { httpHandler, log, route } from '../src/http/wrapper';
import { SweepBody } from '../src/http/schemas';
import { sweep } from '../src/app/sweeper';
import { deps } from '../src/app/deps';

export const routes = [
  route({
    method: 'POST',
    path: '/v1/admin/sweep',
    access: ['admin'],
    body: SweepBody,
    run: async ({ d, body }) => {
      // A caller-chosen clock exists only where tests need it (local, test, sandbox).
      const nowMs = body.now && d.cfg.devFeatures ? Date.parse(body.now) : d.now();
      return { status: 200, body: await sweep(d, nowMs) };
    },
  }),
];
const http = httpHandler(routes);

/** POST /v1/admin/sweep, and the every-minute schedule (an EventBridge event). */
export async function handler(event: APIGatewayProxyEventV2 | { source?: string }): Promise<APIGatewayProxyStructuredResultV2 | unknown> {
  if ('requestContext' in event) return http(event);
  const d = deps();
  const report = await sweep(d, d.now());
  // The schedule's EventBridge event id is this run's correlation id (no HTTP request to take one from).
  log('info', 'scheduled sweep', { correlationId: 'id' in event && typeof event.id === 'string' ? event.id : undefined, ...report });
  return report;
}
