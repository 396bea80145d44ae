/** `sluice keys list | create | revoke`: API keys (needs an admin key over everything). */
import type { Command } from 'commander';
import { action, commandGroup } from '../context.ts';
import { UsageError } from '../errors.ts';
import { formatTime } from '../output.ts';
import { parseScope } from '../parse.ts';

type Scope = { readonly action: string; readonly topics: readonly string[]; readonly groups: readonly string[] };

const scopeText = (s: Scope) => `${s.action}:${s.topics.join(',')}${s.action === 'produce' && s.groups.length === 1 && s.groups[0] === '*' ? '' : `:${s.groups.join(',')}`}`;

export function registerKeys(program: Command): void {
  const keys = commandGroup(program, 'keys', 'API keys: list, create, revoke');

  keys
    .command('list')
    .description('The API keys: id, name, scopes, creation time (never the keys themselves)')
    .action(
      action(async (context) => {
        const list = await context.admin().listKeys();
        context.output.result({ keys: list }, () =>
          context.output.table(['ID', 'NAME', 'CREATED', 'SCOPES'], list.map((k) => [k.id, k.name, formatTime(k.createdAt), k.scopes.map(scopeText).join(' ')])),
        );
      }),
    );

  keys
    .command('create')
    .description('Create an API key; the key is printed once (only its hash is stored)')
    .requiredOption('--name <name>', 'what the key is for')
    .option(
      '--scope <scope>',
      '<action>:<topic patterns>[:<group patterns>], action admin|produce|consume, patterns comma-separated names, prefixes ending in *, or * (repeatable)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .addHelpText(
      'after',
      `
Examples:
  sluice keys create --name ingest --scope 'produce:orders*'
  sluice keys create --name billing --scope 'consume:orders:billing' --scope 'consume:payments:billing'`,
    )
    .action(
      action(async (context, options: { name: string; scope: string[] }) => {
        if (options.scope.length === 0) throw new UsageError('keys create needs at least one --scope, like --scope consume:orders*:billing');
        const created = await context.admin().createKey({ name: options.name, scopes: options.scope.map(parseScope) });
        context.output.result(created, () => {
          context.output.line(created.key);
          context.output.note(`Created key ${created.id} (${created.name}): ${created.scopes.map(scopeText).join(' ')}. The key above is shown this once.`);
        });
      }),
    );

  keys
    .command('revoke <id>')
    .description('Revoke an API key by its id (see keys list)')
    .action(
      action(async (context, id: string) => {
        await context.admin().revokeKey(id);
        context.output.result({ revoked: id }, () => context.output.line(`Revoked key ${id}`));
      }),
    );
}
