import type { ModelConventions } from './conventions';

/** One ONNX file of a model and the vector-space version its embeddings belong to. */
export interface ModelVariant {
  path: string;
  /**
   * Identifies the vector space: derived from the ONNX file's content and the conventions, so
   * vectors from different weights, precision or pooling never share a table.
   */
  version: string;
}

/** A model ready for the engine: tokenizer and config folder, ONNX files, conventions. */
export interface ResolvedModel {
  /** What the user asked for: a Hugging Face id or a folder path. */
  id: string;
  /** Folder holding tokenizer.json, config.json and the sentence-transformers files. */
  dir: string;
  conventions: ModelConventions;
  fp32: ModelVariant;
  int8?: ModelVariant;
  /** Where the files came from, for diagnostics. */
  source: string;
}
