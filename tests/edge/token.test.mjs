// Signed login tokens: every successful ceremony hands out a compact JWS that a site's backend
// verifies with an independent JOSE library (npm `jose`, PyPI `PyJWT`) against the app's JWK
// Set, or redeems once through REST /verifytoken.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { ROOT, useEdge } from "./harness.mjs";
import { faces } from "./templates.mjs";
import { CHALLENGE_RE, Edge, assertError, assertOk, request, show, sleep } from "./client.mjs";

const F = faces();
const edge = new Edge(await useEdge());

async function jwks(app) {
  const res = await request(`${edge.url}/v1/${app.publicId}/jwks.json`);
  const body = assertOk(res, "jwks.json");
  assert.equal(res.headers.get("access-control-allow-origin"), "*", "backends and browsers may read it");
  return body;
}

async function verify(app, token, opts = {}) {
  const { payload } = await jwtVerify(token, createLocalJWKSet(await jwks(app)), {
    issuer: edge.url,
    audience: app.publicId,
    algorithms: ["ES256"],
    ...opts,
  });
  return payload;
}

/** Session with the site's nonce, then enroll under it. */
async function enrollWithNonce(app, face, nonce) {
  const s = assertOk(await app.widget("session", { ceremony: "enroll", nonce }), "session with nonce");
  const res = await app.enroll([face], { challengeId: s.challengeId });
  return { body: assertOk(res, "enroll"), challengeId: s.challengeId };
}

/** `fn` must reject with one of jose's error codes. */
async function rejectsWith(fn, code) {
  await assert.rejects(fn, (e) => {
    assert.equal(e.code, code, `${e.code}: ${e.message}`);
    return true;
  });
}

