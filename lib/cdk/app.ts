/**
 * The CDK app of bin/cdk-app.ts, as a function so that tests synthesize exactly what `cdk synth` does.
 * cdk-nag's AwsSolutions pack runs as a policy-validation plugin: an unacknowledged finding fails the
 * synthesis.
 */
import { App, RemovalPolicy, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SluiceStack } from './sluice-stack.ts';

export function buildApp(props: AppProps = {}): App {
  const app = new App(props);
  const context = (key: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(`sluice:${key}`);
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const removal = context('removalPolicy') ?? 'retain';
  if (removal !== 'retain' && removal !== 'destroy') throw new Error(`sluice:removalPolicy must be retain or destroy, got ${removal}`);
  new SluiceStack(app, context('stackName') ?? 'Sluice', {
    description: 'Sluice: serverless event streaming on S3 and DynamoDB',
    alarmEmail: context('alarmEmail'),
    streams: {
      removalPolicy: removal === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      corsOrigins: context('corsOrigins')?.split(',').map((origin) => origin.trim()).filter(Boolean),
      produceFunctionUrl: context('produceFunctionUrl') === 'true',
      ...(context('produceReservedConcurrency') ? { produceReservedConcurrency: Number(context('produceReservedConcurrency')) } : {}),
      ...(context('expressIngestZoneId') ? { ingestObjects: { storage: 'express' as const, availabilityZoneId: context('expressIngestZoneId')! } } : {}),
    },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}
