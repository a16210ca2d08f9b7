// Driving the demo page's fields as a user does (keyboard), and reading back what a field and its
// panel answer: the message beside it, its validity, the action it blocks.

import type { Page } from 'puppeteer-core';

/** `selector` inside <ddpm-app>, through every shadow root (puppeteer's deep combinator). */
export const inApp = (selector: string) => `ddpm-app >>> ${selector}`;

/** Replaces what field `name` of component `host` holds with `text` by keyboard, then leaves it (a 'change'). */
export async function typeInto(p: Page, host: string, name: string, text: string): Promise<void> {
  const field = await p.waitForSelector(inApp(`${host} >>> input[name=${name}]`));
  await field!.focus();
  await p.keyboard.down('Control');
  await p.keyboard.press('KeyA');
  await p.keyboard.up('Control');
  await p.keyboard.press('Backspace');
  if (text) await p.keyboard.type(text);
  await p.keyboard.press('Tab');
}

export interface FieldAnswer {
  ariaInvalid: string | null;
  /** The message beside the field ('' when none), and whether it is on screen (has a size). */
  message: string;
  messageShown: boolean;
  /** The browser's own validity state. */
  nativeInvalid: boolean;
}

/** What field `name` of `host` shows (after the component has rendered). */
export function fieldAnswer(p: Page, host: string, name: string): Promise<FieldAnswer> {
  return p.evaluate(
    async (hostTag, fieldName) => {
      const find = (root: Document | ShadowRoot): Element | null => {
        for (const el of root.querySelectorAll('*')) {
          if (el.tagName.toLowerCase() === hostTag) return el;
          if (el.shadowRoot) {
            const inner = find(el.shadowRoot);
            if (inner) return inner;
          }
        }
        return null;
      };
      const component = find(document) as (Element & { updateComplete?: Promise<unknown> }) | null;
      if (!component) throw new Error(`no <${hostTag}> in the page`);
      await component.updateComplete;
      const input = component.shadowRoot!.querySelector(`input[name=${fieldName}]`) as HTMLInputElement | null;
      if (!input) throw new Error(`<${hostTag}> has no field '${fieldName}'`);
      const message = input.closest('label')?.querySelector('.field-error') ?? null;
      const box = message?.getBoundingClientRect();
      return {
        ariaInvalid: input.getAttribute('aria-invalid'),
        message: message?.textContent?.trim() ?? '',
        messageShown: Boolean(box && box.width > 0 && box.height > 0),
        nativeInvalid: input.matches(':invalid'),
      };
    },
    host,
    name,
  );
}

/** Whether button `name` of `host` is disabled, and the "… is off: …" line beside it. */
export function actionState(p: Page, host: string, button: string): Promise<{ disabled: boolean; blocked: string }> {
  return p.evaluate(
    async (hostTag, buttonName) => {
      const find = (root: Document | ShadowRoot): Element | null => {
        for (const el of root.querySelectorAll('*')) {
          if (el.tagName.toLowerCase() === hostTag) return el;
          if (el.shadowRoot) {
            const inner = find(el.shadowRoot);
            if (inner) return inner;
          }
        }
        return null;
      };
      // A field of one panel can turn off another's action (section 1's T and Start): the shell passes it on.
      await (document.querySelector('ddpm-app') as Element & { updateComplete?: Promise<unknown> }).updateComplete;
      const component = find(document) as (Element & { updateComplete?: Promise<unknown> }) | null;
      if (!component) throw new Error(`no <${hostTag}> in the page`);
      await component.updateComplete;
      const b = component.shadowRoot!.querySelector(`button[name=${buttonName}]`) as HTMLButtonElement | null;
      if (!b) throw new Error(`<${hostTag}> has no button '${buttonName}'`);
      const blocked = b.parentElement?.querySelector('.blocked')?.textContent?.trim() ?? '';
      return { disabled: b.disabled, blocked };
    },
    host,
    button,
  );
}

/** Every number field of the page as "host/name", and those the browser holds invalid with no message beside them. */
export function numberFields(p: Page): Promise<{ all: string[]; silentlyInvalid: string[] }> {
  return p.evaluate(() => {
    const all: string[] = [];
    const silentlyInvalid: string[] = [];
    const walk = (root: Document | ShadowRoot, host: string) => {
      for (const el of root.querySelectorAll('*')) {
        if (el instanceof HTMLInputElement && el.type === 'number') {
          const id = `${host}/${el.name}`;
          all.push(id);
          const message = el.closest('label')?.querySelector('.field-error');
          if (el.matches(':invalid') && !message) silentlyInvalid.push(id);
        }
        if (el.shadowRoot) walk(el.shadowRoot, el.tagName.toLowerCase());
      }
    };
    walk(document, 'document');
    return { all: all.sort(), silentlyInvalid };
  });
}
