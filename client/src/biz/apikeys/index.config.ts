export default definePageConfig({
  navigationBarTitleText: '开发者密钥',
});
