import * as ort from 'onnxruntime-node';
import { SpecializeError } from '../errors';

/**
 * One onnxruntime session for a transformer encoder. Knows which inputs the graph wants
 * (token_type_ids is optional) and which output holds the token or sentence embeddings.
 */
export class EncoderSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly wantsTokenTypes: boolean,
    private readonly outputName: string,
    /** True when the graph already pools (`sentence_embedding`), false for token embeddings. */
    readonly pooled: boolean,
  ) {}

  static async open(onnxPath: string, threads: number): Promise<EncoderSession> {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(onnxPath, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
      });
    } catch (error) {
      throw new SpecializeError(`onnxruntime cannot load ${onnxPath}: ${(error as Error).message}`, 'Re-export the model (delete the file and run the command again) or point --model at a valid ONNX encoder.', 'model-invalid');
    }
    const inputs = new Set(session.inputNames);
    if (!inputs.has('input_ids') || !inputs.has('attention_mask')) {
      throw new SpecializeError(`${onnxPath} does not take input_ids and attention_mask (it takes ${session.inputNames.join(', ')}).`, 'Use an encoder exported with those input names.', 'model-invalid');
    }
    const outputName = ['sentence_embedding', 'last_hidden_state', 'token_embeddings'].find((name) => session.outputNames.includes(name)) ?? session.outputNames[0];
    if (!outputName) throw new SpecializeError(`${onnxPath} has no outputs.`, 'Re-export the model.', 'model-invalid');
    return new EncoderSession(session, inputs.has('token_type_ids'), outputName, outputName === 'sentence_embedding');
  }

  /** Runs one padded batch; returns the raw output and its shape. */
  async run(ids: BigInt64Array, mask: BigInt64Array, batch: number, seq: number): Promise<{ data: Float32Array; dims: readonly number[] }> {
    const shape = [batch, seq];
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, shape),
      attention_mask: new ort.Tensor('int64', mask, shape),
    };
    if (this.wantsTokenTypes) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(batch * seq), shape);
    const result = await this.session.run(feeds, [this.outputName]);
    const output = result[this.outputName];
    if (!output || output.type !== 'float32') throw new Error(`unexpected output ${this.outputName}: ${output?.type}`);
    return { data: output.data as Float32Array, dims: output.dims };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
