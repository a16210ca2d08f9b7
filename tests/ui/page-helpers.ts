// Driving the demo page's fields as a user does (keyboard), and reading back what a field and its
// panel answer (the message beside it, its validity, the action it blocks) and what scrolls sideways.

import type { ElementHandle, Page } from 'puppeteer-core';

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

/** Component `host` (searched through every shadow root), once the shell and it have rendered. */
async function rendered(p: Page, host: string): Promise<ElementHandle<Element>> {
  // A field of one panel can turn off another's action (section 1's T and Start): the shell passes it on.
  await p.$eval('ddpm-app', (app) => (app as Element & { updateComplete: Promise<unknown> }).updateComplete);
  const component = await p.$(inApp(host));
  if (!component) throw new Error(`no <${host}> in the page`);
  await component.evaluate((c) => (c as Element & { updateComplete: Promise<unknown> }).updateComplete);
  return component;
}

/** What field `name` of `host` shows (after the component has rendered). */
export async function fieldAnswer(p: Page, host: string, name: string): Promise<FieldAnswer> {
  return (await rendered(p, host)).evaluate((component, fieldName) => {
    const input = component.shadowRoot!.querySelector(`input[name=${fieldName}]`) as HTMLInputElement | null;
    if (!input) throw new Error(`<${component.tagName.toLowerCase()}> has no field '${fieldName}'`);
    const message = input.closest('label')?.querySelector('.field-error') ?? null;
    const box = message?.getBoundingClientRect();
    return {
      ariaInvalid: input.getAttribute('aria-invalid'),
      message: message?.textContent?.trim() ?? '',
      messageShown: Boolean(box && box.width > 0 && box.height > 0),
      nativeInvalid: input.matches(':invalid'),
    };
  }, name);
}

/** Whether button `name` of `host` is disabled, and the "… is off: …" line beside it. */
export async function actionState(p: Page, host: string, button: string): Promise<{ disabled: boolean; blocked: string }> {
  return (await rendered(p, host)).evaluate((component, buttonName) => {
    const b = component.shadowRoot!.querySelector(`button[name=${buttonName}]`) as HTMLButtonElement | null;
    if (!b) throw new Error(`<${component.tagName.toLowerCase()}> has no button '${buttonName}'`);
    return { disabled: b.disabled, blocked: b.parentElement?.querySelector('.blocked')?.textContent?.trim() ?? '' };
  }, button);
}

/**
 * Elements (through every shadow root) that reach past the window's width or within 8 px of an
 * edge (the page's layout boxes apart), and the document's scroll width: what scrolls sideways.
 */
export function sidewaysOverflow(p: Page): Promise<{ scrollWidth: number; width: number; wide: string[] }> {
  return p.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const layout = new Set(['HTML', 'BODY', 'DDPM-APP', 'MAIN', 'HEADER', 'FOOTER']);
    const wide: string[] = [];
    const walk = (root: Document | ShadowRoot) => {
      for (const el of root.querySelectorAll('*')) {
        const r = el.getBoundingClientRect();
        if (r.width > 0 && (r.right > width - 8 || r.left < 8) && !layout.has(el.tagName)) {
          wide.push(`${el.tagName.toLowerCase()}.${el.className} ${Math.round(r.left)}..${Math.round(r.right)}`);
        }
        if (el.shadowRoot) walk(el.shadowRoot);
      }
    };
    walk(document);
    return { scrollWidth: document.documentElement.scrollWidth, width, wide: wide.slice(0, 10) };
  });
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
