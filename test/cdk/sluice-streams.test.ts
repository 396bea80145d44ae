/**
 * The SluiceStreams construct, synthesized once with defaults and once with every option, checked by
 * cdk-nag and by assertions on the resources, IAM statements, routes and environment.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { Duration, RemovalPolicy, Validations, type CfnResource } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { AccountRootPrincipal, Role } from 'aws-cdk-lib/aws-iam';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { API_ROUTES, DEFAULT_ROUTE_FUNCTION, IAM_GRANTS } from '../../lib/cdk/api-routes.ts';
import { SluiceStack } from '../../lib/cdk/sluice-stack.ts';
import { StreamsEncryption } from '../../lib/cdk/sluice-streams.ts';
import { DEFAULTS, DEPLOYMENT } from '../../lib/defaults.ts';
import { ROUTES, pathPattern } from '../../lib/api/routes.ts';
import type { ApiFunctionName } from '../../lib/lambda/functions.ts';
import { STREAMING_FUNCTION } from '../../lib/api/functions.ts';
import { matchesIamPattern } from './iam-patterns.ts';
import { acknowledgements, actionsOf, statementsOfRole, synthesize, type Synthesized } from './synth.ts';

const FUNCTION_ROLE = {
  produce: 'StreamsProduceRole',
  fetch: 'StreamsFetchRole',
  admin: 'StreamsAdminRole',
  maintenance: 'StreamsMaintenanceRole',
  tail: 'StreamsTailRole',
  bootstrapKey: 'StreamsBootstrapKeyFunctionRole',
};

/** `Annotation::AwsSolutions-IAM5[Resource::…]` → `AwsSolutions-IAM5` (CDK stores ids with a namespace). */
const ruleOf = (id: string) => id.replace(/^\w+::/, '').replace(/\[.*\]$/, '');

