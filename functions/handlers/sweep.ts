import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { bindRoutes, httpHandler, log } from '../src/http/wrapper';
import { sweep } from '../src/app/sweeper';
import { deps } from '../src/app/deps';

/**
 * The sweep's budget stays well inside the function's 10 s timeout: a scheduled run takes the
 * Lambda's remaining time less this reserve (for the report's log line and the return); the
 * sweep itself starts no new work after 3/4 of its budget. Whatever is left stays due for the
 * next run, a minute later.
 */
const RESERVE_MS = 2_000;
/** An HTTP call's budget: its route sees no Lambda context, so a fixed part of the timeout. */
const HTTP_BUDGET_MS = 7_000;

export const routes = bindRoutes('sweep', {
  'POST /v1/admin/sweep': async ({ d, body }) => {
    // A caller-chosen clock exists only where tests need it (local, test, sandbox).
    const nowMs = body.now && d.cfg.devFeatures ? Date.parse(body.now) : d.now();
    return { status: 200, body: await sweep(d, nowMs, { budgetMs: HTTP_BUDGET_MS }) };
  },
});
const http = httpHandler(routes);

/** POST /v1/admin/sweep, and the every-minute schedule (an EventBridge event). */
export async function handler(
  event: APIGatewayProxyEventV2 | { source?: string },
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<APIGatewayProxyStructuredResultV2 | unknown> {
  if ('requestContext' in event) return http(event);
  const d = deps();
  const budgetMs = context ? Math.max(0, context.getRemainingTimeInMillis() - RESERVE_MS) : HTTP_BUDGET_MS;
  const report = await sweep(d, d.now(), { budgetMs });
  // The schedule's EventBridge event id is this run's correlation id (no HTTP request to take one from).
  log('info', 'scheduled sweep', {
    correlationId: 'id' in event && typeof event.id === 'string' ? event.id : undefined,
    ...report,
  });
  return report;
}
