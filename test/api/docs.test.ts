/** docs/api-v1.md, the contract's text in the repository, names every route of the table and every error code. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { ERROR_TABLE } from '../../lib/errors.ts';
import { ROUTES } from '../../lib/api/routes.ts';

describe('docs/api-v1.md', () => {
  it('names every route of the route table and every error code', async () => {
    const text = await readFile(new URL('../../docs/api-v1.md', import.meta.url), 'utf8');
    const missing = [
      ...ROUTES.map((route) => `${route.method} ${route.path}`).filter((route) => !text.includes(`\`${route}\``)),
      ...Object.keys(ERROR_TABLE).filter((code) => !text.includes(`\`${code}\``)),
    ];
    assert.deepEqual(missing, [], 'document these in docs/api-v1.md');
  });
});