/** One execute-api statement: ManageConnections on the notification channel stage's POST @connections, no other API, method or stage. */
function assertPostsOnlyToChannelConnections(json: Synthesized<SluiceStack>['json'], statements: any[]): void {
  const manage = statements.filter((st) => actionsOf([st]).some((a: string) => a.startsWith('execute-api:')));
  assert.equal(manage.length, 1);
  assert.deepEqual(actionsOf(manage), ['execute-api:ManageConnections']);
  const channel = logicalIdOf(json, 'AWS::ApiGatewayV2::Api', 'StreamsNotificationsApi');
  assert.deepEqual(manage[0].Resource, {
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':execute-api:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':', { Ref: channel }, '/notifications/POST/@connections/*']],
  });
}

function logicalIdOf(json: Synthesized<SluiceStack>['json'], type: string, prefix: string): string {
  const id = Object.keys(json.Resources).find((key) => key.startsWith(prefix) && json.Resources[key].Type === type);
  assert.ok(id, `${type} ${prefix}*`);
  return id;
}

describe('SluiceStreams, defaults', () => {
  let s: Synthesized<SluiceStack>;

  before(() => {
    s = synthesize((app) => {
      const stack = new SluiceStack(app, 'Sluice');
      const producer = new Role(stack, 'Producer', { assumedBy: new AccountRootPrincipal() });
      const consumer = new Role(stack, 'Consumer', { assumedBy: new AccountRootPrincipal() });
      stack.streams.grantProduce(producer);
      stack.streams.grantConsume(consumer);
      // What a user running cdk-nag acknowledges on a grantee: route ARNs end in topic and group names.
      const iamApi = stack.resolve((stack.streams.iamApi.node.defaultChild as CfnResource).logicalId) as string;
      for (const [role, patterns] of [[producer, IAM_GRANTS.produce], [consumer, IAM_GRANTS.consume]] as const) {
        for (const pattern of patterns) {
          Validations.of(role).acknowledge({
            id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${iamApi}>/*/${pattern}]`,
            reason: 'Sluice routes carry topic and group names; the grant covers the routes of one action on the IAM endpoint.',
          });
        }
      }
      return stack;
    });
  });

  it('passes cdk-nag AwsSolutions, every acknowledgement with a reason', () => {
    // synthesize() throws on any unacknowledged finding; here, the list a reviewer reads.
    const acks = acknowledgements(s.stack.streams);
    assert.deepEqual([...new Set(acks.map((a) => ruleOf(a.id)))].sort(), ['AwsSolutions-APIG1', 'AwsSolutions-APIG4', 'AwsSolutions-IAM5', 'AwsSolutions-S1', 'AwsSolutions-SMG4']);
    // Access logs are waived only on the notification channel's WebSocket stage.
    assert.deepEqual(acks.filter((a) => ruleOf(a.id) === 'AwsSolutions-APIG1').map((a) => a.path), ['Sluice/Streams/NotificationsStage']);
    for (const ack of acks) assert.ok(ack.reason.length > 40, `${ack.id} at ${ack.path} has a reason`);
  });

  it('bucket: public access blocked, TLS only, S3-managed encryption, incomplete multipart uploads aborted, retained', () => {
    s.template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: {
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        LifecycleConfiguration: { Rules: [Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' })] },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        VersioningConfiguration: Match.absent(),
        CorsConfiguration: Match.absent(),
      },
    });
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        ]),
      },
    });
    s.template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  it('table: on-demand, point-in-time recovery, TTL on expiresAt, pk/sk strings, retained', () => {
    s.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        DeletionProtectionEnabled: false,
      },
    });
  });

  it('functions: arm64, nodejs24.x, ESM handler, memory and timeout per role, own log group', () => {
    const functions = s.template.findResources('AWS::Lambda::Function');
    assert.equal(Object.keys(functions).length, 9);
    for (const fn of Object.values(functions)) {
      assert.equal(fn.Properties.Runtime, 'nodejs24.x');
      assert.deepEqual(fn.Properties.Architectures, ['arm64']);
      assert.equal(fn.Properties.Handler, 'index.handler');
      assert.ok(fn.Properties.LoggingConfig.LogGroup, 'an explicit log group');
    }
    const memory = { Produce: DEPLOYMENT.produceMemoryMb, Fetch: DEPLOYMENT.fetchMemoryMb, Admin: DEPLOYMENT.adminMemoryMb };
    for (const [id, size] of Object.entries(memory)) {
      const fn = s.json.Resources[logicalIdOf(s.json, 'AWS::Lambda::Function', `Streams${id}`)];
      assert.equal(fn.Properties.MemorySize, size, id);
      assert.equal(fn.Properties.Timeout, DEPLOYMENT.apiTimeoutSeconds, id);
    }
    const maintenance = s.json.Resources[logicalIdOf(s.json, 'AWS::Lambda::Function', 'StreamsMaintenance')];
    assert.equal(maintenance.Properties.MemorySize, DEPLOYMENT.maintenanceMemoryMb);
    assert.equal(maintenance.Properties.Timeout, DEPLOYMENT.maintenanceTimeoutSeconds);
    assert.ok(DEPLOYMENT.apiTimeoutSeconds < 30, 'below the API Gateway integration timeout');
    assert.ok(DEPLOYMENT.apiTimeoutSeconds * 1000 < DEFAULTS.abortReservationAfterMs, 'a running produce never finds its reservation closed');
    assert.ok(DEPLOYMENT.apiTimeoutSeconds * 1000 > 20_000 + 1000, 'room for the longest long poll');
    s.template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 30 }, 11);
  });

  it('API functions get the bucket, table, retention and Powertools settings from the environment', () => {
    const bucket = logicalIdOf(s.json, 'AWS::S3::Bucket', 'StreamsBucket');
    const table = logicalIdOf(s.json, 'AWS::DynamoDB::Table', 'StreamsTable');
    for (const id of ['Produce', 'Fetch', 'Admin', 'Maintenance']) {
      const fn = s.json.Resources[logicalIdOf(s.json, 'AWS::Lambda::Function', `Streams${id}`)];
      // The admin function seals push consumers' secrets with their key.
      // The admin function seals push consumers' secrets with their key, and names the notification channel.
      const channel = logicalIdOf(s.json, 'AWS::ApiGatewayV2::Api', 'StreamsNotificationsApi');
      const wss = { 'Fn::Join': ['', ['wss://', { Ref: channel }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/notifications']] };
      const push = id === 'Admin' ? { SLUICE_PUSH_KEY_ARN: { 'Fn::GetAtt': [logicalIdOf(s.json, 'AWS::KMS::Key', 'StreamsPushSecretsKey'), 'Arn'] }, SLUICE_NOTIFICATIONS_URL: wss } : {};
      // The produce function posts append hints to the channel's Management API (its https callback URL).
      const callback = { 'Fn::Join': ['', ['https://', { Ref: channel }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/notifications']] };
      const hints = id === 'Produce' ? { SLUICE_NOTIFICATIONS_ENDPOINT: callback } : {};
      assert.deepEqual(fn.Properties.Environment.Variables, {
        ...push,
        ...hints,
        SLUICE_BUCKET: { Ref: bucket },
        SLUICE_TABLE: { Ref: table },
        SLUICE_DEFAULT_RETENTION_MS: String(DEFAULTS.retentionMs),
        POWERTOOLS_SERVICE_NAME: 'Sluice/Streams',
        POWERTOOLS_METRICS_NAMESPACE: 'Sluice',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      });
    }
  });

  it('IAM: exact actions only, on this table and bucket only', () => {
    const table = logicalIdOf(s.json, 'AWS::DynamoDB::Table', 'StreamsTable');
    for (const [name, prefix] of Object.entries(FUNCTION_ROLE)) {
      for (const statement of statementsOfRole(s.json, prefix)) {
        for (const action of actionsOf([statement])) assert.ok(!action.includes('*'), `${name}: wildcard action ${action}`);
        assert.equal(statement.Effect, 'Allow');
        const resources = JSON.stringify(statement.Resource);
        assert.ok(!/^"\*"$/.test(resources), `${name}: Resource *`);
        if (actionsOf([statement]).some((a: string) => a.startsWith('dynamodb:'))) assert.deepEqual(statement.Resource, { 'Fn::GetAtt': [table, 'Arn'] });
      }
    }
  });

  it('produce: PutObject on ingest objects, writes to partition and intent items only, no delete; PostToConnection on the channel stage only', () => {
    const statements = statementsOfRole(s.json, FUNCTION_ROLE.produce);
    assert.deepEqual(actionsOf(statements).sort(), [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
      'execute-api:ManageConnections',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      's3:PutObject',
    ]);
    assertPostsOnlyToChannelConnections(s.json, statements);
    const writes = statements.find((st) => actionsOf([st]).includes('dynamodb:PutItem'));
    assert.deepEqual(writes.Condition, { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['p#*', 'idem#*'] } });
    const put = statements.find((st) => actionsOf([st]).includes('s3:PutObject'));
    assert.match(JSON.stringify(put.Resource), /"\/t\/\*\/ingest\/\*"/);
  });

  it('fetch: reads only, on both stores', () => {
    const actions = actionsOf(statementsOfRole(s.json, FUNCTION_ROLE.fetch)).sort();
    assert.deepEqual(actions, ['dynamodb:GetItem', 'dynamodb:Query', 'logs:CreateLogStream', 'logs:PutLogEvents', 's3:GetObject']);
  });

  it('stream: a Function URL with response streaming on its own read-only function, streams ending before its timeout', () => {
    const actions = actionsOf(statementsOfRole(s.json, FUNCTION_ROLE.tail)).sort();
    assert.deepEqual(actions, ['dynamodb:GetItem', 'dynamodb:Query', 'logs:CreateLogStream', 'logs:PutLogEvents', 's3:GetObject']);
    const fnId = logicalIdOf(s.json, 'AWS::Lambda::Function', 'StreamsTail');
    const fn = s.json.Resources[fnId];
    assert.equal(fn.Properties.MemorySize, DEPLOYMENT.tailMemoryMb);
    assert.equal(fn.Properties.Timeout, DEPLOYMENT.tailTimeoutSeconds);
    assert.ok(DEPLOYMENT.tailTimeoutSeconds <= 900, "Lambda's longest timeout");
    assert.equal(fn.Properties.Environment.Variables.SLUICE_STREAM_MAX_MS, String(DEPLOYMENT.tailMaxStreamMs));
    assert.ok(DEPLOYMENT.tailMaxStreamMs + 20_000 < DEPLOYMENT.tailTimeoutSeconds * 1000, 'a stream ends (after its last wait) before the function times out');
    s.template.resourceCountIs('AWS::Lambda::Url', 1);
    s.template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE', InvokeMode: 'RESPONSE_STREAM', TargetFunctionArn: { 'Fn::GetAtt': [fnId, 'Arn'] } });
    // Anyone may invoke the URL (auth type NONE); the application checks the API key and its scope.
    s.template.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunctionUrl', FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] }, FunctionUrlAuthType: 'NONE' });
    s.template.hasOutput('TailUrl', {});
  });

  it('admin: metadata, and reading records for group offset resets; bootstrap: the secret and the key items only', () => {
    assert.deepEqual(actionsOf(statementsOfRole(s.json, FUNCTION_ROLE.admin)).sort(), [
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
      'kms:Encrypt',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      's3:GetObject',
    ]);
    const bootstrap = statementsOfRole(s.json, FUNCTION_ROLE.bootstrapKey);
    assert.deepEqual(actionsOf(bootstrap).sort(), ['dynamodb:GetItem', 'dynamodb:PutItem', 'logs:CreateLogStream', 'logs:PutLogEvents', 'secretsmanager:GetSecretValue']);
    const secret = logicalIdOf(s.json, 'AWS::SecretsManager::Secret', 'StreamsAdminKey');
    assert.deepEqual(bootstrap.find((st) => actionsOf([st]).includes('secretsmanager:GetSecretValue')).Resource, { Ref: secret });
    assert.deepEqual(bootstrap.find((st) => actionsOf([st]).includes('dynamodb:PutItem')).Condition, {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['apikeys', 'apikey#*'] },
    });
  });

  it('maintenance: the only deleter; lists only topic objects, writes only partition, GC and tombstone items', () => {
    const statements = statementsOfRole(s.json, FUNCTION_ROLE.maintenance);
    assert.deepEqual(actionsOf(statements).sort(), [
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      's3:DeleteObject',
      's3:GetObject',
      's3:ListBucket',
      's3:PutObject',
    ]);
    const list = statements.find((st) => actionsOf([st]).includes('s3:ListBucket'));
    assert.deepEqual(list.Condition, { StringLike: { 's3:prefix': ['t/*'] } });
    const writes = statements.find((st) => actionsOf([st]).includes('dynamodb:DeleteItem'));
    assert.deepEqual(writes.Condition, { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['p#*', 'gc#*', 'deleted-topics'] } });
    for (const role of ['produce', 'fetch', 'admin', 'bootstrapKey'] as const) {
      assert.ok(!actionsOf(statementsOfRole(s.json, FUNCTION_ROLE[role])).includes('s3:DeleteObject'), `${role} cannot delete objects`);
    }
  });

  it('maintenance runs on an EventBridge schedule, not retried (the next pass is)', () => {
    const fn = logicalIdOf(s.json, 'AWS::Lambda::Function', 'StreamsMaintenance');
    s.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: `rate(${DEPLOYMENT.maintenanceIntervalMinutes} minutes)`,
      State: 'ENABLED',
      // The push dispatcher rides along: retries that fell due, and consumer lag.
      Targets: Match.arrayWith([Match.objectLike({ Arn: { 'Fn::GetAtt': [fn, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } })]),
    });
    s.template.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'events.amazonaws.com', FunctionName: { 'Fn::GetAtt': [fn, 'Arn'] } });
  });

  it('the bootstrap key: generated in Secrets Manager, registered by a custom resource once the function may act', () => {
    s.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true, IncludeSpace: false },
    });
    const secret = logicalIdOf(s.json, 'AWS::SecretsManager::Secret', 'StreamsAdminKey');
    const table = logicalIdOf(s.json, 'AWS::DynamoDB::Table', 'StreamsTable');
    const fn = logicalIdOf(s.json, 'AWS::Lambda::Function', 'StreamsBootstrapKeyFunction');
    const [id, resource] = Object.entries(s.json.Resources).find(([, r]) => r.Type === 'Custom::SluiceBootstrapKey')!;
    assert.deepEqual(resource.Properties, { ServiceToken: { 'Fn::GetAtt': [fn, 'Arn'] }, SecretArn: { Ref: secret }, TableName: { Ref: table } });
    const policy = logicalIdOf(s.json, 'AWS::IAM::Policy', 'StreamsBootstrapKeyFunctionRoleDefaultPolicy');
    assert.ok(resource.DependsOn?.includes(policy), `${id} waits for the function's policy`);
  });

  it('routes: produce and fetch paths to their functions, everything else to admin; the IAM endpoint requires IAM', () => {
    const apis = s.template.findResources('AWS::ApiGatewayV2::Api', { Properties: { ProtocolType: 'HTTP' } });
    assert.equal(Object.keys(apis).length, 2);
    const api = logicalIdOf(s.json, 'AWS::ApiGatewayV2::Api', 'StreamsApi');
    const iamApi = logicalIdOf(s.json, 'AWS::ApiGatewayV2::Api', 'StreamsIamApi');
    const routes = Object.values(s.template.findResources('AWS::ApiGatewayV2::Route'));
    const integrationFunction = (integration: unknown): string => {
      const id = (integration as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1][1] as { Ref: string };
      const uri = JSON.stringify(s.json.Resources[id.Ref].Properties.IntegrationUri);
      return ['Produce', 'Fetch', 'Admin', 'Maintenance'].find((name) => uri.includes(`Streams${name}`))!.toLowerCase();
    };
    const onApi = (apiId: string) => routes.filter((r) => r.Properties.ApiId.Ref === apiId);
    const keyRoutes = onApi(api);
    const iamRoutes = onApi(iamApi);
    assert.equal(keyRoutes.length, API_ROUTES.length + 1);
    assert.equal(iamRoutes.length, API_ROUTES.filter((r) => r.iam).length);
    for (const route of API_ROUTES) {
      const key = `${route.method} ${route.path}`;
      const onKeyApi = keyRoutes.find((r) => r.Properties.RouteKey === key);
      assert.equal(integrationFunction(onKeyApi?.Properties.Target), route.function, key);
      assert.equal(onKeyApi?.Properties.AuthorizationType ?? 'NONE', 'NONE');
      const onIamApi = iamRoutes.find((r) => r.Properties.RouteKey === key);
      if (route.iam) assert.equal(onIamApi?.Properties.AuthorizationType, 'AWS_IAM', key);
      else assert.equal(onIamApi, undefined, `${key} is not on the IAM endpoint`);
    }
    const fallback = keyRoutes.find((r) => r.Properties.RouteKey === '$default');
    assert.equal(integrationFunction(fallback?.Properties.Target), DEFAULT_ROUTE_FUNCTION);
    assert.ok(!iamRoutes.some((r) => r.Properties.RouteKey === '$default'), 'no catch-all on the IAM endpoint');
  });

  it('stages: auto-deployed $default stage with access logs and a per-route throttle', () => {
    s.template.resourcePropertiesCountIs(
      'AWS::ApiGatewayV2::Stage',
      {
        StageName: '$default',
        AutoDeploy: true,
        AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
        DefaultRouteSettings: { ThrottlingRateLimit: DEPLOYMENT.throttleRateLimit, ThrottlingBurstLimit: DEPLOYMENT.throttleBurstLimit },
      },
      2,
    );
  });

  it('notification channel: a WebSocket API whose $connect, $disconnect and $default routes invoke the notifications function; a stage named by health', () => {
    const channel = logicalIdOf(s.json, 'AWS::ApiGatewayV2::Api', 'StreamsNotificationsApi');
    assert.equal(s.json.Resources[channel].Properties.ProtocolType, 'WEBSOCKET');
    assert.equal(s.json.Resources[channel].Properties.RouteSelectionExpression, '$request.body.action');
    const routes = Object.values(s.template.findResources('AWS::ApiGatewayV2::Route')).filter((r) => r.Properties.ApiId.Ref === channel);
    assert.deepEqual(routes.map((r) => r.Properties.RouteKey).sort(), ['$connect', '$default', '$disconnect']);
    const notifications = logicalIdOf(s.json, 'AWS::Lambda::Function', 'StreamsNotifications');
    for (const route of routes) {
      const integrationId = route.Properties.Target['Fn::Join'][1][1].Ref;
      assert.ok(JSON.stringify(s.json.Resources[integrationId].Properties.IntegrationUri).includes(notifications), route.Properties.RouteKey);
    }
    // The answer to auth and subscribe goes back on the connection as the route response.
    const defaultRoute = routes.find((r) => r.Properties.RouteKey === '$default')!;
    assert.equal(defaultRoute.Properties.RouteResponseSelectionExpression, '$default');
    s.template.hasResourceProperties('AWS::ApiGatewayV2::RouteResponse', { RouteResponseKey: '$default', ApiId: { Ref: channel } });
    s.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: channel },
      StageName: 'notifications',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: DEPLOYMENT.throttleRateLimit, ThrottlingBurstLimit: DEPLOYMENT.throttleBurstLimit },
    });
    assert.ok(JSON.stringify(s.json.Outputs?.NotificationsUrl).includes('wss://'));
  });

  it('notification channel grants: the function only its table items (ws#, wst#), nothing on S3 or execute-api; the stream handler PostToConnection on this stage only', () => {
    const fnStatements = statementsOfRole(s.json, 'StreamsNotificationsRole');
    const fnActions = actionsOf(fnStatements);
    assert.ok(!fnActions.some((a) => a.startsWith('s3:') || a.startsWith('execute-api:') || a.startsWith('kms:')), fnActions.join());
    assert.deepEqual(fnActions.filter((a) => a.startsWith('dynamodb:')).sort(), ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem']);
    const fnWrites = fnStatements.find((st) => actionsOf([st]).includes('dynamodb:PutItem'));
    assert.deepEqual(fnWrites.Condition, { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ws#*', 'wst#*'] } });

    const handler = statementsOfRole(s.json, 'StreamsStreamHandlerRole');
    assertPostsOnlyToChannelConnections(s.json, handler);
    const handlerActions = actionsOf(handler);
    assert.ok(!handlerActions.some((a) => a.startsWith('s3:') || a === 'dynamodb:PutItem' || a === 'dynamodb:UpdateItem'), handlerActions.join());
    const deletes = handler.find((st) => actionsOf([st]).includes('dynamodb:DeleteItem'));
    assert.deepEqual(deletes.Condition, { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ws#*', 'wst#*'] } });
    const streamHandler = s.json.Resources[logicalIdOf(s.json, 'AWS::Lambda::Function', 'StreamsStreamHandler')];
    assert.ok(JSON.stringify(streamHandler.Properties.Environment.Variables.SLUICE_NOTIFICATIONS_ENDPOINT).includes('https://'));
  });

  it('grantProduce and grantConsume allow execute-api:Invoke on the IAM endpoint routes only', () => {
    const iamApi = logicalIdOf(s.json, 'AWS::ApiGatewayV2::Api', 'StreamsIamApi');
    for (const [role, patterns] of [['Producer', IAM_GRANTS.produce], ['Consumer', IAM_GRANTS.consume]] as const) {
      const [statement, ...rest] = statementsOfRole(s.json, role);
      assert.equal(rest.length, 0);
      assert.equal(statement.Action, 'execute-api:Invoke');
      const resources = (statement.Resource as unknown[]).map((r) => JSON.stringify(r));
      assert.equal(resources.length, patterns.length);
      patterns.forEach((pattern, i) => {
        assert.ok(resources[i].includes(iamApi), `${role}: the IAM endpoint`);
        assert.ok(resources[i].endsWith(`/*/${pattern}"]]}`), `${role}: ${resources[i]}`);
      });
    }
  });

  it('alarms: 5xx per endpoint, throttles per function, p99 latency of produce and fetch, maintenance failures', () => {
    const alarms = Object.values(s.template.findResources('AWS::CloudWatch::Alarm'));
    const byMetric = (name: string) => alarms.filter((a) => a.Properties.MetricName === name);
    assert.equal(byMetric('5xx').length, 2);
    assert.equal(byMetric('Throttles').length, 5);
    assert.equal(byMetric('Errors').length, 1, 'maintenance failed or timed out');
    assert.equal(byMetric('MaintenanceErrors').length, 1, 'maintenance keeps failing somewhere');
    const latency = byMetric('Latency');
    assert.deepEqual(latency.map((a) => a.Properties.ExtendedStatistic), ['p99', 'p99']);
    assert.deepEqual(latency.map((a) => a.Properties.Dimensions.find((d: { Name: string }) => d.Name === 'Operation').Value).sort(), ['fetch', 'produce']);
    for (const alarm of alarms) {
      assert.equal(alarm.Properties.TreatMissingData, 'notBreaching', 'idle is healthy');
      assert.equal(alarm.Properties.AlarmActions, undefined, 'no topic given');
    }
  });

  it('dashboard: produce and fetch throughput, latency, errors, consumer lag and append hints', () => {
    const [dashboard] = Object.values(s.template.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const metric of ['RequestBytes', 'ResponseBytes', 'Latency', 'ServerErrors', 'ClientErrors', 'ConsumerLag', 'Throttles', 'Errors', 'SegmentsWritten', 'MaintenanceErrors', 'AppendHintsPosted', 'AppendHintsLate', 'AppendHintsGone']) {
      assert.ok(body.includes(`\\"${metric}\\"`), metric);
    }
  });

  it('outputs: both endpoints, the key secret, bucket, table and dashboard', () => {
    for (const output of ['ApiUrl', 'IamApiUrl', 'AdminKeySecretArn', 'BucketName', 'TableName', 'DashboardName']) s.template.hasOutput(output, {});
    s.template.resourceCountIs('AWS::Lambda::Url', 1); // the live tail's (TailUrl)
    assert.equal(s.json.Outputs?.ProduceUrl, undefined, 'no produce Function URL unless asked for');
    s.template.hasOutput('TailUrl', {});
  });
});

describe('SluiceStreams, every option', () => {
  let s: Synthesized<SluiceStack>;

  before(() => {
    s = synthesize((app) => {
      const stack = new SluiceStack(app, 'SluiceAll', {
        streams: {
          encryption: StreamsEncryption.KMS,
          removalPolicy: RemovalPolicy.DESTROY,
          deletionProtection: true,
          corsOrigins: ['https://app.example', 'https://admin.example'],
          produceMemorySize: 2048,
          fetchMemorySize: 1769,
          adminMemorySize: 512,
          defaultRetention: Duration.days(1),
          throttle: { rateLimit: 50, burstLimit: 100 },
          metricsNamespace: 'Acme/Sluice',
          serviceName: 'orders-stream',
          dashboard: false,
          produceFunctionUrl: true,
          produceReservedConcurrency: 100,
          appendHintDeadline: Duration.millis(60),
        },
      });
      return stack;
    });
  });

  it('passes cdk-nag with the same acknowledgements', () => {
    const ids = [...new Set(acknowledgements(s.stack.streams).map((a) => ruleOf(a.id)))].sort();
    assert.deepEqual(ids, ['AwsSolutions-APIG1', 'AwsSolutions-APIG4', 'AwsSolutions-IAM5', 'AwsSolutions-S1', 'AwsSolutions-SMG4']);
  });

  it('KMS: a rotating key, a bucket key, and only the KMS actions each function needs', () => {
    const key = logicalIdOf(s.json, 'AWS::KMS::Key', 'StreamsKey');
    s.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [key, 'Arn'] } } },
        ],
      },
    });
    const kmsActions = (role: string) => actionsOf(statementsOfRole(s.json, role)).filter((a) => a.startsWith('kms:'));
    assert.deepEqual(kmsActions(FUNCTION_ROLE.produce), ['kms:GenerateDataKey']);
    assert.deepEqual(kmsActions(FUNCTION_ROLE.fetch), ['kms:Decrypt']);
    assert.deepEqual(kmsActions(FUNCTION_ROLE.admin).sort(), ['kms:Decrypt', 'kms:Encrypt'], 'reading objects; sealing push secrets with the same key');
    assert.deepEqual(kmsActions(FUNCTION_ROLE.maintenance).sort(), ['kms:Decrypt', 'kms:GenerateDataKey']);
  });

  it('produceFunctionUrl: a Function URL on the produce function only (the application checks keys), CORS for produce, reserved concurrency, an output', () => {
    const stream = logicalIdOf(s.json, 'AWS::Lambda::Function', 'StreamsTail');
    const notTheStream = (r: { Properties?: { TargetFunctionArn?: unknown; FunctionName?: unknown } }) => JSON.stringify(r.Properties?.TargetFunctionArn ?? r.Properties?.FunctionName) !== JSON.stringify({ 'Fn::GetAtt': [stream, 'Arn'] });
    // besides the live tail's own Function URL (checked with the defaults)
    const urls = Object.values(s.json.Resources).filter((r) => r.Type === 'AWS::Lambda::Url').filter(notTheStream);
    assert.equal(urls.length, 1);
    const produce = logicalIdOf(s.json, 'AWS::Lambda::Function', 'StreamsProduce');
    assert.deepEqual(urls[0].Properties.TargetFunctionArn, { 'Fn::GetAtt': [produce, 'Arn'] });
    assert.equal(urls[0].Properties.AuthType, 'NONE');
    assert.equal(urls[0].Properties.InvokeMode, 'BUFFERED');
    assert.deepEqual(urls[0].Properties.Cors.AllowOrigins, ['https://app.example', 'https://admin.example']);
    assert.deepEqual(urls[0].Properties.Cors.AllowMethods, ['POST']);
    assert.equal(s.json.Resources[produce].Properties.ReservedConcurrentExecutions, 100);
    const permissions = Object.values(s.json.Resources).filter((r) => r.Type === 'AWS::Lambda::Permission' && r.Properties.Action === 'lambda:InvokeFunctionUrl').filter(notTheStream);
    assert.equal(permissions.length, 1, 'public invoke of the URL only');
    assert.deepEqual(permissions[0].Properties.FunctionName, { 'Fn::GetAtt': [produce, 'Arn'] });
    assert.ok(s.json.Outputs?.ProduceUrl, 'the ProduceUrl output');
  });

  it('appendHintDeadline: the produce function waits that long for its hints, and no other function is told', () => {
    for (const [id, fn] of Object.entries(s.json.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function')) {
      const deadline = fn.Properties.Environment?.Variables?.SLUICE_HINT_DEADLINE_MS;
      assert.equal(deadline, id === logicalIdOf(s.json, 'AWS::Lambda::Function', 'StreamsProduce') ? '60' : undefined, id);
    }
    for (const appendHintDeadline of [Duration.millis(0), Duration.seconds(2)]) {
      assert.throws(
        () => synthesize((app) => new SluiceStack(app, `Deadline${appendHintDeadline.toMilliseconds()}`, { streams: { appendHintDeadline } })),
        /appendHintDeadline must be a whole number of milliseconds from 1 to 1000/,
      );
    }
  });

  it('DESTROY: deleted with the stack, bucket emptied first; deletion protection on the table', () => {
    s.template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    s.template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete', Properties: Match.objectLike({ DeletionProtectionEnabled: true }) });
    s.template.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Delete' });
    s.template.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
  });

  it('CORS: the API functions know the origins, and the bucket lets them read presigned ranges', () => {
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      CorsConfiguration: {
        CorsRules: [
          Match.objectLike({ AllowedOrigins: ['https://app.example', 'https://admin.example'], AllowedMethods: ['GET'], AllowedHeaders: ['range'] }),
        ],
      },
    });
    const fn = s.json.Resources[logicalIdOf(s.json, 'AWS::Lambda::Function', 'StreamsFetch')];
    assert.equal(fn.Properties.Environment.Variables.SLUICE_CORS_ORIGINS, 'https://app.example,https://admin.example');
  });

  it('sizes, retention, throttle, namespace and service name as given; no dashboard', () => {
    const fn = (id: string) => s.json.Resources[logicalIdOf(s.json, 'AWS::Lambda::Function', `Streams${id}`)].Properties;
    assert.deepEqual([fn('Produce').MemorySize, fn('Fetch').MemorySize, fn('Admin').MemorySize], [2048, 1769, 512]);
    assert.equal(fn('Produce').Environment.Variables.SLUICE_DEFAULT_RETENTION_MS, String(24 * 3600 * 1000));
    assert.equal(fn('Produce').Environment.Variables.POWERTOOLS_METRICS_NAMESPACE, 'Acme/Sluice');
    assert.equal(fn('Produce').Environment.Variables.POWERTOOLS_SERVICE_NAME, 'orders-stream');
    s.template.resourcePropertiesCountIs('AWS::ApiGatewayV2::Stage', { DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 } }, 3);
    s.template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    const latency = Object.values(s.template.findResources('AWS::CloudWatch::Alarm')).find((a) => a.Properties.MetricName === 'Latency');
    assert.equal(latency?.Properties.Namespace, 'Acme/Sluice');
    assert.deepEqual(latency?.Properties.Dimensions.find((d: { Name: string }) => d.Name === 'service').Value, 'orders-stream');
  });

  it('an alarm topic gets every alarm and its recovery', () => {
    const withTopic = synthesize((app) => {
      return new SluiceStack(app, 'SluiceAlarms', { alarmEmail: 'oncall@example.com' });
    });
    const topic = logicalIdOf(withTopic.json, 'AWS::SNS::Topic', 'Alarms');
    withTopic.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    const alarms = Object.values(withTopic.template.findResources('AWS::CloudWatch::Alarm'));
    assert.ok(alarms.length > 0);
    for (const alarm of alarms) {
      assert.deepEqual(alarm.Properties.AlarmActions, [{ Ref: topic }]);
      assert.deepEqual(alarm.Properties.OKActions, [{ Ref: topic }]);
    }
  });
});

