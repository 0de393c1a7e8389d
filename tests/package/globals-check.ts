/// <reference path="../../globals.d.ts" />
// A page written for FACEIO's classic script tag: its globals `faceIO` and `fioErrCode` type-check
// (a script, not a module, as such pages are).
const pageFaceio = new faceIO("app-public-id");
pageFaceio
  .enroll({ locale: "auto", payload: { whoami: 123456, email: "john.doe@example.com" } })
  .then((userInfo) => console.log(userInfo.facialId, userInfo.details.age))
  .catch((errCode: number) => {
    switch (errCode) {
      case fioErrCode.PERMISSION_REFUSED:
        return "Access to the Camera stream was denied by the end user";
      case fioErrCode.NO_FACES_DETECTED:
        return "No faces were detected during the enroll or authentication process";
      default:
        return "Error while performing the operation";
    }
  });
// @ts-expect-error FACEIO's codes are numbers
const notAString: string = fioErrCode.TIMEOUT;
console.log(notAString);
