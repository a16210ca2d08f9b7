export * from './elementwise.ts';
export * from './fill.ts';
export * from './layout.ts';
export * from './reduce.ts';
export * from './matmul.ts';
export * from './softmax.ts';
export * from './loss.ts';
export * from './random.ts';
