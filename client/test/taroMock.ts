/**
 * `@tarojs/taro` for page tests: the real H5 module with some members replaced (the page hooks
 * the H5 build wires and jest does not, the router, the clipboard, request…).
 *
 *   jest.mock('@tarojs/taro', () => require('./taroMock').taroWith({ useDidShow: () => undefined }));
 *
 * Proxies, not copies: Taro's H5 modules import each other in a cycle (nothing may be read while
 * loading), and the Taro API transform reads hooks off the default export (`Taro.useRouter`).
 * The factory may only close over `mock…` variables (jest hoists it above the imports).
 */
export function taroWith(hooks: Record<string, unknown>): unknown {
  const actual = jest.requireActual('@tarojs/taro');
  const replaced = (key: string | symbol): key is string => typeof key === 'string' && key in hooks;
  const withHooks = (target: Record<string | symbol, unknown>) =>
    new Proxy(target, { get: (t, key) => (replaced(key) ? hooks[key] : t[key]) });
  return new Proxy(actual, {
    get: (t, key) => (key === 'default' ? withHooks(t.default) : replaced(key) ? hooks[key] : t[key]),
  });
}
