// <device-info>: which GPU the engine runs on (and whether it is a software fallback), or why
// there is none: WebGPU missing, or the device lost. Fires `engine-restart` from the lost state.

import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { EngineStatus } from '../app/index.ts';

type Report = Extract<EngineStatus, { kind: 'ready' }>['report'];

function adapterName(r: Report): string {
  const a = r.adapter;
  return [a.description || a.device, a.vendor, a.architecture].filter(Boolean).join(' · ') || 'unnamed adapter';
}

function mib(bytes: number | undefined): string {
  return bytes ? `${Math.round(bytes / 2 ** 20)} MiB` : '?';
}

@customElement('device-info')
export class DeviceInfo extends LitElement {
  static override styles = css`
    :host {
      display: block;
      font: 13px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif;
      color: #1e2533;
    }
    .chip {
      display: inline-flex;
      align-items: center;
      gap: 8px;
      padding: 6px 12px;
      border-radius: 999px;
      background: #fff;
      border: 1px solid #dde2ec;
    }
    .dot {
      width: 9px;
      height: 9px;
      border-radius: 50%;
      background: #2f9e6e;
      flex: none;
    }
    .dot.warn {
      background: #d9a400;
    }
    .dot.wait {
      background: #9aa3b5;
    }
    details {
      display: inline-block;
      vertical-align: top;
    }
    summary {
      cursor: pointer;
      list-style: none;
    }
    summary::-webkit-details-marker {
      display: none;
    }
    .more {
      margin-top: 6px;
      padding: 8px 12px;
      background: #fff;
      border: 1px solid #dde2ec;
      border-radius: 8px;
      color: #5b6477;
      font-size: 12px;
      max-width: 420px;
    }
    .banner {
      padding: 12px 16px;
      border-radius: 10px;
      background: #fdecea;
      border: 1px solid #f3b8b2;
      color: #7a1c14;
    }
    .banner strong {
      display: block;
      margin-bottom: 2px;
    }
    button {
      margin-top: 8px;
      font: inherit;
      font-weight: 600;
      padding: 5px 12px;
      border-radius: 6px;
      border: 1px solid #b3261e;
      background: #b3261e;
      color: #fff;
      cursor: pointer;
    }
  `;

  @property({ attribute: false }) engine: EngineStatus = { kind: 'starting' };

  override render() {
    const e = this.engine;
    switch (e.kind) {
      case 'starting':
        return html`<span class="chip"><span class="dot wait"></span>Starting WebGPU…</span>`;
      case 'ready': {
        const r = e.report;
        return html`<details>
          <summary class="chip" title="click for details">
            <span class="dot ${r.isFallbackAdapter ? 'warn' : ''}"></span>
            <span class="adapter">WebGPU · ${adapterName(r)}</span>
            ${r.isFallbackAdapter ? html`<b class="fallback">software fallback adapter (slow)</b>` : ''}
          </summary>
          <div class="more">
            ${r.isFallbackAdapter
              ? html`<p>This adapter emulates a GPU on the CPU, so training is slow; everything still works.</p>`
              : ''}
            Largest buffer ${mib(r.limits.maxBufferSize)}, largest storage binding ${mib(r.limits.maxStorageBufferBindingSize)}.<br />
            Features: ${r.features.length ? r.features.join(', ') : 'none beyond the core'}.
          </div>
        </details>`;
      }
      case 'unavailable':
        return html`<div class="banner" role="alert">
          <strong>This page needs WebGPU, and this browser does not offer it.</strong>
          ${e.message}
          <br />The noise-schedule plots below still work; training and sampling need a GPU.
        </div>`;
      case 'lost':
        return html`<div class="banner" role="alert">
          <strong>The GPU device was lost (${e.reason || 'unknown reason'}).</strong>
          ${e.message || 'The browser or the driver took the GPU away, for example after a driver reset or a long stall.'}
          The model in GPU memory is gone; resume from a downloaded checkpoint after restarting.
          <br /><button @click=${() => this.dispatchEvent(new CustomEvent('engine-restart', { bubbles: true, composed: true }))}>Restart the GPU</button>
        </div>`;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'device-info': DeviceInfo;
  }
}
