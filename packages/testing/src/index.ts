export { AUDIT_VIEWPORTS, type AxeViolation, auditPage, horizontalOverflow, seriousAxeViolations } from './audit.js';
export { browserTestsEnabled, CHROMIUM_PATH, launchChromium, screenshotPath } from './browser.js';
export {
  ConnectFlowError,
  type ConnectFlowOptions,
  type ConnectFlowResult,
  connectOverHttp,
  type HttpAnswer,
  HttpBrowser,
  type HttpExchange,
} from './connect-flow.js';
export { sendPartialRequest } from './partial-request.js';
export { type PrivateServer, startPrivatePostgres, startPrivateRedis } from './private-services.js';
export {
  freePort,
  type ServiceExit,
  type ServiceProcess,
  type StartServiceOptions,
  startServiceProcess,
  waitForHttp,
} from './processes.js';
export { type RedisCluster, startRedisCluster } from './redis-cluster.js';
export { resolveServiceUrls, type ServiceUrls } from './services.js';
