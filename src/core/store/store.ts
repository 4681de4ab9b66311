import * as fs from 'node:fs';
import * as path from 'node:path';
import './nativeLogLevel';
import * as lancedb from '@lancedb/lancedb';
import { isSpecializeError, SpecializeError, throwIfAborted } from '../errors';
import type { Embedder } from '../embed/embedder';
import type { ProgressListener } from '../progress';
import { Bm25Index } from '../lexical/bm25Index';
import { encodeTermCounts } from '../lexical/analyzer';
import { sha256Hex } from '../util/hash';
import { corrupt, newManifest, readManifest, writeManifest, MANIFEST_FILE, type ModelEntry, type ModelEvaluation, type StoreManifest } from './manifest';
import { isInsideStore, locatedEntry, modelLocation, recordedModelId } from './modelLocation';
import { checkEvaluation, checkTunedFrom, normalizeLabel } from './modelNotes';
import { findModelVersion, unknownModelVersion } from './modelVersions';
import { vectorDistance, type VectorDistance } from '../models/conventions';
import { passageSchema, vectorSchema, type PassageRow, type StoredPassage, type VectorRow } from './schema';
import { chunked, sqlIn } from './sql';
import { ensureDir } from '../util/ensureDir';

/** A passage to store. Ids are stable keys chosen by the caller (e.g. path and line range). */
export interface PassageInput {
  id: string;
  root: string;
  path: string;
  title?: string;
  text: string;
  startLine?: number;
  endLine?: number;
}

export interface SyncSummary {
  added: number;
  changed: number;
  unchanged: number;
  removed: number;
}

export interface VectorSummary {
  version: string;
  embedded: number;
  removed: number;
  total: number;
  /** Seconds spent building or updating the ANN index (0 while search is exact). */
  indexSeconds: number;
}

export interface ScoredId {
  id: string;
  score: number;
}

export interface StoreOptions {
  /** Rows after which a vector table gets an ANN index; below it, search is exact. */
  annThreshold?: number;
}

interface CallOptions {
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

const PASSAGES = 'passages';
const DB_FOLDER = 'db';
/** Rows per write: each write is one atomic commit, so a kill loses at most one batch. */
const WRITE_BATCH = 1000;
/** Passages embedded per commit: about ten seconds of CPU work at risk if the process is killed. */
const EMBED_COMMIT_BATCH = 512;
/** Ids per `IN (...)` filter, to keep SQL strings small. */
const FILTER_CHUNK = 500;
/**
 * LanceDB's flat scan costs about 1 ms per 1,000 vectors (384-d, 2 cores): 10 ms at 10k, 53 ms at
 * 100k. Past 10k rows the HNSW index answers in 2-5 ms with recall@10 of 0.99-1.0 on the dev
 * collections (bench/README.md), so it takes over there. Evaluation always searches exactly.
 */
export const DEFAULT_ANN_THRESHOLD = 10_000;

/**
 * The index on disk: an embedded LanceDB database with one `passages` table (text, metadata and
 * analyzed terms for BM25) and one vector table per model version, plus `store.json`, which records the
 * format and which model versions exist. Every write is an atomic LanceDB commit, so a process
 * killed mid-write leaves the store at its last commit; the next run finishes the work.
 */
export class Store {
  private passagesTable: lancedb.Table | undefined;
  /**
   * What is kept in memory about the passages table, rebuilt from one scan whenever the table's
   * version moves on: the BM25 index, and each passage's row id so results are fetched by
   * position instead of by scanning for their ids.
   */
  private catalog: PassageCatalog | undefined;
  private readonly vectorTables = new Map<string, lancedb.Table>();
  private readonly vectorIndexed = new Map<string, boolean>();
  /** Vector tables whose dimension was checked against the model (once per table, not per query). */
  private readonly checkedDimensions = new Map<string, number>();

  private constructor(
    readonly dir: string,
    private readonly db: lancedb.Connection,
    private manifest: StoreManifest,
    private readonly options: StoreOptions,
  ) {}

