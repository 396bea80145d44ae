/** Synthesis for the CDK tests: once per configuration, checked by cdk-nag, template shared by the tests. */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

export interface Synthesized<S extends Stack> {
  readonly app: App;
  readonly stack: S;
  readonly template: Template;
  readonly json: { Resources: Record<string, { Type: string; Properties?: any; DependsOn?: string[]; DeletionPolicy?: string }>; Outputs?: Record<string, any> };
}

/**
 * Builds a stack in a fresh app with cdk-nag's AwsSolutions pack and synthesizes it; an unacknowledged
 * finding throws with cdk-nag's report. Lambda bundling is skipped (the app test bundles for real).
 */
export function synthesize<S extends Stack>(build: (app: App) => S): Synthesized<S> {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = build(app);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const assembly = app.synth();
  const json = assembly.getStackByName(stack.stackName).template;
  return { app, stack, template: Template.fromJSON(json), json };
}

/** Every acknowledged rule in a construct tree: rule id → reasons, with where they were given. */
export function acknowledgements(root: IConstruct): Array<{ id: string; reason: string; path: string }> {
  const found: Array<{ id: string; reason: string; path: string }> = [];
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || !entry.data) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) found.push({ id, reason, path: construct.node.path });
    }
  }
  return found;
}

/** The statements of every inline policy attached to a role, by the role's logical id prefix. */
export function statementsOfRole(json: Synthesized<Stack>['json'], roleLogicalIdPrefix: string): any[] {
  const roleId = Object.keys(json.Resources).find((id) => id.startsWith(roleLogicalIdPrefix) && json.Resources[id].Type === 'AWS::IAM::Role');
  if (!roleId) throw new Error(`no role ${roleLogicalIdPrefix}`);
  return Object.values(json.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((ref: { Ref: string }) => ref.Ref === roleId))
    .flatMap((r) => r.Properties.PolicyDocument.Statement);
}

export function actionsOf(statements: any[]): string[] {
  return statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}
