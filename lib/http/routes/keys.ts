/** API key administration. */
import type { ApiKeys } from '../../auth/api-keys.ts';
import { json, noContent, type Handlers } from '../router.ts';

export function keyHandlers(keys: ApiKeys): Pick<Handlers, 'createKey' | 'listKeys' | 'revokeKey'> {
  return {
    // The route table asks for admin over everything; a key also creates only keys within its own
    // scopes, and revokes only keys no broader than itself (ApiKeys).
    async createKey({ body, principal }) {
      const created = await keys.create({ name: body!.name, scopes: body!.scopes }, principal);
      return json(201, { id: created.keyId, key: created.key, name: created.name, scopes: created.scopes, createdAt: created.createdAt });
    },
    async listKeys() {
      const list = await keys.list();
      return json(200, { keys: list.map((k) => ({ id: k.keyId, name: k.name, scopes: k.scopes, createdAt: k.createdAt })) });
    },
    async revokeKey({ params, principal }) {
      await keys.revoke(params.id, principal);
      return noContent();
    },
  };
}
