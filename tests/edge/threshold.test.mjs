// Decision thresholds with synthetic templates of controlled cosine similarity:
// MATCH_THRESHOLD (0.55) and PIN_MARGIN (0.05) at authentication, DUPLICATE_THRESHOLD (0.55) at
// enrollment, ENROLL_CONSISTENCY_THRESHOLD (0.6) between enrollment frames, and `matchThreshold`.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { useEdge } from "./harness.mjs";
import { encodeTemplate, quantise, randomUnitVector, rng, similarity } from "./templates.mjs";
import { Edge, assertError, assertOk, show, strongPin } from "./client.mjs";

const edge = new Edge(await useEdge());
const rand = rng(20261126);

const unit = (v) => {
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => x / n);
};

/** A base template and a function giving a template at cosine ≈ c from it (after quantisation). */
function person() {
  const a = unit(randomUnitVector(rand));
  const base = encodeTemplate(quantise(a));
  const at = (c) => {
    // r ⟂ a, then c·a + √(1−c²)·r has cosine c with a (before int8 rounding).
    let r = unit(randomUnitVector(rand));
    const d = r.reduce((s, x, i) => s + x * a[i], 0);
    r = unit(r.map((x, i) => x - d * a[i]));
    const s = Math.sqrt(1 - c * c);
    const t = encodeTemplate(quantise(a.map((x, i) => c * x + s * r[i])));
    const got = similarity(base, t);
    assert.ok(Math.abs(got - c) < 0.01, `constructed cosine ${got} for target ${c}`);
    return t;
  };
  return { base, at };
}

describe("thresholds", () => {
  test("authentication: ≥ 0.60 accepted, 0.55–0.60 asks for the PIN (nearThreshold), < 0.55 unrecognised", async () => {
    const app = await edge.createApp({ alwaysAskPin: false, preventDuplicates: true });
    const p = person();
    const pin = strongPin();
    const e = assertOk(await app.enroll([p.base], { pin, payload: { t: 1 } }), "enroll synthetic");

    for (const c of [0.99, 0.8, 0.66]) {
      const res = assertOk(await app.authenticate(p.at(c)), `cos ${c}`);
      assert.equal(res.facialId, e.facialId, `cos ${c}: ${JSON.stringify(res)}`);
    }
    for (const c of [0.565, 0.585]) {
      // The PIN follows under the prompt's challenge with the same probe, as the widget sends it
      // (a follow-up challenge is bound to the probe that earned it).
      const probe = p.at(c);
      const res = await app.authenticate(probe);
      const body = assertOk(res, `cos ${c}`);
      assert.equal(body.pinRequired, true, `cos ${c} should ask for the PIN: ${show(res)}`);
      assert.equal(body.reason, "nearThreshold", show(res));
      const ok = assertOk(await app.authenticate(probe, { challengeId: body.challengeId, pin }));
      assert.equal(ok.facialId, e.facialId);
    }
    for (const c of [0.535, 0.4, 0.1, -0.5]) {
      assertError(await app.authenticate(p.at(c)), "UNRECOGNIZED_FACE");
    }
  });

  test("matchThreshold option moves the decision", async () => {
    const app = await edge.createApp({ matchThreshold: 0.8 });
    const p = person();
    const e = assertOk(await app.enroll([p.base]));
    assertError(await app.authenticate(p.at(0.7)), "UNRECOGNIZED_FACE");
    assert.equal(assertOk(await app.authenticate(p.at(0.95))).facialId, e.facialId);
  });

  test("duplicates: a face at cosine ≥ 0.55 to an enrolled one is FACE_DUPLICATION, below is a new user", async () => {
    const app = await edge.createApp({ preventDuplicates: true });
    const p = person();
    assertOk(await app.enroll([p.base]));
    assertError(await app.enroll([p.at(0.7)]), "FACE_DUPLICATION");
    assertError(await app.enroll([p.at(0.57)]), "FACE_DUPLICATION");
    assertOk(await app.enroll([p.at(0.45)]), "cos 0.45 is someone else");
  });

  test("enrollment frames must agree pairwise ≥ 0.6 (FACE_MISMATCH)", async () => {
    const app = await edge.createApp({ preventDuplicates: false });
    const p = person();
    assertError(await app.enroll([p.base, p.at(0.55)]), "FACE_MISMATCH");
    assertError(await app.enroll([p.base, p.at(0.9), p.at(0.5)]), "FACE_MISMATCH");
    assertOk(await app.enroll([p.base, p.at(0.7)]), "cos 0.7 frames");
  });
});
