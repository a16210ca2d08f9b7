import { lossChecks } from '../../src/engine/checks/loss.ts';
import { defineOpTests } from './define-op-tests.ts';

defineOpTests(lossChecks);
