/**
 * GET /o/{proxy+} · GET /{file} — the page behind code links (`<PUBLIC_BASE_URL>/o/<code>`) and
 * WeChat's check file for the link rule (functions/src/http/link-page.ts). Standalone: no
 * table, no secret, no session; its role may only write its own logs and traces.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { linkPageConfig } from '../src/config';
import { linkPage } from '../src/http/link-page';

/** The raw (still encoded) part of the path after `/o/`, or after `/` for the root route. */
function segmentOf(rawPath: string): { route: 'link' | 'root'; segment: string } {
  const at = rawPath.indexOf('/o/');
  if (at >= 0) return { route: 'link', segment: rawPath.slice(at + 3) };
  return { route: 'root', segment: rawPath.slice(rawPath.lastIndexOf('/') + 1) };
}

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const { route, segment } = segmentOf(event.rawPath ?? '/');
  const res = linkPage(
    { route, segment, userAgent: event.headers?.['user-agent'], method: event.requestContext?.http?.method ?? 'GET' },
    linkPageConfig(),
  );
  return { statusCode: res.statusCode, headers: res.headers, body: res.body };
}
