// Must match `[triggers] crons` in wrangler.toml.
export const DAILY = '0 3 * * *'
