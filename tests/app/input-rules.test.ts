// The one rule set for typed values (the page's fields and the CLI's flags): what each refuses,
// and messages that name the value and what is allowed.

import { expect, test } from 'vitest';
import { allowed, checkNumber, RULES, ruleWithMax } from '../../src/app/input-rules.ts';

test('integers, ranges, open ends and what 0 means', () => {
  expect(allowed(RULES.batchSize)).toBe('a whole number from 1 to 4096');
  expect(allowed(RULES.lr)).toBe('a number above 0 and at most 1');
  expect(allowed(RULES.emaDecay)).toBe('a number from 0 and below 1');
  expect(allowed(RULES.qualityEvery)).toBe('a whole number from 0 to 10,000,000 (0: never measure)');
  expect(checkNumber(RULES.batchSize, '16')).toEqual({ ok: true, value: 16 });
  expect(checkNumber(RULES.lr, '2e-3')).toEqual({ ok: true, value: 0.002 });
  expect(checkNumber(RULES.lr, '1')).toEqual({ ok: true, value: 1 });
  expect(checkNumber(RULES.emaDecay, '0.9999')).toEqual({ ok: true, value: 0.9999 });
  expect(checkNumber(RULES.qualityEvery, '0')).toEqual({ ok: true, value: 0 });
  expect(checkNumber(RULES.qualityEvery, '20')).toEqual({ ok: true, value: 20 });
});

test('refusals say what the value is, what is allowed and what was given', () => {
  const refused = (rule: Parameters<typeof checkNumber>[0], text: string, unreadable = false) => {
    const r = checkNumber(rule, text, unreadable);
    if (r.ok) throw new Error(`'${text}' was accepted`);
    return r.message;
  };
  expect(refused(RULES.lr, '1e9')).toBe('the learning rate must be a number above 0 and at most 1, not 1e9');
  expect(refused(RULES.lr, '0')).toBe('the learning rate must be a number above 0 and at most 1, not 0');
  expect(refused(RULES.lr, '2.5')).toContain('not 2.5');
  expect(refused(RULES.lr, 'abc')).toBe("the learning rate must be a number above 0 and at most 1, not 'abc'");
  expect(refused(RULES.lr, 'Infinity')).toContain("not 'Infinity'");
  expect(refused(RULES.lr, '')).toBe('the learning rate must be a number above 0 and at most 1; the field is empty');
  expect(refused(RULES.lr, '', true)).toBe('the learning rate must be a number above 0 and at most 1; that is not a number');
  expect(refused(RULES.batchSize, '0')).toBe('the batch size must be a whole number from 1 to 4096, not 0');
  expect(refused(RULES.batchSize, '2.5')).toContain('not 2.5');
  expect(refused(RULES.emaDecay, '1')).toContain('below 1');
  expect(refused(RULES.seed, '4294967296')).toContain('from 0 to 4,294,967,295');
  expect(refused(ruleWithMax(RULES.sampleSteps, 1000), '1001')).toBe('the number of sampling steps must be a whole number from 1 to 1000, not 1001');
});
