/**
 * Babel for the client's component tests (jest, jsdom). The app itself builds with
 * babel-preset-taro (client/babel.config.js); here plain presets plus Taro's API transform for
 * H5, so `Taro.getStorageSync(…)` resolves to @tarojs/taro-h5 as in the H5 build.
 */
module.exports = {
  presets: [
    ['@babel/preset-env', { targets: { node: 'current' } }],
    ['@babel/preset-typescript', { onlyRemoveTypeImports: true }],
    ['@babel/preset-react', { runtime: 'automatic' }],
  ],
  plugins: [
    [
      'babel-plugin-transform-taroapi',
      { packageName: '@tarojs/taro', definition: require('@tarojs/plugin-platform-h5/dist/definition.json') },
    ],
  ],
};
