export { buildSandboxApp } from './app.js';
export { SandboxError, type SandboxErrorCode } from './errors.js';
export { createSandboxControl, startSandbox } from './start.js';
export {
  DEFAULT_CLIENT_KEY,
  DEFAULT_CLIENT_SECRET,
  hexS256 as tiktokCodeChallenge,
  SESSION_COOKIE as SANDBOX_SESSION_COOKIE,
} from './state.js';
export type {
  SandboxAuthorizeOutcome,
  SandboxCall,
  SandboxControl,
  SandboxEndpoint,
  SandboxFailure,
  SandboxFailureKind,
  SandboxHandle,
  SandboxLifetimes,
  SandboxOptions,
  SandboxUser,
} from './types.js';
export { SANDBOX_USERS } from './users.js';
