export default defineAppConfig({
  pages: [
    'pages/home/index',
    'pages/login/index',
    'pages/send/index',
    'pages/packet/index',
    'pages/open/index',
    'pages/wallet/index',
    'pages/records/index',
    'pages/receive/index',
    'pages/pay/index',
  ],
  window: {
    backgroundTextStyle: 'light',
    navigationBarBackgroundColor: '#d8332b',
    navigationBarTitleText: '红包码',
    navigationBarTextStyle: 'white',
    backgroundColor: '#f6f1ea',
  },
});
