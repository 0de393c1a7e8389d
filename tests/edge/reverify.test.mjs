// Edge re-verification of liveness (app option `reverifyLiveness`, active mode): the widget seals
// face crops of the ceremony to the session's `evidenceKey`; the edge opens them, measures them
// with the widget's models and accepts only crops that show the prompted actions by the person of
// the submitted template. Crops are real: `fio-eval evidence-crops` on the cap12 webcam clip
// (what the widget keeps: the rest pose and the clearest frame of each action).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ROOT, edgeLogFile, useEdge } from "./harness.mjs";
import { faces, fioEvalBinary } from "./templates.mjs";
import {
  EVIDENCE_SIDE, Edge, assertClientError, assertError, assertOk, cropBundle, liveFor,
  randomEvidenceKey, sealEvidence, show, sleep, statCounters, strongPin,
} from "./client.mjs";

const F = faces();
const edge = new Edge(await useEdge());

const ACTIONS = ["turnLeft", "turnRight", "blink", "lookUp", "comeCloser"];
const CROP_BYTES = EVIDENCE_SIDE * EVIDENCE_SIDE * 3;

/**
 * `{rest, turnLeft, …, template}` of cap12 from `fio-eval evidence-crops`, cached in $TMPDIR keyed
 * by the fio-eval binary (like the templates of templates.mjs).
 */
function evidenceCrops() {
  const video = join(ROOT, "fixtures/data/video/cap12.y4m");
  if (!existsSync(video)) {
    const r = spawnSync("bash", ["fixtures/fetch.sh"], { cwd: ROOT, stdio: "inherit" });
    if (r.status !== 0 || !existsSync(video)) throw new Error(`fixtures/fetch.sh did not produce ${video}`);
  }
  const bin = fioEvalBinary();
  const st = statSync(bin);
  const base = join(tmpdir(), "openfio-edge-tests");
  const dir = join(base, `evidence-cap12-${Math.floor(st.mtimeMs)}-${st.size}`);
  if (!existsSync(join(dir, "template.txt"))) {
    mkdirSync(base, { recursive: true });
    const tmp = `${dir}.${process.pid}.${randomBytes(4).toString("hex")}`;
    const r = spawnSync(bin, ["evidence-crops", video, join(ROOT, "fixtures/segments.json"), tmp], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, FIO_MODELS: process.env.FIO_MODELS || join(ROOT, "models") },
    });
    if (r.status !== 0) throw new Error(`fio-eval evidence-crops failed (${r.status}): ${r.stderr}`);
    try {
      renameSync(tmp, dir);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true }); // another process won the race
      if (!existsSync(join(dir, "template.txt"))) throw e;
    }
  }
  const out = { template: readFileSync(join(dir, "template.txt"), "utf8").trim() };
  for (const name of ["rest", ...ACTIONS]) {
    const b = readFileSync(join(dir, `${name}.rgb`));
    assert.equal(b.length, CROP_BYTES, `${name}.rgb`);
    out[name] = b;
  }
  return out;
}

const C = evidenceCrops();
const REVERIFY = { livenessMode: "active", reverifyLiveness: true };

/** The widget's bundle for a challenge: rest, then the crop of each prompted action in order. */
const honestBundle = (actions) => cropBundle([C.rest, ...actions.map((a) => C[a])]);

/** A session with its evidence key checked: `{challengeId, evidenceKey, policy}`. */
async function session(app, ceremony) {
  const res = await app.session(ceremony);
  const s = assertOk(res, `session(${ceremony})`);
  assert.equal(typeof s.evidenceKey, "string", `no evidenceKey: ${show(res)}`);
  const key = Buffer.from(s.evidenceKey, "base64");
  assert.equal(key.length, 65, `evidenceKey is not a 65-byte point: ${show(res)}`);
  assert.equal(key[0], 0x04, "evidenceKey is not an uncompressed point");
  assert.ok(s.policy.actions.length > 0, `no actions: ${show(res)}`);
  assert.ok(s.policy.actions.every((a) => ACTIONS.includes(a)), show(res));
  return s;
}

/** Liveness evidence for session `s`: the honest report plus `evidence` (sealed or raw). */
const withEvidence = (s, evidence) => ({ ...liveFor(s.policy.actions), evidence });

