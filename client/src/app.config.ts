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
  // Enterprise and provider accounts: campaigns (the chart is uPlot on H5, a table on weapp), API keys.
  'pages/campaigns/index',
  'pages/campaign-create/index',
  'pages/campaign/index',
  'pages/apikeys/index',
];
// The operator view (admin, uPlot charts) is H5 only: not in the WeChat build at all.
if (process.env.TARO_ENV === 'h5') pages.push('pages/ops/index');

export default defineAppConfig({
  pages,
  window: {
    backgroundTextStyle: 'light',
    navigationBarBackgroundColor: '#d8332b',
    navigationBarTitleText: '红包码',
    navigationBarTextStyle: 'white',
    backgroundColor: '#f6f1ea',
  },
});
