export default definePageConfig({
  navigationBarTitleText: '红包记录',
  enablePullDownRefresh: true,
  backgroundTextStyle: 'dark',
});