/** Enroll with the crops' template and `evidence(s)` built for the fresh session `s`. */
async function enrollWith(app, evidence, { templates = [C.template], pin } = {}) {
  const s = await session(app, "enroll");
  const ev = await evidence(s);
  return app.enroll(templates, {
    challengeId: s.challengeId,
    liveness: withEvidence(s, ev),
    details: { age: 30, gender: "male" },
    ...(pin ? { pin } : {}),
  });
}

async function authenticateWith(app, evidence, { template = C.template } = {}) {
  const s = await session(app, "authenticate");
  const ev = await evidence(s);
  return app.authenticate(template, { challengeId: s.challengeId, liveness: withEvidence(s, ev) });
}

const honest = (s) => sealEvidence(s.evidenceKey, s.challengeId, honestBundle(s.policy.actions));

/** Asserts nothing was enrolled (and nothing counted as an enrollment). */
async function assertNothingEnrolled(app) {
  assert.equal((await app.listAll()).length, 0, "a rejected ceremony enrolled someone");
  const c = statCounters(await app.stats());
  if (c.enrolled !== undefined) assert.equal(c.enrolled, 0);
}

describe("edge re-verification of liveness", () => {
  test("the option is stored and the session answer carries a per-ceremony evidence key", async () => {
    const app = await edge.createApp(REVERIFY);
    assert.equal(assertOk(await edge.getApp(app.publicId)).options.reverifyLiveness, true);
    const a = await session(app, "enroll");
    const b = await session(app, "enroll");
    assert.notEqual(a.evidenceKey, b.evidenceKey, "every ceremony has its own key");
    const plain = await edge.createApp({ livenessMode: "active" });
    const s = assertOk(await plain.session("enroll"));
    assert.equal(s.evidenceKey, undefined, `evidenceKey without the option: ${JSON.stringify(s)}`);
    assert.equal(assertOk(await edge.getApp(plain.publicId)).options.reverifyLiveness, false);
  });

  test("real crops of the prompted actions: enroll, then authenticate as the same facialId", async () => {
    const app = await edge.createApp(REVERIFY);
    const e = assertOk(await enrollWith(app, honest), "enroll with evidence");
    const a = assertOk(await authenticateWith(app, honest), "authenticate with evidence");
    assert.equal(a.facialId, e.facialId);
  });

  test("missing evidence → PAD_ATTACK, nothing enrolled", async () => {
    const app = await edge.createApp(REVERIFY);
    assertError(await enrollWith(app, async () => undefined), "PAD_ATTACK");
    await assertNothingEnrolled(app);
  });

  test("a still frame claiming every action → PAD_ATTACK", async () => {
    const app = await edge.createApp(REVERIFY);
    const still = (s) =>
      sealEvidence(s.evidenceKey, s.challengeId, cropBundle(Array(1 + s.policy.actions.length).fill(C.rest)));
    assertError(await enrollWith(app, still), "PAD_ATTACK");
    await assertNothingEnrolled(app);
    // The still rejected at authentication too, while real crops still pass.
    assertOk(await enrollWith(app, honest), "enroll");
    assertError(await authenticateWith(app, still), "PAD_ATTACK");
  });

  test("crops that do not show the challenge: wrong order, too few, too many → PAD_ATTACK", async () => {
    const app = await edge.createApp(REVERIFY);
    // Every slot holds an action other than the prompted one (rotated by one in ACTIONS).
    const other = (a) => ACTIONS[(ACTIONS.indexOf(a) + 1) % ACTIONS.length];
    const wrong = (s) =>
      sealEvidence(s.evidenceKey, s.challengeId, cropBundle([C.rest, ...s.policy.actions.map((a) => C[other(a)])]));
    assertError(await enrollWith(app, wrong), "PAD_ATTACK");
    const short = (s) => sealEvidence(s.evidenceKey, s.challengeId, honestBundle(s.policy.actions.slice(1)));
    assertError(await enrollWith(app, short), "PAD_ATTACK");
    const long = (s) => sealEvidence(s.evidenceKey, s.challengeId, honestBundle([...s.policy.actions, "turnLeft"]));
    assertError(await enrollWith(app, long), "PAD_ATTACK");
    await assertNothingEnrolled(app);
  });

  test("crops of another person than the template → PAD_ATTACK", async () => {
    const app = await edge.createApp(REVERIFY);
    // cap12's real crops, Obama's templates.
    assertError(await enrollWith(app, honest, { templates: F.obama.slice(0, 2).map((f) => f.template) }), "PAD_ATTACK");
    await assertNothingEnrolled(app);
    // Obama enrolled without re-verification cannot be taken over with someone else's crops.
    const plain = await edge.createApp({ livenessMode: "active" });
    const s = assertOk(await plain.session("enroll"));
    assertOk(await plain.enroll(F.obama.slice(0, 2), { challengeId: s.challengeId, liveness: liveFor(s.policy.actions) }));
    assertOk(await edge.patchApp(plain.publicId, { options: { reverifyLiveness: true } }), "PATCH reverifyLiveness");
    assertError(await authenticateWith(plain, honest, { template: F.obama[3].template }), "PAD_ATTACK");
  });

  test("evidence sealed to another ceremony, or altered → PAD_ATTACK", async () => {
    const app = await edge.createApp(REVERIFY);
    const other = await session(app, "enroll");
    const cases = {
      "sealed to another challenge's key": (s) =>
        sealEvidence(other.evidenceKey, other.challengeId, honestBundle(s.policy.actions)),
      "another challenge's key, this challenge's id": (s) =>
        sealEvidence(other.evidenceKey, s.challengeId, honestBundle(s.policy.actions)),
      "HKDF salt of another challenge": (s) =>
        sealEvidence(s.evidenceKey, s.challengeId, honestBundle(s.policy.actions), { salt: other.challengeId }),
      "additional data of another challenge": (s) =>
        sealEvidence(s.evidenceKey, s.challengeId, honestBundle(s.policy.actions), { aad: other.challengeId }),
      "a key nobody at the edge holds": async (s) =>
        sealEvidence(await randomEvidenceKey(), s.challengeId, honestBundle(s.policy.actions)),
      "ciphertext bit flipped": async (s) => {
        const ev = await honest(s);
        const data = Buffer.from(ev.data, "base64");
        data[Math.floor(data.length / 2)] ^= 0x01;
        return { ...ev, data: data.toString("base64") };
      },
      "tag bit flipped": async (s) => {
        const ev = await honest(s);
        const data = Buffer.from(ev.data, "base64");
        data[data.length - 1] ^= 0x80;
        return { ...ev, data: data.toString("base64") };
      },
      "another iv": async (s) => {
        const ev = await honest(s);
        const iv = Buffer.from(ev.iv, "base64");
        iv[0] ^= 0xff;
        return { ...ev, iv: iv.toString("base64") };
      },
      "truncated ciphertext": async (s) => {
        const ev = await honest(s);
        return { ...ev, data: Buffer.from(ev.data, "base64").subarray(0, 1000).toString("base64") };
      },
    };
    for (const [name, make] of Object.entries(cases)) {
      const res = await enrollWith(app, make);
      assert.equal(res.status, 403, `${name}: ${show(res)}`);
      assertError(res, "PAD_ATTACK");
    }
    await assertNothingEnrolled(app);
  });

  test("malformed evidence → HTTP 400 with a JSON error, nothing enrolled", async () => {
    const app = await edge.createApp(REVERIFY);
    const point = async () => Buffer.from(await randomEvidenceKey(), "base64");
    const cases = {
      "epk not base64": async (s) => ({ ...(await honest(s)), epk: "!!not base64!!" }),
      "iv not base64": async (s) => ({ ...(await honest(s)), iv: "*".repeat(16) }),
      "data not base64": async (s) => ({ ...(await honest(s)), data: "%%%%" }),
      "iv of 8 bytes": async (s) => ({ ...(await honest(s)), iv: randomBytes(8).toString("base64") }),
      "iv of 16 bytes": async (s) => ({ ...(await honest(s)), iv: randomBytes(16).toString("base64") }),
      "epk of 33 bytes (compressed)": async (s) => ({ ...(await honest(s)), epk: randomBytes(33).toString("base64") }),
      "epk not a curve point": async (s) => {
        const p = await point();
        p[64] ^= 0x01; // y no longer matches x
        return { ...(await honest(s)), epk: p.toString("base64") };
      },
      "evidence a string": async () => "sealed",
      "evidence a number": async () => 42,
      "evidence an array": async (s) => [await honest(s)],
      "evidence missing data": async (s) => {
        const { data: _omit, ...rest } = await honest(s);
        return rest;
      },
      "evidence with an unknown field": async (s) => ({ ...(await honest(s)), extra: 1 }),
      "sealed bytes not a bundle": (s) => sealEvidence(s.evidenceKey, s.challengeId, Buffer.from("hello, edge")),
      "bundle of another crop size": (s) =>
        sealEvidence(s.evidenceKey, s.challengeId, cropBundle([Buffer.alloc(100 * 100 * 3)], { side: 100 })),
      "bundle shorter than its count": (s) =>
        sealEvidence(s.evidenceKey, s.challengeId, cropBundle([C.rest, C.turnLeft], { count: 3 })),
      "bundle with no crop": (s) => sealEvidence(s.evidenceKey, s.challengeId, cropBundle([])),
    };
    for (const [name, make] of Object.entries(cases)) {
      const res = await enrollWith(app, make);
      assert.equal(res.status, 400, `${name}: expected 400: ${show(res)}`);
      assertClientError(res, { status: 400 });
    }
    await assertNothingEnrolled(app);
    // The app still works afterwards.
    assertOk(await enrollWith(app, honest), "enroll after the malformed requests");
  });

  test("every rejection leaves the state unchanged", async () => {
    const app = await edge.createApp(REVERIFY);
    const e = assertOk(await enrollWith(app, honest), "enroll");
    const before = statCounters(await app.stats());
    const still = (s) =>
      sealEvidence(s.evidenceKey, s.challengeId, cropBundle(Array(1 + s.policy.actions.length).fill(C.rest)));
    assertError(await authenticateWith(app, async () => undefined), "PAD_ATTACK");
    assertError(await authenticateWith(app, still), "PAD_ATTACK");
    assertClientError(await authenticateWith(app, async () => "sealed"), { status: 400 });
    // A second enrollment of someone else with forged evidence adds nobody.
    assertError(await enrollWith(app, still, { templates: [F.biden[0].template] }), "PAD_ATTACK");
    const listed = await app.listAll();
    assert.equal(listed.length, 1, `expected only the first enrollment: ${JSON.stringify(listed)}`);
    const after = statCounters(await app.stats());
    assert.equal(after.enrolled ?? 1, before.enrolled ?? 1);
    assert.equal(after.authOk ?? 0, before.authOk ?? 0, "a rejected authentication counted as a success");
    assert.equal(assertOk(await authenticateWith(app, honest)).facialId, e.facialId);
  });

  test("a challenge is spent by a rejected attempt", async () => {
    const app = await edge.createApp(REVERIFY);
    const s = await session(app, "enroll");
    const first = await app.enroll([C.template], { challengeId: s.challengeId, liveness: withEvidence(s, undefined) });
    assertError(first, "PAD_ATTACK");
    const retry = await app.enroll([C.template], {
      challengeId: s.challengeId,
      liveness: withEvidence(s, await honest(s)),
    });
    assert.ok(retry.status >= 400 && retry.status < 500, `a spent challenge was accepted: ${show(retry)}`);
    await assertNothingEnrolled(app);
  });

  test("a sealed bundle is measured once: concurrent and later replays are refused before inference", async (t) => {
    const logFile = edgeLogFile();
    if (!logFile) return t.skip("needs the edge's log (tests/edge/run.mjs or a local instance)");
    const measured = (id) => readFileSync(logFile, "utf8").split(`crops for challenge ${id.slice(0, 8)}`).length - 1;
    const app = await edge.createApp(REVERIFY);
    const s = await session(app, "enroll");
    const body = { challengeId: s.challengeId, liveness: withEvidence(s, await honest(s)), details: { age: 30, gender: "male" } };
    const tries = await Promise.all([0, 1, 2].map(() => app.enroll([C.template], body)));
    const ok = tries.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, `exactly one of three identical requests enrolls: ${tries.map(show).join(" | ")}`);
    for (const r of tries.filter((x) => x.status !== 200)) {
      assert.ok(r.status >= 400 && r.status < 500, `a replay is a client error: ${show(r)}`);
    }
    const later = await app.enroll([C.template], body);
    assert.ok(later.status >= 400 && later.status < 500, `a later replay is refused: ${show(later)}`);
    // The worker logs each measurement; the log reaches the file asynchronously.
    for (let i = 0; i < 40 && measured(s.challengeId) < 1; i++) await sleep(100);
    await sleep(300);
    assert.equal(measured(s.challengeId), 1, "the crops were measured once, not once per request");
    assert.equal((await app.listAll()).length, 1);
  });

  test("PIN follow-up challenges need no evidence", async () => {
    const app = await edge.createApp({ ...REVERIFY, alwaysAskPin: true });
    const pin = "2749";
    const s = await session(app, "enroll");
    const e = assertOk(
      await app.enroll([C.template], {
        challengeId: s.challengeId,
        liveness: withEvidence(s, await honest(s)),
        pin,
        details: { age: 30, gender: "male" },
      }),
      "enroll",
    );
    const a = await session(app, "authenticate");
    const first = assertOk(
      await app.authenticate(C.template, { challengeId: a.challengeId, liveness: withEvidence(a, await honest(a)) }),
      "authenticate",
    );
    assert.equal(first.pinRequired, true, `expected a PIN prompt: ${JSON.stringify(first)}`);
    // The widget resends its liveness result without the crops (js/ceremony.js withoutEvidence).
    const ok = await app.authenticate(C.template, {
      challengeId: first.challengeId,
      pin,
      liveness: liveFor(a.policy.actions),
    });
    assert.equal(assertOk(ok, "PIN follow-up").facialId, e.facialId);
  });

  test("a UNIQUE_PIN_REQUIRED retry challenge needs no evidence and no new actions", async () => {
    const app = await edge.createApp({ ...REVERIFY, enforcePinUniqueness: true, preventDuplicates: false });
    const pin = "2749";
    assertOk(await enrollWith(app, honest, { pin }), "first enrollment");
    const s = await session(app, "enroll");
    const liveness = withEvidence(s, await honest(s));
    const clash = await app.enroll([C.template], {
      challengeId: s.challengeId, liveness, pin, details: { age: 30, gender: "male" },
    });
    assertError(clash, "UNIQUE_PIN_REQUIRED");
    // The widget resends its liveness result, without the crops, under the retry challenge.
    const { evidence: _sealed, ...resent } = liveness;
    const ok = await app.enroll([C.template], {
      challengeId: clash.body.retry.challengeId, liveness: resent, pin: "5820",
      details: { age: 30, gender: "male" },
    });
    assertOk(ok, "retry with another PIN");
  });

  test("apps without the option ignore evidence and work as before", async () => {
    const app = await edge.createApp({ livenessMode: "active" });
    // No evidence at all.
    const s = assertOk(await app.session("enroll"));
    const e = assertOk(
      await app.enroll([C.template], { challengeId: s.challengeId, liveness: liveFor(s.policy.actions) }),
      "enroll without evidence",
    );
    // Well-formed evidence the edge cannot open (no key was issued) and a still's crops: ignored.
    const a = assertOk(await app.session("authenticate"));
    const still = await sealEvidence(
      await randomEvidenceKey(),
      a.challengeId,
      cropBundle(Array(1 + a.policy.actions.length).fill(C.rest)),
    );
    const res = await app.authenticate(C.template, {
      challengeId: a.challengeId,
      liveness: { ...liveFor(a.policy.actions), evidence: still },
    });
    assert.equal(assertOk(res, "authenticate with ignored evidence").facialId, e.facialId);

    // reverifyLiveness only applies to active mode: a passive app with it needs no evidence.
    const passive = await edge.createApp({ livenessMode: "passive", reverifyLiveness: true });
    const p = assertOk(await passive.session("enroll"));
    assert.equal(p.evidenceKey, undefined, `passive mode issued an evidence key: ${JSON.stringify(p)}`);
    assertOk(await passive.enroll([C.template], { challengeId: p.challengeId, liveness: liveFor([]) }), "passive enroll");
  });
});

