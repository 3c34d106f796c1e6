export { resolveServiceUrls, type ServiceUrls } from './services.js';
