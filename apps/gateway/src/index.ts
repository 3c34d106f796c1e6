export { buildGateway, type GatewayDeps, gatewayLoggerOptions, logSafeUrl } from './app.js';
export { type ErrorBody, GatewayError, type GatewayErrorCode, GatewayErrors, isGatewayError } from './errors.js';
