import { bindRoutes, httpHandler } from '../src/http/wrapper';
import { CampaignIdParam } from '../src/http/schemas';
import { campaignCodesCsv, campaignStats, createCampaign, myCampaigns } from '../src/app/campaigns';
import { fail } from '../src/domain/errors';

function campaignId(params: Record<string, string>): string {
  const r = CampaignIdParam.safeParse(params.id);
  return r.success ? r.data : fail('NOT_FOUND', '活动不存在');
}

/** POST /v1/campaigns · GET /v1/campaigns · GET /v1/campaigns/{id} · GET /v1/campaigns/{id}/codes.csv */
export const routes = bindRoutes('campaigns', {
  'POST /v1/campaigns': ({ d, who, body, idemKey, deviceId }) => createCampaign(d, who, body, idemKey, deviceId),
  'GET /v1/campaigns': ({ d, who }) => myCampaigns(d, who),
  'GET /v1/campaigns/{id}': ({ d, who, params }) => campaignStats(d, who, campaignId(params)),
  'GET /v1/campaigns/{id}/codes.csv': ({ d, who, params }) => campaignCodesCsv(d, who, campaignId(params)),
});

export const handler = httpHandler(routes);
