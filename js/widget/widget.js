// The FACEIO-style modal: injected into document.body, no host markup needed.
// Every interactive element carries a stable data-fio attribute (the e2e tests rely on them):
//   root  data-fio="modal"  data-fio-screen="intro|terms|permission|camera|pin|success|error"
//         data-fio-state (guidance state), data-fio-action (liveness prompt, while one is shown)
//   data-fio="close" "intro-continue" "consent-accept" "consent-decline" "camera" "guidance"
//   "progress" "pin-input" "pin-confirm-input" (enroll only) "pin-submit" "pin-error"
//   "success" "error-message"
// All screens are built once and toggled with `hidden`; the camera <video> keeps its stream.

import { CSS } from "./styles.js";
import { ERROR_CODES, FioError } from "../errors.js";

let uid = 0;
const STYLE_ID = "openfio-widget-style";
const adopted = new WeakSet(); // documents that already adopted the widget's sheet

// The stylesheet, without anything a strict Content-Security-Policy refuses: a constructed
// sheet (CSSOM, not subject to style-src) where the browser has them, else a <style> element
// carrying the page's `styleNonce` (style-src 'nonce-…').
function installStyles(doc, nonce) {
  if (adopted.has(doc) || doc.getElementById(STYLE_ID)) return;
  if (typeof CSSStyleSheet === "function" && "adoptedStyleSheets" in doc) {
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
      adopted.add(doc);
      return;
    } catch { /* an older browser: fall back to <style> */ }
  }
  const style = el("style", { id: STYLE_ID, nonce });
  style.textContent = CSS;
  (doc.head || doc.body).append(style);
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c) e.append(c);
  return e;
}

export const SCREENS = ["intro", "terms", "permission", "camera", "pin", "success", "error"];

export class Widget {
  /**
   * @param {{strings: object, locale: string, ceremony: "enroll"|"authenticate", onAbort: (screen: string) => void}} opts
   */
  constructor({ strings, locale, ceremony, onAbort, terms = {}, styleNonce }) {
    this.s = strings;
    this.terms = terms; // the app's own {text, privacyPolicyUrl} (WidgetPolicy), when set
    this.styleNonce = styleNonce;
    this.locale = locale;
    this.ceremony = ceremony;
    this.onAbort = onAbort;
    this.screen = null;
    this.root = null;
    this.waiters = new Map();
    this.pinResolve = null;
    this.prevFocus = null;
    this.id = `fio${++uid}`;
  }

  /** Injects the modal; throws FioError(UI_NOT_READY) if the DOM is unavailable. */
  mount() {
    try {
      if (typeof document === "undefined" || !document.body) throw new Error("no document.body");
      installStyles(document, this.styleNonce);
      this.build();
      this.prevFocus = document.activeElement;
      document.body.append(this.root);
      if (!this.root.isConnected) throw new Error("widget not attached");
    } catch (e) {
      if (this.root) this.root.remove();
      if (this.focusIn) document.removeEventListener("focusin", this.focusIn);
      if (this.keyHandler) document.removeEventListener("keydown", this.keyHandler, true);
      throw new FioError(ERROR_CODES.UI_NOT_READY, `widget cannot be injected: ${e.message}`);
    }
  }

