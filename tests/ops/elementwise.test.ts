import { elementwiseChecks } from '../../src/engine/checks/elementwise.ts';
import { defineOpTests } from './define-op-tests.ts';

defineOpTests(elementwiseChecks);
