// <op-checks>: the gradient-check panel. Runs `ddpm check`'s op checks on this browser's GPU and
// fills the table op by op: the float64 reference's gradient against finite differences, and the
// GPU's forward and gradients against the reference. Presentational: fires `checks-run`.

import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { panelError } from './number-field.ts';
import type { CheckRow } from '../app/index.ts';
import { panelStyles } from './theme.ts';

/** What the panel shows: the rows so far, how many ops there are, and whether a run is going. */
export interface CheckRunState {
  running: boolean;
  rows: CheckRow[];
  total: number;
}

const sci = (v: number): string => (v === 0 ? '0' : v.toExponential(1));

@customElement('op-checks')
export class OpChecks extends LitElement {
  static override styles = [
    panelStyles,
    css`
      .table-wrap {
        overflow-x: auto;
        margin-top: 10px;
      }
      table {
        border-collapse: collapse;
        font-variant-numeric: tabular-nums;
        font-size: 13px;
      }
      th,
      td {
        padding: 3px 10px;
        text-align: right;
        border-bottom: 1px solid #eef0f5;
        white-space: nowrap;
      }
      th:first-child,
      td:first-child {
        text-align: left;
      }
      .pass {
        color: #1c7c4a;
        font-weight: 600;
      }
      .fail {
        color: #b3261e;
        font-weight: 600;
      }
    `,
  ];

  @property({ attribute: false }) state: CheckRunState = { running: false, rows: [], total: 0 };
  @property({ type: Boolean }) canRun = false;
  /** Why the last run failed, or null. */
  @property({ attribute: false }) error: string | null = null;

  override render() {
    const { rows, running, total } = this.state;
    const failed = rows.filter((r) => !r.pass).length;
    const done = !running && rows.length > 0;
    return html`
      <h2>6 · Does this GPU compute correctly?</h2>
      <p class="lede">
        Every op of the engine has a float64 CPU reference whose gradient is checked against central finite differences; the GPU's
        forward pass and gradients are then compared with that reference on this adapter (${total} ops, the same checks as
        <code>ddpm check</code>). Errors are relative; a row passes when all are within the op's tolerance.
      </p>
      <div class="controls">
        <button name="run-checks" ?disabled=${!this.canRun || running} @click=${() => this.dispatchEvent(new CustomEvent('checks-run', { bubbles: true, composed: true }))}>
          ${running ? 'Checking…' : 'Run the checks'}
        </button>
        ${running || rows.length ? html`<progress max=${Math.max(1, total)} .value=${rows.length} aria-label="ops checked"></progress>` : ''}
        <span class="summary" role="status">
          ${running ? `${rows.length} of ${total} ops checked` : done ? (failed ? `${failed} of ${rows.length} ops FAILED` : `all ${rows.length} ops pass`) : ''}
        </span>
      </div>
      ${panelError(this.error, () => this.dispatchEvent(new CustomEvent('error-dismiss', { detail: { area: 'checks' }, bubbles: true, composed: true })))}
      ${rows.length
        ? html`<div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">op</th>
                  <th scope="col">cases</th>
                  <th scope="col">reference vs finite diff.</th>
                  <th scope="col">GPU forward</th>
                  <th scope="col">GPU gradients (largest)</th>
                  <th scope="col">result</th>
                </tr>
              </thead>
              <tbody>
                ${rows.map(
                  (r) => html`<tr>
                    <td>${r.op}</td>
                    <td>${r.case.replace(' cases', '')}</td>
                    <td>${sci(r.refVsFiniteDiff)}</td>
                    <td>${sci(r.forward)}</td>
                    <td title=${Object.entries(r.grads).map(([k, v]) => `d/d${k}: ${sci(v)}`).join(', ')}>${sci(Math.max(0, ...Object.values(r.grads)))}</td>
                    <td class=${r.pass ? 'pass' : 'fail'}>${r.pass ? 'PASS' : 'FAIL'}</td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </div>`
        : ''}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'op-checks': OpChecks;
  }
}
