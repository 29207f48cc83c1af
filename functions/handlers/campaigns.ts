import { httpHandler, route } from '../src/http/wrapper';
import { CampaignIdParam, CreateCampaignBody } from '../src/http/schemas';
import { campaignCodesCsv, campaignStats, createCampaign, myCampaigns } from '../src/app/campaigns';
import { fail } from '../src/domain/errors';

const BUSINESS = ['enterprise', 'provider'] as const;

function campaignId(params: Record<string, string>): string {
  const r = CampaignIdParam.safeParse(params.id);
  return r.success ? r.data : fail('NOT_FOUND', '活动不存在');
}

/** POST /v1/campaigns · GET /v1/campaigns · GET /v1/campaigns/{id} · GET /v1/campaigns/{id}/codes.csv */
export const routes = [
  route({
    method: 'POST',
    path: '/v1/campaigns',
    access: BUSINESS,
    apiKey: 'basic',
    body: CreateCampaignBody,
    run: ({ d, who, body, idemKey, deviceId }) => createCampaign(d, who, body, idemKey, deviceId),
  }),
  route({ method: 'GET', path: '/v1/campaigns', access: BUSINESS, apiKey: 'basic', run: ({ d, who }) => myCampaigns(d, who) }),
  route({ method: 'GET', path: '/v1/campaigns/{id}', access: BUSINESS, apiKey: 'basic', run: ({ d, who, params }) => campaignStats(d, who, campaignId(params)) }),
  route({ method: 'GET', path: '/v1/campaigns/{id}/codes.csv', access: BUSINESS, apiKey: 'basic', run: ({ d, who, params }) => campaignCodesCsv(d, who, campaignId(params)) }),
];

export const handler = httpHandler(routes);
