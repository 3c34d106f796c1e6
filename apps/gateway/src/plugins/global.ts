import type { FastifyPluginAsync } from 'fastify';

/**
 * Lets a plugin's hooks, decorators and handlers apply to the whole app instead of its own encapsulated context
 * (what `fastify-plugin` does, without the extra dependency).
 */
export function globalPlugin<T extends Record<string, unknown>>(plugin: FastifyPluginAsync<T>): FastifyPluginAsync<T> {
  (plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  return plugin;
}
