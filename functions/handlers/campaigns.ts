import { bindRoutes, httpHandler } from '../src/http/wrapper';
import { campaignCodesCsv, campaignStats, createCampaign, myCampaigns } from '../src/app/campaigns';

/** POST /v1/campaigns · GET /v1/campaigns · GET /v1/campaigns/{id} · GET /v1/campaigns/{id}/codes.csv */
export const routes = bindRoutes('campaigns', {
  'POST /v1/campaigns': ({ d, who, body, idemKey, deviceId }) => createCampaign(d, who, body, idemKey, deviceId),
  'GET /v1/campaigns': ({ d, who }) => myCampaigns(d, who),
  'GET /v1/campaigns/{id}': ({ d, who, params }) => campaignStats(d, who, params.id),
  'GET /v1/campaigns/{id}/codes.csv': ({ d, who, params }) => campaignCodesCsv(d, who, params.id),
});

export const handler = httpHandler(routes);
