/** API key administration. */
import { authorizeAdminOverEverything, type ApiKeys } from '../../auth/api-keys.ts';
import { describeValue } from '../../validation.ts';
import { invalid, json, jsonBody, noContent, route, type Route } from '../router.ts';

export function keyRoutes(keys: ApiKeys): Route[] {
  return [
    route('POST', '/v1/keys', async ({ request, principal }) => {
      authorizeAdminOverEverything(principal, 'creating API keys');
      const body = jsonBody(request) as { name?: unknown; scopes?: unknown };
      if (typeof body?.name !== 'string' || body.name.length === 0 || body.name.length > 200) throw invalid(`name: expected a string of 1-200 characters, got ${describeValue(body?.name)}`, 'name');
      const created = await keys.create({ name: body.name, scopes: body.scopes }, principal);
      return json(201, { id: created.keyId, key: created.key, name: created.name, scopes: created.scopes, createdAt: created.createdAt });
    }),
    route('GET', '/v1/keys', async ({ principal }) => {
      authorizeAdminOverEverything(principal, 'listing API keys');
      const list = await keys.list();
      return json(200, { keys: list.map((k) => ({ id: k.keyId, name: k.name, scopes: k.scopes, createdAt: k.createdAt })) });
    }),
    route('DELETE', '/v1/keys/:id', async ({ params, principal }) => {
      authorizeAdminOverEverything(principal, 'revoking API keys');
      await keys.revoke(params.id, principal);
      return noContent();
    }),
  ];
}
