// Small statistics helpers for the bench runner: medians, quartiles, paired ratios.

export function sorted(values) {
  return [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
}

/** Linear-interpolated quantile (q in [0, 1]) of finite values; NaN when there are none. */
export function quantile(values, q) {
  const s = sorted(values);
  if (!s.length) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export const median = (values) => quantile(values, 0.5);
export const mean = (values) => {
  const s = sorted(values);
  return s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN;
};

/** {median, q1, q3, min, max, n} of finite values. */
export function summary(values) {
  const s = sorted(values);
  return { median: median(s), q1: quantile(s, 0.25), q3: quantile(s, 0.75), min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN, n: s.length };
}

/**
 * Ratios of a variant to its baseline, paired by round (the two ran next to each other, so slow
 * phases of the machine hit both): summary of a[i] / b[i].
 */
export function pairedRatios(variant, baseline) {
  const ratios = [];
  for (let i = 0; i < Math.min(variant.length, baseline.length); i++) {
    if (Number.isFinite(variant[i]) && Number.isFinite(baseline[i]) && baseline[i] > 0) ratios.push(variant[i] / baseline[i]);
  }
  return { ...summary(ratios), values: ratios };
}

/**
 * The order of variants in round r: rotated every round so none always runs first (ABC, BCA, CAB…)
 * and interleaved (one run of each per round), never AAAA BBBB.
 */
export function roundOrder(names, round) {
  const k = round % names.length;
  return [...names.slice(k), ...names.slice(0, k)];
}

export const round = (v, digits = 3) => (Number.isFinite(v) ? Number(v.toFixed(digits)) : null);
