import { optimChecks } from '../../src/engine/checks/optim.ts';
import { defineOpTests } from './define-op-tests.ts';

defineOpTests(optimChecks);
