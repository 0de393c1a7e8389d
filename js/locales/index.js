// Widget languages and their resolution (mirrors fio-core/src/locale.rs): an explicit supported
// code wins; "auto" (or empty) takes the first supported navigator.languages entry, then the
// app's default locale; anything unsupported falls back to US English.
import en from "./en.js";
import es from "./es.js";
import fr from "./fr.js";
import de from "./de.js";
import pt from "./pt.js";
import ar from "./ar.js";
import ja from "./ja.js";

export const LOCALES = { en, es, fr, de, pt, ar, ja };
export const SUPPORTED_LOCALES = Object.keys(LOCALES);
export const DEFAULT_LOCALE = "en";
const RTL = ["ar", "he", "fa", "ur"];

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
  return RTL.includes(primary(locale));
}

/** The strings of a locale, every missing key filled from English. */
export function strings(locale) {
  const l = LOCALES[locale] || en;
  return {
    ...en,
    ...l,
    guidance: { ...en.guidance, ...(l.guidance || {}) },
    actions: { ...en.actions, ...(l.actions || {}) },
    errors: { ...en.errors, ...(l.errors || {}) },
    dir: isRtl(locale) ? "rtl" : "ltr",
  };
}

export function format(s, vars = {}) {
  return String(s).replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}
