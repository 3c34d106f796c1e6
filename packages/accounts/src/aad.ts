/**
 * Associated data binding a token ciphertext to its account identity: `tiktok:${userId}:${openId}`.
 *
 * The gateway encrypts with it, the worker stores the ciphertext as is, everyone decrypts with it. It uses the
 * account's unique triple rather than the row id because the gateway encrypts before the row exists. A ciphertext
 * copied into another account's row therefore fails to decrypt instead of handing out the wrong account's token.
 */
export function tokenAad(p: { userId: string; openId: string }): string {
  return `tiktok:${p.userId}:${p.openId}`;
}
