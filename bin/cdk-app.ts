/**
 * The CDK app that `npx cdk deploy` runs (cdk.json): one stack with the SluiceStreams construct, checked
 * by cdk-nag's AwsSolutions pack at synthesis (an unacknowledged finding stops the synth).
 *
 * Context (cdk.json or `-c key=value`):
 *   sluice:stackName      stack name (default Sluice)
 *   sluice:removalPolicy  `destroy` to delete the bucket (emptied first), table, key and secret with the
 *                         stack, for trying Sluice out; default `retain`
 *   sluice:corsOrigins    comma-separated browser origins allowed to call the API
 *   sluice:alarmEmail     an address that gets the alarms (an SNS topic is created; confirm the e-mail)
 *   sluice:produceFunctionUrl  `true`: also serve produce through a Function URL (output ProduceUrl)
 *   sluice:produceReservedConcurrency  reserved concurrency of the produce function (its throttle then)
 */
import { buildApp } from '../lib/cdk/app.ts';

buildApp().synth();
