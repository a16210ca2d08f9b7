import { softmaxChecks } from '../../src/engine/checks/softmax.ts';
import { defineOpTests } from './define-op-tests.ts';

defineOpTests(softmaxChecks);
