// The page's side of the CLI's train / sample / eval commands: SessionProtocol (src/app/protocol.ts)
// over one TrainingSession, with bytes both ways as base64 chunks so large files cross the
// DevTools protocol.

import {
  CHUNK,
  concatBytes,
  fromBase64,
  imagesToPngGrid,
  QualityService,
  toBase64,
  TrainingSession,
  type DatasetRequest,
  type DatasetSpec,
  type Offered,
  type SessionProtocol,
  unetForward,
} from '../app/index.ts';

/** The CLI's dataset spec as a session request (image files arrive as base64). */
function datasetRequest(spec: DatasetSpec): DatasetRequest {
  if (spec.kind === 'idx') return { source: 'url', url: spec.url, split: spec.split, limit: spec.limit ?? 0, name: spec.name };
  return { source: 'files', files: spec.files.map((f) => new File([fromBase64(f.base64) as BlobPart], f.name)) };
}

/** A SessionProtocol over a session on the page's running engine. */
export async function createPageSession(): Promise<SessionProtocol> {
  const app = new TrainingSession();
  await app.startEngine({ reuse: true });
  const quality = new QualityService(app);
  let outgoing: Uint8Array | null = null;
  let incoming: Uint8Array[] = [];

  const offer = (bytes: Uint8Array): Offered => {
    outgoing = bytes;
    return { bytes: bytes.length, chunks: Math.ceil(bytes.length / CHUNK) };
  };
  const received = () => concatBytes(incoming);

  return {
    report: () => {
      if (app.engine.kind !== 'ready') throw new Error('the GPU is not available');
      return app.engine.report;
    },

    receive(base64, first) {
      if (first) incoming = [];
      incoming.push(fromBase64(base64));
      return incoming.reduce((n, c) => n + c.length, 0);
    },

    take(index) {
      if (!outgoing) throw new Error('nothing to take');
      return toBase64(outgoing.subarray(index * CHUNK, (index + 1) * CHUNK));
    },

    async start({ config, resume, dataset, execution }) {
      await app.reset();
      await app.loadDataset(datasetRequest(dataset));
      if (!resume && !config) throw new Error('start() needs a config, or resume with a received checkpoint');
      let info = resume ? await app.resume(received()) : await app.startTraining(config!);
      if (execution) info = await app.setExecution(execution);
      return { step: info.step, config: info.config, images: info.images, parameters: info.parameters, microBatches: info.microBatches };
    },

    train: (steps) => app.train(steps),
    profileStep: () => app.profileStep(),
    stepMemory: () => app.stepMemory(),

    async checkpoint() {
      return offer((await app.checkpoint()).bytes);
    },

    async sampleGrid({ fromCheckpoint, useEma, ...request }) {
      const t0 = performance.now();
      const weights = useEma === false ? 'raw' : 'ema';
      const { images, precision } = await app.sample({ ...request, weights }, {}, fromCheckpoint ? received() : undefined);
      const png = await imagesToPngGrid(images.data, images.n, images.channels, images.size, 2);
      return { ...offer(png), seconds: (performance.now() - t0) / 1000, precision };
    },

    async evaluate({ dataset, n, batch, terms, seed, execution }) {
      const request = datasetRequest(dataset.kind === 'idx' ? { ...dataset, limit: n } : dataset);
      return app.evaluate(request, { batch, terms, seed, ...(execution ? { execution } : {}) }, received());
    },

    stop() {
      void app.reset().catch(() => undefined);
    },

    useClassifier: () => quality.useClassifier(received()),

    startClassifierTraining: ({ train, test, options }) =>
      quality.startClassifierTraining({ train: datasetRequest(train), test: datasetRequest(test) }, options),

    trainClassifier: (steps) => quality.trainClassifier(steps),

    async finishClassifierTraining() {
      const { bytes, info } = await quality.finishClassifierTraining();
      return { ...offer(bytes), info };
    },

    async unetForward({ shape, timesteps, sample }) {
      const bytes = fromBase64(sample);
      const input = { shape, timesteps, sample: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4) };
      const out = await app.inferenceModel('raw', received()).run((m) => unetForward(m, input));
      return { ...offer(new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength)), shape: out.shape };
    },

    quality: ({ request, train, test, fromCheckpoint, useEma }) =>
      quality.measure(
        { ...request, weights: useEma === false ? 'raw' : 'ema' },
        { train: datasetRequest(train), test: datasetRequest(test) },
        fromCheckpoint ? received() : undefined,
      ),
  };
}
