import { createRequire } from 'node:module';

/**
 * graphql-js as Mercurius sees it. Mercurius `require`s graphql (CommonJS) while an ESM `import` loads graphql's .mjs
 * build: two realms whose `instanceof` checks reject each other's types and errors. Loading it the same way as
 * Mercurius keeps one instance.
 */
export const graphqlJs = createRequire(import.meta.url)('graphql') as typeof import('graphql');
