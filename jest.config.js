/**
 * Two Jest projects, both run by `npx jest` / `npm test`:
 *   - server: the functions' unit, integration and end-to-end tests — TypeScript through SWC
 *     (no type-check here: `npm run typecheck` does that), in Node, with a global setup that
 *     starts dynalite (it runs only when a server test runs);
 *   - client: the Taro app's component tests — jsdom, babel-jest, @testing-library/react, with
 *     Taro's H5 implementations standing in for @tarojs/taro and @tarojs/components.
 */
const server = {
  displayName: 'server',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022' } }],
    // opencc-js's core and dictionaries are ES modules only (the greeting filter imports them).
    '/node_modules/opencc-js/.+\\.js$': ['@swc/jest', { jsc: { target: 'es2022' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!opencc-js/)'],
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
  setupFilesAfterEnv: ['<rootDir>/test/helpers/table-per-file.ts'],
  testTimeout: 60000,
};

const client = {
  displayName: 'client',
  testEnvironment: 'jsdom',
  roots: ['<rootDir>/client'],
  testMatch: ['<rootDir>/client/test/**/*.test.ts?(x)'],
  transform: {
    '^.+\\.[cm]?[jt]sx?$': ['babel-jest', { configFile: require.resolve('./client/test/babel.config.js') }],
  },
  // Taro ships ES modules: transform them (and weapp-qrcode) too.
  transformIgnorePatterns: [
    '/node_modules/(?!(@tarojs|@stencil|\\.pnpm|tslib|weapp-qrcode|classnames|lodash-es|query-string|decode-uri-component|split-on-first|filter-obj|nanoid|style-inject|swiper)/)',
  ],
  moduleNameMapper: {
    '^@tarojs/components$': '@tarojs/components/lib/react',
    '^@tarojs/taro$': '@tarojs/taro-h5',
    '\\.(css|scss|sass)$': 'identity-obj-proxy',
  },
  setupFiles: ['<rootDir>/client/test/setup-env.js'],
  setupFilesAfterEnv: ['<rootDir>/client/test/setup.js'],
  testTimeout: 30000,
};

module.exports = {
  projects: [server, client],
  maxWorkers: 2,
  // A global option: Jest ignores `testTimeout` inside a project's config (the per-project
  // values above document intent only). 60 s: integration tests on a busy 2-core CI machine.
  testTimeout: 60000,
};