describe("signed login tokens", () => {
  let app;
  let other;
  let enrolled; // {body, challengeId}

  before(async () => {
    app = await edge.createApp({ livenessMode: "passive" });
    other = await edge.createApp({ livenessMode: "passive" });
    enrolled = await enrollWithNonce(app, F.obama[0], "site-session-7");
  });

  test("enroll's token verifies with jose against the app's JWK Set and names the ceremony", async () => {
    const token = enrolled.body.token;
    assert.equal(typeof token, "string", "enroll answers a token");
    const header = decodeProtectedHeader(token);
    assert.equal(header.alg, "ES256");
    const keys = await jwks(app);
    assert.ok(keys.keys.some((k) => k.kid === header.kid), "the token's key is published");
    for (const k of keys.keys) assert.equal(k.d, undefined, "no private key material");
    const c = await verify(app, token);
    assert.equal(c.sub, enrolled.body.facialId);
    assert.equal(c.aud, app.publicId);
    assert.equal(c.iss, edge.url);
    assert.equal(c.ceremony, "enroll");
    assert.equal(c.jti, enrolled.challengeId, "jti is the ceremony's challenge");
    assert.equal(c.nonce, "site-session-7");
    assert.ok(c.exp - c.iat > 0 && c.exp - c.iat <= 120, `lifetime ${c.exp - c.iat} s`);
  });

  test("authenticate's token carries its own ceremony, and no nonce unless one was passed", async () => {
    const res = await app.authenticate(F.obama[1]);
    const body = assertOk(res, "authenticate");
    assert.equal(body.facialId, enrolled.body.facialId);
    const c = await verify(app, body.token);
    assert.equal(c.ceremony, "authenticate");
    assert.equal(c.sub, body.facialId);
    assert.equal(c.jti, res.challengeId);
    assert.equal(c.nonce, undefined);
  });

  test("altered, foreign-audience and expired tokens fail verification", async () => {
    const token = enrolled.body.token;
    const [h, p, s] = token.split(".");
    const flipped = s[0] === "A" ? `B${s.slice(1)}` : `A${s.slice(1)}`;
    await rejectsWith(() => verify(app, `${h}.${p}.${flipped}`), "ERR_JWS_SIGNATURE_VERIFICATION_FAILED");
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, "base64url")), sub: "someone-else" })).toString("base64url");
    await rejectsWith(() => verify(app, `${h}.${forged}.${s}`), "ERR_JWS_SIGNATURE_VERIFICATION_FAILED");
    // A backend of the other app, with its own audience, refuses this app's token.
    await rejectsWith(() => verify(app, token, { audience: other.publicId }), "ERR_JWT_CLAIM_VALIDATION_FAILED");
    const c = await verify(app, token);
    await rejectsWith(() => verify(app, token, { currentDate: new Date((c.exp + 1) * 1000) }), "ERR_JWT_EXPIRED");
  });

  test("/verifytoken redeems a token once and refuses altered, foreign and repeated ones", async () => {
    const { body, challengeId } = await enrollWithNonce(app, F.biden[0], "s2");
    const token = body.token;
    const [h, p, s] = token.split(".");
    const altered = `${h}.${p}.${s[0] === "A" ? "B" : "A"}${s.slice(1)}`;
    assertError(await app.rest("verifytoken", { token: altered }), "UNAUTHORIZED", 401);
    const foreign = await other.rest("verifytoken", { token });
    assertError(foreign, "UNAUTHORIZED", 401);
    assert.match(foreign.body.message, /another application/);
    assertError(await app.rest("verifytoken", { token }, { key: null }), "UNAUTHORIZED", 401);
    const ok = await app.rest("verifytoken", { token }, { via: "json" });
    const v = assertOk(ok, "verifytoken");
    assert.equal(v.status, 200);
    assert.equal(v.facialId, body.facialId);
    assert.equal(v.ceremony, "enroll");
    assert.deepEqual(v.payload, {});
    assert.ok(Math.abs(Date.parse(v.timestamp) - Date.parse(body.timestamp)) < 2000, `${v.timestamp} vs ${body.timestamp}`);
    const again = await app.rest("verifytoken", { token });
    assert.equal(again.status, 409, show(again));
    assert.match(again.body.message, /already been redeemed/);
    // The failed attempts above did not spend it: only the one success did.
    assert.match(challengeId, CHALLENGE_RE);
    const missing = await app.rest("verifytoken", {});
    assert.equal(missing.status, 400, show(missing));
    const junk = await app.rest("verifytoken", { token: "not.a.token" });
    assert.equal(junk.status, 401, show(junk));
  });

  test("a token past its lifetime is refused by /verifytoken", async () => {
    const short = await edge.createApp({ livenessMode: "passive", tokenTtlSeconds: 5 });
    const { body } = await enrollWithNonce(short, F.audrey[0], "s3");
    const c = await verify(short, body.token);
    assert.equal(c.exp - c.iat, 5);
    await sleep((c.exp + 1) * 1000 - Date.now());
    const res = await short.rest("verifytoken", { token: body.token });
    assertError(res, "UNAUTHORIZED", 401);
    assert.match(res.body.message, /expired/);
    for (const bad of [4, 121, "x"]) {
      const r = await edge.patchApp(short.publicId, { options: { tokenTtlSeconds: bad } });
      assert.equal(r.status, 400, `tokenTtlSeconds ${bad}: ${show(r)}`);
    }
  });

  test("after a key rotation old tokens still verify until they expire, new ones use the new key", async () => {
    const old = (await enrollWithNonce(app, F.cage[0], "s4")).body.token;
    const oldKid = decodeProtectedHeader(old).kid;
    assert.equal((await edge.admin("POST", `/admin/apps/${app.publicId}/signing-key/rotate`, undefined, null)).status, 401);
    const rot = assertOk(await edge.admin("POST", `/admin/apps/${app.publicId}/signing-key/rotate`), "rotate");
    assert.notEqual(rot.kid, oldKid);
    const keys = await jwks(app);
    assert.deepEqual(new Set(keys.keys.map((k) => k.kid)), new Set([oldKid, rot.kid]));
    assert.equal((await verify(app, old)).sub !== undefined, true, "old token verifies after rotation");
    const fresh = assertOk(await app.authenticate(F.cage[1]), "authenticate after rotation").token;
    assert.equal(decodeProtectedHeader(fresh).kid, rot.kid);
    await verify(app, fresh);
    assertOk(await app.rest("verifytoken", { token: old }), "old token redeems after rotation");
    assertOk(await app.rest("verifytoken", { token: fresh }), "new token redeems");
  });

  test("bad nonces and bad key-set requests are clear errors", async () => {
    for (const nonce of ["", "has space", "x".repeat(257), 42, "caf\u00e9"]) {
      const res = await app.widget("session", { ceremony: "enroll", nonce });
      assert.equal(res.status, 400, `nonce ${JSON.stringify(nonce)}: ${show(res)}`);
    }
    const unknown = await request(`${edge.url}/v1/fioa00000000/jwks.json`);
    assert.equal(unknown.status, 404, show(unknown));
    const post = await request(`${edge.url}/v1/${app.publicId}/jwks.json`, { method: "POST", json: {} });
    assert.equal(post.status, 405, show(post));
  });

  test("the documented Node and Python examples verify a real token", async () => {
    const { body } = await enrollWithNonce(app, F.clooney[0], "py-nonce");
    const node = spawnSync(process.execPath, [join(ROOT, "docs/examples/verify-token.mjs"), edge.url, app.publicId, body.token, "py-nonce"], { encoding: "utf8" });
    assert.equal(node.status, 0, node.stderr);
    assert.equal(JSON.parse(node.stdout).sub, body.facialId);
    const bad = spawnSync(process.execPath, [join(ROOT, "docs/examples/verify-token.mjs"), edge.url, other.publicId, body.token], { encoding: "utf8" });
    assert.equal(bad.status, 1, "the other app's backend refuses it");

    // PyJWT, installed by this spec into a cache folder (fresh machines have nothing).
    const site = join(ROOT, "target/py-jwt");
    if (!existsSync(join(site, "jwt"))) {
      mkdirSync(site, { recursive: true });
      const pip = spawnSync("python3", ["-m", "pip", "install", "--quiet", "--target", site, "PyJWT[crypto]==2.15.1"], { encoding: "utf8" });
      assert.equal(pip.status, 0, `pip install PyJWT: ${pip.stderr}`);
    }
    const env = { ...process.env, PYTHONPATH: site };
    const py = spawnSync("python3", [join(ROOT, "docs/examples/verify_token.py"), edge.url, app.publicId, body.token, "py-nonce"], { encoding: "utf8", env });
    assert.equal(py.status, 0, py.stderr);
    const claims = JSON.parse(py.stdout);
    assert.equal(claims.sub, body.facialId);
    assert.equal(claims.nonce, "py-nonce");
    const wrongNonce = spawnSync("python3", [join(ROOT, "docs/examples/verify_token.py"), edge.url, app.publicId, body.token, "other-session"], { encoding: "utf8", env });
    assert.equal(wrongNonce.status, 1, "a token from another login session is refused");
  });
});
