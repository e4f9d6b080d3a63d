import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildSchema as buildSdl, findBreakingChanges, findDangerousChanges } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildSchema } from '../../src/schema.js';

/** The contract, copied into the repository so a clone is complete. */
const contractPath = fileURLToPath(new URL('../../contract/chat.graphql', import.meta.url));
/** Where the contract is published beside this checkout; the copy must not drift from it. */
const publishedPath =
  process.env.CONTRACT_PATH ?? fileURLToPath(new URL('../../../shared/contract/chat.graphql', import.meta.url));

describe('the in-repository contract (contract/chat.graphql)', () => {
  it.runIf(existsSync(publishedPath))('is byte-identical to the published contract beside this checkout', () => {
    expect(readFileSync(contractPath, 'utf8')).toBe(readFileSync(publishedPath, 'utf8'));
  });
});

/**
 * What the contract has that is not served yet (findBreakingChanges'
 * descriptions, e.g. 'Mutation.markRead was removed.'). Nothing else may
 * differ, and each entry must go when its feature lands (the test fails while
 * a served item is still listed).
 */
const PENDING: string[] = [];
/**
 * Additions graphql-js calls dangerous that the contract allows, each with
 * why: an output enum's new value reaches only clients that select the field,
 * and the contract's issue names this one (MessageChange THUMBNAIL: an image's
 * thumbnail is ready, schema/attachments.graphql).
 */
const ALLOWED_ADDITIONS: string[] = ['THUMBNAIL was added to enum type MessageChange.'];
/** Served fields whose contract description states a rule not built yet ("Type.field"). */
const PENDING_DESCRIPTIONS: string[] = [];

describe('the served schema against contract/chat.graphql', () => {
  const contract = buildSdl(readFileSync(contractPath, 'utf8'));
  const served = buildSchema();

  it('renames, drops and tightens nothing but the parts still to be built', () => {
    const breaking = findBreakingChanges(contract, served).map((c) => c.description);
    expect(breaking.sort()).toEqual([...PENDING].sort());
  });

  it('changes no default value or enum in a way clients could notice', () => {
    expect(findDangerousChanges(contract, served).map((c) => c.description)).toEqual(ALLOWED_ADDITIONS);
  });

  it('keeps the contract descriptions of every served field but the pending ones', () => {
    const differing: string[] = [];
    for (const typeName of ['Query', 'Mutation', 'Subscription', 'Room', 'Message', 'User', 'AuthPayload']) {
      const contractType = contract.getType(typeName) as { getFields?: () => Record<string, { description?: string | null }> };
      const servedType = served.getType(typeName) as typeof contractType;
      for (const [name, field] of Object.entries(contractType.getFields?.() ?? {})) {
        const servedField = servedType?.getFields?.()[name];
        if (!servedField) continue;
        const key = `${typeName}.${name}`;
        if (PENDING_DESCRIPTIONS.includes(key)) {
          if ((servedField.description ?? '') !== (field.description ?? '')) differing.push(key);
          continue;
        }
        expect(`${key}: ${servedField.description ?? ''}`).toBe(`${key}: ${field.description ?? ''}`);
      }
    }
    // A pending entry whose rule has landed (descriptions equal) must be removed from the list.
    expect(differing.sort()).toEqual([...PENDING_DESCRIPTIONS].sort());
  });
});
