/** The CLI's option parsers, record formats and connection precedence, in-process (the subprocess tests are cli.test.ts). */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { configPath, DEFAULT_URL, resolveConnection } from '../../lib/cli/connection.ts';
import { recordAsJson, recordFormatter } from '../../lib/cli/format.ts';
import { formatDurationMs } from '../../lib/cli/output.ts';
import { fieldOf, parseDurationMs, parseHeaders, parseScope, parseStartPosition, parseTime } from '../../lib/cli/parse.ts';

const bytes = (text: string) => Buffer.from(text);

describe('CLI parsers', () => {
  it('durations: units, forever, and what is refused', () => {
    assert.equal(parseDurationMs('7d', '--retention'), 604_800_000);
    assert.equal(parseDurationMs('36h', '--retention'), 129_600_000);
    assert.equal(parseDurationMs('1.5s', '--x'), 1500);
    assert.equal(parseDurationMs('250', '--x'), 250);
    assert.equal(parseDurationMs('forever', '--x'), -1);
    for (const bad of ['', '7 days', '-5s', 'd', '1y']) assert.throws(() => parseDurationMs(bad, '--retention'), { name: 'UsageError', message: /^--retention takes a duration/ }, bad);
    assert.equal(formatDurationMs(604_800_000), '7d');
    assert.equal(formatDurationMs(90_000), '90s');
    assert.equal(formatDurationMs(-1), 'forever');
  });

  it('times and start positions', () => {
    assert.equal(parseTime('2026-12-01T10:00:00Z', '--from'), Date.UTC(2026, 11, 1, 10));
    assert.equal(parseTime('2026-12-01T11:00:00+01:00', '--from'), Date.UTC(2026, 11, 1, 10));
    assert.equal(parseTime('2026-12-01', '--from'), Date.UTC(2026, 11, 1));
    assert.throws(() => parseTime('2026-12-01T10:00:00', '--from'), /with a zone/, 'a local time without a zone is ambiguous');
    assert.throws(() => parseTime('2026-13-45', '--from'), /ISO-8601/);
    assert.deepEqual(parseStartPosition('earliest'), { kind: 'earliest' });
    assert.deepEqual(parseStartPosition('latest'), { kind: 'latest' });
    assert.deepEqual(parseStartPosition('00042'), { kind: 'offset', offset: '42' });
    assert.deepEqual(parseStartPosition('18446744073709551615'), { kind: 'offset', offset: '18446744073709551615' }, 'offsets beyond 2^53 stay exact');
    assert.deepEqual(parseStartPosition('2026-12-01T10:00:00Z'), { kind: 'timestamp', timestamp: Date.UTC(2026, 11, 1, 10) });
    assert.throws(() => parseStartPosition('yesterday', '--to'), { name: 'UsageError', message: /^--to takes earliest, latest/ });
  });

  it('headers: repeated keys keep every value in order', () => {
    assert.deepEqual(parseHeaders(['a=1', 'b=x=y', 'a=2', 'c=']), { a: ['1', '2'], b: 'x=y', c: '' });
    const proto = parseHeaders(['__proto__=p']);
    assert.equal(Object.getPrototypeOf(proto), Object.prototype, 'no prototype pollution');
    assert.equal(Object.getOwnPropertyDescriptor(proto, '__proto__')?.value, 'p');
    assert.throws(() => parseHeaders(['novalue']), /--headers takes key=value/);
    assert.throws(() => parseHeaders(['=v']), /--headers takes key=value/);
  });

  it('scopes: action, topic patterns, optional group patterns', () => {
    assert.deepEqual(parseScope('produce:orders*'), { action: 'produce', topics: ['orders*'] });
    assert.deepEqual(parseScope('consume:orders,payments:billing-*'), { action: 'consume', topics: ['orders', 'payments'], groups: ['billing-*'] });
    assert.deepEqual(parseScope('admin:*:*'), { action: 'admin', topics: ['*'], groups: ['*'] });
    for (const bad of ['read:orders', 'consume', 'consume:', 'consume:a:b:c', 'consume:a:']) assert.throws(() => parseScope(bad), { name: 'UsageError' }, bad);
  });

  it('key fields: dotted paths into objects only', () => {
    assert.equal(fieldOf({ user: { id: 7 } }, 'user.id'), 7);
    assert.equal(fieldOf({ id: null }, 'id'), null);
    assert.equal(fieldOf({ id: 1 }, 'missing'), undefined);
    assert.equal(fieldOf([1, 2], '0'), undefined);
    assert.equal(fieldOf('text', 'length'), undefined);
    assert.equal(fieldOf({}, 'constructor'), undefined, 'only own fields');
  });
});

