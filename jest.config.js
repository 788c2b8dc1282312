/** Unit tests sit beside the code (libs/**, src/**: *.spec.ts); contract, e2e and scale tests under test/. */
const moduleNameMapper = {
  '^@app/background-jobs(|/.*)$': '<rootDir>/libs/background-jobs/src$1',
  '^@app/background-jobs-dashboard(|/.*)$': '<rootDir>/libs/background-jobs-dashboard/src$1',
  '^@app/common-shared(|/.*)$': '<rootDir>/libs/common-shared/src$1',
};
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true }] };
const common = {
  rootDir: __dirname,
  moduleFileExtensions: ['js', 'json', 'ts'],
  testEnvironment: 'node',
  transform,
  moduleNameMapper,
};

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/src/**/*.spec.ts'] },
    { ...common, displayName: 'contract', testMatch: ['<rootDir>/test/contract/**/*.test.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
    { ...common, displayName: 'scale', testMatch: ['<rootDir>/test/scale/**/*.test.ts'] },
  ],
};
