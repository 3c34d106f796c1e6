import type { SandboxUser } from './types.js';

/** What user info can return beyond {@link SandboxUser}: profile and stats fields. */
export interface SandboxUserProfile extends SandboxUser {
  bioDescription: string;
  isVerified: boolean;
  followerCount: number;
  followingCount: number;
  likesCount: number;
  videoCount: number;
  /** Avatar background colour. */
  color: string;
}

function user(
  slug: string,
  displayName: string,
  username: string,
  extra: Omit<SandboxUserProfile, keyof SandboxUser>,
): SandboxUserProfile {
  const openId = `sbx-open-${slug}`;
  return {
    openId,
    unionId: `sbx-union-${slug}`,
    displayName,
    username,
    avatarUrl: `/avatars/${openId}.svg`,
    ...extra,
  };
}

const PROFILES: readonly SandboxUserProfile[] = Object.freeze([
  user('ava', 'Ava Martin', 'ava.martin', {
    bioDescription: 'Travel clips and city walks.',
    isVerified: true,
    followerCount: 128_400,
    followingCount: 312,
    likesCount: 2_450_000,
    videoCount: 214,
    color: '#fe2c55',
  }),
  user('ben', 'Ben Okafor', 'benokafor', {
    bioDescription: 'Home cooking in 60 seconds.',
    isVerified: false,
    followerCount: 9_870,
    followingCount: 140,
    likesCount: 98_200,
    videoCount: 77,
    color: '#25f4ee',
  }),
  user('chloe', 'Chloé Dubois', 'chloe.dubois', {
    bioDescription: 'Illustration, slowly.',
    isVerified: false,
    followerCount: 45_120,
    followingCount: 501,
    likesCount: 610_000,
    videoCount: 133,
    color: '#7b61ff',
  }),
  user('dev', 'Dev Patel', 'devbuilds', {
    bioDescription: 'Woodworking and small tools.',
    isVerified: false,
    followerCount: 1_204,
    followingCount: 88,
    likesCount: 7_300,
    videoCount: 19,
    color: '#00a870',
  }),
  user('emi', 'Emi Tanaka', 'emi_tanaka', {
    bioDescription: 'Daily piano covers.',
    isVerified: true,
    followerCount: 530_000,
    followingCount: 42,
    likesCount: 12_800_000,
    videoCount: 402,
    color: '#ff9f1c',
  }),
  // Non-ASCII, an ampersand and an emoji: display names like this exist, and consumers must escape them.
  user('zoe', 'Zoë & Co 🌸', 'zoe.and.co', {
    bioDescription: 'Flowers <3 & more.',
    isVerified: false,
    followerCount: 0,
    followingCount: 0,
    likesCount: 0,
    videoCount: 0,
    color: '#3a86ff',
  }),
]);

/** The accounts of the sandbox's TikTok (six: open ids `sbx-open-ava`, `-ben`, `-chloe`, `-dev`, `-emi`, `-zoe`). */
export const SANDBOX_USERS: readonly SandboxUser[] = Object.freeze(
  PROFILES.map(({ openId, unionId, displayName, username, avatarUrl }) =>
    Object.freeze({ openId, unionId, displayName, username, avatarUrl }),
  ),
);

export function findProfile(openId: string): SandboxUserProfile | undefined {
  return PROFILES.find((p) => p.openId === openId);
}

export function allProfiles(): readonly SandboxUserProfile[] {
  return PROFILES;
}
