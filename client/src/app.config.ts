const pages: string[] = [
  'pages/home/index',
  'pages/login/index',
  'pages/send/index',
  'pages/packet/index',
  'pages/open/index',
  'pages/wallet/index',
  'pages/withdraw/index',
  'pages/records/index',
  'pages/receive/index',
  'pages/pay/index',
  // Names and faces: the profile page, also the one-time prompt after a first WeChat login.
  'pages/profile/index',
];

/**
 * Subpackages: pages most users never open, loaded on first visit instead of with the app, so
 * the main package stays small (WeChat downloads it before the first screen). A subpackage may
 * use the main package's modules but not another subpackage's; what only its pages use lives
 * under its root (biz/components, biz/lib, biz/biz.scss) so the build puts it there.
 *   biz/  enterprise and provider accounts: campaigns (the chart is uPlot on H5, a table on
 *         weapp) and API keys. Routes /biz/<page>/index.
 *   ops/  the operator view (admin, uPlot charts): H5 only, not in the WeChat build at all.
 *         Route /ops/index.
 * On H5 a subpackage is a set of routes like any other (Taro builds each page as its own chunk).
 */
const subPackages: { root: string; pages: string[] }[] = [
  { root: 'biz', pages: ['campaigns/index', 'campaign-create/index', 'campaign/index', 'apikeys/index'] },
];
if (process.env.TARO_ENV === 'h5') subPackages.push({ root: 'ops', pages: ['index'] });

export default defineAppConfig({
  pages,
  subPackages,
  window: {
    backgroundTextStyle: 'light',
    navigationBarBackgroundColor: '#d8332b',
    navigationBarTitleText: '红包码',
    navigationBarTextStyle: 'white',
    backgroundColor: '#f6f1ea',
  },
});
