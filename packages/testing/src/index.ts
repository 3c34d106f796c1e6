export { browserTestsEnabled, CHROMIUM_PATH, launchChromium, screenshotPath } from './browser.js';
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
export { resolveServiceUrls, type ServiceUrls } from './services.js';
