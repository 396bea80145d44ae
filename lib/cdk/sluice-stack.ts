/** The stack `npx cdk deploy` creates: SluiceStreams plus the outputs a user needs to start. */
import { CfnOutput, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { SluiceStreams, type SluiceStreamsProps } from './sluice-streams.ts';

export interface SluiceStackProps extends StackProps {
  /** Passed to SluiceStreams. @default SluiceStreams' defaults */
  readonly streams?: SluiceStreamsProps;
  /** An e-mail address subscribed to a new alarm topic (ignored when streams.alarmTopic is given). @default no alarm topic */
  readonly alarmEmail?: string;
}

export class SluiceStack extends Stack {
  readonly streams: SluiceStreams;

  constructor(scope: Construct, id: string, props: SluiceStackProps = {}) {
    super(scope, id, props);
    let alarmTopic = props.streams?.alarmTopic;
    if (!alarmTopic && props.alarmEmail) {
      const topic = new Topic(this, 'Alarms', { displayName: 'Sluice alarms', enforceSSL: true });
      topic.addSubscription(new EmailSubscription(props.alarmEmail));
      Validations.of(topic).acknowledge({
        id: 'AwsSolutions-SNS2',
        reason:
          'Alarm notifications carry no stream data; CloudWatch cannot publish to a topic encrypted with the AWS managed SNS key, and a customer managed key would cost more than the topic.',
      });
      alarmTopic = topic;
    }
    this.streams = new SluiceStreams(this, 'Streams', { ...props.streams, alarmTopic });

    new CfnOutput(this, 'ApiUrl', { value: this.streams.url, description: 'Base URL of the API (Authorization: Bearer <key>)' });
    new CfnOutput(this, 'IamApiUrl', { value: this.streams.iamUrl, description: 'Base URL of the API for SigV4-signed calls (grantProduce / grantConsume)' });
    new CfnOutput(this, 'TailUrl', { value: this.streams.tailUrl, description: 'Base URL of the live tail (GET /v1/topics/{topic}/partitions/{p}/stream, Server-Sent Events; Authorization: Bearer <key>)' });
    new CfnOutput(this, 'NotificationsUrl', { value: this.streams.notificationsUrl, description: 'The notification channel (WebSocket; first message {"action": "auth", "apiKey": "<key>"})' });
    if (this.streams.produceUrl) {
      new CfnOutput(this, 'ProduceUrl', { value: this.streams.produceUrl, description: 'Produce through the Function URL (no per-request fee): the client option produceEndpoint' });
    }
    new CfnOutput(this, 'AdminKeySecretArn', {
      value: this.streams.adminKeySecret.secretArn,
      description: 'The bootstrap admin key: aws secretsmanager get-secret-value --secret-id <this> --query SecretString --output text',
    });
    new CfnOutput(this, 'BucketName', { value: this.streams.bucket.bucketName });
    if (this.streams.ingestBucket) new CfnOutput(this, 'IngestBucketName', { value: this.streams.ingestBucket.ref, description: 'Ingest objects (S3 Express One Zone directory bucket)' });
    new CfnOutput(this, 'TableName', { value: this.streams.table.tableName });
    if (this.streams.dashboard) new CfnOutput(this, 'DashboardName', { value: this.streams.dashboard.dashboardName });
  }
}
