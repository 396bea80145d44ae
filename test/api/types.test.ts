/** lib/api/types.ts is what scripts/generate-api-types.ts makes of the schemas now, and stays zod-free. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { renderApiTypes } from '../../scripts/generate-api-types.ts';

describe('generated client types', () => {
  it('are up to date with lib/api/schemas.ts (npm run generate:api)', async () => {
    const checkedIn = await readFile(new URL('../../lib/api/types.ts', import.meta.url), 'utf8');
    assert.ok(checkedIn === renderApiTypes(), 'lib/api/types.ts is stale: run npm run generate:api');
  });

  it('import nothing (no zod in the client or its declarations) and mark defaults and optional fields', async () => {
    const text = renderApiTypes();
    assert.doesNotMatch(text, /^import /m);
    assert.match(text, /export type JoinGroupRequest = \{[^}]*readonly sessionTimeoutMs\?: number;/s, 'a field with a default is optional in a request');
    assert.match(text, /export type TopicConfig = \{[^}]*readonly retentionMs: number;/s, 'and present in an answer');
    assert.match(text, /export type JoinGroupResponse = \{[^]*readonly committedOffset: string \| null;/);
  });
});
