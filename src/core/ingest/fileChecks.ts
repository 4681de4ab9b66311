import { decodeText, detectBom } from './decode';
import { contentKind, isProseKind } from './scan/contentKind';
import type { SkipReason } from './types';

/**
 * Cheap judgements about one file: first by name (no I/O), then by content (the first 8 KB during
 * the scan, the whole file when it is read for indexing). The same content checks run both times,
 * so a file larger than the sniff is judged on all of its text before anything is embedded.
 */

/** Bytes the scanner reads to sniff a file before deciding whether to read all of it. */
export const SNIFF_BYTES = 8192;

// ---------------------------------------------------------------------------------------------
// By name

/** Dependency lock files: long, machine-written, and useless as answers to a question. */
const LOCK_FILES = new Set([
  'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lockb', 'bun.lock', 'deno.lock',
  'cargo.lock', 'poetry.lock', 'pipfile.lock', 'pdm.lock', 'uv.lock', 'pylock.toml', 'composer.lock', 'go.sum', 'go.work.sum',
  'gemfile.lock', 'podfile.lock', 'package.resolved', 'packages.lock.json', 'gradle.lockfile', 'mix.lock', 'pubspec.lock',
  'flake.lock', 'conan.lock', '.terraform.lock.hcl', 'shard.lock',
]);

/** Conventional names of build output: minified bundles, and files written by code generators. */
const MINIFIED_NAME = /[.-]min\.(js|mjs|cjs|css)$/i;
const GENERATED_NAME = /(\.map|_pb2(_grpc)?\.pyi?|\.pb\.(go|cc|h)|\.pb\.gw\.go|\.g\.dart|\.freezed\.dart|\.generated\.\w+|\.designer\.cs)$/i;

/** A verdict from the name alone, before the file is opened. */
export function checkFileName(fileName: string): SkipReason | undefined {
  const lower = fileName.toLowerCase();
  if (LOCK_FILES.has(lower) || lower.endsWith('.lock') || lower.endsWith('.lockb')) return 'lock file';
  if (MINIFIED_NAME.test(fileName)) return 'minified';
  if (GENERATED_NAME.test(fileName)) return 'generated';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// By content

/**
 * File signatures of formats that are binary even where their first bytes contain no NUL.
 * Signatures made of letters are kept long enough (with the bytes that follow them) that no
 * text file starts with one by chance. `undefined` matches any byte.
 */
const MAGIC_NUMBERS: readonly (readonly (number | undefined)[])[] = [
  [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], // PNG
  [0xff, 0xd8, 0xff], // JPEG
  ascii('GIF87a'), ascii('GIF89a'),
  ascii('%PDF-'),
  [0x50, 0x4b, 0x03, 0x04], [0x50, 0x4b, 0x05, 0x06], [0x50, 0x4b, 0x07, 0x08], // ZIP (also jar, docx, xlsx, whl, vsix)
  [0x1f, 0x8b], // gzip
  [0x42, 0x5a, 0x68, undefined, 0x31, 0x41, 0x59, 0x26, 0x53, 0x59], // bzip2 "BZh9" + block magic
  [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], // xz
  [0x28, 0xb5, 0x2f, 0xfd], // zstd
  [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], // 7z
  ascii('Rar!\x1a\x07'),
  [0x7f, 0x45, 0x4c, 0x46], // ELF
  [0xfe, 0xed, 0xfa, 0xce], [0xfe, 0xed, 0xfa, 0xcf], [0xce, 0xfa, 0xed, 0xfe], [0xcf, 0xfa, 0xed, 0xfe], // Mach-O
  [0xca, 0xfe, 0xba, 0xbe], // Mach-O universal, Java class
  [0x00, 0x61, 0x73, 0x6d], // WebAssembly "\0asm"
  ascii('SQLite format 3\0'),
  ascii('OggS\0'), ascii('fLaC'), ascii('wOFF'), ascii('wOF2'), ascii('OTTO\0'), ascii('8BPS\0\x01'),
  ascii('PAR1'), ascii('ARROW1'), [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59], // Parquet, Arrow, NumPy
  [0x49, 0x49, 0x2a, 0x00], [0x4d, 0x4d, 0x00, 0x2a], // TIFF
  ...['WAVE', 'AVI ', 'WEBP'].map((form) => [...ascii('RIFF'), undefined, undefined, undefined, undefined, ...ascii(form)]), // RIFF
  [undefined, undefined, undefined, undefined, 0x66, 0x74, 0x79, 0x70], // ISO media "ftyp" (MP4, MOV, HEIC, AVIF)
];

function ascii(text: string): number[] {
  return Array.from(text, (char) => char.charCodeAt(0));
}

function startsWithSignature(bytes: Uint8Array, signature: readonly (number | undefined)[]): boolean {
  if (bytes.length < signature.length) return false;
  return signature.every((byte, i) => byte === undefined || bytes[i] === byte);
}

/**
 * Windows executables start with "MZ", which plain text can too; the PE header offset at 0x3C must
 * also point at "PE\0\0" (only checked when the head reaches it).
 */
function isPortableExecutable(bytes: Uint8Array): boolean {
  if (bytes[0] !== 0x4d || bytes[1] !== 0x5a || bytes.length < 0x40) return false;
  const offset = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0x3c, true);
  return offset + 4 <= bytes.length && bytes[offset] === 0x50 && bytes[offset + 1] === 0x45 && bytes[offset + 2] === 0 && bytes[offset + 3] === 0;
}