describe("follow-up challenges are bound to the ceremony they continue", () => {
  /** A PIN different from `pin`. */
  const otherPin = (pin) => {
    for (;;) {
      const p = strongPin();
      if (p !== pin) return p;
    }
  };
  const REFUSED = ["PAD_ATTACK", "UNAUTHORIZED"];
  const assertRefused = (res, what) => {
    assertClientError(res);
    assert.ok(REFUSED.includes(res.body.error), `${what}: expected ${REFUSED.join(" or ")}: ${show(res)}`);
  };

  test("a wrong-PIN retry challenge cannot carry another face, forged liveness and no evidence", async () => {
    // The victim was enrolled before re-verification was switched on.
    const app = await edge.createApp({ livenessMode: "active" });
    const v = assertOk(await app.session("enroll"));
    const victim = assertOk(
      await app.enroll(F.obama.slice(0, 2), { challengeId: v.challengeId, liveness: liveFor(v.policy.actions) }),
      "victim enroll",
    );
    assertOk(await edge.patchApp(app.publicId, { options: { reverifyLiveness: true } }), "PATCH reverifyLiveness");
    const pin = strongPin();
    const me = assertOk(await enrollWith(app, honest, { pin }), "attacker enroll with real evidence");

    // An honest, re-verified authenticate of the attacker's own face with a wrong PIN.
    const a = await session(app, "authenticate");
    const first = assertOk(
      await app.authenticate(C.template, {
        challengeId: a.challengeId, liveness: withEvidence(a, await honest(a)), pin: otherPin(pin),
      }),
      "wrong PIN",
    );
    assert.equal(first.pinRequired, true, `expected a PIN retry: ${JSON.stringify(first)}`);
    // The retry challenge with the victim's template, a forged report, no evidence and no PIN.
    const forged = await app.authenticate(F.obama[3].template, {
      challengeId: first.challengeId, liveness: liveFor(a.policy.actions),
    });
    assert.notEqual(forged.body?.facialId, victim.facialId, `the victim was logged in: ${show(forged)}`);
    assertRefused(forged, "victim's template under a retry challenge");

    // The honest continuation (same template, resent liveness without crops, right PIN) works.
    const b = await session(app, "authenticate");
    const retry = assertOk(
      await app.authenticate(C.template, {
        challengeId: b.challengeId, liveness: withEvidence(b, await honest(b)), pin: otherPin(pin),
      }),
      "wrong PIN again",
    );
    assert.equal(retry.pinRequired, true);
    const ok = assertOk(
      await app.authenticate(C.template, { challengeId: retry.challengeId, liveness: liveFor(b.policy.actions), pin }),
      "right PIN under the retry challenge",
    );
    assert.equal(ok.facialId, me.facialId);
  });

  test("a UNIQUE_PIN_REQUIRED retry is bound to the templates and capped per ceremony", async () => {
    const app = await edge.createApp({ livenessMode: "active", enforcePinUniqueness: true });
    const pin = strongPin();
    const v = assertOk(await app.session("enroll"));
    assertOk(
      await app.enroll(F.obama.slice(0, 2), { challengeId: v.challengeId, liveness: liveFor(v.policy.actions), pin }),
      "first enroll",
    );
    assertOk(await edge.patchApp(app.publicId, { options: { reverifyLiveness: true } }), "PATCH reverifyLiveness");

    const s = await session(app, "enroll");
    const clash = await app.enroll([C.template], {
      challengeId: s.challengeId, liveness: withEvidence(s, await honest(s)), pin,
      details: { age: 30, gender: "male" },
    });
    assertError(clash, "UNIQUE_PIN_REQUIRED");
    // Another person's templates under the retry challenge, no evidence.
    const forged = await app.enroll(F.biden.slice(0, 2), {
      challengeId: clash.body.retry.challengeId, liveness: liveFor(s.policy.actions), pin: otherPin(pin),
    });
    assertRefused(forged, "other templates under a UNIQUE_PIN_REQUIRED retry");
    assert.equal((await app.listAll()).length, 1, "the forged retry enrolled someone");

    // Retrying PINs in use is capped: the oracle ends with a UNIQUE_PIN_REQUIRED without retry.
    const t = await session(app, "enroll");
    let res = await app.enroll([C.template], {
      challengeId: t.challengeId, liveness: withEvidence(t, await honest(t)), pin, details: { age: 30, gender: "male" },
    });
    let retries = 0;
    while (res.body?.retry?.challengeId && retries < 20) {
      retries++;
      res = await app.enroll([C.template], {
        challengeId: res.body.retry.challengeId, liveness: liveFor(t.policy.actions), pin,
        details: { age: 30, gender: "male" },
      });
    }
    assertError(res, "UNIQUE_PIN_REQUIRED");
    assert.equal(res.body.retry, undefined, `still offering a retry after ${retries}: ${show(res)}`);
    assert.ok(retries >= 1 && retries <= 5, `retries per ceremony: ${retries}`);

    // The honest continuation: same templates, another PIN.
    const u = await session(app, "enroll");
    const again = await app.enroll([C.template], {
      challengeId: u.challengeId, liveness: withEvidence(u, await honest(u)), pin, details: { age: 30, gender: "male" },
    });
    assertError(again, "UNIQUE_PIN_REQUIRED");
    assertOk(
      await app.enroll([C.template], {
        challengeId: again.body.retry.challengeId, liveness: liveFor(u.policy.actions), pin: otherPin(pin),
        details: { age: 30, gender: "male" },
      }),
      "retry with another PIN",
    );
  });
});