  static async open(dir: string, options: StoreOptions & { create?: boolean } = {}): Promise<Store> {
    const root = path.resolve(dir);
    if (!fs.existsSync(root)) {
      if (!options.create) {
        throw new SpecializeError(`There is no index at ${root}.`, `Build one first: specialize index <folder> --store ${dir}`, 'not-found');
      }
      await ensureDir(root);
    } else if (!fs.statSync(root).isDirectory()) {
      throw new SpecializeError(`--store ${root} is a file, not a folder.`, 'Pass a folder for the index (it is created if missing).', 'invalid-input');
    }
    let manifest = await readManifest(root);
    if (!manifest) {
      const entries = (await fs.promises.readdir(root)).filter((entry) => !entry.startsWith('.'));
      if (entries.includes(DB_FOLDER)) throw corrupt(root, `${MANIFEST_FILE} is missing`);
      if (!options.create) {
        throw new SpecializeError(`There is no index at ${root}.`, `Build one first: specialize index <folder> --store ${dir}`, 'not-found');
      }
      if (entries.length > 0) {
        // Never write into a folder that holds something else: it could be the user's data.
        throw new SpecializeError(`${root} is not empty and is not a Specialize index.`, 'Choose an empty or new folder for --store.', 'invalid-input');
      }
      manifest = newManifest();
      await writeManifest(root, manifest);
    }
    let db: lancedb.Connection;
    try {
      db = await lancedb.connect(path.join(root, DB_FOLDER));
    } catch (error) {
      throw corrupt(root, `LanceDB cannot open it (${(error as Error).message})`);
    }
    const store = new Store(root, db, manifest, options);
    await store.openTables();
    return store;
  }

  /** The model versions, each `modelId` a usable location (see modelLocation.ts). */
  get models(): readonly ModelEntry[] {
    return Object.values(this.manifest.models).map((entry) => locatedEntry(this.dir, entry));
  }

  get activeModel(): ModelEntry | undefined {
    const entry = this.manifest.activeModel ? this.manifest.models[this.manifest.activeModel] : undefined;
    return entry ? locatedEntry(this.dir, entry) : undefined;
  }

  async passageCount(): Promise<number> {
    return this.passagesTable ? this.passagesTable.countRows() : 0;
  }

  /**
   * Makes the stored passages in scope equal to `inputs`: writes new and changed ones, deletes
   * those that vanished, leaves unchanged ones alone (their vectors stay valid). The scope is the
   * given files (a watcher's batch of changes), else the given roots, else the inputs' roots.
   */
  async syncPassages(inputs: readonly PassageInput[], options: CallOptions & { roots?: readonly string[]; files?: readonly { root: string; path: string }[] } = {}): Promise<SyncSummary> {
    const rows = inputs.map(toRow);
    const unique = new Map(rows.map((row) => [row.id, row]));
    if (unique.size !== rows.length) throw new SpecializeError('Two passages share one id.', 'Give every passage a unique id.', 'invalid-input');
    const files = options.files ? new Set(options.files.map((file) => fileKey(file.root, file.path))) : undefined;
    const roots = new Set(options.roots ?? rows.map((row) => row.root));
    const existing = await this.readIdHashes(this.passagesTable, (row) => (files ? inFileScope(files, row.root, row.path) : roots.has(row.root)));

    const toWrite = rows.filter((row) => existing.get(row.id) !== row.hash);
    const added = toWrite.filter((row) => !existing.has(row.id)).length;
    const vanished = [...existing.keys()].filter((id) => !unique.has(id));
    const total = toWrite.length + vanished.length;
    let done = 0;
    const report = () => options.onProgress?.({ stage: 'store passages', done, total, unit: 'passages' });
    report();
    for (const batch of chunked(toWrite, WRITE_BATCH)) {
      throwIfAborted(options.signal, 'indexing');
      await this.writePassages(batch);
      done += batch.length;
      report();
    }
    for (const batch of chunked(vanished, FILTER_CHUNK)) {
      throwIfAborted(options.signal, 'indexing');
      await this.passagesTable?.delete(sqlIn('id', batch));
      done += batch.length;
      report();
    }
    return { added, changed: toWrite.length - added, unchanged: rows.length - toWrite.length, removed: vanished.length };
  }

