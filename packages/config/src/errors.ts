/** One bad setting: the variable's name and why it was refused. Values are never included: they may be secrets. */
export interface ConfigIssue {
  variable: string;
  problem: string;
}

/**
 * Thrown when the environment cannot make a valid configuration. The message lists every bad variable by name,
 * one per line, so an operator fixes them all in one go.
 */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly issues: ConfigIssue[]) {
    super(
      `Missing or invalid environment variables:\n${issues.map((i) => `  - ${i.variable}: ${i.problem}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}
