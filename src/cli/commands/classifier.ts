// `ddpm classifier train`: trains the quality metric's feature network (a small CNN) with this
// engine on Fashion-MNIST and writes it as safetensors with its test accuracy in the header.

import { RULES } from '../../app/index.ts';
import { UsageError, type Command } from '../command.ts';
import { datasetSpec } from '../datasets.ts';
import { writeFileAtomic } from '../files.ts';
import { intFlag, ruleFlag } from '../flags.ts';
import { progress, withHarness } from '../harness.ts';
import { ProgressBar } from '../progress-bar.ts';
import { DEFAULT_CLASSIFIER_PATH } from '../quality.ts';
import { callSession, takeBytes } from '../session-client.ts';

const CHUNK_STEPS = 50;

export const classifier: Command = {
  usage: 'classifier train [--steps N] [--batch B] [--lr LR] [--seed S] [--out FILE]',
  summary: "trains the quality metric's Fashion-MNIST classifier (its features define the Fréchet distance)",
  flags: {
    steps: { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
  },
  positionals: true,
  async run(flags, positionals) {
    if (positionals.length !== 1 || positionals[0] !== 'train') throw new UsageError("usage: ddpm classifier train [...]; the only subcommand is 'train'");
    const steps = intFlag(flags, 'steps', 2500);
    const out = typeof flags.out === 'string' ? flags.out : DEFAULT_CLASSIFIER_PATH;
    const options = {
      steps,
      batchSize: ruleFlag(flags, 'batch', RULES.batchSize, 64),
      lr: ruleFlag(flags, 'lr', RULES.lr, 2e-3),
      seed: ruleFlag(flags, 'seed', RULES.seed, 1),
    };
    const train = datasetSpec('fashion-mnist', 'train');
    const test = datasetSpec('fashion-mnist', 'test');
    const info = await withHarness(async (s) => {
      const started = await callSession(s, 'startClassifierTraining', { train, test, options });
      progress(`classifier: ${started.parameters.toLocaleString('en-US')} parameters, ${started.images} training images, ${steps} steps of ${options.batchSize}`);
      const bar = new ProgressBar(steps, 0);
      let done = 0;
      let recent: number[] = [];
      while (done < steps) {
        const losses = await callSession(s, 'trainClassifier', CHUNK_STEPS);
        if (losses.length === 0) break;
        done = losses[losses.length - 1]!.step + 1;
        recent = [...recent, ...losses.map((l) => l.loss)].slice(-100);
        bar.update(done, { loss: (recent.reduce((a, b) => a + b, 0) / recent.length).toFixed(4) });
      }
      bar.done();
      progress('measuring on the test split…');
      const offered = await callSession(s, 'finishClassifierTraining');
      writeFileAtomic(out, await takeBytes(s, offered));
      return offered.info;
    });
    console.log(`wrote ${out}`);
    console.log(`test accuracy ${(100 * info.testAccuracy).toFixed(2)}% on ${info.testImages} images at 28x28`);
    for (const [via, acc] of Object.entries(info.testAccuracyRoundTrip)) {
      console.log(`test accuracy ${(100 * acc).toFixed(2)}% after a round trip through ${via}x${via}`);
    }
    return 0;
  },
};
