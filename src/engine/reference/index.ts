// The float64 CPU references of every op: the oracle for gradient checks and the reference model.

export * from './attention.ts';
export * from './cast.ts';
export * from './conv2d.ts';
export * from './dropout.ts';
export * from './elementwise.ts';
export * from './group-norm.ts';
export * from './layout.ts';
export * from './linear.ts';
export * from './loss.ts';
export * from './matmul.ts';
export * from './ndarray.ts';
export * from './optim.ts';
export * from './reduce.ts';
export * from './sampler-step.ts';
export * from './softmax.ts';
export * from './timestep-combine.ts';
export * from './timestep-embedding.ts';
export * from './upsample.ts';
export * from './vlb.ts';
