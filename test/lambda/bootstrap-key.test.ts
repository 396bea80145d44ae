/** The bootstrap-key custom resource: registers only the key's hash and always answers CloudFormation. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKeys } from '../../lib/auth/api-keys.ts';
import { handleBootstrapKeyEvent } from '../../lib/lambda/bootstrap-key.ts';
import type { CustomResourceEvent } from '../../lib/lambda/custom-resource.ts';
import { MemoryMetadataStore } from '../../lib/storage/memory.ts';
import { sha256Hex } from '../../lib/hash.ts';

const SECRET = 'generatedBySecretsManager0123456789abcdefABCDEF';

function cfnEvent(type: CustomResourceEvent['RequestType'], properties: Record<string, unknown> = { SecretArn: 'arn:secret', TableName: 'table' }): CustomResourceEvent {
  return {
    RequestType: type,
    ResponseURL: 'https://cloudformation-custom-resource-response.example/presigned',
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Sluice/1',
    RequestId: 'request-1',
    LogicalResourceId: 'BootstrapKey',
    PhysicalResourceId: type === 'Create' ? undefined : 'sluice-bootstrap-admin-key',
    ResourceProperties: properties,
  };
}

function harness(readSecret: (arn: string) => Promise<string> = async () => SECRET) {
  const metadata = new MemoryMetadataStore();
  const responses: Array<{ url: string; init: RequestInit; body: Record<string, string> }> = [];
  const secretReads: string[] = [];
  const deps = {
    readSecret: async (arn: string) => {
      secretReads.push(arn);
      return readSecret(arn);
    },
    metadataFor: () => metadata,
    sleep: async () => {},
    fetch: (async (url: string, init: RequestInit) => {
      responses.push({ url, init, body: JSON.parse(String(init.body)) });
      return new Response(null, { status: 200 });
    }) as unknown as typeof fetch,
    logError: () => {},
  };
  return { metadata, responses, secretReads, deps };
}

describe('bootstrap admin key custom resource', () => {
  it('stores the SHA-256 of the secret, never the secret, and answers SUCCESS', async () => {
    const { metadata, responses, deps } = harness();
    await handleBootstrapKeyEvent(cfnEvent('Create'), deps);
    assert.equal(responses.length, 1);
    const [{ url, init, body }] = responses;
    assert.equal(url, 'https://cloudformation-custom-resource-response.example/presigned');
    assert.equal(init.method, 'PUT');
    assert.equal(body.Status, 'SUCCESS');
    assert.equal(body.PhysicalResourceId, 'sluice-bootstrap-admin-key');
    assert.deepEqual([body.StackId, body.RequestId, body.LogicalResourceId], ['arn:aws:cloudformation:us-east-1:123456789012:stack/Sluice/1', 'request-1', 'BootstrapKey']);
    const principal = await new ApiKeys(metadata).authenticate(`Bearer ${SECRET}`);
    assert.equal(principal.name, 'bootstrap');
    assert.ok(await metadata.get(`apikey#${await sha256Hex(SECRET)}`, 'key'));
    const stored = JSON.stringify([...(await metadata.query('apikeys')), await metadata.get(`apikey#${await sha256Hex(SECRET)}`, 'key')], (_k, v) => (typeof v === 'bigint' ? String(v) : v));
    assert.ok(!stored.includes(SECRET), 'the plain key is not stored');
  });

  it('is idempotent on Update and does nothing on Delete', async () => {
    const { metadata, responses, secretReads, deps } = harness();
    await handleBootstrapKeyEvent(cfnEvent('Create'), deps);
    await handleBootstrapKeyEvent(cfnEvent('Update'), deps);
    assert.equal((await new ApiKeys(metadata).list()).length, 1);
    await handleBootstrapKeyEvent(cfnEvent('Delete'), deps);
    assert.equal(secretReads.length, 2, 'Delete reads no secret');
    assert.equal((await new ApiKeys(metadata).list()).length, 1, 'Delete keeps the registration');
    assert.deepEqual(responses.map((r) => r.body.Status), ['SUCCESS', 'SUCCESS', 'SUCCESS']);
  });

  it('retries access denied while the new policy propagates', async () => {
    let denials = 2;
    const propagating = harness(async () => {
      if (denials-- > 0) throw Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' });
      return SECRET;
    });
    await handleBootstrapKeyEvent(cfnEvent('Create'), propagating.deps);
    assert.equal(propagating.responses[0].body.Status, 'SUCCESS');
    assert.equal(propagating.secretReads.length, 3);
  });

  it('answers FAILED with a reason, and never the secret, when anything goes wrong', async () => {
    const tooShort = harness(async () => 'short');
    await handleBootstrapKeyEvent(cfnEvent('Create'), tooShort.deps);
    assert.equal(tooShort.responses[0].body.Status, 'FAILED');
    assert.match(tooShort.responses[0].body.Reason, /at least 16 characters/);
    assert.ok(!tooShort.responses[0].body.Reason.includes('short'));

    const denied = harness(async () => {
      throw Object.assign(new Error('not authorized to perform secretsmanager:GetSecretValue'), { name: 'AccessDeniedException' });
    });
    await handleBootstrapKeyEvent(cfnEvent('Create'), denied.deps);
    assert.equal(denied.responses[0].body.Status, 'FAILED');
    assert.match(denied.responses[0].body.Reason, /AccessDeniedException/);
    assert.equal(denied.secretReads.length, 6, 'access denied is retried a bounded number of times');

    const missing = harness();
    await handleBootstrapKeyEvent(cfnEvent('Create', {}), missing.deps);
    assert.equal(missing.responses[0].body.Status, 'FAILED');
    assert.match(missing.responses[0].body.Reason, /SecretArn and TableName/);
  });
});
