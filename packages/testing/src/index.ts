export { browserTestsEnabled, CHROMIUM_PATH, launchChromium, screenshotPath } from './browser.js';
export { resolveServiceUrls, type ServiceUrls } from './services.js';
