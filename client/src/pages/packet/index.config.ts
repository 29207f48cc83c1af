export default definePageConfig({
  navigationBarTitleText: '红包',
  navigationBarBackgroundColor: '#d8332b',
  enableShareAppMessage: true,
});
