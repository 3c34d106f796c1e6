import { CryptoErrorCode, decryptToken, isCryptoError, type Keyring } from '@ttc/crypto';

/** The account identity a token ciphertext is bound to. */
export interface TokenIdentity {
  userId: string;
  openId: string;
}

/**
 * Associated data binding a token ciphertext to its account identity: `tiktok/v2:["<userId>","<openId>"]`.
 *
 * The gateway encrypts with it, the worker stores the ciphertext as is, everyone decrypts with it. It uses the
 * account's unique pair rather than the row id because the gateway encrypts before the row exists. A ciphertext
 * copied into another account's row therefore fails to decrypt instead of handing out the wrong account's token.
 *
 * The two ids are a JSON array: JSON strings escape `"` and `\`, so the encoding is injective, where the first
 * scheme ({@link legacyTokenAad}, `tiktok:<userId>:<openId>`) gave `("a:b", "c")` and `("a", "b:c")` the same AAD.
 * The `tiktok/v2:` prefix can never begin a legacy AAD (those start with `tiktok:`), so the two schemes never meet.
 */
export function tokenAad(p: TokenIdentity): string {
  return `tiktok/v2:${JSON.stringify([p.userId, p.openId])}`;
}

/**
 * The first scheme, still read for ciphertexts written before `tiktok/v2` (until `tokens:reencrypt` moved them).
 * Ambiguous when an id contains `:`; see {@link readsLegacyAad} for when it is still tried.
 */
export function legacyTokenAad(p: TokenIdentity): string {
  return `tiktok:${p.userId}:${p.openId}`;
}

/**
 * Whether a row may still be read under the legacy AAD. Only when its `openId` has no `:`: among pairs whose openId
 * has no `:`, `tiktok:<userId>:<openId>` splits one way only (the openId is what follows the last `:`), so no other
 * such pair has the same legacy AAD. TikTok's open_ids have no `:`, and the gateway only ever encrypted for the
 * open_id TikTok's token endpoint returned, so every legacy ciphertext is for such a pair. A pair whose openId has a
 * `:` is never tried under the legacy AAD: it could open a ciphertext of `("<userId>:<head>", "<tail>")`.
 */
export function readsLegacyAad(p: TokenIdentity): boolean {
  return !p.openId.includes(':');
}

/**
 * Decrypts a stored token of the account `p`: under {@link tokenAad}, else (a ciphertext written before `tiktok/v2`)
 * under {@link legacyTokenAad} when {@link readsLegacyAad} allows it. Errors as `decryptToken` (the first attempt's,
 * so a missing key still reads `CRYPTO_UNKNOWN_KEY`).
 */
export function decryptAccountToken(keyring: Keyring, ciphertext: string, p: TokenIdentity): string {
  try {
    return decryptToken(keyring, ciphertext, tokenAad(p));
  } catch (error) {
    if (!isCryptoError(error, CryptoErrorCode.DECRYPT_FAILED) || !readsLegacyAad(p)) throw error;
    try {
      return decryptToken(keyring, ciphertext, legacyTokenAad(p));
    } catch {
      throw error;
    }
  }
}
