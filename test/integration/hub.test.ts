import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveModel } from '../../src/core/models/resolver';
import { tempDir } from '../helpers/env';
import { tinyModelDir } from '../helpers/models';

/**
 * The Hugging Face Hub cannot be reached from our machines, so its two endpoints (file tree and
 * file download) are served from a tiny model on a local server. This exercises the real download,
 * checksum and caching code, and lets the test corrupt a file on purpose, which the real hub
 * cannot be asked to do.
 */
describe('downloading a model from a Hugging Face-compatible endpoint', () => {
  const modelDir = tinyModelDir();
  const files = listFiles(modelDir);
  let server: http.Server;
  let endpoint = '';
  const requests: string[] = [];
  let corrupt = false;

  beforeAll(async () => {
    server = http.createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      requests.push(url.pathname);
      const tree = url.pathname.match(/^\/api\/models\/acme\/(tiny|broken)\/tree\/main$/);
      if (tree) {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify(files.map((file) => treeEntry(modelDir, file))));
        return;
      }
      const download = url.pathname.match(/^\/acme\/(tiny|broken)\/resolve\/main\/(.+)$/);
      if (download && files.includes(download[2] as string)) {
        const bytes = fs.readFileSync(path.join(modelDir, download[2] as string));
        if (corrupt && download[2] === 'model.safetensors') bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff;
        response.end(bytes);
        return;
      }
      response.statusCode = 404;
      response.end('not found');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('downloads configs, tokenizer and weights, verifies them, exports ONNX and caches the result', async () => {
    const home = tempDir();
    const progress: number[] = [];
    const model = await resolveModel('acme/tiny', { home, hub: { endpoint }, onProgress: (event) => event.unit === 'bytes' && progress.push(event.done) });
    expect(model.source).toBe('Hugging Face Hub acme/tiny@main');
    expect(model.conventions).toMatchObject({ pooling: 'mean', normalize: true, dimension: 32 });
    expect(fs.existsSync(model.fp32.path)).toBe(true);
    // Only what the engine needs is fetched (configs, tokenizer, weights; not the README).
    const fetched = listFiles(model.dir).filter((file) => !file.startsWith('.specialize'));
    expect(fetched).toEqual(expect.arrayContaining(['config.json', 'tokenizer.json', 'modules.json', '1_Pooling/config.json', 'model.safetensors']));
    expect(fetched).not.toContain('README.md');
    expect(progress.at(-1)).toBe(fetched.reduce((sum, file) => sum + fs.statSync(path.join(model.dir, file)).size, 0));

    const before = requests.length;
    const again = await resolveModel('acme/tiny', { home, hub: { endpoint } });
    expect(requests.length).toBe(before);
    expect(again.fp32.version).toBe(model.fp32.version);
  });

  it('rejects a corrupted download and leaves no partial model behind', async () => {
    const home = tempDir();
    corrupt = true;
    try {
      await expect(resolveModel('acme/broken', { home, hub: { endpoint } })).rejects.toThrow(/Checksum mismatch for acme\/broken\/model\.safetensors/);
    } finally {
      corrupt = false;
    }
    expect(fs.existsSync(path.join(home, 'hub'))).toBe(true);
    expect(fs.readdirSync(path.join(home, 'hub'))).toEqual([]);
  });

  it('says clearly when the model does not exist or the endpoint is unreachable', async () => {
    await expect(resolveModel('acme/missing', { home: tempDir(), hub: { endpoint } })).rejects.toThrow(/Model acme\/missing was not found/);
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(resolveModel('acme/tiny', { home: tempDir(), hub: { endpoint: `http://127.0.0.1:${port}` } })).rejects.toThrow(
      new RegExp(`Cannot reach http://127\\.0\\.0\\.1:${port} to download model acme/tiny \\(ECONNREFUSED\\)`),
    );
  });
});

function listFiles(dir: string, prefix = ''): string[] {
  return fs.readdirSync(path.join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.isDirectory() ? listFiles(dir, relative) : [relative];
  });
}

/** A tree entry as the hub reports it: weights as LFS (sha256), the rest as git blobs (sha1). */
function treeEntry(dir: string, file: string) {
  const bytes = fs.readFileSync(path.join(dir, file));
  if (file.endsWith('.safetensors')) {
    return { type: 'file', path: file, size: 135, oid: 'pointer', lfs: { oid: createHash('sha256').update(bytes).digest('hex'), size: bytes.length } };
  }
  return { type: 'file', path: file, size: bytes.length, oid: createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex') };
}
