/** Tests run from TypeScript sources; native tests load the addon built by `npm ci`. */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testTimeout: 120000,
  // Tests that train models are single-threaded: use every core (jest's default leaves one idle).
  maxWorkers: '100%',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }] },
};
