import { samplerStepChecks } from '../../src/engine/checks/sampler-step.ts';
import { defineOpTests } from './define-op-tests.ts';

defineOpTests(samplerStepChecks);
