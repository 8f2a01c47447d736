import { describe, expect, it } from 'vitest';
import { SseDataDecoder } from '../../src/upstream/sse-decoder.js';

function decodeInPieces(text: string, pieceBytes: number): string[] {
  const bytes = new TextEncoder().encode(text);
  const decoder = new SseDataDecoder();
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i += pieceBytes) decoder.decode(bytes.subarray(i, i + pieceBytes), out);
  decoder.end(out);
  return out;
}

describe('SSE data decoder', () => {
  it('yields the data of each event, whatever the byte boundaries, multi-byte characters included', () => {
    const text = 'data: {"content":"héllo 👋"}\n\ndata: {"content":"two"}\n\ndata: [DONE]\n\n';
    for (const size of [1, 2, 3, 7, 1000]) {
      expect(decodeInPieces(text, size)).toEqual(['{"content":"héllo 👋"}', '{"content":"two"}', '[DONE]']);
    }
  });

  it('accepts CRLF line endings, joins multi-line data and skips comments and other fields', () => {
    const text = ': keep-alive\r\n\r\nevent: message\r\nid: 7\r\ndata: first\r\ndata:second\r\n\r\n';
    expect(decodeInPieces(text, 5)).toEqual(['first\nsecond']);
  });

  it('accepts bare CR line endings, also when a CRLF is split between reads', () => {
    const bareCr = ': ping\r\rdata: one\rdata: two\r\rdata: [DONE]\r\r';
    const mixed = 'data: a\r\ndata: b\r\n\r\ndata: c\n\n';
    for (const size of [1, 2, 3, 1000]) {
      expect(decodeInPieces(bareCr, size)).toEqual(['one\ntwo', '[DONE]']);
      expect(decodeInPieces(mixed, size)).toEqual(['a\nb', 'c']);
    }
  });

  it('yields a last event that the body ends without a blank line after', () => {
    expect(decodeInPieces('data: a\n\ndata: b', 4)).toEqual(['a', 'b']);
  });
});
