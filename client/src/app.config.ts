const pages: string[] = [
  'pages/home/index',
  'pages/login/index',
  'pages/send/index',
  'pages/packet/index',
  'pages/open/index',
  'pages/wallet/index',
  'pages/records/index',
  'pages/receive/index',
  'pages/pay/index',
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
