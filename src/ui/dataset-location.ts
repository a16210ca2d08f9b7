// Where the demo finds Fashion-MNIST: under the dev server, Debian's folder through /@fs/; in a
// static build (`npm run build`, which copies the files into the site), beside the page.

/** Debian's dataset-fashion-mnist folder, where `npm run build` copies the data from. */
export const SYSTEM_DATASET_DIR = '/usr/share/datasets/fashion-mnist/';

/** The folder of a static build the data are copied to, relative to its index.html. */
export const BUILT_DATASET_DIR = 'data/fashion-mnist/';

/** The data's URL for the page: through the dev server, or beside a static build's page. */
export function defaultDatasetUrl(devServer: boolean): string {
  return devServer ? `/@fs${SYSTEM_DATASET_DIR}` : `./${BUILT_DATASET_DIR}`;
}
