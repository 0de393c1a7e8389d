// Type-checks index.d.ts the way users write FACEIO code (https://faceio.net/integration-guide),
// compiled with `tsc --noEmit --strict` (scripts/ci/package-tests.sh): against the source
// index.d.ts (tests/package/tsconfig.json maps the package name to it) and, in pack.test.mjs,
// against the packed and installed package. Never run; each `@ts-expect-error` line must fail
// to compile, or tsc reports the directive as unused.
import faceIO, { ERROR_CODES, VERSION, faceIO as namedFaceIO, fioErrCode, sameAsCore } from "@openfio/fiojs";
import type {
  AuthenticateParameters, EnrollParameters, FaceIOOptions, FioErrorCode, FioErrorCodes, UserData, UserInfo,
} from "@openfio/fiojs";

const faceio = new faceIO("app-public-id"); // Get the application Public ID at the console.
new faceIO("app-public-id", "https://edge.example.com");
const opts: FaceIOOptions = { edgeUrl: "https://edge.example.com", assetsUrl: "/fiojs/", modelsUrl: "/models/", debug: false };
new namedFaceIO("app-public-id", opts);

async function enrollNewUser(): Promise<void> {
  const userInfo: UserInfo = await faceio.enroll({
    locale: "auto", // Default user locale
    payload: { whoami: 123456, email: "john.doe@example.com" },
    permissionTimeout: 27,
    termsTimeout: 10,
    idleTimeout: 27,
    replyTimeout: 40,
    enrollIntroTimeout: 12,
    userConsent: false,
  });
  const facialId: string = userInfo.facialId;
  const timestamp: string = userInfo.timestamp;
  const gender: "male" | "female" = userInfo.details.gender;
  const age: number = userInfo.details.age;
  alert(`User Successfully Enrolled! ${facialId} ${timestamp} ${gender} ${age}`);
}

async function authenticateUser(): Promise<void> {
  const params: AuthenticateParameters = { locale: "auto", permissionTimeout: 27, idleTimeout: 27, replyTimeout: 40 };
  const userData: UserData = await faceio.authenticate(params);
  console.log("Linked facial Id: " + userData.facialId);
  console.log("Payload: " + JSON.stringify(userData.payload));
  console.log((userData.payload as { email: string }).email);
  // OpenFIO extension: a nonce in, a signed token out (both optional).
  const signed: UserData = await faceio.authenticate({ nonce: "login-session-42" });
  const token: string | undefined = signed.token;
  console.log(token);
  // @ts-expect-error the nonce is a string
  await faceio.authenticate({ nonce: 42 });
}

function handleError(errCode: FioErrorCode): string {
  const fioErrs = faceio.fetchAllErrorCodes();
  switch (errCode) {
    case fioErrs.PERMISSION_REFUSED: return "Access to the Camera stream was denied by the end user";
    case fioErrs.NO_FACES_DETECTED: return "No faces were detected during the enroll or authentication process";
    case fioErrs.UNRECOGNIZED_FACE: return "Unrecognized face on this application's Facial Index";
    case fioErrs.MANY_FACES: return "Two or more faces were detected during the scan process";
    case fioErrs.FACE_DUPLICATION: return "User enrolled previously";
    case fioErrs.MINORS_NOT_ALLOWED: return "Minors are not allowed to enroll on this application!";
    case fioErrs.PAD_ATTACK: return "Presentation (Spoof) Attack (PAD) detected during the scan process";
    case fioErrs.FACE_MISMATCH: return "Calculated Facial Vectors of the user being enrolled do not matches";
    case fioErrs.WRONG_PIN_CODE: return "Wrong PIN code supplied by the user being authenticated";
    case fioErrs.FORBIDDDEN_ORIGIN: return "Domain origin is forbidden";
    case fioErrs.FORBIDDDEN_COUNTRY: return "Country is forbidden";
    default: return "other";
  }
}

// Every alias, with the parameters of its method, and the promise API with .catch.
const enrollParams: EnrollParameters = { payload: null, userConsent: true };
const enrolled: Promise<UserInfo>[] = [faceio.enroll(), faceio.enrol(enrollParams), faceio.register({}), faceio.record({ locale: "ar" })];
const identified: Promise<UserData>[] = [faceio.authenticate(), faceio.auth({}), faceio.recognize({ idleTimeout: 5 }), faceio.identify({ locale: "ja" })];
faceio.enroll({ payload: { whoami: 1 } }).catch((errCode: FioErrorCode) => handleError(errCode));
faceio.authenticate().then((u) => u.facialId, (e: number) => e);

async function restart(): Promise<boolean> {
  const granted: boolean = faceio.restartSession({});
  const awaited = await faceio.restartSession({}); // the guide awaits it
  return granted && awaited && faceio.restartSession();
}

// The error table: FACEIO's names (three Ds), literal numbers.
const codes: FioErrorCodes = faceio.fetchAllErrorCodes();
const one: 1 = fioErrCode.PERMISSION_REFUSED;
const seventeen: 17 = ERROR_CODES.FORBIDDDEN_ORIGIN;
const twentyTwo: 22 = codes.MINORS_NOT_ALLOWED;
const same: boolean = sameAsCore({ ...ERROR_CODES });
const version: string = VERSION;
const anyCode: FioErrorCode = 19;

// ---- wrong usage must not compile ----------------------------------------------------------
// @ts-expect-error the public ID is required
new faceIO();
// @ts-expect-error the public ID is a string
new faceIO(42);
// @ts-expect-error locale is a string
faceio.enroll({ locale: 5 });
// @ts-expect-error userConsent is a boolean
faceio.enroll({ userConsent: "yes" });
// @ts-expect-error timeouts are numbers of seconds (termsTimeout: minutes)
faceio.enroll({ termsTimeout: "10m" });
// @ts-expect-error authenticate() takes no payload
faceio.authenticate({ payload: { whoami: 1 } });
// @ts-expect-error authenticate() has no terms screen
faceio.auth({ termsTimeout: 3 });
// @ts-expect-error FACEIO spells it with three Ds
fioErrCode.FORBIDDEN_ORIGIN;
// @ts-expect-error PERMISSION_REFUSED is 1
const two: 2 = fioErrCode.PERMISSION_REFUSED;
// @ts-expect-error not a FACEIO code
const notACode: FioErrorCode = 23;
// @ts-expect-error enroll() resolves userInfo, which has no payload
faceio.enroll().then((u) => u.payload);
// @ts-expect-error facialId, not facialID
faceio.authenticate().then((u) => u.facialID);
// @ts-expect-error no such method
faceio.login();
// @ts-expect-error restartSession() returns a boolean, not a promise of userData
const notUser: Promise<UserData> = faceio.restartSession();

export { enrollNewUser, authenticateUser, restart, enrolled, identified, one, seventeen, twentyTwo, same, version, anyCode, two, notACode, notUser };
