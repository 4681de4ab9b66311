import { afterAll } from 'vitest';
import { removeTempDirs } from './env';

// A setup file runs before each test file, in that file's module graph: this hook removes the
// folders the file made as soon as it is done, instead of at the end of the whole run.
afterAll(removeTempDirs);
