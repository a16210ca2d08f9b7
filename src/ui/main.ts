// The demo page (index.html): starts the engine and mounts <ddpm-app>.
// URL parameters: ?data=<folder URL>&split=train|test&limit=<n> set the Fashion-MNIST source
// (default: Debian's folder through the dev server, or the copy beside a static build's page:
// src/ui/dataset-location.ts); ?autoload=0 waits for the user to press Load; ?model=<folder URL>
// loads a served diffusers folder (a DDPMPipeline/DDIMPipeline or a UNet2DModel) for sampling.

import { DemoController } from './controller.ts';
import { defaultDatasetUrl } from './dataset-location.ts';
import './ddpm-app.ts';
import type { IdxSourceChoice } from './dataset-picker.ts';

const params = new URLSearchParams(location.search);
const devServer = Boolean((import.meta as ImportMeta & { env?: { DEV?: boolean } }).env?.DEV);
const limit = Number(params.get('limit') ?? 10000);
const source: IdxSourceChoice = {
  url: params.get('data') ?? defaultDatasetUrl(devServer),
  split: params.get('split') === 'test' ? 'test' : 'train',
  limit: Number.isInteger(limit) && limit >= 0 ? limit : 10000,
};

const autoload = params.get('autoload') !== '0';

const controller = new DemoController();
const app = document.createElement('ddpm-app');
app.controller = controller;
app.source = source;
document.body.append(app);

declare global {
  interface Window {
    /** The page's controller, for the console and for tests. */
    ddpmDemo: DemoController;
  }
}
window.ddpmDemo = controller;

await controller.init();
const model = params.get('model');
if (controller.engine.kind === 'ready' && model) await controller.importDiffusersUrl(new URL(model, location.href).href);
if (controller.engine.kind === 'ready' && autoload) {
  await controller.loadDataset({ source: 'url', ...source });
}