/** True for bytes that are certainly not text: a known binary signature, or NUL bytes outside UTF-16. */
export function looksBinary(bytes: Uint8Array): boolean {
  if (MAGIC_NUMBERS.some((signature) => startsWithSignature(bytes, signature)) || isPortableExecutable(bytes)) return true;
  const bom = detectBom(bytes);
  // UTF-16 text is full of zero bytes; its own decoder rejects NUL characters instead.
  if (bom?.encoding === 'utf-16le' || bom?.encoding === 'utf-16be') return false;
  return bytes.indexOf(0) >= 0;
}

/** Thresholds of the minified check (see `minifiedOrGenerated`), chosen on real trees. */
export const MINIFIED_LIMITS = {
  /** Hand-written code rarely has a line this long; bundles almost always do. */
  maxLineChars: 1000,
  /**
   * ...but one long import list or type union is no reason to drop a file: it is minified when its
   * long lines hold at least this share of its characters (a bundle's hold nearly all).
   */
  minLongLineShare: 0.5,
  /** A few very long lines (a bundle wrapped at 500 columns) are minified even under the limit. */
  fewLines: 10,
  maxAverageLineChars: 300,
  /**
   * Among non-space characters. Real code goes down to about 0.3 (comment rulers, regex tables),
   * so this only catches text that is nearly all punctuation (packed numeric data, art).
   */
  minAlphanumericRatio: 0.25,
  /** The ratio is only meaningful on a decent amount of text. */
  minCharsForRatio: 400,
};

/** Conventional "this file is generated" markers, looked for near the top of the file only. */
const GENERATED_MARKER_LINES = 12;
const GENERATED_MARKERS = [/@generated\b/, /\bDO NOT EDIT\b/, /<auto-generated/i, /\bgenerated\b.*\bdo not (edit|modify)\b/i, /\bdo not (edit|modify)\b.*\bgenerated\b/i];

export function hasGeneratedMarker(text: string): boolean {
  let end = 0;
  for (let line = 0; line < GENERATED_MARKER_LINES && end >= 0; line += 1) end = text.indexOf('\n', end + 1);
  const top = end < 0 ? text : text.slice(0, end);
  return GENERATED_MARKERS.some((marker) => marker.test(top));
}

interface TextShape {
  nonEmptyLines: number;
  /** Characters in lines longer than `MINIFIED_LIMITS.maxLineChars`. */
  inLongLines: number;
  /** Characters that are neither space nor line break. */
  visible: number;
  alphanumeric: number;
}

/** One pass over the text, by char code: this runs on every file and must stay cheap. */
function measure(text: string): TextShape {
  let nonEmptyLines = 0;
  let lineLength = 0;
  let lineVisible = 0;
  let inLongLines = 0;
  let visible = 0;
  let alphanumeric = 0;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code === 10) {
      if (lineLength > MINIFIED_LIMITS.maxLineChars) inLongLines += lineLength;
      if (lineVisible > 0) nonEmptyLines += 1;
      lineLength = 0;
      lineVisible = 0;
      continue;
    }
    lineLength += 1;
    if (code === 32 || code === 9) continue;
    visible += 1;
    lineVisible += 1;
    // Letters of other scripts (code > 127) count as alphanumeric: a Japanese README is prose.
    if ((code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code > 127) alphanumeric += 1;
  }
  if (lineLength > MINIFIED_LIMITS.maxLineChars) inLongLines += lineLength;
  if (lineVisible > 0) nonEmptyLines += 1;
  return { nonEmptyLines, inLongLines, visible, alphanumeric };
}

/**
 * Minified or machine-packed text: mostly very long lines, a few long lines, or mostly punctuation.
 * Prose is exempt from the line rules (editors soft-wrap, so a paragraph is often one line) but
 * not from the punctuation rule.
 */
export function looksMinified(text: string, kind: string): boolean {
  const shape = measure(text);
  const limits = MINIFIED_LIMITS;
  if (!isProseKind(kind)) {
    if (shape.inLongLines > 0 && shape.inLongLines >= limits.minLongLineShare * text.length) return true;
    if (shape.nonEmptyLines > 0 && shape.nonEmptyLines <= limits.fewLines && text.length / shape.nonEmptyLines > limits.maxAverageLineChars) return true;
  }
  return shape.visible >= limits.minCharsForRatio && shape.alphanumeric / shape.visible < limits.minAlphanumericRatio;
}

export type ContentVerdict = { ok: true; text: string; kind: string } | { ok: false; reason: SkipReason };

export interface InspectOptions {
  /** Name of the file (its kind decides which checks apply). */
  fileName: string;
  /** False when `bytes` is only the start of the file. */
  complete: boolean;
}

/** The content checks, in order of certainty: binary, undecodable, empty, generated, minified. */
export function inspectContent(bytes: Uint8Array, options: InspectOptions): ContentVerdict {
  if (looksBinary(bytes)) return { ok: false, reason: 'binary' };
  const decoded = decodeText(bytes, { partial: !options.complete });
  if (!decoded.ok) return { ok: false, reason: decoded.reason };
  const { text } = decoded;
  if (options.complete && text.trim() === '') return { ok: false, reason: 'empty' };
  if (hasGeneratedMarker(text)) return { ok: false, reason: 'generated' };
  const kind = contentKind(options.fileName);
  if (looksMinified(text, kind)) return { ok: false, reason: 'minified' };
  return { ok: true, text, kind };
}
