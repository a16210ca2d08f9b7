// Styles shared by the demo's components: panel cards, form rows, buttons, hints.

import { css } from 'lit';

export const COLORS = {
  accent: '#3b6fd8',
  accentSoft: '#e8effc',
  beta: '#d0603a',
  alphaBar: '#3b6fd8',
  logSnr: '#2f9e6e',
  loss: 'rgba(59, 111, 216, 0.35)',
  lossAverage: '#1f4fb0',
  faint: '#c8cedb',
};

export const panelStyles = css`
  :host {
    display: block;
    background: #fff;
    border: 1px solid #dde2ec;
    border-radius: 12px;
    padding: 18px 20px 20px;
    box-shadow: 0 1px 2px rgba(30, 40, 60, 0.05);
    color: #1e2533;
    font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif;
  }
  h2 {
    margin: 0 0 2px;
    font-size: 17px;
    font-weight: 650;
  }
  .lede {
    margin: 0 0 14px;
    color: #5b6477;
    font-size: 13px;
  }
  .math {
    font-family: 'Cambria Math', 'STIX Two Math', Georgia, serif;
    font-style: italic;
  }
  .controls {
    display: flex;
    flex-wrap: wrap;
    align-items: end;
    gap: 10px 14px;
    margin-bottom: 12px;
  }
  label {
    display: flex;
    flex-direction: column;
    gap: 3px;
    font-size: 12px;
    color: #5b6477;
    max-width: 100%;
    min-width: 0;
  }
  input,
  select {
    max-width: 100%;
    box-sizing: border-box;
    font: inherit;
    font-size: 13px;
    padding: 5px 7px;
    border: 1px solid #c9d0dd;
    border-radius: 6px;
    background: #fff;
    color: #1e2533;
  }
  input[type='number'] {
    width: 84px;
  }
  input:disabled,
  select:disabled {
    background: #f3f5f9;
    color: #7c8599;
  }
  button {
    font: inherit;
    font-size: 13px;
    font-weight: 600;
    padding: 6px 14px;
    border-radius: 6px;
    border: 1px solid #3b6fd8;
    background: #3b6fd8;
    color: #fff;
    cursor: pointer;
  }
  button.secondary {
    background: #fff;
    color: #3b6fd8;
  }
  button:disabled {
    border-color: #c9d0dd;
    background: #eef1f6;
    color: #8a93a6;
    cursor: default;
  }
  button:not(:disabled):hover {
    filter: brightness(1.08);
  }
  .hint {
    color: #5b6477;
    font-size: 12px;
  }
  .error {
    color: #b3261e;
    font-size: 13px;
  }
  input[aria-invalid='true'] {
    border-color: #b3261e;
    outline-color: #b3261e;
  }
  .field-error {
    color: #b3261e;
    font-size: 12px;
    max-width: 240px;
    overflow-wrap: anywhere;
  }
  .blocked {
    color: #8a4b00;
    font-size: 12px;
  }
  .panel-error {
    display: flex;
    justify-content: space-between;
    align-items: flex-start;
    gap: 12px;
    margin: 8px 0;
    padding: 8px 12px;
    border-radius: 8px;
    background: #fdecea;
    border: 1px solid #f3b8b2;
    color: #7a1c14;
    font-size: 13px;
    overflow-wrap: anywhere;
  }
  .panel-error > button.dismiss {
    border: none;
    background: none;
    color: inherit;
    font-size: 18px;
    line-height: 1;
    padding: 0 4px;
  }
  .warning {
    color: #8a4b00;
    font-size: 13px;
  }
  .stats {
    display: flex;
    flex-wrap: wrap;
    gap: 6px 18px;
    font-size: 13px;
    color: #5b6477;
    font-variant-numeric: tabular-nums;
  }
  .stats b {
    color: #1e2533;
    font-weight: 600;
  }
`;
