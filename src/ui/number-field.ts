// A number field checked by its input rule (src/app/input-rules.ts, the CLI's flags use the
// same): a value the rule refuses is answered beside the field with what is allowed, the last
// valid value stays in force, and the panel disables the action it would break until it is fixed.

import { html, nothing, type ReactiveController, type ReactiveControllerHost } from 'lit';
import { live } from 'lit/directives/live.js';
import { checkNumber, sentence, type NumberRule } from '../app/index.ts';

/** A field being edited: what it holds, and why the rule refuses it (null while it is acceptable). */
interface Edit {
  /** What the field holds ('' where the browser could not read it as a number). */
  text: string;
  message: string | null;
  /** What the value is ("the learning rate"). */
  what: string;
}

type Problem = Edit & { message: string };

/** A panel's fields being edited, and those that hold a refused value with its message. */
export class FieldChecks implements ReactiveController {
  private readonly edits = new Map<string, Edit>();
  /** The value each field was last rendered with: a new one (a resumed run) replaces an edit. */
  private readonly shown = new Map<string, number>();

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  hostConnected(): void {}

  /** What the refused fields among `names` (all when omitted) hold: ["the learning rate", …]. */
  refused(names?: readonly string[]): string[] {
    return [...this.edits].filter(([name, e]) => e.message !== null && (!names || names.includes(name))).map(([, e]) => e.what);
  }

  problem(name: string): Problem | undefined {
    const e = this.edits.get(name);
    return e?.message != null ? (e as Problem) : undefined;
  }

  edit(name: string): Edit | undefined {
    return this.edits.get(name);
  }

  /** Records an edit in progress (null: the field shows its value again). */
  set(name: string, edit: Edit | null): void {
    if (edit) this.edits.set(name, edit);
    else this.edits.delete(name);
    this.host.requestUpdate();
  }

  /** Notes the value a field is rendered with; a changed value or a disabled field ends its edit. */
  rendering(name: string, value: number, disabled: boolean): void {
    if (this.shown.get(name) !== value || disabled) this.edits.delete(name);
    this.shown.set(name, value);
  }
}

export interface NumberFieldOptions {
  label: string;
  name: string;
  rule: NumberRule;
  /** The value in force. */
  value: number;
  disabled?: boolean;
  title?: string;
  /** A valid value committed (Enter, or leaving the field). */
  onValue(value: number): void;
}

/** A labelled number input with its rule's answer beside it. */
export function numberField(checks: FieldChecks, o: NumberFieldOptions) {
  checks.rendering(o.name, o.value, Boolean(o.disabled));
  const problem = checks.problem(o.name);
  const typed = checks.edit(o.name);
  const messageId = `${o.name}-problem`;
  const edit = (e: Event, commit: boolean) => {
    const input = e.target as HTMLInputElement;
    const checked = checkNumber(o.rule, input.value, input.validity.badInput);
    const message = checked.ok ? null : `${sentence(checked.message)}; still ${o.value}.`;
    if (!commit || !checked.ok) {
      // While typing, the field keeps what is typed ("-0" on the way to "-0.1"), answered as it goes.
      checks.set(o.name, { text: input.value, message, what: o.rule.what });
      return;
    }
    checks.set(o.name, null);
    if (checked.value !== o.value) o.onValue(checked.value);
  };
  return html`<label class="field"
    >${o.label}
    <input
      type="number"
      name=${o.name}
      min=${o.rule.min}
      max=${o.rule.max}
      step=${o.rule.integer ? '1' : 'any'}
      title=${o.title ?? nothing}
      .value=${live(typed ? typed.text : String(o.value))}
      ?disabled=${o.disabled}
      aria-invalid=${problem ? 'true' : 'false'}
      aria-describedby=${problem ? messageId : nothing}
      @input=${(e: Event) => edit(e, false)}
      @change=${(e: Event) => edit(e, true)}
    />
    ${problem ? html`<span class="field-error" id=${messageId}>${problem.message}</span>` : nothing}
  </label>`;
}

/** "fix the batch size and the seed beside their fields." for refused fields, or nothing. */
export function fixFields(whats: readonly string[]): string[] {
  if (whats.length === 0) return [];
  const list = whats.length === 1 ? whats[0]! : `${whats.slice(0, -1).join(', ')} and ${whats[whats.length - 1]}`;
  return [`fix ${list} beside ${whats.length === 1 ? 'its field' : 'their fields'}.`];
}

/** "Start is off: …" beside an action, or nothing when it is on. */
export function blockedReason(action: string, reasons: readonly string[]) {
  return reasons.length ? html`<span class="blocked" role="status">${action} is off: ${reasons.join(' ')}</span>` : nothing;
}

/** A panel's error, in place, until dismissed or resolved. */
export function panelError(message: string | null, onDismiss: () => void) {
  return message
    ? html`<div class="panel-error" role="alert"><span>${message}</span><button class="dismiss" aria-label="dismiss" @click=${onDismiss}>×</button></div>`
    : nothing;
}
