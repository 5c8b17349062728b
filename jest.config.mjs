/** Jest in ESM mode with the swc transform; type checking is `tsc --noEmit` (see MATRIX.md). */
const swc = [
  "@swc/jest",
  { jsc: { parser: { syntax: "typescript" }, target: "es2022" }, module: { type: "es6" } },
];

/** @type {import('jest').Config} */
export default {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  extensionsToTreatAsEsm: [".ts"],
  transform: { "^.+\\.ts$": swc },
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  coverageProvider: "v8",
  collectCoverageFrom: ["node/**/*.ts", "!node/bench/**", "!node/**/index.ts"],
  coverageReporters: ["text-summary", "json-summary"],
  coverageThreshold: {
    "./node/raft/": { lines: 90 },
  },
};
