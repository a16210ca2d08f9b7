// Reverse-mode autodiff: backward() walks the tape from a root in reverse topological order,
// accumulating gradients where a tensor is used more than once. Above the ops: it adds gradients.

import { add } from './ops/elementwise.ts';
import { fill } from './ops/fill.ts';
import { fmt, sameShape } from './shape.ts';
import { noGrad } from './tape.ts';
import { assertTensor, type Tensor, untrack, viewOf } from './tensor.ts';

function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    const inputs = t.node?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const next = inputs[i]!;
      if (next.requiresGrad && !visited.has(next)) {
        visited.add(next);
        stack.push([next, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order; // inputs before outputs
}

/**
 * Back-propagates from `root`. Without `gradOutput`, `root` must hold one element (the loss).
 * Leaf tensors with `requiresGrad` receive (or add to) `.grad`.
 */
export function backward(root: Tensor, gradOutput?: Tensor): void {
  assertTensor('backward', 'root', root);
  if (!root.requiresGrad) {
    throw new Error(`backward: ${root} does not require a gradient (no input of it had requiresGrad)`);
  }
  if (!gradOutput && root.size !== 1) {
    throw new Error(
      `backward: ${root} is not a scalar (shape ${fmt(root.shape)}); pass the upstream gradient: backward(t, grad)`,
    );
  }
  if (gradOutput) {
    assertTensor('backward', 'gradOutput', gradOutput);
    if (!sameShape(gradOutput.shape, root.shape)) {
      throw new Error(`backward: gradOutput ${fmt(gradOutput.shape)} does not match the tensor's shape ${fmt(root.shape)}`);
    }
  }
  noGrad(() => {
    const grads = new Map<Tensor, Tensor>();
    const held = new Set<Tensor>();
    const store = (t: Tensor, g: Tensor, op: string) => {
      if (!sameShape(g.shape, t.shape)) {
        throw new Error(`backward of ${op}: gradient ${fmt(g.shape)} does not match its input ${fmt(t.shape)}`);
      }
      if (held.has(g)) g = viewOf(g, g.shape, 'grad-alias');
      const existing = grads.get(t);
      if (existing) {
        const sum = add(existing, g);
        held.delete(existing);
        existing.dispose();
        g.dispose();
        g = sum;
      }
      grads.set(t, g);
      held.add(g);
    };
    store(root, gradOutput ? viewOf(gradOutput, gradOutput.shape, 'grad-seed') : fill(root.shape, 1), 'seed');

    const order = topologicalOrder(root);
    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k]!;
      const node = t.node;
      if (!node) continue; // a leaf: handled below
      const g = grads.get(t);
      if (!g) continue;
      const inputGrads = node.backward(g);
      grads.delete(t);
      held.delete(g);
      node.inputs.forEach((input, i) => {
        const gi = inputGrads[i];
        if (!gi || !input.requiresGrad) {
          if (gi && gi !== g) gi.dispose();
          return;
        }
        store(input, gi === g ? viewOf(g, g.shape, 'grad-alias') : gi, node.op);
      });
      g.dispose();
    }
    for (const [leaf, g] of grads) {
      if (leaf.grad) {
        const sum = add(leaf.grad, g);
        leaf.grad.dispose();
        g.dispose();
        leaf.grad = sum;
      } else {
        leaf.grad = g;
      }
      untrack(leaf.grad);
    }
  });
}

/** Disposes and clears the gradients of `params`. */
export function zeroGrad(params: Iterable<Tensor>): void {
  for (const p of params) {
    p.grad?.dispose();
    p.grad = null;
  }
}
