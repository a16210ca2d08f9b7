import { reduceChecks } from '../../src/engine/checks/reduce.ts';
import { defineOpTests } from './define-op-tests.ts';

defineOpTests(reduceChecks);
