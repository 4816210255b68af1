/**
 * Dense real matrices (row-major Float64Array) and the matrix functions matrix rules use:
 * products, the symmetric eigendecomposition (cyclic Jacobi), powers of symmetric
 * positive (semi)definite matrices and the orthogonal polar factor, with their Fréchet
 * (directional) derivatives (docs/matrix-optimizers.md §2):
 *
 *   D(A^p)[E] = U (Dₚ ∘ (Uᵀ E U)) Uᵀ,  (Dₚ)ᵢⱼ = (λᵢ^p − λⱼ^p)/(λᵢ − λⱼ), p·λᵢ^(p−1) when λᵢ = λⱼ
 *   msign(A) = A (AᵀA)^(−1/2) (rows ≥ cols), (AAᵀ)^(−1/2) A (rows < cols)
 *   D msign(A)[E] = E P + A · D((AᵀA)^(−1/2))[EᵀA + AᵀE],  P = (AᵀA)^(−1/2)   (rows ≥ cols)
 */

export interface Mat {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

export const mat = (rows: number, cols: number, data: Float64Array = new Float64Array(rows * cols)): Mat => ({ rows, cols, data });

/** The shape of one row-major matrix block of θ. */
export interface Shape {
  readonly rows: number;
  readonly cols: number;
}

/** Which side of a block a state's dimension is: the block's rows or its columns. */
export type Side = 'r' | 'c';

/** Where each block of θ, and each state's blocks, start in their arrays. */
export interface BlockLayout {
  readonly shapes: readonly Shape[];
  readonly theta: readonly number[];
  /** Per state (in rule order), the offset of each block. */
  readonly states: readonly (readonly number[])[];
  /** Per state, the length of its array. */
  readonly stateLength: readonly number[];
}

const sideSize = (d: Side, s: Shape) => (d === 'r' ? s.rows : s.cols);

/**
 * The layout of θ made of `blocks` (row-major, concatenated; without blocks θ is one dim×1
 * column) and of the states, whose blocks are (rows, cols) sides of θ's blocks.
 */
export function blockLayout(owner: string, blocks: readonly Shape[] | undefined, dim: number, stateSides: readonly (readonly [Side, Side])[]): BlockLayout {
  const shapes = blocks ?? [{ rows: dim, cols: 1 }];
  let off = 0;
  const theta = shapes.map((b) => { const o = off; off += b.rows * b.cols; return o; });
  if (off !== dim) throw new RangeError(`${owner}: θ has length ${dim}, but its matrix blocks hold ${off}`);
  const stateLength: number[] = [];
  const states = stateSides.map(([r, c]) => {
    let o = 0;
    const starts = shapes.map((b) => { const start = o; o += sideSize(r, b) * sideSize(c, b); return start; });
    stateLength.push(o);
    return starts;
  });
  return { shapes, theta, states, stateLength };
}

/** Block `s` of x at offset `off`, as a view. */
export const block = (x: Float64Array, off: number, s: Shape): Mat => mat(s.rows, s.cols, x.subarray(off, off + s.rows * s.cols));

/** The shape of a state's block: (rows, cols) sides of the parameter block s. */
export const sideShape = (s: Shape, rows: Side, cols: Side): Shape => ({ rows: sideSize(rows, s), cols: sideSize(cols, s) });

/** A copy of a. */
export const copy = (a: Mat): Mat => mat(a.rows, a.cols, a.data.slice());

export function identity(n: number): Mat {
  const out = mat(n, n);
  for (let i = 0; i < n; i++) out.data[i * n + i] = 1;
  return out;
}

function sameShape(a: Mat, b: Mat, what: string): void {
  if (a.rows !== b.rows || a.cols !== b.cols) throw new RangeError(`${what}: shapes ${a.rows}×${a.cols} and ${b.rows}×${b.cols} differ`);
}

export function add(a: Mat, b: Mat): Mat {
  sameShape(a, b, 'add');
  const out = mat(a.rows, a.cols);
  for (let i = 0; i < a.data.length; i++) out.data[i] = a.data[i]! + b.data[i]!;
  return out;
}

export function scale(c: number, a: Mat): Mat {
  const out = mat(a.rows, a.cols);
  for (let i = 0; i < a.data.length; i++) out.data[i] = c * a.data[i]!;
  return out;
}

export function hadamard(a: Mat, b: Mat): Mat {
  sameShape(a, b, 'elementwise product');
  const out = mat(a.rows, a.cols);
  for (let i = 0; i < a.data.length; i++) out.data[i] = a.data[i]! * b.data[i]!;
  return out;
}

export function transpose(a: Mat): Mat {
  const out = mat(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) out.data[j * a.rows + i] = a.data[i * a.cols + j]!;
  return out;
}

/** a·b (i-k-j loop order, four rows of b per pass over a row of the product: row-major friendly). */
export function matmul(a: Mat, b: Mat): Mat {
  if (a.cols !== b.rows) throw new RangeError(`matmul: ${a.rows}×${a.cols} times ${b.rows}×${b.cols}`);
  const n = a.rows, m = a.cols, p = b.cols;
  const out = mat(n, p);
  const A = a.data, B = b.data, C = out.data;
  for (let i = 0; i < n; i++) {
    const ci = i * p, ai = i * m;
    let k = 0;
    for (; k + 3 < m; k += 4) {
      const a0 = A[ai + k]!, a1 = A[ai + k + 1]!, a2 = A[ai + k + 2]!, a3 = A[ai + k + 3]!;
      const b0 = k * p, b1 = b0 + p, b2 = b1 + p, b3 = b2 + p;
      for (let j = 0; j < p; j++) C[ci + j] += a0 * B[b0 + j]! + a1 * B[b1 + j]! + a2 * B[b2 + j]! + a3 * B[b3 + j]!;
    }
    for (; k < m; k++) {
      const aik = A[ai + k]!, bk = k * p;
      for (let j = 0; j < p; j++) C[ci + j] += aik * B[bk + j]!;
    }
  }
  return out;
}

/** A symmetric eigendecomposition A = V diag(values) Vᵀ (column j of V is the j-th eigenvector). */
export interface Eig {
  readonly values: Float64Array;
  readonly vectors: Mat;
}

/** Up to this size symEig uses Jacobi rotations; above, Householder tridiagonalization and implicit QR. */
export const JACOBI_MAX = 32;

/** The symmetric eigendecomposition of the symmetric part of A. */
export function symEig(a: Mat): Eig {
  if (a.rows !== a.cols) throw new RangeError(`symEig: ${a.rows}×${a.cols} is not square`);
  return a.rows <= JACOBI_MAX ? symEigJacobi(a) : symEigTridiagonal(a);
}

/**
 * Cyclic Jacobi rotations on the symmetric part of A, until the off-diagonal mass is at
 * rounding level. Accurate to working precision in the eigenvalues and orthogonal
 * eigenvectors, also for repeated eigenvalues; O(n³) per sweep.
 */
export function symEigJacobi(a: Mat): Eig {
  const n = a.rows;
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A[i * n + j] = 0.5 * (a.data[i * n + j]! + a.data[j * n + i]!);
  const V = identity(n).data;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += A[i]! * A[i]!;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += A[i * n + j]! * A[i * n + j]!;
    if (off <= 1e-32 * total || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q]!;
        if (apq === 0) continue;
        const app = A[p * n + p]!, aqq = A[q * n + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        // columns p and q
        for (let k = 0; k < n; k++) {
          const akp = A[k * n + p]!, akq = A[k * n + q]!;
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        // rows p and q
        for (let k = 0; k < n; k++) {
          const apk = A[p * n + k]!, aqk = A[q * n + k]!;
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
        A[p * n + q] = 0;
        A[q * n + p] = 0;
        for (let k = 0; k < n; k++) {
          const vkp = V[k * n + p]!, vkq = V[k * n + q]!;
          V[k * n + p] = c * vkp - s * vkq;
          V[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = A[i * n + i]!;
  return { values, vectors: mat(n, n, V) };
}

/**
 * Householder reduction of the symmetric part of A to tridiagonal T = Qᵀ A Q, then implicit
 * symmetric QR steps with Wilkinson shifts on T (Givens rotations chasing the bulge),
 * accumulating Q. Rows of Zᵀ are updated (contiguous in row-major storage). O(n³), about
 * 10n³ flops with the eigenvectors.
 */
export function symEigTridiagonal(a: Mat): Eig {
  const n = a.rows;
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A[i * n + j] = 0.5 * (a.data[i * n + j]! + a.data[j * n + i]!);
  const Zt = identity(n).data; // Qᵀ: row i is the i-th column of Q
  const d = new Float64Array(n), e = new Float64Array(n);
  const v = new Float64Array(n), p = new Float64Array(n), w = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    // the Householder vector of A[k+1.., k]
    let norm = 0;
    for (let i = k + 1; i < n; i++) norm += A[i * n + k]! ** 2;
    norm = Math.sqrt(norm);
    const x0 = A[(k + 1) * n + k]!;
    const alpha = x0 > 0 ? -norm : norm;
    let vn = 0;
    for (let i = k + 1; i < n; i++) { v[i] = A[i * n + k]!; }
    v[k + 1] = x0 - alpha;
    for (let i = k + 1; i < n; i++) vn += v[i]! * v[i]!;
    if (vn === 0 || norm === 0) continue;
    vn = Math.sqrt(vn);
    for (let i = k + 1; i < n; i++) v[i] = v[i]! / vn;
    // A₂₂ ← H A₂₂ H = A₂₂ − 2 v qᵀ − 2 q vᵀ with p = A₂₂ v, q = p − (vᵀp) v
    let K = 0;
    for (let i = k + 1; i < n; i++) {
      let t = 0;
      for (let j = k + 1; j < n; j++) t += A[i * n + j]! * v[j]!;
      p[i] = t;
      K += v[i]! * t;
    }
    for (let i = k + 1; i < n; i++) p[i] = p[i]! - K * v[i]!;
    for (let i = k + 1; i < n; i++) {
      const vi = v[i]!, pi = p[i]!;
      for (let j = k + 1; j < n; j++) A[i * n + j] -= 2 * (vi * p[j]! + pi * v[j]!);
    }
    A[(k + 1) * n + k] = alpha;
    A[k * n + k + 1] = alpha;
    for (let i = k + 2; i < n; i++) { A[i * n + k] = 0; A[k * n + i] = 0; }
    // Qᵀ ← H Qᵀ on rows k+1..
    w.fill(0);
    for (let i = k + 1; i < n; i++) {
      const vi = v[i]!;
      for (let j = 0; j < n; j++) w[j] += vi * Zt[i * n + j]!;
    }
    for (let i = k + 1; i < n; i++) {
      const vi = 2 * v[i]!;
      for (let j = 0; j < n; j++) Zt[i * n + j] -= vi * w[j]!;
    }
  }
  for (let i = 0; i < n; i++) { d[i] = A[i * n + i]!; if (i + 1 < n) e[i] = A[i * n + i + 1]!; }
  const rotate = (k: number, c: number, s: number) => {
    // Z ← Z G on columns k, k+1: rows k, k+1 of Zᵀ
    const r0 = k * n, r1 = (k + 1) * n;
    for (let j = 0; j < n; j++) {
      const zk = Zt[r0 + j]!, zk1 = Zt[r1 + j]!;
      Zt[r0 + j] = c * zk - s * zk1;
      Zt[r1 + j] = s * zk + c * zk1;
    }
  };
  const small = (i: number) => Math.abs(e[i]!) <= Number.EPSILON * (Math.abs(d[i]!) + Math.abs(d[i + 1]!));
  let hi = n - 1;
  for (let iter = 0; hi > 0; iter++) {
    if (iter > 60 * n) throw new Error('internal: symmetric QR did not converge');
    if (small(hi - 1)) { e[hi - 1] = 0; hi--; continue; }
    let lo = hi - 1;
    while (lo > 0 && !small(lo - 1)) lo--;
    // Wilkinson shift from the trailing 2×2 block
    const delta = (d[hi - 1]! - d[hi]!) / 2, eh = e[hi - 1]!;
    const mu = d[hi]! - (eh * eh) / (delta + (delta >= 0 ? 1 : -1) * Math.hypot(delta, eh));
    let x = d[lo]! - mu, z = e[lo]!;
    for (let k = lo; k < hi; k++) {
      const r = Math.hypot(x, z);
      const c = r === 0 ? 1 : x / r, s = r === 0 ? 0 : -z / r;
      if (k > lo) e[k - 1] = c * e[k - 1]! - s * z;
      const dk = d[k]!, dk1 = d[k + 1]!, ek = e[k]!;
      d[k] = c * c * dk - 2 * c * s * ek + s * s * dk1;
      d[k + 1] = s * s * dk + 2 * c * s * ek + c * c * dk1;
      e[k] = c * s * (dk - dk1) + (c * c - s * s) * ek;
      rotate(k, c, s);
      if (k < hi - 1) {
        x = e[k]!;
        z = -s * e[k + 1]!;
        e[k + 1] = c * e[k + 1]!;
      }
    }
  }
  return { values: d, vectors: transpose(mat(n, n, Zt)) };
}

/** x^p for a real power p (rational in rules); x ≤ 0 with a non-integer p gives NaN. */
export const powScalar = (x: number, p: number) => x ** p;

/**
 * The divided difference (a^p − b^p)/(a − b), accurate when a ≈ b: for a, b > 0 it is
 * b^(p−1)·expm1(p·t)/expm1(t) with t = log(a/b), which tends to p·b^(p−1) smoothly (no
 * cancellation); for other signs and an integer p ≥ 1 the sum Σ aⁱ b^(p−1−i).
 */
export function powDividedDifference(a: number, b: number, p: number): number {
  if (a > 0 && b > 0) {
    const t = Math.log(a / b);
    if (t === 0) return p * b ** (p - 1);
    return b ** (p - 1) * (Math.expm1(p * t) / Math.expm1(t));
  }
  if (Number.isInteger(p) && p >= 1) {
    let s = 0;
    for (let i = 0; i < p; i++) s += a ** i * b ** (p - 1 - i);
    return s;
  }
  if (p === 0) return 0;
  return a === b ? p * a ** (p - 1) : (a ** p - b ** p) / (a - b);
}

/** V diag(f(λ)) Vᵀ, as (V diag(f(λ))) · Vᵀ. */
export function spectralApply(e: Eig, f: (x: number) => number): Mat {
  const n = e.values.length;
  const fl = e.values.map(f);
  const W = mat(n, n, e.vectors.data.slice());
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) W.data[i * n + k] *= fl[k]!;
  const out = matmul(W, transpose(e.vectors));
  // exactly symmetric
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) {
    const v = 0.5 * (out.data[i * n + j]! + out.data[j * n + i]!);
    out.data[i * n + j] = v;
    out.data[j * n + i] = v;
  }
  return out;
}

/** A^p for symmetric A. */
export const symPow = (e: Eig, p: number): Mat => spectralApply(e, (x) => powScalar(x, p));

/** D(A^p)[E] by Daleckii–Krein: V (D ∘ (Vᵀ E V)) Vᵀ. E need not be symmetric. */
export function symPowDerivative(e: Eig, p: number, dir: Mat): Mat {
  const n = e.values.length;
  if (dir.rows !== n || dir.cols !== n) throw new RangeError(`D pow: direction ${dir.rows}×${dir.cols} for a ${n}×${n} matrix`);
  const V = e.vectors;
  const inner = matmul(matmul(transpose(V), dir), V);
  const lam = e.values;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) inner.data[i * n + j] *= powDividedDifference(lam[i]!, lam[j]!, p);
  return matmul(matmul(V, inner), transpose(V));
}

/** The Gram matrix msign works through: AᵀA when rows ≥ cols (tall), else AAᵀ. */
export const polarGram = (a: Mat): Mat => (a.rows >= a.cols ? matmul(transpose(a), a) : matmul(a, transpose(a)));

/** msign(A) = A (AᵀA)^(−1/2) (tall) or (AAᵀ)^(−1/2) A (wide), given the Gram matrix's eigendecomposition. */
export function polar(a: Mat, gram: Eig): Mat {
  const P = symPow(gram, -0.5);
  return a.rows >= a.cols ? matmul(a, P) : matmul(P, a);
}

/** D msign(A)[E] by the product rule and Daleckii–Krein on the Gram matrix. */
export function polarDerivative(a: Mat, gram: Eig, dir: Mat): Mat {
  sameShape(a, dir, 'D msign');
  const P = symPow(gram, -0.5);
  if (a.rows >= a.cols) {
    const dGram = add(matmul(transpose(dir), a), matmul(transpose(a), dir));
    return add(matmul(dir, P), matmul(a, symPowDerivative(gram, -0.5, dGram)));
  }
  const dGram = add(matmul(dir, transpose(a)), matmul(a, transpose(dir)));
  return add(matmul(P, dir), matmul(symPowDerivative(gram, -0.5, dGram), a));
}
