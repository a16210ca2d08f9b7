// Files the page fetches beside itself: under the dev server from the repository root, in a
// static build from the copies `npm run build` makes (vite.config.ts).

/** The shipped Fashion-MNIST classifier of the quality metric. */
export const CLASSIFIER_FILE = 'models/fashion-mnist-classifier.safetensors';
