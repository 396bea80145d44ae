/**
 * The scope model (lib/auth/api-keys.ts): `covers` against the concrete meaning of scopes (`allows`),
 * by example and by property (fast-check, seeded; a failure prints its seed and counterexample).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ACTIONS, ADMIN_SCOPES, allows, covers, isAdminOverEverything, patternCovers, type Action, type Scope } from '../../lib/auth/api-keys.ts';

const SEED = Number(process.env.SCOPES_SEED ?? 20261210);
const principal = (scopes: readonly Scope[]) => ({ keyId: 'k', name: 'k', scopes });

// Names from a tiny alphabet, so that prefixes of one another come up often.
const name = fc.stringMatching(/^[ab.]{1,3}$/);
const pattern = fc.oneof(fc.constant('*'), name, name.map((n) => `${n}*`));
const scope: fc.Arbitrary<Scope> = fc.record({
  action: fc.constantFrom(...ACTIONS),
  topics: fc.array(pattern, { maxLength: 3 }),
  groups: fc.array(pattern, { maxLength: 3 }),
});
const scopes = fc.array(scope, { minLength: 1, maxLength: 3 });

/** Names a pattern matches, including the boundary ones (the prefix itself). */
function instances(p: string): string[] {
  if (!p.endsWith('*')) return [p];
  const prefix = p.slice(0, -1);
  return [prefix, `${prefix}a`, `${prefix}.b`, `${prefix}ba`].filter((n) => n.length > 0);
}

type Check = { action: Action; topic?: string; group?: string };

/** Every concrete check a list of scopes grants that can be built from its own patterns. */
function checksGrantedBy(list: readonly Scope[]): Check[] {
  const checks: Check[] = [];
  for (const s of list) {
    const topics = [undefined, ...s.topics.flatMap(instances)];
    const groups = [undefined, ...s.groups.flatMap(instances)];
    const actions: Action[] = s.action === 'admin' ? [...ACTIONS] : [s.action];
    for (const action of actions) for (const topic of topics) for (const group of groups) if (topic !== undefined || group !== undefined) checks.push({ action, topic, group });
  }
  return checks;
}

describe('scope model', { timeout: 60_000 }, () => {
  it('patterns: * covers everything, a prefix covers its names and narrower prefixes, a name only itself', () => {
    assert.ok(patternCovers('*', 'x') && patternCovers('*', 'logs.*') && patternCovers('*', '*'));
    assert.ok(patternCovers('logs.*', 'logs.x') && patternCovers('logs.*', 'logs.a*') && patternCovers('logs.*', 'logs.*'));
    assert.ok(!patternCovers('logs.*', 'logs*') && !patternCovers('logs.*', '*') && !patternCovers('logs.*', 'metrics'));
    assert.ok(patternCovers('orders', 'orders') && !patternCovers('orders', 'orders*') && !patternCovers('orders', 'orders2'));
  });

  it('actions: admin covers produce and consume on the same resources, nothing covers more than itself', () => {
    const admin: Scope[] = [{ action: 'admin', topics: ['logs.*'], groups: ['g'] }];
    assert.ok(covers(admin, [{ action: 'produce', topics: ['logs.web'], groups: [] }]));
    assert.ok(covers(admin, [{ action: 'consume', topics: ['logs.*'], groups: ['g'] }]));
    assert.ok(!covers(admin, [{ action: 'consume', topics: ['logs.*'], groups: ['h'] }]));
    assert.ok(!covers(admin, [{ action: 'produce', topics: ['metrics'], groups: [] }]));
    assert.ok(!covers([{ action: 'produce', topics: ['*'], groups: ['*'] }], [{ action: 'consume', topics: ['a'], groups: [] }]));
    assert.ok(!covers([{ action: 'consume', topics: ['*'], groups: ['*'] }], [{ action: 'admin', topics: [], groups: [] }]));
  });

  it('admin over everything is exactly what covers admin on * and *', () => {
    assert.ok(isAdminOverEverything(principal(ADMIN_SCOPES)));
    assert.ok(!isAdminOverEverything(principal([{ action: 'admin', topics: ['A'], groups: ['G'] }])));
    assert.ok(!isAdminOverEverything(principal([{ action: 'admin', topics: [], groups: [] }])));
    assert.ok(!isAdminOverEverything(principal([{ action: 'admin', topics: ['*'], groups: [] }, { action: 'admin', topics: [], groups: ['*'] }])));
  });

  it('property: what covered scopes allow, the covering scopes allow (soundness)', () => {
    fc.assert(
      fc.property(scopes, scopes, (granting, requested) => {
        if (!covers(granting, requested)) return true;
        for (const check of checksGrantedBy(requested)) {
          const resource = { topic: check.topic, group: check.group } as { topic: string };
          if (allows(principal(requested), check.action, resource)) assert.ok(allows(principal(granting), check.action, resource), JSON.stringify(check));
        }
        return true;
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('property: a pattern covers another exactly when it matches all of its names (completeness for one pattern)', () => {
    const matchedBy = (p: string, topic: string) => allows(principal([{ action: 'consume', topics: [p], groups: [] }]), 'consume', { topic });
    fc.assert(
      fc.property(pattern, pattern, (granting, requested) => {
        const all = instances(requested).every((n) => matchedBy(granting, n));
        assert.equal(patternCovers(granting, requested), all, `${granting} vs ${requested}`);
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('property: covers is reflexive, admin over everything covers anything, covering holds under narrowing', () => {
    fc.assert(
      fc.property(scopes, scopes, (a, extra) => {
        assert.ok(covers(a, a));
        assert.ok(covers(ADMIN_SCOPES, a));
        // dropping scopes, or patterns from a scope, narrows; the original covers the narrower one
        const narrower = a.slice(1).concat(a.slice(0, 1).map((s) => ({ ...s, topics: s.topics.slice(1), groups: s.groups.slice(0, 1) })));
        assert.ok(covers(a, narrower));
        // adding scopes only widens
        assert.ok(covers([...a, ...extra], a));
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});