describe('CLI record formats', () => {
  const message = { key: bytes('k1'), value: bytes('{"a":1}'), timestamp: '1764583200000', offset: '42', headers: { h: [bytes('x'), null], one: bytes('y') }, attributes: 0 };
  const record = { topic: 'orders', partition: 3, message };

  it('value, json, and templates with escapes', () => {
    assert.equal(recordFormatter('value')(record), '{"a":1}\n');
    assert.deepEqual(JSON.parse(recordFormatter('json')(record)), {
      topic: 'orders',
      partition: 3,
      offset: '42',
      timestamp: 1764583200000,
      key: 'k1',
      value: '{"a":1}',
      headers: { h: ['x', null], one: 'y' },
    });
    assert.equal(recordFormatter('%t/%p@%o %T %k=%v')(record), 'orders/3@42 1764583200000 k1={"a":1}\n');
    assert.equal(recordFormatter('%K %S %h 100%%\\t|\\n')(record), '2 7 h=x,h=,one=y 100%\t|\n', 'no second newline after one the template ends with');
    assert.equal(recordFormatter('%k')({ ...record, message: { ...message, key: null } }), '\n');
    assert.equal(recordFormatter('%K')({ ...record, message: { ...message, key: null } }), '-1\n');
    assert.throws(() => recordFormatter('%x'), /unknown placeholder "%x"/);
    assert.throws(() => recordFormatter('100%'), /unknown placeholder "%"/);
    assert.throws(() => recordFormatter('%%%q'), /unknown placeholder "%q"/);
    assert.equal(recordFormatter('%%k')(record), '%k\n', 'an escaped percent sign before a letter');
  });

  it('json: bytes that are not UTF-8 as base64', () => {
    const binary = Uint8Array.from([0xff, 0xfe, 0x00]);
    const out = recordAsJson({ topic: 't', partition: 0, message: { ...message, value: binary, key: null } });
    assert.equal(out.valueBase64, Buffer.from(binary).toString('base64'));
    assert.equal(out.value, undefined);
    assert.equal(out.key, null);
  });
});

describe('CLI connection', () => {
  it('flag over environment over profile; the default profile; the config path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-cli-config-'));
    try {
      const file = join(dir, 'config.json');
      await writeFile(file, JSON.stringify({ profiles: { default: { url: 'http://default:1', apiKey: 'default-key' }, prod: { url: 'https://prod', apiKey: 'prod-key' } } }));
      const env = { SLUICE_CONFIG: file };
      assert.deepEqual(resolveConnection({}, env), { url: 'http://default:1', apiKey: 'default-key', from: { url: 'profile', apiKey: 'profile' }, profile: 'default' });
      assert.equal(resolveConnection({ profile: 'prod' }, env).url, 'https://prod');
      assert.equal(resolveConnection({}, { ...env, SLUICE_PROFILE: 'prod' }).apiKey, 'prod-key');
      assert.deepEqual(resolveConnection({ profile: 'prod' }, { ...env, SLUICE_URL: 'http://env:2' }).from, { url: 'env', apiKey: 'profile' });
      const flagged = resolveConnection({ profile: 'prod', url: 'http://flag:3', apiKey: 'flag-key' }, { ...env, SLUICE_URL: 'http://env:2', SLUICE_API_KEY: 'env-key' });
      assert.deepEqual([flagged.url, flagged.apiKey, flagged.from], ['http://flag:3', 'flag-key', { url: 'flag', apiKey: 'flag' }]);
      assert.throws(() => resolveConnection({ profile: 'nope' }, env), { name: 'UsageError', message: /no profile "nope" .*\(it has default, prod\)/ });
      // no config file, no URL: sluice dev's address; no key: refused
      const none = { SLUICE_CONFIG: join(dir, 'absent.json') };
      assert.equal(resolveConnection({ apiKey: 'k' }, none).url, DEFAULT_URL);
      assert.throws(() => resolveConnection({}, none), { name: 'UsageError', message: /^no API key/ });
      assert.throws(() => resolveConnection({ apiKey: 'k', url: 'ftp://x' }, none), /must be http\(s\)/);
      await writeFile(file, JSON.stringify({ profiles: { bad: { url: 1 } } }));
      assert.throws(() => resolveConnection({ profile: 'bad' }, env), { name: 'CliError', message: /profile "bad" must be/ });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    assert.equal(configPath({ HOME: '/home/u' }), '/home/u/.config/sluice/config.json');
    assert.equal(configPath({ HOME: '/home/u', XDG_CONFIG_HOME: '/x' }), '/x/sluice/config.json');
    assert.equal(configPath({ SLUICE_CONFIG: '/c.json', XDG_CONFIG_HOME: '/x' }), '/c.json');
  });
});
