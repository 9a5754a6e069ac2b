import { defineConfig } from 'drizzle-kit'

// Only `drizzle-kit generate` uses this file; migrations are applied by scripts/migrate.mjs.
export default defineConfig({
  dialect: 'postgresql',
  schema: './app/db/schema.ts',
  out: './migrations',
})
