import { type Logger, pino } from 'pino';

/**
 * Paths pino replaces with "[redacted]" wherever they appear one or two levels deep. Code never logs job data or
 * tokens on purpose; this is the net under a mistake (an error object carrying a payload, a logged config).
 */
export const REDACT_PATHS = [
  'data',
  '*.data',
  'accessToken',
  'refreshToken',
  '*.accessToken',
  '*.refreshToken',
  '*.*.accessToken',
  '*.*.refreshToken',
  'accessTokenCiphertext',
  'refreshTokenCiphertext',
  '*.accessTokenCiphertext',
  '*.refreshTokenCiphertext',
  '*.*.accessTokenCiphertext',
  '*.*.refreshTokenCiphertext',
  'tokenEncryptionKeys',
  '*.tokenEncryptionKeys',
  'clientSecret',
  '*.clientSecret',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
];

/**
 * JSON lines on stdout, written synchronously: pino's default asynchronous stream reordered lines on a busy pipe and
 * could lose the last ones at `process.exit`, and the shutdown sequence is exactly what operators need to read in
 * order. The worker logs a few lines per job, so synchronous writes cost nothing measurable.
 */
export function createLogger(options: { level: string; service?: string }): Logger {
  return pino(
    {
      level: options.level,
      base: { service: options.service ?? 'worker' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    pino.destination({ dest: 1, sync: true }),
  );
}
