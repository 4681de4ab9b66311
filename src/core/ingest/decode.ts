import { isUtf8 } from 'node:buffer';

/**
 * Turns file bytes into text the chunkers can trust: UTF-8 (with or without BOM) and UTF-16 with a
 * BOM, newlines normalised to "\n". Anything else is refused rather than guessed at, because a
 * wrongly decoded file embeds as noise and shows garbled snippets.
 */

export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be';

export type DecodeResult =
  | { ok: true; text: string; encoding: TextEncoding }
  | { ok: false; reason: 'undecodable' | 'binary' };

export interface DecodeOptions {
  /**
   * The bytes are only the start of a file (the scanner's 8 KB sniff): a multi-byte character cut
   * at the end is expected and not an error.
   */
  partial?: boolean;
}

interface Bom {
  encoding: TextEncoding | 'utf-32';
  length: number;
}

/** Reads the byte order mark, if any. UTF-32 is checked before UTF-16 LE: its BOM starts the same way. */
export function detectBom(bytes: Uint8Array): Bom | undefined {
  const [b0, b1, b2, b3] = bytes;
  if (b0 === 0xef && b1 === 0xbb && b2 === 0xbf) return { encoding: 'utf-8', length: 3 };
  if ((b0 === 0xff && b1 === 0xfe && b2 === 0 && b3 === 0) || (b0 === 0 && b1 === 0 && b2 === 0xfe && b3 === 0xff)) {
    return { encoding: 'utf-32', length: 4 };
  }
  if (b0 === 0xff && b1 === 0xfe) return { encoding: 'utf-16le', length: 2 };
  if (b0 === 0xfe && b1 === 0xff) return { encoding: 'utf-16be', length: 2 };
  return undefined;
}

export function decodeText(bytes: Uint8Array, options: DecodeOptions = {}): DecodeResult {
  const bom = detectBom(bytes);
  // UTF-32 is legal but so rare in source trees that supporting it is not worth a decoder.
  if (bom?.encoding === 'utf-32') return { ok: false, reason: 'undecodable' };
  const body = bytes.subarray(bom?.length ?? 0);
  let text: string;
  if (bom?.encoding === 'utf-16le' || bom?.encoding === 'utf-16be') {
    const decoded = decodeUtf16(body, bom.encoding, options.partial === true);
    if (decoded === undefined) return { ok: false, reason: 'undecodable' };
    text = decoded;
  } else {
    const complete = options.partial ? body.subarray(0, completeUtf8Length(body)) : body;
    // isUtf8 (simdutf) validates far faster than a fatal TextDecoder, and Buffer decoding is the
    // fastest way to a string once the bytes are known to be valid.
    if (!isUtf8(complete)) return { ok: false, reason: 'undecodable' };
    text = Buffer.from(complete.buffer, complete.byteOffset, complete.byteLength).toString('utf8');
  }
  // A NUL character is valid Unicode but never appears in text meant for people.
  if (text.includes('\0')) return { ok: false, reason: 'binary' };
  return { ok: true, text: normalizeNewlines(text), encoding: bom?.encoding ?? 'utf-8' };
}

/** CRLF (Windows) and lone CR (classic Mac) become LF, so line numbers agree with every editor. */
export function normalizeNewlines(text: string): string {
  return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
}

function decodeUtf16(body: Uint8Array, encoding: 'utf-16le' | 'utf-16be', partial: boolean): string | undefined {
  try {
    // A fresh decoder per call: `stream` keeps state between calls, and a cut-off final code unit
    // (odd byte or lone high surrogate) must be dropped, not reported, when only the head was read.
    return new TextDecoder(encoding, { fatal: true }).decode(body, { stream: partial });
  } catch {
    return undefined;
  }
}

/**
 * Length of the longest prefix that does not end inside a multi-byte UTF-8 sequence. Written here
 * because no decoder exposes it: TextDecoder's `stream` mode would do, but it is several times
 * slower than isUtf8 on the hot path of the scan.
 */
export function completeUtf8Length(bytes: Uint8Array): number {
  const end = bytes.length;
  // A sequence is at most 4 bytes, so only the last 3 can start an unfinished one.
  for (let back = 1; back <= Math.min(3, end); back += 1) {
    const byte = bytes[end - back] as number;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead byte
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? end - back : end;
  }
  return end;
}
