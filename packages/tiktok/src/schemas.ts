import { z } from 'zod';

/**
 * The shapes TikTok documents, validated at the edge so nothing downstream handles an `any`.
 * Objects are not strict: TikTok may add fields at any time, and that must not break us.
 */

/** Fields `GET /v2/user/info/` can return, grouped by the scope each needs. */
export const USER_INFO_FIELDS_BY_SCOPE = {
  'user.info.basic': ['open_id', 'union_id', 'avatar_url', 'avatar_url_100', 'avatar_large_url', 'display_name'],
  'user.info.profile': ['bio_description', 'profile_deep_link', 'is_verified', 'username'],
  'user.info.stats': ['follower_count', 'following_count', 'likes_count', 'video_count'],
} as const;

/** A field `GET /v2/user/info/` can return. */
export type UserInfoField = (typeof USER_INFO_FIELDS_BY_SCOPE)[keyof typeof USER_INFO_FIELDS_BY_SCOPE][number];

/** Every known user-info field. */
export const USER_INFO_FIELDS: readonly UserInfoField[] = Object.freeze(
  Object.values(USER_INFO_FIELDS_BY_SCOPE).flat(),
);

/** Fields read when none are asked for: all need only `user.info.basic`, which every TikTok login grants. */
export const DEFAULT_USER_INFO_FIELDS: readonly UserInfoField[] = Object.freeze([
  'open_id',
  'union_id',
  'avatar_url',
  'display_name',
]);

const seconds = z.number().int().positive();

/** `POST /v2/oauth/token/` success body. */
export const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
  open_id: z.string().min(1),
  expires_in: seconds,
  refresh_expires_in: seconds,
  // Always sent by TikTok; tolerated when absent so that a missing scope list reads as "nothing granted".
  scope: z.string().optional(),
  token_type: z.string().min(1).optional(),
});
export type TokenResponse = z.infer<typeof tokenResponseSchema>;

const logId = z.union([z.string(), z.number()]).transform(String).optional();

/** The OAuth error body of the token and revoke endpoints: `{ error, error_description, log_id }`. */
export const oauthErrorBodySchema = z.object({
  error: z.string().min(1),
  error_description: z.string().optional(),
  log_id: logId,
});

/** The API error envelope of `/v2/user/info/` and friends: `{ error: { code, message, log_id } }`; `ok` = success. */
export const apiErrorBodySchema = z.object({
  error: z.object({
    code: z.string().min(1),
    message: z.string().optional(),
    log_id: logId,
  }),
});

const optionalString = z
  .string()
  .nullish()
  .transform((v) => v ?? undefined);
const optionalCount = z
  .number()
  .int()
  .nonnegative()
  .nullish()
  .transform((v) => v ?? undefined);

/** `data.user` of `GET /v2/user/info/`; only the fields asked for are present. */
export const userInfoUserSchema = z.object({
  open_id: z.string().min(1),
  union_id: optionalString,
  avatar_url: optionalString,
  avatar_url_100: optionalString,
  avatar_large_url: optionalString,
  display_name: optionalString,
  bio_description: optionalString,
  profile_deep_link: optionalString,
  is_verified: z
    .boolean()
    .nullish()
    .transform((v) => v ?? undefined),
  username: optionalString,
  follower_count: optionalCount,
  following_count: optionalCount,
  likes_count: optionalCount,
  video_count: optionalCount,
});

/** `GET /v2/user/info/` success body. */
export const userInfoResponseSchema = z.object({
  data: z.object({ user: userInfoUserSchema }),
});

// Generous bounds: TikTok's values are far shorter; the limit only stops junk from flowing on.
const callbackValue = z.string().max(4096);

/** The query TikTok appends to the redirect URI. Unknown parameters are ignored. */
export const callbackQuerySchema = z.union([
  z.object({
    error: callbackValue.min(1),
    error_description: callbackValue.optional(),
    state: callbackValue.min(1).optional(),
  }),
  z.object({
    code: callbackValue.min(1),
    state: callbackValue.min(1),
    scopes: callbackValue.optional(),
  }),
]);

const httpUrl = z.url({ protocol: /^https?$/ });

/** Options of `createTikTokClient`, checked once at creation. */
export const clientOptionsSchema = z.object({
  clientKey: z.string().min(1),
  clientSecret: z.string().min(1),
  authUrl: httpUrl.optional(),
  apiUrl: httpUrl.optional(),
  fetch: z.custom<typeof fetch>((v) => typeof v === 'function', 'must be a function').optional(),
  timeoutMs: z.number().int().positive().max(2_147_483_647).optional(),
  authorizeExtras: z
    .object({
      disableAutoAuth: z.boolean().optional(),
      promptSelectAccount: z.boolean().optional(),
      forceAuthentication: z.boolean().optional(),
    })
    .optional(),
});
