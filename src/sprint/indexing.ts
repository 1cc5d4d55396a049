/**
 * Checked element access for code compiled with noUncheckedIndexedAccess: where an index comes
 * from data rather than from a loop bound, a miss is a RangeError naming what was looked up, not an
 * `undefined` that surfaces later as NaN or "cannot read properties of undefined".
 */
export function at<T>(list: ArrayLike<T>, index: number, what = 'element'): T {
  const value = Number.isInteger(index) && index >= 0 ? list[index] : undefined;
  if (value === undefined) throw new RangeError(`${what} ${index} is out of range (${list.length} present)`);
  return value;
}
