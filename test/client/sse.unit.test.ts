/** The client's Server-Sent Events parser (lib/client/tail/sse.ts) against the spec's rules, in any chunking. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SseParser, type ServerSentEvent } from '../../lib/client/tail/sse.ts';

const STREAM = [
  ': opening comment',
  'retry: 1000',
  '',
  'event: records',
  'id: 3',
  'data: {"records":[1,2,3]}',
  '',
  ': keep-alive',
  '',
  'data:first line',
  'data: second line',
  '',
  'id: 7',
  'event: records',
  '',
  'event: error',
  'data: {"error":{"code":"OFFSET_OUT_OF_RANGE"}}',
  '',
  'unknown: field',
  'data',
  '',
].join('\n') + '\n';

const EXPECTED: ServerSentEvent[] = [
  { event: 'records', data: '{"records":[1,2,3]}', lastEventId: '3' },
  { event: 'message', data: 'first line\nsecond line', lastEventId: '3' },
  // `id: 7` with no data dispatches nothing, but the id stays
  { event: 'error', data: '{"error":{"code":"OFFSET_OUT_OF_RANGE"}}', lastEventId: '7' },
  { event: 'message', data: '', lastEventId: '7' },
];

function parseIn(chunks: string[]): { events: ServerSentEvent[]; parser: SseParser } {
  const parser = new SseParser();
  const events = chunks.flatMap((chunk) => parser.push(chunk));
  return { events, parser };
}

describe('SseParser', () => {
  it('parses events, ids, retry and comments as the spec says', () => {
    const { events, parser } = parseIn([STREAM]);
    assert.deepEqual(events, EXPECTED);
    assert.equal(parser.retryMs, 1000);
    assert.equal(parser.comments, 2);
    assert.equal(parser.lastEventId, '7');
  });

  it('gives the same events however the text is cut, with \\n, \\r\\n or \\r line ends', () => {
    fc.assert(
      fc.property(fc.constantFrom('\n', '\r\n', '\r'), fc.array(fc.nat(), { maxLength: 12 }), (eol, cuts) => {
        const text = STREAM.replaceAll('\n', eol);
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        const chunks = [0, ...points, text.length].slice(1).map((end, i, all) => text.slice(i === 0 ? 0 : all[i - 1], end));
        assert.deepEqual(parseIn([text.slice(0, 0), ...chunks]).events, EXPECTED);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps an unfinished event until its blank line arrives', () => {
    const parser = new SseParser();
    assert.deepEqual(parser.push('event: records\nid: 1\ndata: x\n'), []);
    assert.deepEqual(parser.push('\n'), [{ event: 'records', data: 'x', lastEventId: '1' }]);
  });
});