  build() {
    const s = this.s;
    const enroll = this.ceremony === "enroll";
    const titleId = `${this.id}-title`;
    this.title = el("h2", { class: "fio-title", id: titleId });
    this.closeBtn = el("button", { type: "button", class: "fio-close", "data-fio": "close", "aria-label": s.close, text: "×" });
    this.closeBtn.addEventListener("click", () => this.abort());

    const introBtn = el("button", { type: "button", class: "fio-btn fio-primary", "data-fio": "intro-continue", text: s.continue });
    this.introBar = el("div");
    const intro = el("section", { class: "fio-screen", "data-screen": "intro" },
      el("p", { class: "fio-text", text: s.introText }),
      el("ul", { class: "fio-tips" }, (s.introTips || []).map((t) => el("li", { text: t }))),
      el("div", { class: "fio-progress fio-gap", "aria-hidden": "true" }, this.introBar),
      el("div", { class: "fio-row" }, introBtn));

    const accept = el("button", { type: "button", class: "fio-btn fio-primary", "data-fio": "consent-accept", text: s.accept });
    const decline = el("button", { type: "button", class: "fio-btn fio-secondary", "data-fio": "consent-decline", text: s.decline });
    const terms = el("section", { class: "fio-screen", "data-screen": "terms" },
      el("p", { class: "fio-text", id: `${this.id}-terms`, "data-fio": "terms-text", text: this.terms.text || s.termsText }),
      this.terms.privacyPolicyUrl
        ? el("p", { class: "fio-text" }, el("a", { class: "fio-link", "data-fio": "privacy-link", href: this.terms.privacyPolicyUrl, target: "_blank", rel: "noopener noreferrer", text: s.privacyPolicy }))
        : null,
      el("div", { class: "fio-row" }, decline, accept));

    const permission = el("section", { class: "fio-screen", "data-screen": "permission" },
      el("p", { class: "fio-text", text: s.permissionText }),
      el("div", { class: "fio-spinner", role: "presentation" }));

    this.video = el("video", { class: "fio-video", "data-fio": "camera", autoplay: true, muted: true, playsinline: true, "aria-hidden": "true" });
    this.video.muted = true;
    this.video.playsInline = true;
    this.guidance = el("p", { class: "fio-guidance", "data-fio": "guidance", role: "status", "aria-live": "polite", "aria-atomic": "true" });
    this.bar = el("div");
    this.progress = el("div", { class: "fio-progress", "data-fio": "progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": 0, "aria-label": s.capturing }, this.bar);
    const camera = el("section", { class: "fio-screen", "data-screen": "camera" },
      el("div", { class: "fio-stage" }, this.video, el("div", { class: "fio-guide", "aria-hidden": "true" })),
      this.guidance, this.progress);

    this.pinText = el("p", { class: "fio-text" });
    this.pinInput = el("input", { class: "fio-pin", "data-fio": "pin-input", type: "password", inputmode: "numeric", pattern: "[0-9]*", autocomplete: "off", maxlength: 16 });
    this.pinConfirm = enroll ? el("input", { class: "fio-pin", "data-fio": "pin-confirm-input", type: "password", inputmode: "numeric", pattern: "[0-9]*", autocomplete: "off", maxlength: 16 }) : null;
    this.pinError = el("p", { class: "fio-pin-error", "data-fio": "pin-error", role: "alert", "aria-live": "assertive" });
    this.pinSubmit = el("button", { type: "submit", class: "fio-btn fio-primary", "data-fio": "pin-submit", text: s.submit });
    this.pinForm = el("form", { novalidate: true },
      el("label", { class: "fio-field" }, el("span", { text: s.pinLabel }), this.pinInput),
      this.pinConfirm ? el("label", { class: "fio-field" }, el("span", { text: s.pinConfirmLabel }), this.pinConfirm) : null,
      this.pinError,
      el("div", { class: "fio-row" }, this.pinSubmit));
    this.pinForm.addEventListener("submit", (e) => {
      e.preventDefault();
      const r = this.pinResolve;
      if (!r || this.pinBusy) return;
      r({ pin: this.pinInput.value.trim(), confirm: this.pinConfirm ? this.pinConfirm.value.trim() : undefined });
    });
    const pin = el("section", { class: "fio-screen", "data-screen": "pin" }, this.pinText, this.pinForm);

    this.successMsg = el("p", { class: "fio-text", "data-fio": "success", role: "status", "aria-live": "polite" });
    const success = el("section", { class: "fio-screen fio-success", "data-screen": "success" },
      el("div", { class: "fio-result" }, el("div", { class: "fio-icon", "aria-hidden": "true", text: "✓" }), this.successMsg));

    this.errorMsg = el("p", { class: "fio-text", "data-fio": "error-message", role: "alert" });
    const error = el("section", { class: "fio-screen fio-error", "data-screen": "error" },
      el("div", { class: "fio-result" }, el("div", { class: "fio-icon", "aria-hidden": "true", text: "!" }), this.errorMsg));

    this.sections = { intro, terms, permission, camera, pin, success, error };
    for (const sec of Object.values(this.sections)) sec.hidden = true;

    this.card = el("div", { class: "fio-card" },
      el("div", { class: "fio-head" }, this.title, this.closeBtn),
      el("p", { class: "fio-sr", id: `${this.id}-desc`, text: s.dialogLabel }),
      ...Object.values(this.sections),
      el("div", { class: "fio-foot", text: s.poweredBy || "" }));

    this.root = el("div", {
      class: "fio-root", "data-fio": "modal", "data-fio-screen": "", "data-fio-ceremony": this.ceremony,
      role: "dialog", "aria-modal": "true", "aria-labelledby": titleId, "aria-describedby": `${this.id}-desc`,
      lang: this.locale, dir: s.dir || "ltr",
    }, this.card);
    this.root.addEventListener("click", (e) => {
      const btn = e.target.closest && e.target.closest("button[data-fio]");
      if (!btn) return;
      const name = btn.getAttribute("data-fio");
      const w = this.waiters.get(name);
      if (w) {
        this.waiters.delete(name);
        w(name);
      }
    });
    // Keys are handled on the document (capture phase) while the modal is open: a click on plain
    // text or on the backdrop leaves focus on <body>, and Escape / Tab must still work there.
    this.keyHandler = (e) => this.onKey(e);
    document.addEventListener("keydown", this.keyHandler, true);
    this.focusIn = (e) => {
      if (this.root && this.root.isConnected && !this.root.contains(e.target)) this.focusFirst();
    };
    document.addEventListener("focusin", this.focusIn);
  }

