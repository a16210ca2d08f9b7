// <image-grid>: a batch of images in [−1, 1] drawn as a near-square grid on a canvas, scaled
// up with crisp pixels.

import { css, html, LitElement, type PropertyValues } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import { imagesToRgbaGrid, type ImageBatch } from '../app/index.ts';

@customElement('image-grid')
export class ImageGrid extends LitElement {
  static override styles = css`
    :host {
      display: inline-block;
      line-height: 0;
    }
    canvas {
      max-width: 100%;
      height: auto;
      image-rendering: pixelated;
      border-radius: 4px;
      background: #f3f5f9;
    }
  `;

  @property({ attribute: false }) batch: ImageBatch | null = null;
  /** Screen pixels per image pixel. */
  @property({ type: Number }) zoom = 4;
  /** Gap between images, in image pixels. */
  @property({ type: Number }) gap = 1;

  @query('canvas') private canvas!: HTMLCanvasElement;

  override render() {
    return html`<canvas role="img" aria-label=${this.batch ? `${this.batch.n} image(s)` : 'no images'}></canvas>`;
  }

  protected override updated(_changed: PropertyValues): void {
    const b = this.batch;
    const canvas = this.canvas;
    if (!b || b.n === 0) {
      canvas.width = canvas.height = 0;
      return;
    }
    const { width, height, pixels } = imagesToRgbaGrid(b.data, b.n, b.channels, b.size, 1, this.gap);
    canvas.width = width;
    canvas.height = height;
    canvas.style.width = `${width * this.zoom}px`;
    canvas.style.height = 'auto'; // keeps the aspect when max-width narrows it
    canvas.getContext('2d')!.putImageData(new ImageData(pixels as Uint8ClampedArray<ArrayBuffer>, width, height), 0, 0);
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'image-grid': ImageGrid;
  }
}
