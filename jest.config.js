// Jest runs in native ESM mode (openid-client 6 and oidc-provider 9 are ESM-only), so `npm test`
// starts Node with --experimental-vm-modules. ts-jest only transpiles; `npm run typecheck` type-checks.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  globalSetup: '<rootDir>/test/setup/jest-global-setup.js',
  globalTeardown: '<rootDir>/test/setup/jest-global-teardown.js',
  testTimeout: 20000,
  // Two cores: two workers keep the machine responsive while sandboxes run inside each worker.
  maxWorkers: 2,
}
