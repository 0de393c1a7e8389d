// Widget languages and their resolution (fio_core::locale, whose tables are generated into
// ../generated/core-tables.js; resolveLocale and isRtl answer fio-core's golden vectors,
// tests/vectors/locale.json): an explicit supported code wins; "auto" (or empty) takes
// the first supported navigator.languages entry, then the app's default locale; anything
// unsupported falls back to US English.
import { DEFAULT_LOCALE, RTL_LANGUAGES, SUPPORTED_LOCALES } from "../generated/core-tables.js";
import en from "./en.js";
import es from "./es.js";
import fr from "./fr.js";
import de from "./de.js";
import pt from "./pt.js";
import ar from "./ar.js";
import ja from "./ja.js";

/** The strings of each of fio-core's SUPPORTED_LOCALES (tests/package/core-tables.test.mjs checks
 * that the two lists agree). */
export const LOCALES = { en, es, fr, de, pt, ar, ja };
export { DEFAULT_LOCALE, SUPPORTED_LOCALES };

function primary(tag) {
  return String(tag || "").trim().split(/[-_]/)[0].toLowerCase();
}

export function supportedLocale(tag) {
  const p = primary(tag);
  return SUPPORTED_LOCALES.includes(p) ? p : null;
}

export function browserLanguages() {
  if (typeof navigator === "undefined") return [];
  if (Array.isArray(navigator.languages) && navigator.languages.length) return navigator.languages;
  return navigator.language ? [navigator.language] : [];
}

export function resolveLocale(requested, browserLangs = browserLanguages(), appDefault = DEFAULT_LOCALE) {
  const r = String(requested ?? "").trim();
  if (!r || r.toLowerCase() === "auto") {
    for (const l of browserLangs) {
      const s = supportedLocale(l);
      if (s) return s;
    }
    return supportedLocale(appDefault) || DEFAULT_LOCALE;
  }
  return supportedLocale(r) || DEFAULT_LOCALE;
}

export function isRtl(locale) {
  return RTL_LANGUAGES.includes(primary(locale));
}

const GROUPS = ["guidance", "actions", "errors"];

/** The strings of a locale, every missing key filled from English, then the page's overrides
 * for that locale (`validateOverrides`). */
export function strings(locale, overrides = {}) {
  const l = LOCALES[locale] || en;
  const o = overrides[locale] || {};
  return {
    ...en,
    ...l,
    ...o,
    guidance: { ...en.guidance, ...(l.guidance || {}), ...(o.guidance || {}) },
    actions: { ...en.actions, ...(l.actions || {}), ...(o.actions || {}) },
    errors: { ...en.errors, ...(l.errors || {}), ...(o.errors || {}) },
    dir: isRtl(locale) ? "rtl" : "ltr",
  };
}

/**
 * Checks the page's string overrides, `{ locale: { key: "text", guidance: { key: "text" } } }`:
 * supported locales only, keys the widget has (English is the list), strings only (introTips:
 * an array of strings). Returns a frozen copy; throws an Error naming the first problem, so a
 * typo is reported instead of silently ignored.
 */
export function validateOverrides(o) {
  if (o === undefined || o === null) return Object.freeze({});
  if (typeof o !== "object" || Array.isArray(o)) throw new Error("strings must be an object of locales");
  const out = {};
  for (const [loc, table] of Object.entries(o)) {
    if (!SUPPORTED_LOCALES.includes(loc)) {
      throw new Error(`strings: unsupported locale "${loc}" (supported: ${SUPPORTED_LOCALES.join(", ")})`);
    }
    if (!table || typeof table !== "object" || Array.isArray(table)) throw new Error(`strings.${loc} must be an object`);
    const copy = {};
    for (const [k, v] of Object.entries(table)) {
      const where = `strings.${loc}.${k}`;
      if (k === "dir" || !(k in en)) throw new Error(`${where}: no such widget string`);
      if (GROUPS.includes(k)) {
        if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error(`${where} must be an object`);
        for (const [g, text] of Object.entries(v)) {
          if (!(g in en[k])) throw new Error(`${where}.${g}: no such widget string`);
          if (typeof text !== "string") throw new Error(`${where}.${g} must be a string`);
        }
        copy[k] = { ...v };
      } else if (Array.isArray(en[k])) {
        if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw new Error(`${where} must be an array of strings`);
        copy[k] = [...v];
      } else {
        if (typeof v !== "string") throw new Error(`${where} must be a string`);
        copy[k] = v;
      }
    }
    out[loc] = copy;
  }
  return Object.freeze(out);
}

export function format(s, vars = {}) {
  return String(s).replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}
