// Regenerates resolver types and the client kit's documents (GraphQL Code
// Generator), the printed schema (schema.graphql) and migrations (drizzle-kit)
// and fails when that changed anything: the committed files must match
// schema/*.graphql, client/operations/ and src/db/schema.ts.
import { execFileSync, execSync } from 'node:child_process';

const paths = ['src/generated', 'client/generated', 'schema.graphql', 'drizzle'];
const run = (cmd) => execSync(cmd, { stdio: ['ignore', 'ignore', 'inherit'] });

run('npx graphql-codegen --config codegen.ts');
run('node --import tsx scripts/print-schema.ts');
run('npx drizzle-kit generate');
const status = execFileSync('git', ['status', '--porcelain', '--', ...paths], { encoding: 'utf8' });
if (status.trim()) {
  console.error(
    `Generated files are stale; run \`npm run codegen\`, \`npm run schema:print\` and \`npm run db:generate\`, then commit:\n${status}`,
  );
  console.error(execFileSync('git', ['diff', '--stat', '--', ...paths], { encoding: 'utf8' }));
  process.exit(1);
}
console.log('generated files are current');
