// After the environment is up: what Taro's H5 runtime expects around components (jsdom only;
// a test file may ask for the node environment, e.g. the weapp size check).
if (typeof window !== 'undefined') {
  const React = require('react');
  const ReactDOM = require('react-dom');

  globalThis.DEPRECATED_ADAPTER_COMPONENT = false;
  // Registers React with Taro's runtime (else `React.useContext is not a function` inside Taro).
  const { createReactApp } = require('@tarojs/plugin-framework-react/dist/runtime');
  createReactApp((p) => p.children, React, ReactDOM, { pages: [] });

  beforeEach(() => {
    window.localStorage.clear();
  });
}
