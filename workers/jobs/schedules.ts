// Must match `[triggers] crons` in wrangler.toml.
export const DAILY = '0 3 * * *'
export const EVERY_TEN_MINUTES = '*/10 * * * *'
export const HOURLY = '0 * * * *'
