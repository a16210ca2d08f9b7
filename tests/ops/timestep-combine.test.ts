import { timestepCombineChecks } from '../../src/engine/checks/timestep-combine.ts';
import { defineOpTests } from './define-op-tests.ts';

defineOpTests(timestepCombineChecks);
