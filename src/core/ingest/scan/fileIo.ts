import * as fs from 'node:fs';
import { promisify } from 'node:util';
import type { SkipReason } from '../types';

/**
 * Reading files that may change, vanish or not be files at all while we look. Every failure
 * becomes a skip reason: one odd file must never stop a scan.
 *
 * Speed matters here (every file of the workspace passes through): each file system call is a
 * round trip to libuv's thread pool, so the status and the first read are asked for together, and
 * closing is not waited for. The callback API is used because FileHandle adds bookkeeping on
 * every call.
 */

export type ReadFailure = { ok: false; reason: SkipReason; size?: number };
export type SniffResult = { ok: true; size: number; head: Uint8Array; complete: boolean } | ReadFailure;
export type ReadResult = { ok: true; size: number; bytes: Uint8Array } | ReadFailure;

const open = promisify(fs.open);
const fstat = promisify(fs.fstat);
const read = promisify(fs.read);

/**
 * O_NONBLOCK makes opening a FIFO return at once instead of waiting for a writer forever (a FIFO
 * can replace a file between listing and reading), and reading it return at once too; fstat then
 * tells it is no regular file. Windows has no such flag and no FIFOs in the tree.
 */
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

/** Opens a file, or says why it cannot be. */
async function openFile(file: string): Promise<number | ReadFailure> {
  try {
    return await open(file, OPEN_FLAGS);
  } catch (error) {
    return { ok: false, reason: reasonForError(error) };
  }
}

function closeLater(fd: number): void {
  fs.close(fd, () => undefined);
}

/**
 * Status and a first read of up to `length` bytes, issued together. The status is judged first
 * (type, size limit): a read error from something that is no regular file (a FIFO with a writer
 * answers EAGAIN, a folder EISDIR) is not the reason to report.
 */
async function statAndRead(fd: number, length: number, maxBytes: number): Promise<{ stat: fs.Stats; buffer: Buffer; bytesRead: number } | ReadFailure> {
  const buffer = Buffer.allocUnsafe(length);
  const [stat, bytesRead] = await Promise.all([fstat(fd), read(fd, buffer, 0, length, 0).then((result) => result.bytesRead, (error: unknown) => error)]);
  if (!stat.isFile()) return { ok: false, reason: 'not a regular file' };
  if (stat.size > maxBytes) return { ok: false, reason: 'too large', size: stat.size };
  if (typeof bytesRead !== 'number') throw bytesRead;
  return { stat, buffer, bytesRead };
}

/** The first `sniffBytes` of a file, without reading the rest. */
export async function sniffFile(file: string, maxBytes: number, sniffBytes: number): Promise<SniffResult> {
  const fd = await openFile(file);
  if (typeof fd !== 'number') return fd;
  try {
    const first = await statAndRead(fd, sniffBytes, maxBytes);
    if ('ok' in first) return first;
    const { stat, buffer, bytesRead } = first;
    if (bytesRead === 0) return { ok: false, reason: 'empty', size: stat.size };
    // A short read is the end of the file, whatever fstat said a moment before.
    return { ok: true, size: Math.max(stat.size, bytesRead), head: buffer.subarray(0, bytesRead), complete: bytesRead < sniffBytes };
  } catch (error) {
    return { ok: false, reason: reasonForError(error) };
  } finally {
    closeLater(fd);
  }
}

/**
 * The whole file, read to its end rather than to the size fstat gave: a file that grows while it
 * is read is taken as it is at the end of the read, unless it grows past `maxBytes`, which is
 * checked as bytes arrive so a huge or endless file is never read whole. `expectedSize` (from the
 * scan) lets the usual file be read in one call.
 */
export async function readWholeFile(file: string, maxBytes: number, expectedSize = 64 * 1024): Promise<ReadResult> {
  const fd = await openFile(file);
  if (typeof fd !== 'number') return fd;
  try {
    // One byte more than expected, so that a short read proves the end was reached.
    const first = await statAndRead(fd, Math.min(expectedSize, maxBytes) + 1, maxBytes);
    if ('ok' in first) return first;
    let buffer = first.buffer;
    let length = first.bytesRead;
    while (length === buffer.length) {
      if (length > maxBytes) return { ok: false, reason: 'too large', size: length };
      const bigger = Buffer.allocUnsafe(Math.min(Math.max(buffer.length * 2, first.stat.size + 1), maxBytes + 1));
      buffer.copy(bigger, 0, 0, length);
      buffer = bigger;
      const { bytesRead } = await read(fd, buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return { ok: true, size: length, bytes: buffer.subarray(0, length) };
  } catch (error) {
    return { ok: false, reason: reasonForError(error) };
  } finally {
    closeLater(fd);
  }
}

/** Maps a file-system error to the reason shown to the user. */
export function reasonForError(error: unknown): SkipReason {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR': // a folder on the way was replaced by a file
      return 'vanished';
    case 'ELOOP':
      return 'symlink loop';
    case 'EISDIR':
      return 'not a regular file';
    default: // EACCES, EPERM, EIO, EAGAIN...: present but not readable by us
      return 'unreadable';
  }
}
