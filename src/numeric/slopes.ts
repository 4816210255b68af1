/**
 * Convergence orders from gaps measured at several step sizes (docs/theory.md §8.2): if
 * gap ≈ C·hᵖ then log gap = log C + p·log h, so p is a slope on log–log axes.
 */

/**
 * The order observed between consecutive step sizes, log(gapᵢ/gapᵢ₊₁) / log(hᵢ/hᵢ₊₁)
 * (log₂ of the gap ratio when h halves). One entry fewer than `hs`; NaN where a gap is not
 * positive and finite (no logarithm) or where two step sizes coincide.
 */
export function observedOrders(hs: readonly number[], gaps: readonly number[]): number[] {
  checkLengths(hs, gaps);
  const orders: number[] = [];
  for (let i = 0; i + 1 < hs.length; i++) {
    const [h0, h1, g0, g1] = [hs[i]!, hs[i + 1]!, gaps[i]!, gaps[i + 1]!];
    orders.push(usable(h0, g0) && usable(h1, g1) && h0 !== h1 ? Math.log(g0 / g1) / Math.log(h0 / h1) : NaN);
  }
  return orders;
}

/**
 * The least-squares slope of log gap against log h over the points with a positive, finite
 * gap: p = Σ(xᵢ − x̄)(yᵢ − ȳ) / Σ(xᵢ − x̄)² with x = log h, y = log gap. NaN with fewer than
 * two such points or a single distinct h.
 */
export function fitSlope(hs: readonly number[], gaps: readonly number[]): number {
  checkLengths(hs, gaps);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < hs.length; i++) {
    if (!usable(hs[i]!, gaps[i]!)) continue;
    xs.push(Math.log(hs[i]!));
    ys.push(Math.log(gaps[i]!));
  }
  if (xs.length < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  return sxx > 0 ? sxy / sxx : NaN;
}

const usable = (h: number, gap: number) => h > 0 && Number.isFinite(h) && gap > 0 && Number.isFinite(gap);

function checkLengths(hs: readonly number[], gaps: readonly number[]): void {
  if (hs.length !== gaps.length) throw new RangeError(`internal: ${hs.length} step sizes but ${gaps.length} gaps`);
}
