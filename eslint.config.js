// ESLint flat config: typescript-eslint with type information, no import cycles, and a purity
// fence around the Raft core and the document store (STYLES.md §7.3 rules 1 and 17).
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import importX from "eslint-plugin-import-x";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";

const impure = {
  patterns: [
    { group: ["node:*"], message: "The Raft core and the store are pure: no Node.js modules." },
  ],
};
// Folders depend downward only (DESIGN.md §2): raft and store import nothing else from the project.
const pureZones = ["raft", "store"].map((dir) => ({
  target: `./node/${dir}`,
  from: "./node",
  except: [`./${dir}`],
  message: `node/${dir} is pure and imports nothing else from the project.`,
}));
const impureGlobals = [
  { name: "setTimeout", message: "Time is ticks: inject it." },
  { name: "setInterval", message: "Time is ticks: inject it." },
  { name: "setImmediate", message: "Time is ticks: inject it." },
  { name: "queueMicrotask", message: "The core is synchronous." },
  { name: "Date", message: "No clocks in pure code: inject time." },
  { name: "performance", message: "No clocks in pure code: inject time." },
  { name: "process", message: "No I/O in pure code." },
  { name: "console", message: "Log through the injected logger." },
  { name: "Promise", message: "The core is synchronous." },
];

export default tseslint.config(
  { ignores: ["dist/", "coverage/", "node_modules", "**/gen/**", "charts/", "manifests/"] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ["*.js", "*.mjs"] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { "import-x": importX },
    settings: {
      "import-x/resolver-next": [createTypeScriptImportResolver({ project: "./tsconfig.json" })],
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/switch-exhaustiveness-check": "error",
      "@typescript-eslint/restrict-template-expressions": [
        "error",
        { allowNumber: true, allowBoolean: true },
      ],
      "@typescript-eslint/no-unnecessary-condition": [
        "error",
        { allowConstantLoopConditions: true },
      ],
      "import-x/no-cycle": "error",
      "import-x/no-self-import": "error",
      eqeqeq: "error",
      "no-restricted-syntax": [
        "error",
        { selector: "TSEnumDeclaration", message: "Use an `as const` object, not enum." },
      ],
    },
  },
  {
    files: ["node/raft/**/*.ts", "node/store/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", impure],
      "import-x/no-restricted-paths": ["error", { zones: pureZones }],
      "no-restricted-globals": ["error", ...impureGlobals],
      "no-restricted-properties": [
        "error",
        { object: "Math", property: "random", message: "Inject randomness." },
      ],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
