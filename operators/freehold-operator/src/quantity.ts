/**
 * Kubernetes resource quantities (`16`, `500m`, `64Gi`, `1.5`, `2e3`), parsed exactly (big integer
 * fractions, no floating point), and a tenant's CPU or memory divided evenly over its namespaces.
 *
 * @module
 */

/** A quantity as an exact fraction of base units (cores, bytes). */
export interface Quantity {
  readonly numerator: bigint;
  readonly denominator: bigint;
}

const binary: Readonly<Record<string, bigint>> = {
  Ki: 1n << 10n,
  Mi: 1n << 20n,
  Gi: 1n << 30n,
  Ti: 1n << 40n,
  Pi: 1n << 50n,
  Ei: 1n << 60n,
};

const decimalExponents: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  "": 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};

const pattern = /^\+?(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

/**
 * Parses a quantity; undefined when the text is not one (a negative quantity is not one here).
 *
 * @example
 * ```ts
 * parseQuantity("500m"); // { numerator: 1n, denominator: 2n }
 * parseQuantity("64Gi"); // { numerator: 68719476736n, denominator: 1n }
 * ```
 */
export function parseQuantity(text: string): Quantity | undefined {
  const match = pattern.exec(text.trim());
  if (match === null) return undefined;
  const [, number = "", suffix = ""] = match;
  const [whole = "", fraction = ""] = number.split(".");
  let numerator = BigInt(`${whole}${fraction}` || "0");
  let denominator = 10n ** BigInt(fraction.length);
  const factor = binary[suffix];
  if (factor !== undefined) {
    numerator *= factor;
  } else {
    const exponent = /^[eE]/.test(suffix) ? Number(suffix.slice(1)) : (decimalExponents[suffix] ?? 0);
    if (Math.abs(exponent) > 30) return undefined;
    if (exponent >= 0) numerator *= 10n ** BigInt(exponent);
    else denominator *= 10n ** BigInt(-exponent);
  }
  return { numerator, denominator };
}

/** Millicores as a quantity: whole cores when exact (`8`), else millicores (`5333m`). */
export function formatMillicores(millicores: bigint): string {
  return millicores % 1000n === 0n ? String(millicores / 1000n) : `${millicores}m`;
}

/**
 * Bytes as a quantity: the largest binary unit that divides them (`32Gi`), else the largest decimal
 * one (`500M`), else rounded down to whole KiB (`2796202Ki`), else bytes.
 */
export function formatBytes(bytes: bigint): string {
  for (const [suffix, factor] of Object.entries(binary).reverse()) {
    if (bytes >= factor && bytes % factor === 0n) return `${bytes / factor}${suffix}`;
  }
  for (const [suffix, exponent] of Object.entries(decimalExponents).reverse()) {
    if (exponent <= 0) break;
    const factor = 10n ** BigInt(exponent);
    if (bytes >= factor && bytes % factor === 0n) return `${bytes / factor}${suffix}`;
  }
  const kibibytes = bytes / 1024n;
  return kibibytes > 0n ? `${kibibytes}Ki` : String(bytes);
}

/**
 * One share of a CPU or memory quantity divided evenly over `parts`, rounded down (to a millicore,
 * to a byte); undefined when the text is not a quantity.
 *
 * @example
 * ```ts
 * divideQuantity("16", 3, "cpu"); // "5333m"
 * divideQuantity("64Gi", 2, "memory"); // "32Gi"
 * ```
 */
export function divideQuantity(text: string, parts: number, kind: "cpu" | "memory"): string | undefined {
  const quantity = parseQuantity(text);
  if (quantity === undefined || parts < 1) return undefined;
  const scale = kind === "cpu" ? 1000n : 1n;
  const share = (quantity.numerator * scale) / (quantity.denominator * BigInt(parts));
  return kind === "cpu" ? formatMillicores(share) : formatBytes(share);
}

/**
 * The smaller of two quantities of the same kind, as given.
 *
 * @example
 * ```ts
 * smallerQuantity("100m", "50m"); // "50m"
 * ```
 */
export function smallerQuantity(left: string, right: string): string {
  const a = parseQuantity(left);
  const b = parseQuantity(right);
  if (a === undefined || b === undefined) return left;
  return a.numerator * b.denominator <= b.numerator * a.denominator ? left : right;
}
