// Before the test framework: the build-time constants Taro's H5 build defines.
process.env.TARO_ENV = 'h5';
process.env.TARO_PLATFORM = 'web';
process.env.FRAMEWORK = 'react';