describe('API routes against the application routes', () => {
  /** A concrete path for a template, `{name}` segments filled in. */
  const sample = (template: string) => template.replace(/\{(\w+)\+?\}/g, 'x1');
  const appRoutes = ROUTES.map((route) => ({ function: route.function as ApiFunctionName, method: route.method, path: route.path, pattern: pathPattern(route.path) }));

  /** How API Gateway picks a route: the most specific template that matches (here: no two templates overlap). */
  function gatewayRoute(method: string, path: string) {
    const matching = API_ROUTES.filter((r) => {
      const regex = new RegExp(`^${r.path.replace(/\{\w+\+\}/g, '.+').replace(/\{\w+\}/g, '[^/]+')}$`);
      return r.method === method && regex.test(path);
    });
    assert.ok(matching.length <= 1, `${method} ${path} matches ${matching.length} routes`);
    return matching[0];
  }

  it('every application route reaches the function that serves it; the streaming routes are not on API Gateway', () => {
    assert.ok(appRoutes.length > 5);
    for (const route of appRoutes) {
      if (route.function === STREAMING_FUNCTION) {
        // served by the tail function's own Function URL (an HTTP API buffers answers)
        assert.equal(gatewayRoute(route.method, sample(route.path)), undefined, `${route.method} ${route.path}`);
        continue;
      }
      const gateway = gatewayRoute(route.method, sample(route.path));
      const served = gateway ? gateway.function : DEFAULT_ROUTE_FUNCTION;
      assert.equal(served, route.function, `${route.method} ${route.path}`);
    }
  });

  it('every API Gateway route is served by its function', () => {
    for (const gateway of API_ROUTES) {
      const path = sample(gateway.path);
      const route = appRoutes.find((r) => r.method === gateway.method && r.pattern.test(path));
      assert.ok(route, `${gateway.method} ${gateway.path} is an application route`);
      assert.equal(route.function, gateway.function, `${gateway.method} ${gateway.path}`);
    }
  });

  it('the IAM endpoint has no administration and no public route', () => {
    const iam = API_ROUTES.filter((r) => r.iam).map((r) => `${r.method} ${r.path}`);
    for (const route of ROUTES) {
      const adminOnly = route.scope !== 'public' && route.scope.checks.some((check) => check.action === 'admin');
      if (route.scope === 'public' || adminOnly) assert.ok(!iam.includes(`${route.method} ${route.path}`), `${route.method} ${route.path} is not on the IAM endpoint`);
    }
    assert.ok(iam.includes('POST /v1/topics/{topic}/records') && iam.includes('POST /v1/groups/{group}/members'));
  });

  it("IAM grants: a producer's patterns reach only produce and the topic list, a consumer's never produce", () => {
    const iamRouteKeys = API_ROUTES.filter((r) => r.iam).map((r) => `${r.method}${sample(r.path)}`);
    const reachable = (patterns: readonly string[]) => iamRouteKeys.filter((key) => patterns.some((p) => matchesIamPattern(p, key)));
    assert.deepEqual(reachable(IAM_GRANTS.produce).sort(), ['GET/v1/topics', 'POST/v1/topics/x1/records']);
    const consume = reachable(IAM_GRANTS.consume);
    assert.ok(!consume.includes('POST/v1/topics/x1/records'));
    assert.ok(consume.includes('GET/v1/topics/x1/partitions/x1/records'));
    assert.ok(IAM_GRANTS.consume.some((p) => matchesIamPattern(p, 'POST/v1/groups/g/members')), 'consumers join groups');
  });
});

