import { matmulChecks } from '../../src/engine/checks/matmul.ts';
import { defineOpTests } from './define-op-tests.ts';

defineOpTests(matmulChecks);
