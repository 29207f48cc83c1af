import path from 'node:path';
import { defineConfig, type UserConfigExport } from '@tarojs/cli';

/**
 * Taro build configuration (Taro 4.2.1, webpack 5, React 18).
 * Output: client/dist/<platform> (dist/weapp for WeChat, dist/h5 for the browser build).
 *
 * Build-time environment:
 *   TARO_APP_API       API base URL baked into the build (default http://localhost:3000). On H5
 *                      `window.__HONGBAO_API__` (injected by scripts/start.js) wins at run time.
 *   TARO_APP_DEV_LOGIN "1" = show the dev login (pick a name) on weapp too (local API only);
 *                      "0" = hide it on H5 (WeChat login only). Default: H5 dev login, weapp WeChat login.
 *   TARO_APP_WXPAY_SIM The WeChat Pay simulator's URL for an H5 build with dev features (default:
 *                      the API's host, port 3010; `window.__HONGBAO_WXPAY_SIM__` wins at run time).
 */
export default defineConfig<'webpack5'>(async (merge) => {
  const platform = process.env.TARO_ENV ?? 'weapp';
  const baseConfig: UserConfigExport<'webpack5'> = {
    projectName: 'hongbao-codes',
    date: '2026-11-28',
    designWidth: 750,
    deviceRatio: { 640: 2.34 / 2, 750: 1, 375: 2, 828: 1.81 / 2 },
    sourceRoot: 'src',
    outputRoot: `dist/${platform}`,
    plugins: [path.resolve(__dirname, 'a11y-plugin.js')],
    env: {
      TARO_APP_API: JSON.stringify(process.env.TARO_APP_API ?? ''),
      TARO_APP_DEV_LOGIN: JSON.stringify(process.env.TARO_APP_DEV_LOGIN ?? ''),
      TARO_APP_WXPAY_SIM: JSON.stringify(platform === 'h5' ? (process.env.TARO_APP_WXPAY_SIM ?? '') : ''),
    },
    defineConstants: {},
    copy: { patterns: [], options: {} },
    framework: 'react',
    compiler: 'webpack5',
    cache: { enable: false },
    mini: {
      postcss: {
        pxtransform: { enable: true, config: {} },
        cssModules: {
          enable: false,
          config: { namingPattern: 'module', generateScopedName: '[name]__[local]___[hash:base64:5]' },
        },
      },
      optimizeMainPackage: { enable: true },
    },
    h5: {
      publicPath: './',
      staticDirectory: 'static',
      router: { mode: 'hash' },
      output: { filename: 'js/[name].[hash:8].js', chunkFilename: 'js/[name].[chunkhash:8].js' },
      miniCssExtractPluginOption: {
        ignoreOrder: true,
        filename: 'css/[name].[hash].css',
        chunkFilename: 'css/[name].[chunkhash].css',
      },
      postcss: {
        autoprefixer: { enable: true, config: {} },
        cssModules: {
          enable: false,
          config: { namingPattern: 'module', generateScopedName: '[name]__[local]___[hash:base64:5]' },
        },
      },
    },
  };
  if (process.env.NODE_ENV === 'development') return merge({}, baseConfig, { mini: {}, h5: {} });
  return merge({}, baseConfig, { mini: {}, h5: {} });
});
