/**
 * `ingestObjects: { storage: 'express', availabilityZoneId }`: an S3 Express One Zone directory bucket
 * for ingest objects, the functions told its name, and each function given only the session it needs
 * (lib/cdk/access.ts placeObjectAccess), cdk-nag clean.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { App, Stack } from 'aws-cdk-lib';
import { ACCESS, INGEST_OBJECTS, TOPIC_OBJECTS, placeObjectAccess, type AccessName } from '../../lib/cdk/access.ts';
import { SluiceStack } from '../../lib/cdk/sluice-stack.ts';
import { buildApp } from '../../lib/cdk/app.ts';
import { SluiceStreams, StreamsEncryption } from '../../lib/cdk/sluice-streams.ts';
import { acknowledgements, actionsOf, statementsOfRole, synthesize, type Synthesized } from './synth.ts';

const ROLES = {
  produce: 'StreamsProduceRole',
  fetch: 'StreamsFetchRole',
  admin: 'StreamsAdminRole',
  maintenance: 'StreamsMaintenanceRole',
  tail: 'StreamsTailRole',
  dispatcher: 'StreamsDispatcherRole',
  notifications: 'StreamsNotificationsRole',
  bootstrapKey: 'StreamsBootstrapKeyFunctionRole',
} as const;

const ruleOf = (id: string) => id.replace(/^\w+::/, '').replace(/\[.*\]$/, '');

describe('placeObjectAccess: grants per bucket', () => {
  it('on S3 Standard alone, the access table as written', () => {
    for (const name of Object.keys(ACCESS) as AccessName[]) {
      assert.deepEqual(placeObjectAccess(ACCESS[name], 'standard'), { standard: ACCESS[name].objectGrants, standardListPrefixes: ACCESS[name].listPrefixes });
    }
  });

  it('with a directory bucket: ingest-only grants move there, topic-wide grants stay and reach it; writers get ReadWrite, readers ReadOnly, the rest nothing', () => {
    const sessions = Object.fromEntries((Object.keys(ACCESS) as AccessName[]).map((name) => [name, placeObjectAccess(ACCESS[name], 'express').expressSession ?? 'none']));
    assert.deepEqual(sessions, {
      produce: 'ReadWrite',
      fetch: 'ReadOnly',
      tail: 'ReadOnly',
      admin: 'ReadOnly',
      maintenance: 'ReadWrite',
      dispatcher: 'ReadWrite',
      pushConsumer: 'ReadOnly',
      notifications: 'none',
      notifier: 'none',
      bootstrapKey: 'none',
    });
    for (const name of Object.keys(ACCESS) as AccessName[]) {
      const placed = placeObjectAccess(ACCESS[name], 'express');
      assert.ok(!placed.standard.some((grant) => grant.keys.includes(INGEST_OBJECTS)), `${name}: nothing on ingest objects only in the standard bucket`);
    }
    assert.deepEqual(placeObjectAccess(ACCESS.produce, 'express').standard, [], 'produce: nothing on the standard bucket');
    assert.deepEqual(placeObjectAccess(ACCESS.dispatcher, 'express').standard, [{ actions: ['s3:GetObject'], keys: [TOPIC_OBJECTS] }]);
    assert.deepEqual(placeObjectAccess(ACCESS.maintenance, 'express'), {
      standard: ACCESS.maintenance.objectGrants,
      standardListPrefixes: [TOPIC_OBJECTS],
      expressSession: 'ReadWrite',
    });
  });
});

describe("SluiceStreams with ingestObjects: { storage: 'express' }", () => {
  let s: Synthesized<SluiceStack>;
  let directoryBucket: string;

  before(() => {
    s = synthesize((app) => new SluiceStack(app, 'SluiceExpress', { streams: { ingestObjects: { storage: 'express', availabilityZoneId: 'use1-az4' } } }));
    directoryBucket = Object.keys(s.json.Resources).find((id) => s.json.Resources[id].Type === 'AWS::S3Express::DirectoryBucket')!;
  });

  it('passes cdk-nag with the same acknowledgements as without it', () => {
    const ids = [...new Set(acknowledgements(s.stack.streams).map((a) => ruleOf(a.id)))].sort();
    assert.deepEqual(ids, ['AwsSolutions-APIG1', 'AwsSolutions-APIG4', 'AwsSolutions-IAM5', 'AwsSolutions-S1', 'AwsSolutions-SMG4']);
  });

  it('one directory bucket in the given zone: single-AZ, SSE-S3, incomplete uploads aborted, no expiration, retained; the standard bucket stays', () => {
    s.template.resourceCountIs('AWS::S3Express::DirectoryBucket', 1);
    s.template.resourceCountIs('AWS::S3::Bucket', 1);
    s.template.hasResource('AWS::S3Express::DirectoryBucket', {
      DeletionPolicy: 'Retain',
      Properties: {
        DataRedundancy: 'SingleAvailabilityZone',
        LocationName: 'use1-az4',
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        LifecycleConfiguration: { Rules: [{ Id: 'abort-incomplete-multipart-uploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }] },
      },
    });
    const rules = s.json.Resources[directoryBucket].Properties.LifecycleConfiguration.Rules;
    assert.ok(rules.every((rule: { ExpirationInDays?: number }) => rule.ExpirationInDays === undefined), 'ingest objects never expire before compaction');
    s.template.hasOutput('IngestBucketName', { Value: { Ref: directoryBucket } });
    assert.equal(s.stack.streams.ingestBucket?.locationName, 'use1-az4');
  });

  it('every function that reads or writes objects is told the directory bucket', () => {
    for (const prefix of ['StreamsProduce', 'StreamsFetch', 'StreamsAdmin', 'StreamsMaintenance', 'StreamsTail', 'StreamsDispatcher']) {
      const id = Object.keys(s.json.Resources).find((key) => key.startsWith(prefix) && s.json.Resources[key].Type === 'AWS::Lambda::Function')!;
      assert.deepEqual(s.json.Resources[id].Properties.Environment.Variables.SLUICE_INGEST_BUCKET, { Ref: directoryBucket }, prefix);
    }
  });

  it('sessions: ReadWrite for the writers (no condition), ReadOnly for the readers (s3express:SessionMode), none for the rest; only on this bucket', () => {
    const arn = { 'Fn::GetAtt': [directoryBucket, 'Arn'] };
    const sessionOf = (role: string) => statementsOfRole(s.json, role).filter((st) => actionsOf([st]).includes('s3express:CreateSession'));
    for (const role of [ROLES.produce, ROLES.maintenance, ROLES.dispatcher]) {
      const [statement, ...more] = sessionOf(role);
      assert.deepEqual(more, [], role);
      assert.deepEqual(actionsOf([statement]), ['s3express:CreateSession']);
      assert.deepEqual(statement.Resource, arn);
      assert.equal(statement.Condition, undefined, `${role}: ReadWrite`);
    }
    for (const role of [ROLES.fetch, ROLES.tail, ROLES.admin]) {
      const [statement, ...more] = sessionOf(role);
      assert.deepEqual(more, [], role);
      assert.deepEqual(statement.Resource, arn);
      assert.deepEqual(statement.Condition, { StringEquals: { 's3express:SessionMode': 'ReadOnly' } }, role);
    }
    for (const role of [ROLES.notifications, ROLES.bootstrapKey]) assert.deepEqual(sessionOf(role), [], role);
  });

  it('the standard bucket: produce gets nothing there, the dispatcher reads only, the others keep their grants', () => {
    const s3Actions = (role: string) => actionsOf(statementsOfRole(s.json, role)).filter((a: string) => a.startsWith('s3:')).sort();
    assert.deepEqual(s3Actions(ROLES.produce), []);
    assert.deepEqual(s3Actions(ROLES.dispatcher), ['s3:GetObject']);
    assert.deepEqual(s3Actions(ROLES.fetch), ['s3:GetObject']);
    assert.deepEqual(s3Actions(ROLES.maintenance), ['s3:DeleteObject', 's3:GetObject', 's3:ListBucket', 's3:PutObject']);
  });

  it('cdk deploy -c sluice:expressIngestZoneId=use1-az4 turns it on', () => {
    const app = buildApp({ context: { 'sluice:expressIngestZoneId': 'usw2-az1', 'aws:cdk:bundling-stacks': [] } });
    const template = app.synth().getStackByName('Sluice').template as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
    const buckets = Object.values(template.Resources).filter((r) => r.Type === 'AWS::S3Express::DirectoryBucket');
    assert.deepEqual(buckets.map((b) => b.Properties.LocationName), ['usw2-az1']);
  });

  it('refuses KMS encryption (the directory bucket would be SSE-S3) and an Availability Zone name for an ID', () => {
    const build = (props: ConstructorParameters<typeof SluiceStreams>[2]) => () => new SluiceStreams(new Stack(new App(), 'S'), 'Streams', props);
    assert.throws(build({ encryption: StreamsEncryption.KMS, ingestObjects: { storage: 'express', availabilityZoneId: 'use1-az4' } }), /not available with encryption/);
    assert.throws(build({ ingestObjects: { storage: 'express', availabilityZoneId: 'us-east-1a' } }), /Availability Zone ID/);
    const standard = new SluiceStreams(new Stack(new App(), 'S'), 'Streams', { ingestObjects: { storage: 'standard' } });
    assert.equal(standard.ingestBucket, undefined);
  });
});
