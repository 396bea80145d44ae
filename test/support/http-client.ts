/** A tiny fetch wrapper for API tests. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any;
  bytes: Uint8Array;
}

export function apiClient(baseUrl: string, key?: string) {
  return async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
    const init: RequestInit = { method, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers } };
    if (body instanceof Uint8Array) init.body = body as Uint8Array<ArrayBuffer>;
    else if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const response = await fetch(baseUrl + path, init);
    const bytes = new Uint8Array(await response.arrayBuffer());
    const type = response.headers.get('content-type') ?? '';
    const parsed = type.includes('json') && bytes.length > 0 ? JSON.parse(new TextDecoder().decode(bytes)) : undefined;
    return { status: response.status, headers: response.headers, body: parsed, bytes };
  };
}
