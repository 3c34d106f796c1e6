import helmet from '@fastify/helmet';
import type { FastifyPluginAsync } from 'fastify';
import { globalPlugin } from './global.js';

export interface SecurityHeadersOptions extends Record<string, unknown> {
  /** True when the gateway is served over HTTPS (enables HSTS and upgrade-insecure-requests). */
  https: boolean;
  /** Origins images may come from besides https: (e.g. the http sandbox in development). */
  extraImageOrigins: string[];
  /** Origins a form submission may end up at after redirects (the TikTok authorize page). */
  formActionOrigins: string[];
}

/**
 * Security headers on every response. The CSP allows no script at all and styles only from the gateway's own
 * stylesheet, so no nonce or hash is needed; `form-action` must include TikTok because Chrome applies it to the
 * redirect that follows the "Connect" form.
 */
export const securityHeaders: FastifyPluginAsync<SecurityHeadersOptions> = globalPlugin(async (app, opts) => {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'https:', ...opts.extraImageOrigins],
        formAction: ["'self'", ...opts.formActionOrigins],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        ...(opts.https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
    hsts: opts.https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    crossOriginEmbedderPolicy: false,
  });
  app.addHook('onSend', async (_request, reply) => {
    reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=(), interest-cohort=()');
  });
});
