// Type declarations for @openfio/fiojs — FACEIO's fio.js API (https://faceio.net/integration-guide).

/** FACEIO's error codes, exactly as fio.js numbers and spells them (note the three Ds). */
export interface FioErrorCodes {
  PERMISSION_REFUSED: 1;
  NO_FACES_DETECTED: 2;
  UNRECOGNIZED_FACE: 3;
  MANY_FACES: 4;
  PAD_ATTACK: 5;
  FACE_MISMATCH: 6;
  NETWORK_IO: 7;
  WRONG_PIN_CODE: 8;
  PROCESSING_ERR: 9;
  UNAUTHORIZED: 10;
  TERMS_NOT_ACCEPTED: 11;
  UI_NOT_READY: 12;
  SESSION_EXPIRED: 13;
  TIMEOUT: 14;
  TOO_MANY_REQUESTS: 15;
  EMPTY_ORIGIN: 16;
  FORBIDDDEN_ORIGIN: 17;
  FORBIDDDEN_COUNTRY: 18;
  UNIQUE_PIN_REQUIRED: 19;
  SESSION_IN_PROGRESS: 20;
  FACE_DUPLICATION: 21;
  MINORS_NOT_ALLOWED: 22;
}

/** A numeric FACEIO error code: what enroll()/authenticate() promises reject with. */
export type FioErrorCode = FioErrorCodes[keyof FioErrorCodes];

/** Any JSON-serializable value (the enrollment payload, at most 16 KB serialized). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface EnrollParameters {
  /** Data linked to the user, forwarded back on authentication. Default null; max 16 KB. */
  payload?: any;
  /** Seconds to wait for camera permission (default 27) → PERMISSION_REFUSED. */
  permissionTimeout?: number;
  /** MINUTES to wait for the terms to be accepted (default 10) → TERMS_NOT_ACCEPTED. */
  termsTimeout?: number;
  /** Seconds without a detected face before giving up (default 27) → NO_FACES_DETECTED. */
  idleTimeout?: number;
  /** Seconds to wait for the edge's reply (default 40) → TIMEOUT. */
  replyTimeout?: number;
  /** Seconds the introduction screen is displayed (default 12). */
  enrollIntroTimeout?: number;
  /** BCP 47 two-letter code, or "auto" (default) for the browser's languages; fallback en-us. */
  locale?: string;
  /** True when the host already collected consent: the terms screen is skipped (default false). */
  userConsent?: boolean;
  /**
   * OpenFIO extension: your own value (e.g. your login session's ID, 1–256 visible ASCII
   * characters), echoed as the `nonce` claim of the result's signed `token`, so your backend
   * can bind the login to its session. Omit it for FACEIO behaviour.
   */
  nonce?: string;
}

export interface AuthenticateParameters {
  /** Seconds to wait for camera permission (default 27) → PERMISSION_REFUSED. */
  permissionTimeout?: number;
  /** Seconds without a detected face before giving up (default 27) → NO_FACES_DETECTED. */
  idleTimeout?: number;
  /** Seconds to wait for the edge's reply (default 40) → TIMEOUT. */
  replyTimeout?: number;
  /** BCP 47 two-letter code, or "auto" (default). */
  locale?: string;
  /**
   * OpenFIO extension: your own value (e.g. your login session's ID, 1–256 visible ASCII
   * characters), echoed as the `nonce` claim of the result's signed `token`, so your backend
   * can bind the login to its session. Omit it for FACEIO behaviour.
   */
  nonce?: string;
}

/** enroll() fulfilment value (FACEIO's userInfo). */
export interface UserInfo {
  /** UUID assigned to the enrolled user. */
  facialId: string;
  /** ISO 8601 enrollment completion date & time. */
  timestamp: string;
  /** Gender and age approximation of the enrolled user. */
  details: { gender: "male" | "female"; age: number };
  /**
   * OpenFIO extension: a compact JWS (ES256, at most 2 minutes valid) signed by the edge, for your
   * backend to verify against `${edgeUrl}/v1/${publicId}/jwks.json` or with REST `/verifytoken`.
   * Claims: iss, aud (public ID), sub (facial ID), iat, exp, jti, ceremony, nonce.
   */
  token?: string;
}

/** authenticate() fulfilment value (FACEIO's userData). */
export interface UserData {
  /** The payload linked at enrollment (null if none). */
  payload: any;
  /** The user's facial ID (UUID). */
  facialId: string;
  /**
   * OpenFIO extension: a compact JWS (ES256, at most 2 minutes valid) signed by the edge, for your
   * backend to verify against `${edgeUrl}/v1/${publicId}/jwks.json` or with REST `/verifytoken`.
   * Claims: iss, aud (public ID), sub (facial ID), iat, exp, jti, ceremony, nonce.
   */
  token?: string;
}

