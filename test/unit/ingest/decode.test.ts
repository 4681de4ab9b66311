import { describe, expect, it } from 'vitest';
import { completeUtf8Length, decodeText, normalizeNewlines } from '../../../src/core/ingest/decode';

const utf8 = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));
const utf16le = (text: string) => new Uint8Array([0xff, 0xfe, ...Buffer.from(text, 'utf16le')]);
const utf16be = (text: string) => new Uint8Array([0xfe, 0xff, ...Buffer.from(text, 'utf16le').swap16()]);

describe('decodeText', () => {
  it('decodes UTF-8 with and without a BOM, dropping the BOM', () => {
    expect(decodeText(utf8('héllo 東京'))).toEqual({ ok: true, text: 'héllo 東京', encoding: 'utf-8' });
    expect(decodeText(new Uint8Array([0xef, 0xbb, 0xbf, ...utf8('héllo')]))).toEqual({ ok: true, text: 'héllo', encoding: 'utf-8' });
  });

  it('decodes UTF-16 LE and BE with a BOM', () => {
    expect(decodeText(utf16le('wörld 😀'))).toEqual({ ok: true, text: 'wörld 😀', encoding: 'utf-16le' });
    expect(decodeText(utf16be('wörld 😀'))).toEqual({ ok: true, text: 'wörld 😀', encoding: 'utf-16be' });
  });

  it('normalises CRLF and lone CR newlines to LF, in every encoding', () => {
    expect(decodeText(utf8('a\r\nb\rc\n'))).toMatchObject({ ok: true, text: 'a\nb\nc\n' });
    expect(decodeText(utf16le('a\r\nb'))).toMatchObject({ ok: true, text: 'a\nb' });
    expect(normalizeNewlines('x\r\r\ny')).toBe('x\n\ny');
  });

  it('refuses invalid UTF-8, Latin-1 and UTF-32', () => {
    expect(decodeText(new Uint8Array([0x61, 0xc3, 0x28]))).toEqual({ ok: false, reason: 'undecodable' });
    expect(decodeText(new Uint8Array(Buffer.from('caf\xe9', 'latin1')))).toEqual({ ok: false, reason: 'undecodable' });
    expect(decodeText(new Uint8Array([0xff, 0xfe, 0, 0, 0x61, 0, 0, 0]))).toEqual({ ok: false, reason: 'undecodable' });
    // A lone surrogate is not text.
    expect(decodeText(new Uint8Array([0xff, 0xfe, 0x00, 0xd8, 0x61, 0x00]))).toEqual({ ok: false, reason: 'undecodable' });
  });

  it('calls NUL characters binary, even in valid UTF-16', () => {
    expect(decodeText(utf8('a\0b'))).toEqual({ ok: false, reason: 'binary' });
    expect(decodeText(utf16le('a\0b'))).toEqual({ ok: false, reason: 'binary' });
  });

  it('accepts a character cut at the end of a partial read, and only then', () => {
    const cut = utf8('aé東😀').subarray(0, 1 + 2 + 3 + 2); // the emoji loses its last two bytes
    expect(decodeText(cut, { partial: true })).toMatchObject({ ok: true, text: 'aé東' });
    expect(decodeText(cut)).toEqual({ ok: false, reason: 'undecodable' });
    const cut16 = utf16le('ab😀').subarray(0, 2 + 4 + 3);
    expect(decodeText(cut16, { partial: true })).toMatchObject({ ok: true, text: 'ab' });
  });

  it('finds where the last complete UTF-8 character ends', () => {
    const bytes = utf8('a東');
    expect(completeUtf8Length(bytes)).toBe(4);
    expect(completeUtf8Length(bytes.subarray(0, 3))).toBe(1);
    expect(completeUtf8Length(bytes.subarray(0, 2))).toBe(1);
    expect(completeUtf8Length(new Uint8Array())).toBe(0);
  });
});
