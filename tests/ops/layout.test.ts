import { layoutChecks } from '../../src/engine/checks/layout.ts';
import { defineOpTests } from './define-op-tests.ts';

defineOpTests(layoutChecks);