  /**
   * Embeds every passage whose vector for this model version is missing or stale, and drops
   * vectors of passages that are gone. Commits every few hundred passages, so it resumes.
   */
  async syncVectors(embedder: Embedder, modelId: string, options: CallOptions = {}): Promise<VectorSummary> {
    const version = embedder.version;
    const table = await this.vectorTable(version, embedder.dimension);
    const passages = await this.readIdHashes(this.passagesTable);
    const vectors = await this.readIdHashes(table);
    const stale = [...vectors.keys()].filter((id) => !passages.has(id));
    const todo = [...passages.entries()].filter(([id, hash]) => vectors.get(id) !== hash).map(([id]) => id);

    for (const batch of chunked(stale, FILTER_CHUNK)) await table?.delete(sqlIn('id', batch));
    let done = 0;
    const report = () => options.onProgress?.({ stage: 'embed passages', done, total: todo.length, unit: 'passages' });
    report();
    const texts = await this.readTexts(new Set(todo));
    for (const batch of chunked(todo, EMBED_COMMIT_BATCH)) {
      throwIfAborted(options.signal, 'embedding');
      const inputs = batch.map((id) => texts.get(id) as { hash: string; text: string });
      const embedded = await embedder.embed(
        inputs.map((input) => input.text),
        'passage',
        {
          ...(options.signal ? { signal: options.signal } : {}),
          onProgress: (batchDone) => options.onProgress?.({ stage: 'embed passages', done: done + batchDone, total: todo.length, unit: 'passages' }),
        },
      );
      const rows: VectorRow[] = batch.map((id, i) => ({ id, hash: (inputs[i] as { hash: string }).hash, vector: embedded[i] as Float32Array }));
      await this.writeVectors(version, embedder.dimension, rows);
      done += batch.length;
      report();
    }
    const vectorTable = await this.vectorTable(version, embedder.dimension);
    const indexStarted = performance.now();
    if (vectorTable) await this.ensureVectorIndex(vectorTable, vectorDistance(embedder.model.conventions));
    this.vectorIndexed.delete(version);
    const indexSeconds = (performance.now() - indexStarted) / 1000;
    await this.recordModel({ version, modelId, precision: embedder.precision, dimension: embedder.dimension, table: vectorTableName(version), updated: new Date().toISOString() });
    return { version, embedded: todo.length, removed: stale.length, total: passages.size, indexSeconds };
  }

  /** Nearest passages by the model's similarity; the score is the similarity itself. */
  async searchDense(version: string, vector: Float32Array, k: number, options: { exact?: boolean; distance?: VectorDistance } = {}): Promise<ScoredId[]> {
    const table = await this.vectorTable(version, vector.length);
    if (!table) {
      throw new SpecializeError(`The index has no vectors for model version ${version}.`, 'Run `specialize index` with this model to embed the passages.', 'not-found');
    }
    const indexed = !options.exact && (await this.hasVectorIndex(version));
    // A flat scan computes dot products fastest; the vectors of cosine models are stored
    // normalised, so dot ranks exactly like cosine, the distance the ANN index is built with.
    const distance = !indexed && options.distance === 'cosine' ? 'dot' : (options.distance ?? 'cosine');
    let query = table.vectorSearch(vector).distanceType(distance).select(['id', '_distance']).limit(k);
    query = indexed ? query.ef(Math.max(ANN_MIN_EF, 4 * k)).refineFactor(ANN_REFINE) : query.bypassVectorIndex();
    const rows = (await query.toArray()) as { id: string; _distance: number }[];
    // LanceDB reports distances: 1 - cosine, 1 - dot, or squared L2.
    return rows.map((row) => ({ id: row.id, score: distance === 'l2' ? -row._distance : 1 - row._distance }));
  }

  /** BM25 over titles and text (Lucene analysis and scoring, k1 0.9, b 0.4). */
  async searchBm25(query: string, k: number): Promise<ScoredId[]> {
    const catalog = await this.passageCatalog();
    return catalog ? catalog.bm25.search(query, k) : [];
  }

