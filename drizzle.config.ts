import { defineConfig } from 'drizzle-kit';

// Migrations are generated offline from src/db/schema.ts (`npm run db:generate`)
// and applied by the app at start-up (src/db/migrate.ts).
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './drizzle',
});
