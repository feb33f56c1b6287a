// graphql-codegen: typed documents for the operations in src/, from the server's SDL.
// CODEGEN_OUT redirects the output (used by `npm run codegen:check`).
const out = process.env.CODEGEN_OUT || './src/gql/';

/** @type {import('@graphql-codegen/cli').CodegenConfig} */
export default {
  overwrite: true,
  schema: '../schema.graphql',
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**'],
  ignoreNoDocuments: false,
  generates: {
    [out]: {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        scalars: { DateTime: 'string', JSON: 'unknown', ID: 'string' },
        enumsAsTypes: true,
        useTypeImports: true,
        onlyOperationTypes: true,
        skipTypename: true,
        avoidOptionals: false,
      },
    },
  },
};