  /** BM25 scores of the given passages for a query, with the whole index's statistics (0 where nothing matches). */
  async bm25Scores(query: string, ids: readonly string[]): Promise<number[]> {
    const catalog = await this.passageCatalog();
    return catalog ? catalog.bm25.scoresOf(query, ids) : ids.map(() => 0);
  }

  async fetchPassages(ids: readonly string[]): Promise<Map<string, StoredPassage>> {
    const found = new Map<string, StoredPassage>();
    const catalog = await this.passageCatalog();
    if (!catalog || ids.length === 0) return found;
    const rowIds = [...new Set(ids)].flatMap((id) => {
      const rowId = catalog.rowIds.get(id);
      return rowId === undefined ? [] : [rowId];
    });
    // LanceDB rejects an empty row-id list (it builds `_rowid in ()`).
    if (rowIds.length === 0) return found;
    const rows = (await (this.passagesTable as lancedb.Table).takeRowIds(rowIds).select(PASSAGE_COLUMNS).toArray()) as StoredPassage[];
    for (const row of rows) found.set(row.id, row);
    return found;
  }

  /** What the model embeds for each passage (title and text together), for training on the same text. */
  async embeddedTexts(ids: readonly string[]): Promise<Map<string, string>> {
    const texts = await this.readTexts(new Set(ids));
    return new Map([...texts].map(([id, entry]) => [id, entry.text]));
  }

  /** Every stored passage, sorted by root, path and first line (for inspection and tests). */

  async listPassages(): Promise<StoredPassage[]> {
    if (!this.passagesTable) return [];
    const rows = (await this.passagesTable.query().select(PASSAGE_COLUMNS).toArray()) as StoredPassage[];
    return rows.sort((a, b) => (a.root !== b.root ? (a.root < b.root ? -1 : 1) : a.path !== b.path ? (a.path < b.path ? -1 : 1) : (a.start_line ?? 0) - (b.start_line ?? 0)));
  }

  /** Vectors stored for a model version (0 when none). */
  /** Every vector of a model version with its passage id, for exact search in memory. */
  async readVectors(version: string): Promise<{ ids: string[]; vectors: Float32Array[] }> {
    const table = await this.vectorTableIfExists(version);
    if (!table) throw new SpecializeError(`The index has no vectors for model version ${version}.`, 'Run `specialize index` with this model to embed the passages.', 'not-found');
    const ids: string[] = [];
    const vectors: Float32Array[] = [];
    for await (const batch of table.query().select(['id', 'vector'])) {
      const idColumn = batch.getChild('id');
      const vectorColumn = batch.getChild('vector');
      for (let row = 0; row < batch.numRows; row += 1) {
        ids.push(String(idColumn?.get(row)));
        const value = vectorColumn?.get(row) as { toArray(): Float32Array } | null;
        vectors.push(Float32Array.from(value ? value.toArray() : []));
      }
    }
    return { ids, vectors };
  }

  async vectorCount(version: string): Promise<number> {
    const table = this.vectorTables.get(version) ?? (await this.vectorTableIfExists(version));
    return table ? table.countRows() : 0;
  }

  /** Cached per version; reset whenever syncVectors may have built an index. */
  private async hasVectorIndex(version: string): Promise<boolean> {
    let indexed = this.vectorIndexed.get(version);
    if (indexed === undefined) {
      indexed = (await this.vectorIndexType(version)) !== undefined;
      this.vectorIndexed.set(version, indexed);
    }
    return indexed;
  }

  /** The ANN index type of a model version's vectors, or undefined while search is exact. */
  async vectorIndexType(version: string): Promise<string | undefined> {
    const table = await this.vectorTableIfExists(version);
    const index = (await table?.listIndices())?.find((candidate) => candidate.columns.includes('vector'));
    return index?.indexType;
  }

  async setActiveModel(version: string): Promise<void> {
    this.modelEntry(version);
    this.manifest = { ...this.manifest, activeModel: version };
    await writeManifest(this.dir, this.manifest);
  }

