import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from './atomic';

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * sha256 of a large file, remembered in `cacheDir` by path, size and mtime, so a 100 MB model is
 * hashed once rather than on every command.
 */
export async function cachedSha256File(file: string, cacheDir: string): Promise<string> {
  const absolute = path.resolve(file);
  const stat = await fs.promises.stat(absolute);
  const record = path.join(cacheDir, `${sha256Hex(absolute).slice(0, 32)}.json`);
  try {
    const cached = JSON.parse(await fs.promises.readFile(record, 'utf8')) as { size: number; mtimeMs: number; sha256: string };
    if (cached.size === stat.size && cached.mtimeMs === stat.mtimeMs) return cached.sha256;
  } catch {
    // No usable record: hash below.
  }
  const sha256 = await sha256File(absolute);
  await writeJsonAtomic(record, { file: absolute, size: stat.size, mtimeMs: stat.mtimeMs, sha256 });
  return sha256;
}
