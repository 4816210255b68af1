// Baselines for the benchmarks: optimizer steps as hand-written fused JavaScript loops.

/** Hand-written fused loops, the way a careful JS programmer would write them (invariants hoisted). */
export const HAND = {
  adamw(theta, grad, s, n, h, { beta1, beta2, eps, lambda }) {
    const { m, v } = s;
    const c1 = 1 / (1 - beta1 ** (n + 1));
    const c2 = 1 / (1 - beta2 ** (n + 1));
    const a1 = 1 - beta1;
    const a2 = 1 - beta2;
    for (let i = 0; i < theta.length; i++) {
      const g = grad[i];
      const th = theta[i];
      const mi = beta1 * m[i] + a1 * g;
      const vi = beta2 * v[i] + a2 * g * g;
      m[i] = mi;
      v[i] = vi;
      theta[i] = th - h * (lambda * th + (mi * c1) / (Math.sqrt(vi * c2) + eps));
    }
  },
  lion(theta, grad, s, _n, h, { beta1, beta2, lambda }) {
    const { m } = s;
    const a1 = 1 - beta1;
    const a2 = 1 - beta2;
    for (let i = 0; i < theta.length; i++) {
      const g = grad[i];
      const th = theta[i];
      const mp = m[i];
      theta[i] = th - h * (Math.sign(beta1 * mp + a1 * g) + lambda * th);
      m[i] = beta2 * mp + a2 * g;
    }
  },
  'heavy-ball'(theta, grad, s, _n, h, { beta }) {
    const { m } = s;
    for (let i = 0; i < theta.length; i++) {
      const mi = beta * m[i] + grad[i];
      m[i] = mi;
      theta[i] -= h * mi;
    }
  },
};
