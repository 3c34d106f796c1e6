/** Stable codes of the errors this package throws. */
export type SandboxErrorCode = 'SANDBOX_INVALID_OPTIONS' | 'SANDBOX_CONTROL_FAILED';

export class SandboxError extends Error {
  readonly code: SandboxErrorCode;

  constructor(code: SandboxErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SandboxError';
    this.code = code;
  }
}
