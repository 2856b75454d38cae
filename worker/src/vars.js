// @ts-check
// The plain-text variables (settings, rendered as text by the stack and wrangler.toml), read as
// numbers; a missing or malformed one falls back to its settings default (VAR_DEFAULTS).

import { VAR_DEFAULTS } from "./contract.js";
import { isolate } from "./state.js";

/** @typedef {keyof typeof VAR_DEFAULTS} VarName */

/**
 * A variable as a positive integer, or its default.
 * @param {Env} env
 * @param {VarName} name
 * @returns {number}
 */
export function numericVar(env, name) {
  const parsed = Number.parseInt(env[name] ?? "", 10);
  return Number.isInteger(parsed) && parsed > 0 ? parsed : VAR_DEFAULTS[name];
}

/**
 * A variable as a whole number of seconds, 0 included, or its default.
 * @param {Env} env
 * @param {VarName} name
 * @returns {number}
 */
export function secondsVar(env, name) {
  const text = env[name];
  const parsed = Number(text);
  return text !== undefined && text !== "" && Number.isInteger(parsed) && parsed >= 0 ? parsed : VAR_DEFAULTS[name];
}

/**
 * A variable as a number from 0 to 1, or its default (parsed once per value and isolate).
 * @param {Env} env
 * @param {VarName} name
 * @returns {number}
 */
export function rateVar(env, name) {
  const text = env[name];
  const key = `${name}=${text}`;
  let rate = isolate.rates.get(key);
  if (rate === undefined) {
    const parsed = Number(text);
    rate = text !== undefined && text !== "" && parsed >= 0 && parsed <= 1 ? parsed : VAR_DEFAULTS[name];
    isolate.rates.set(key, rate);
  }
  return rate;
}