export interface FaceIOOptions {
  /** Base URL of the OpenFIO edge. Default: the origin that served fio.js. */
  edgeUrl?: string;
  /** Where engine-worker.js and wasm/ are served. Default: next to fio.js. */
  assetsUrl?: string;
  /**
   * Where the ONNX models are served. Default: `${edgeUrl}/models/`. The npm package does not
   * ship the models: the OpenFIO edge serves them (its static assets, built by
   * scripts/build-js.sh into www/models/), and the engine checks each file's sha256 against the
   * manifest compiled into the wasm.
   */
  modelsUrl?: string;
  /** Detector input size passed to the face engine (default 320). */
  detectorSize?: number;
  /** Expose `window.__openfioDebug` (state, last analysis) for tests. */
  debug?: boolean;
  /**
   * OpenFIO extension: your own wording for the widget, per locale, e.g.
   * `{ en: { introTitle: "Sign in with your face", errors: { UNRECOGNIZED_FACE: "…" } } }`. Keys are the widget's
   * (js/locales/en.js); an unknown locale or key makes every ceremony reject with PROCESSING_ERR
   * and logs which one.
   */
  strings?: WidgetStrings;
  /**
   * Only for browsers without constructable stylesheets under a nonce-based CSP: the nonce the
   * widget's fallback `<style>` element carries (`style-src 'nonce-…'`).
   */
  styleNonce?: string;
}

/** Per-locale overrides of the widget's texts (see FaceIOOptions.strings). */
export type WidgetStrings = {
  [locale in "en" | "es" | "fr" | "de" | "pt" | "ar" | "ja"]?: {
    [key: string]: string | string[] | { [key: string]: string };
  };
};

/** Debug view exposed as `window.__openfioDebug` when `options.debug` is true. */
export interface OpenFioDebug {
  state: string;
  ceremony?: "enroll" | "authenticate";
  history: string[];
  lastAnalysis: unknown;
  lastError?: { code: FioErrorCode; name: keyof FioErrorCodes; message?: string } | null;
  /** Where the engine's start went (ms): the wasm's fetch and compile, the tracker models'
   * download and sha256, their load into tract. Set once the engine is ready. */
  engineTimings?: { wasmMs: number; modelsMs: number; loadMs: number };
  [key: string]: unknown;
}

declare class faceIO {
  /**
   * @param publicId the application's public ID
   * @param options the edge URL, or options
   */
  constructor(publicId: string, options?: string | FaceIOOptions);

  /**
   * Enrolls a new user. Rejects with a numeric FioErrorCode. UNIQUE_PIN_REQUIRED is not a
   * rejection: the widget asks for another PIN and the enrollment goes on. Closing the widget
   * (× or Escape) rejects with TERMS_NOT_ACCEPTED on the intro and terms screens,
   * PERMISSION_REFUSED while the camera permission is pending, PROCESSING_ERR afterwards.
   */
  enroll(parameters?: EnrollParameters): Promise<UserInfo>;
  /** Alias of enroll(). */
  enrol(parameters?: EnrollParameters): Promise<UserInfo>;
  /** Alias of enroll(). */
  register(parameters?: EnrollParameters): Promise<UserInfo>;
  /** Alias of enroll(). */
  record(parameters?: EnrollParameters): Promise<UserInfo>;

  /**
   * Authenticates (identifies) an enrolled user. Rejects with a numeric FioErrorCode. Closing the
   * widget (× or Escape) rejects with PERMISSION_REFUSED while the camera permission is pending,
   * PROCESSING_ERR afterwards.
   */
  authenticate(parameters?: AuthenticateParameters): Promise<UserData>;
  /** Alias of authenticate(). */
  auth(parameters?: AuthenticateParameters): Promise<UserData>;
  /** Alias of authenticate(). */
  recognize(parameters?: AuthenticateParameters): Promise<UserData>;
  /** Alias of authenticate(). */
  identify(parameters?: AuthenticateParameters): Promise<UserData>;

  /**
   * Aborts the running operation (if any; its promise rejects with SESSION_EXPIRED) and grants a
   * new session: true when granted, false where there is no DOM for a widget.
   */
  restartSession(parameters?: object): boolean;

  /** All FACEIO error codes (name → number). */
  fetchAllErrorCodes(): FioErrorCodes;

  /** The error code table; set on the global `faceIO` of the classic-script build (fio.js). */
  static fioErrCode?: FioErrorCodes;
  /** The library version; set on the global `faceIO` of the classic-script build. */
  static VERSION?: string;
}

export default faceIO;
export { faceIO };

/** The error code table (same as fetchAllErrorCodes()). */
export declare const fioErrCode: FioErrorCodes;
export declare const ERROR_CODES: Readonly<FioErrorCodes>;
/** True when `other` (e.g. fio-wasm's errorCodes()) equals the JS table. */
export declare function sameAsCore(other: unknown): boolean;
export declare const VERSION: string;

declare global {
  interface Window {
    __openfioDebug?: OpenFioDebug;
  }
}
