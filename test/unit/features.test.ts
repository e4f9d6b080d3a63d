import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { features } from '../../src/features/index.js';

const featuresDir = fileURLToPath(new URL('../../src/features/', import.meta.url));
const schemaDir = fileURLToPath(new URL('../../schema/', import.meta.url));

describe('the feature list (src/features/index.ts)', () => {
  const names = features.map((feature) => feature.name);

  it('names every folder under src/features/ once', () => {
    const folders = readdirSync(featuresDir).filter((name) => statSync(featuresDir + name).isDirectory());
    expect([...names].sort()).toEqual(folders.sort());
    expect(new Set(names).size).toBe(names.length);
  });

  it('mirrors schema/ one to one: each feature has its file, and every other file is base.graphql', () => {
    const files = readdirSync(schemaDir).filter((name) => name.endsWith('.graphql'));
    expect(files.sort()).toEqual(['base.graphql', ...names.map((name) => `${name}.graphql`)].sort());
  });
});
