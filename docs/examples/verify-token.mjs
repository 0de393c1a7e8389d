// Verify an OpenFIO login token on your server (Node ≥ 20, npm `jose`).
//   node verify-token.mjs EDGE_URL PUBLIC_ID TOKEN [NONCE]
// Prints the verified claims as JSON; exits 1 with the reason when the token is not valid.
import { createRemoteJWKSet, jwtVerify } from "jose";

export async function verifyLogin(edgeUrl, publicId, token, expectedNonce) {
  // Cache this object for the process lifetime: jose fetches the key set once and again only
  // when a token names a key id it has not seen (after a key rotation).
  const jwks = createRemoteJWKSet(new URL(`${edgeUrl}/v1/${publicId}/jwks.json`));
  const { payload } = await jwtVerify(token, jwks, {
    issuer: edgeUrl, // the edge's origin
    audience: publicId, // tokens of your other apps are refused
    algorithms: ["ES256"],
  });
  if (expectedNonce !== undefined && payload.nonce !== expectedNonce) {
    throw new Error("nonce does not match this login session");
  }
  // payload.sub is the facial ID; payload.ceremony is "enroll" or "authenticate";
  // payload.jti is unique per ceremony: refuse a jti you have seen before (or redeem the token
  // with the edge's /verifytoken, which does that for you).
  return payload;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [edgeUrl, publicId, token, nonce] = process.argv.slice(2);
  try {
    console.log(JSON.stringify(await verifyLogin(edgeUrl, publicId, token, nonce)));
  } catch (e) {
    console.error(`invalid token: ${e.code || ""} ${e.message}`);
    process.exit(1);
  }
}
