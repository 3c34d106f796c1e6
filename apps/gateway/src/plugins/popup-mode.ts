import type { FastifyInstance, FastifyRequest } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import type { GatewayContext } from '../context.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by a route that decided the page runs in a popup before the connect cookie says so (the one-time link). */
    popupMode: boolean;
  }
}

/** Whether this request's pages run in a popup: the route said so, or the browser's connect cookie does. */
export function isPopupRequest(ctx: GatewayContext, request: FastifyRequest): boolean {
  if (request.popupMode) return true;
  const cookie = ctx.cookies.openConnect(request.cookies[ctx.cookies.names.connect], ctx.now());
  return typeof cookie === 'object' && cookie.dm === 'popup';
}

export interface PopupModeOptions {
  ctx: GatewayContext;
  /** The Content-Security-Policy of popup pages: the pages' own, plus the gateway's one popup script. */
  popupCsp: string;
}

/**
 * Popup mode: the hosted pages (and their redirects) of a browser whose connect session runs in a popup lose only
 * the header that would sever the popup from the page that opened it (Cross-Origin-Opener-Policy), and their CSP
 * allows the gateway's own scripts (the popup script that posts results to the opener; still no inline script).
 * Framing stays denied (X-Frame-Options and frame-ancestors), every other header stays. Registered after the
 * cookie parser; adjusts the headers the security-headers hook set, just before sending.
 */
export const popupMode = fastifyPlugin(async (app: FastifyInstance, opts: PopupModeOptions) => {
  app.decorateRequest('popupMode', false);
  app.addHook('onSend', (request, reply, payload, done) => {
    // Responses without COOP (the authorize redirect, JSON) have nothing to adjust: no cookie is even looked at.
    if (!reply.hasHeader('cross-origin-opener-policy')) return done(null, payload);
    if (request.routeOptions.config.page === true && isPopupRequest(opts.ctx, request)) {
      reply.removeHeader('cross-origin-opener-policy');
      if (reply.hasHeader('content-security-policy')) reply.header('content-security-policy', opts.popupCsp);
    }
    done(null, payload);
  });
});