describe('SluiceStreams, push consumers', () => {
  let s: Synthesized<SluiceStack>;

  before(() => {
    s = synthesize((app) => {
      const stack = new SluiceStack(app, 'SluicePush', { streams: { allowPrivateUrlTargets: true } });
      const billing = new NodejsFunction(stack, 'Billing', {
        entry: new URL('../../lambdas/stream-handler.ts', import.meta.url).pathname,
        runtime: Runtime.NODEJS_24_X,
        timeout: Duration.seconds(20),
        bundling: { externalModules: ['@aws-sdk/*'], format: OutputFormat.ESM },
      });
      Validations.of(billing).acknowledge({ id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', reason: 'test function: the basic execution role' });
      stack.streams.addFunctionConsumer('Billing', { function: billing, topics: ['orders'], deadLetterTopic: 'orders-dlq', batch: { maxRecords: 50 }, retry: { bisectOnError: true }, startAt: 'earliest', maxConcurrency: 8 });
      return stack;
    });
  });

  it('passes cdk-nag; the table streams new images into the stream handler, filtered to inserted log entries', () => {
    // synthesize() throws on any unacknowledged cdk-nag finding.
    s.template.hasResourceProperties('AWS::DynamoDB::Table', { StreamSpecification: { StreamViewType: 'NEW_IMAGE' } });
    const mapping = Object.values(s.json.Resources).find((r: any) => r.Type === 'AWS::Lambda::EventSourceMapping') as any;
    const pattern = JSON.parse(mapping.Properties.FilterCriteria.Filters[0].Pattern);
    assert.deepEqual(pattern, { eventName: ['INSERT'], dynamodb: { Keys: { pk: { S: [{ prefix: 'p#' }] }, sk: { S: [{ prefix: 'e#' }] } }, NewImage: { aborted: { BOOL: [false] } } } });
    assert.equal(mapping.Properties.StartingPosition, 'LATEST');
  });

  it('the dispatcher: one at a time, woken by the stream handler and the maintenance schedule, decrypting secrets only', () => {
    const dispatcher = Object.entries(s.json.Resources).find(([id, r]: [string, any]) => id.startsWith('StreamsDispatcher') && r.Type === 'AWS::Lambda::Function')![1] as any;
    assert.equal(dispatcher.Properties.ReservedConcurrentExecutions, 1);
    assert.equal(dispatcher.Properties.Environment.Variables.SLUICE_PUSH_ALLOW_PRIVATE_URLS, 'true');
    const handlerActions = actionsOf(statementsOfRole(s.json, 'StreamsStreamHandlerRole'));
    assert.ok(handlerActions.includes('lambda:InvokeFunction') && !handlerActions.some((a) => a.startsWith('dynamodb:Put') || a.startsWith('s3:')));
    const rule = Object.values(s.json.Resources).find((r: any) => r.Type === 'AWS::Events::Rule') as any;
    assert.ok(rule.Properties.Targets.some((t: any) => t.Input === JSON.stringify({ due: true })));
    const actions = actionsOf(statementsOfRole(s.json, 'StreamsDispatcherRole'));
    assert.ok(actions.includes('kms:Decrypt') && !actions.includes('kms:Encrypt'));
    assert.ok(actionsOf(statementsOfRole(s.json, 'StreamsAdminRole')).includes('kms:Encrypt'));
  });

  it('delayed wake-ups: the dispatcher creates schedules only in its own group, Scheduler may invoke only the dispatcher', () => {
    const groups = Object.entries(s.json.Resources).filter(([, r]: [string, any]) => r.Type === 'AWS::Scheduler::ScheduleGroup');
    assert.equal(groups.length, 1);
    const [groupId] = groups[0];
    const dispatcherId = Object.keys(s.json.Resources).find((id) => id.startsWith('StreamsDispatcher') && s.json.Resources[id].Type === 'AWS::Lambda::Function')!;
    const env = s.json.Resources[dispatcherId].Properties.Environment.Variables;
    assert.deepEqual(env.SLUICE_WAKE_GROUP, { Ref: groupId });
    const wakeRoleId = Object.keys(s.json.Resources).find((id) => id.startsWith('StreamsWakeUpRole') && s.json.Resources[id].Type === 'AWS::IAM::Role')!;
    assert.deepEqual(env.SLUICE_WAKE_ROLE_ARN, { 'Fn::GetAtt': [wakeRoleId, 'Arn'] });
    const trust = s.json.Resources[wakeRoleId].Properties.AssumeRolePolicyDocument.Statement;
    assert.deepEqual(trust.map((st: any) => st.Principal.Service), ['scheduler.amazonaws.com']);
    const wakeStatements = statementsOfRole(s.json, 'StreamsWakeUpRole');
    assert.deepEqual(actionsOf(wakeStatements), ['lambda:InvokeFunction']);
    assert.match(JSON.stringify(wakeStatements[0].Resource), new RegExp(dispatcherId));
    const dispatcherStatements = statementsOfRole(s.json, 'StreamsDispatcherRole');
    const create = dispatcherStatements.find((st) => actionsOf([st]).includes('scheduler:CreateSchedule'));
    assert.deepEqual(actionsOf([create]), ['scheduler:CreateSchedule']);
    assert.match(JSON.stringify(create.Resource), new RegExp(`schedule/.*${groupId}.*/\\*`));
    const pass = dispatcherStatements.find((st) => actionsOf([st]).includes('iam:PassRole'));
    assert.deepEqual(pass.Resource, { 'Fn::GetAtt': [wakeRoleId, 'Arn'] });
    assert.deepEqual(pass.Condition, { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
    assert.ok(!actionsOf(dispatcherStatements).some((a) => a.startsWith('scheduler:') && a !== 'scheduler:CreateSchedule'), 'no other Scheduler action');
  });

  it('addFunctionConsumer: a custom resource with the consumer, invoke on that function only, a lag alarm', () => {
    const resource = Object.values(s.json.Resources).find((r: any) => r.Type === 'Custom::SluicePushConsumer') as any;
    assert.ok(resource, 'the custom resource');
    const invoke = statementsOfRole(s.json, 'StreamsDispatcherRole').find((st) => actionsOf([st]).includes('lambda:InvokeFunction'));
    assert.match(JSON.stringify(invoke.Resource), /Billing/);
    assert.doesNotMatch(JSON.stringify(invoke.Resource), /"\*"/);
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'PushConsumerLag', Dimensions: Match.arrayWith([{ Name: 'Consumer', Value: 'Billing' }]) });
    const writes = statementsOfRole(s.json, 'StreamsPushConsumerFunctionRole').find((st) => actionsOf([st]).includes('dynamodb:PutItem'));
    assert.deepEqual(writes.Condition['ForAllValues:StringLike']['dynamodb:LeadingKeys'], ['push-consumers', 'push#*', 'g#*', 'go#*', 'groups']);
  });
});
