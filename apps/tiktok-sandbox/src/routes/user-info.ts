import type { FastifyInstance } from 'fastify';
import {
  type CallInfo,
  field,
  finish,
  logIdOf,
  type SandboxContext,
  serveJsonFailure,
  userInfoError,
} from '../http.js';
import { findProfile, type SandboxUserProfile } from '../users.js';

type FieldValue = string | number | boolean;

/** Every user info field TikTok documents, with the scope it needs. */
const FIELDS: Record<string, { scope: string; value: (u: SandboxUserProfile, base: string) => FieldValue }> = {
  open_id: { scope: 'user.info.basic', value: (u) => u.openId },
  union_id: { scope: 'user.info.basic', value: (u) => u.unionId },
  avatar_url: { scope: 'user.info.basic', value: (u, base) => `${base}${u.avatarUrl}` },
  avatar_url_100: { scope: 'user.info.basic', value: (u, base) => `${base}${u.avatarUrl}?size=100` },
  avatar_large_url: { scope: 'user.info.basic', value: (u, base) => `${base}${u.avatarUrl}?size=720` },
  display_name: { scope: 'user.info.basic', value: (u) => u.displayName },
  bio_description: { scope: 'user.info.profile', value: (u) => u.bioDescription },
  profile_deep_link: { scope: 'user.info.profile', value: (u, base) => `${base}/@${u.username}` },
  is_verified: { scope: 'user.info.profile', value: (u) => u.isVerified },
  username: { scope: 'user.info.profile', value: (u) => u.username },
  follower_count: { scope: 'user.info.stats', value: (u) => u.followerCount },
  following_count: { scope: 'user.info.stats', value: (u) => u.followingCount },
  likes_count: { scope: 'user.info.stats', value: (u) => u.likesCount },
  video_count: { scope: 'user.info.stats', value: (u) => u.videoCount },
};

export function registerUserInfoRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  const { state } = ctx;

  app.get('/v2/user/info/', async (req, reply) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    const lookup = match?.[1] ? state.lookupAccessToken(match[1]) : { ok: false as const, openId: undefined };
    const failure = state.takeFailure('userinfo', lookup.openId);
    const call: CallInfo = {
      endpoint: 'userinfo',
      openId: lookup.openId,
      injectedFailure: failure?.kind === 'latency' ? 'latency' : undefined,
    };
    if (failure) {
      if (await serveJsonFailure(ctx, req, reply, failure, call, 'userinfo')) return reply;
    }
    const fail = (status: number, code: string, message: string) =>
      finish(ctx, req, reply, { ...call, error: code }, status, userInfoError(req, code, message));

    if (!lookup.ok)
      return fail(401, 'access_token_invalid', 'The access token is invalid or not found in the request.');
    const requested = [
      ...new Set(
        (field(req.query, 'fields') ?? '')
          .split(',')
          .map((f) => f.trim())
          .filter((f) => f !== ''),
      ),
    ];
    if (requested.length === 0) return fail(400, 'invalid_params', 'The fields parameter is required.');
    const unknown = requested.filter((f) => !(f in FIELDS));
    if (unknown.length > 0) return fail(400, 'invalid_params', `Invalid fields: ${unknown.join(',')}.`);
    const profile = findProfile(lookup.openId);
    if (!profile) return fail(401, 'access_token_invalid', 'The access token is invalid or not found in the request.');
    if (requested.some((f) => !lookup.scopes.includes(FIELDS[f]?.scope ?? ''))) {
      return fail(
        401,
        'scope_not_authorized',
        'The user did not authorize the scope required for completing this request.',
      );
    }
    const base = ctx.baseUrl(req);
    const user: Record<string, FieldValue> = {};
    for (const f of requested) {
      const spec = FIELDS[f];
      if (spec) user[f] = spec.value(profile, base);
    }
    return finish(ctx, req, reply, call, 200, {
      data: { user },
      error: { code: 'ok', message: '', log_id: logIdOf(req) },
    });
  });
}
