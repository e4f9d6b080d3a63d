// Prints the served schema (src/schema.ts buildSchema, i.e. schema/*.graphql
// with the custom scalars' descriptions) as one SDL file. Types and fields
// keep the order of schema/ (base.graphql first, then the feature files by
// name, as loadTypeDefs reads them), so the output is stable and reads like
// the sources: a field's arguments stay in the order their descriptions
// explain them.
// `npm run schema:print` writes schema.graphql; `npm run check:generated`
// regenerates it and fails when the committed copy is stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { printSchema } from 'graphql';
import { buildSchema } from '../src/schema.js';

export const schemaFile = fileURLToPath(new URL('../schema.graphql', import.meta.url));

const HEADER =
  '# The served schema, printed from schema/*.graphql by `npm run schema:print`. Do not edit:\n' +
  '# change schema/ and regenerate (`npm run check:generated` fails while this file is stale).\n\n';

/** The text schema.graphql must hold. */
export function printServedSchema(): string {
  return `${HEADER}${printSchema(buildSchema())}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(schemaFile, printServedSchema());
  console.log(`wrote ${schemaFile}`);
}