  /**
   * Removes a version that is not the active one: its entry first (so a crash part-way leaves unused
   * files, never an entry without vectors), then its vectors, then the model copy inside the store
   * when no other version uses it. Returns the version and the model folder it deleted, if any.
   */
  async removeModel(versionOrPrefix: string): Promise<{ version: string; modelFolder?: string }> {
    const entry = findModelVersion(this.manifest.models, versionOrPrefix, this.dir);
    if (entry.version === this.manifest.activeModel) {
      throw new SpecializeError(
        `${entry.version} is the active model of the index at ${this.dir}: searches use it.`,
        `Make another version active first (\`specialize use <version> --store ${this.dir}\`), then remove this one.`,
        'invalid-input',
      );
    }
    const { [entry.version]: _removed, ...models } = this.manifest.models;
    this.manifest = { ...this.manifest, models };
    await writeManifest(this.dir, this.manifest);
    this.vectorTables.get(entry.version)?.close();
    this.vectorTables.delete(entry.version);
    this.vectorIndexed.delete(entry.version);
    if ((await this.db.tableNames()).includes(entry.table)) await this.db.dropTable(entry.table);
    const owned = isInsideStore(entry.modelId) && !Object.values(models).some((other) => other.modelId === entry.modelId);
    if (!owned) return { version: entry.version };
    const modelFolder = modelLocation(this.dir, entry.modelId);
    await fs.promises.rm(modelFolder, { recursive: true, force: true });
    // The content-hash folder above it goes too once it holds nothing else.
    await fs.promises.rmdir(path.dirname(modelFolder)).catch(() => undefined);
    return { version: entry.version, modelFolder };
  }

  /** The model version named exactly or by a unique prefix (what a person types). */
  findModel(versionOrPrefix: string): ModelEntry {
    return locatedEntry(this.dir, findModelVersion(this.manifest.models, versionOrPrefix, this.dir));
  }

  /** Keeps a version's latest scores in store.json, replacing any earlier evaluation of it. */
  async recordEvaluation(version: string, evaluation: ModelEvaluation): Promise<void> {
    const entry = this.modelEntry(version);
    checkEvaluation(evaluation);
    await this.updateModel({ ...entry, evaluation });
  }

  /** Sets (a string) or removes (null) a version's label and base; a key left out stays as it is. */
  async annotateModel(version: string, notes: { label?: string | null; tunedFrom?: string | null }): Promise<void> {
    const entry = { ...this.modelEntry(version) };
    if (notes.label === null) delete entry.label;
    else if (notes.label !== undefined) entry.label = normalizeLabel(notes.label);
    if (notes.tunedFrom === null) delete entry.tunedFrom;
    else if (notes.tunedFrom !== undefined) entry.tunedFrom = checkTunedFrom(version, notes.tunedFrom);
    await this.updateModel(entry);
  }

  /** Folder size in bytes (LanceDB data, indexes and manifest). */
  async diskBytes(): Promise<number> {
    return folderBytes(this.dir);
  }

  close(): void {
    this.passagesTable?.close();
    for (const table of this.vectorTables.values()) table.close();
    this.db.close();
  }

  private async openTables(): Promise<void> {
    const names = new Set(await this.db.tableNames());
    try {
      if (names.has(PASSAGES)) this.passagesTable = await this.openCommittedTable(PASSAGES);
      if (this.passagesTable) await this.checkPassageSchema(this.passagesTable);
      for (const entry of Object.values(this.manifest.models)) {
        const table = names.has(entry.table) ? await this.openCommittedTable(entry.table) : undefined;
        if (table) this.vectorTables.set(entry.version, table);
      }
    } catch (error) {
      if (isSpecializeError(error)) throw error;
      throw corrupt(this.dir, `a table cannot be opened (${(error as Error).message})`);
    }
  }

  /**
   * Opens a table, or returns undefined for one whose creation never committed (a process killed
   * while creating it leaves a folder without versions); the next write recreates it.
   */
  private async openCommittedTable(name: string): Promise<lancedb.Table | undefined> {
    try {
      return await this.db.openTable(name);
    } catch (error) {
      if (/was not found|_versions/.test((error as Error).message)) return undefined;
      throw error;
    }
  }

