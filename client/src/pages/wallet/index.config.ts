export default definePageConfig({
  navigationBarTitleText: '零钱',
  enablePullDownRefresh: true,
  backgroundTextStyle: 'dark',
});