  onKey(e) {
    if (!this.root || !this.root.isConnected) return;
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      this.abort();
      return;
    }
    if (e.key !== "Tab") return;
    const f = this.focusables();
    if (!f.length) return;
    const first = f[0];
    const last = f[f.length - 1];
    const active = document.activeElement;
    if (!this.root.contains(active)) {
      // Focus is on <body> (or escaped): bring it back to the dialog's edge.
      e.preventDefault();
      (e.shiftKey ? last : first).focus();
    } else if (e.shiftKey && active === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && active === last) {
      e.preventDefault();
      first.focus();
    }
  }

  focusables() {
    if (!this.root) return [];
    return [...this.root.querySelectorAll("button,input,[tabindex]:not([tabindex='-1'])")]
      .filter((x) => !x.disabled && !x.closest("[hidden]"));
  }

  focusFirst() {
    const f = this.focusables();
    const preferred = f.find((x) => x !== this.closeBtn) || f[0];
    if (preferred) preferred.focus({ preventScroll: true });
  }

  abort() {
    if (this.onAbort) this.onAbort(this.screen);
  }

  /** Switches screen (keeps data-fio-screen current) and moves focus into it. */
  show(screen, title) {
    if (!this.root) return;
    this.screen = screen;
    for (const [name, sec] of Object.entries(this.sections)) sec.hidden = name !== screen;
    this.root.setAttribute("data-fio-screen", screen);
    const s = this.s;
    const titles = {
      intro: s.introTitle,
      terms: s.termsTitle,
      permission: s.permissionTitle,
      camera: this.ceremony === "enroll" ? s.enrollTitle : s.authTitle,
      pin: this.ceremony === "enroll" ? s.pinChooseTitle : s.pinEnterTitle,
      success: this.ceremony === "enroll" ? s.enrollTitle : s.authTitle,
      error: s.errorTitle,
    };
    this.title.textContent = title || titles[screen] || s.dialogLabel;
    this.focusFirst();
  }

  /** Resolves when the button with this data-fio attribute is clicked. */
  waitFor(name) {
    return new Promise((resolve) => this.waiters.set(name, resolve));
  }

  setIntroProgress(f) {
    this.introBar.style.width = `${Math.round(Math.max(0, Math.min(1, f)) * 100)}%`;
  }

  setGuidance(text, state) {
    if (this.guidance.textContent !== text) this.guidance.textContent = text;
    if (this.root) this.root.setAttribute("data-fio-state", state || "");
  }

  /**
   * The liveness prompt on screen (e.g. "turnLeft", "blink") as data-fio-action on the modal, for
   * styling and tests; the prompt's text itself goes through setGuidance (the live region).
   * `null` clears it.
   */
  setAction(action) {
    if (!this.root) return;
    if (action) this.root.setAttribute("data-fio-action", String(action));
    else this.root.removeAttribute("data-fio-action");
  }

  setProgress(f) {
    const v = Math.round(Math.max(0, Math.min(1, f)) * 100);
    this.bar.style.width = `${v}%`;
    this.progress.setAttribute("aria-valuenow", String(v));
  }

  attachStream(stream) {
    this.video.srcObject = stream;
    const p = this.video.play();
    if (p && p.catch) p.catch(() => {});
  }

  /**
   * Shows the PIN pad; resolves {pin, confirm} at each submit (call again to re-prompt).
   * @param {{text?: string, error?: string, clear?: boolean}} o
   */
  askPin({ text, error, clear = true } = {}) {
    this.pinBusy = false;
    this.pinSubmit.disabled = false;
    if (clear) {
      this.pinInput.value = "";
      if (this.pinConfirm) this.pinConfirm.value = "";
    }
    this.pinText.textContent = text || (this.ceremony === "enroll" ? this.s.pinChooseText : this.s.pinEnterText) || "";
    this.pinError.textContent = error || "";
    if (this.screen !== "pin") this.show("pin");
    else this.pinInput.focus();
    return new Promise((resolve) => {
      this.pinResolve = (v) => {
        this.pinResolve = null;
        resolve(v);
      };
    });
  }

  setPinBusy(busy) {
    this.pinBusy = busy;
    this.pinSubmit.disabled = busy;
  }

  setPinError(text) {
    this.pinError.textContent = text || "";
  }

  showSuccess(text) {
    this.successMsg.textContent = text;
    this.show("success");
  }

  showError(text) {
    this.errorMsg.textContent = text;
    this.show("error");
  }

  close() {
    if (!this.root) return;
    document.removeEventListener("focusin", this.focusIn);
    document.removeEventListener("keydown", this.keyHandler, true);
    try {
      this.video.srcObject = null;
    } catch { /* ignore */ }
    this.root.remove();
    this.root = null;
    this.waiters.clear();
    if (this.prevFocus && typeof this.prevFocus.focus === "function" && this.prevFocus.isConnected) {
      try {
        this.prevFocus.focus({ preventScroll: true });
      } catch { /* ignore */ }
    }
  }
}
