import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

/**
 * One access-log line per request, written when the response is done, instead of Fastify's two ("incoming request"
 * and "request completed"): half the logging cost on every route, the authorize redirect included. The request
 * serializer in app.ts strips query strings and link secrets from it.
 */
export class GatewayLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    const responseTime = Math.round(reply.elapsedTime);
    if (error) {
      reply.log.error({ req: request, res: reply, err: error, responseTime }, 'request errored');
    } else {
      reply.log.info({ req: request, res: reply, responseTime }, 'request completed');
    }
  }
}