  /** A table written by another version of the schema is reported, never silently misread. */
  private async checkPassageSchema(table: lancedb.Table): Promise<void> {
    const actual = new Set((await table.schema()).fields.map((field) => field.name));
    const missing = passageSchema.fields.map((field) => field.name).filter((name) => !actual.has(name));
    if (missing.length > 0) {
      throw new SpecializeError(
        `The index at ${this.dir} was built by another version of Specialize (its passages lack ${missing.join(', ')}).`,
        `Rebuild it: move the folder aside and run \`specialize index <folder> --store ${this.dir}\` again (your source files are untouched).`,
        'store-version',
      );
    }
  }

  private async writePassages(rows: PassageRow[]): Promise<void> {
    if (!this.passagesTable) {
      this.passagesTable = await this.db.createTable(PASSAGES, rows as unknown as Record<string, unknown>[], { schema: passageSchema, mode: 'overwrite' });
      return;
    }
    await this.passagesTable.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows as unknown as Record<string, unknown>[]);
  }

  private async writeVectors(version: string, dimension: number, rows: VectorRow[]): Promise<void> {
    const data = rows.map((row) => ({ id: row.id, hash: row.hash, vector: Array.from(row.vector) }));
    let table = this.vectorTables.get(version);
    if (!table) {
      table = await this.db.createTable(vectorTableName(version), data, { schema: vectorSchema(dimension), mode: 'overwrite' });
      this.vectorTables.set(version, table);
      return;
    }
    await table.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(data);
  }

  /** The vector table of a model version, also when an interrupted run made it but never recorded it. */
  private async vectorTableIfExists(version: string): Promise<lancedb.Table | undefined> {
    let table = this.vectorTables.get(version);
    if (!table) {
      if (!(await this.db.tableNames()).includes(vectorTableName(version))) return undefined;
      table = await this.openCommittedTable(vectorTableName(version));
      if (!table) return undefined;
      this.vectorTables.set(version, table);
    }
    return table;
  }

  private async vectorTable(version: string, dimension: number): Promise<lancedb.Table | undefined> {
    const table = await this.vectorTableIfExists(version);
    if (!table || this.checkedDimensions.get(version) === dimension) return table;
    const field = (await table.schema()).fields.find((f) => f.name === 'vector');
    const size = (field?.type as { listSize?: number } | undefined)?.listSize;
    if (size !== dimension) throw corrupt(this.dir, `vectors of ${version} have ${size} dimensions, the model has ${dimension}`);
    this.checkedDimensions.set(version, dimension);
    return table;
  }


  /** Every row's content hash, optionally only of rows (passages) in scope. */
  private async readIdHashes(table: lancedb.Table | undefined, inScope?: (row: { root: string; path: string }) => boolean): Promise<Map<string, string>> {
    const result = new Map<string, string>();
    if (!table) return result;
    const columns = inScope ? ['id', 'hash', 'root', 'path'] : ['id', 'hash'];
    const rows = (await table.query().select(columns).toArray()) as { id: string; hash: string; root: string; path: string }[];
    for (const row of rows) if (!inScope || inScope(row)) result.set(row.id, row.hash);
    return result;
  }

  private async readTexts(ids: ReadonlySet<string>): Promise<Map<string, { hash: string; text: string }>> {
    const texts = new Map<string, { hash: string; text: string }>();
    if (!this.passagesTable || ids.size === 0) return texts;
    const rows = (await this.passagesTable.query().select(['id', 'hash', 'search_text']).toArray()) as { id: string; hash: string; search_text: string }[];
    for (const row of rows) if (ids.has(row.id)) texts.set(row.id, { hash: row.hash, text: row.search_text });
    return texts;
  }

  private async passageCatalog(): Promise<PassageCatalog | undefined> {
    const table = this.passagesTable;
    if (!table) return undefined;
    const tableVersion = await table.version();
    if (this.catalog?.tableVersion !== tableVersion) {
      const rows = (await table.query().select(['id', 'terms']).withRowId().toArray()) as { id: string; terms: string; _rowid: bigint }[];
      this.catalog = { tableVersion, bm25: Bm25Index.build(rows), rowIds: new Map(rows.map((row) => [row.id, row._rowid])) };
    }
    return this.catalog;
  }

  /** Exact search below the threshold; above it an ANN index, kept current as rows change. */
  private async ensureVectorIndex(table: lancedb.Table, distance: VectorDistance): Promise<void> {
    const index = (await table.listIndices()).find((candidate) => candidate.columns.includes('vector'));
    if (index) {
      if (await hasUnindexedRows(table, index.name)) await table.optimize();
    } else if ((await table.countRows()) >= (this.options.annThreshold ?? DEFAULT_ANN_THRESHOLD)) {
      // HNSW over scalar-quantised vectors builds in seconds (16 s at 100k × 384 on 2 cores); the
      // refine step at query time re-ranks candidates on the full vectors, so recall stays close
      // to exact search (see ANN_MIN_EF).
      await table.createIndex('vector', { config: lancedb.Index.hnswSq({ distanceType: distance, numPartitions: 1 }) });
    }
  }

  private async recordModel(entry: ModelEntry): Promise<void> {
    // Re-embedding a version refreshes its vectors, not what was said about it: the label, the
    // base it was tuned from and its evaluation stay.
    const recorded = { ...entry, modelId: recordedModelId(this.dir, entry.modelId) };
    const previous = this.manifest.models[entry.version];
    const models = { ...this.manifest.models, [entry.version]: previous ? { ...previous, ...recorded } : recorded };
    this.manifest = { ...this.manifest, models, activeModel: this.manifest.activeModel ?? entry.version };
    await writeManifest(this.dir, this.manifest);
  }

  private modelEntry(version: string): ModelEntry {
    const entry = this.manifest.models[version];
    if (!entry) throw unknownModelVersion(this.manifest.models, version, this.dir);
    return entry;
  }

  private async updateModel(entry: ModelEntry): Promise<void> {
    this.manifest = { ...this.manifest, models: { ...this.manifest.models, [entry.version]: entry } };
    await writeManifest(this.dir, this.manifest);
  }
}

interface PassageCatalog {
  tableVersion: number;
  bm25: Bm25Index;
  rowIds: Map<string, bigint>;
}

/** What a search result needs; `terms` and `search_text` stay on disk. */
const PASSAGE_COLUMNS = ['id', 'hash', 'root', 'path', 'title', 'text', 'start_line', 'end_line'];

/**
 * HNSW search breadth and exact re-ranking. LanceDB's default ef (1.5 k) found under half of the
 * true top 10 at 100k passages; ef ≥ 256 with a 2× refine found 0.89 there (and 1.0 on the
 * 2.4k-passage dev collections) for about 2 ms per query.
 */
const ANN_MIN_EF = 256;
const ANN_REFINE = 2;

export function vectorTableName(version: string): string {
  return `vectors__${version.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** Identifies one file (or folder) of one root in file scopes. */
export function fileKey(root: string, relativePath: string): string {
  return `${root}\u0000${relativePath}`;
}

/** A path is in scope when it, or a folder above it, was named (a deleted folder takes its files along). */
export function inFileScope(scope: ReadonlySet<string>, root: string, relativePath: string): boolean {
  for (let at = relativePath.length; at > 0; at = relativePath.lastIndexOf('/', at - 1)) {
    if (scope.has(fileKey(root, relativePath.slice(0, at)))) return true;
  }
  return false;
}

async function hasUnindexedRows(table: lancedb.Table, indexName: string): Promise<boolean> {
  const stats = await table.indexStats(indexName);
  return (stats?.numUnindexedRows ?? 0) > 0;
}

function toRow(input: PassageInput): PassageRow {
  const title = input.title ?? '';
  const searchText = title ? `${title}\n${input.text}` : input.text;
  return {
    id: input.id,
    hash: sha256Hex(JSON.stringify([title, input.text])),
    root: input.root,
    path: input.path,
    title,
    text: input.text,
    start_line: input.startLine ?? null,
    end_line: input.endLine ?? null,
    search_text: searchText,
    terms: encodeTermCounts(searchText),
  };
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await fs.promises.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await folderBytes(full);
    else if (entry.isFile()) total += (await fs.promises.stat(full)).size;
  }
  return total;
}
