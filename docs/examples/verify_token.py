"""Verify an OpenFIO login token on your server (Python 3, `pip install "PyJWT[crypto]"`).

    python3 verify_token.py EDGE_URL PUBLIC_ID TOKEN [NONCE]

Prints the verified claims as JSON; exits 1 with the reason when the token is not valid.
"""
import json
import sys

import jwt  # PyJWT


def verify_login(edge_url, public_id, token, expected_nonce=None):
    # Keep one client per process: it caches the key set and refetches on an unknown key id.
    jwks = jwt.PyJWKClient(f"{edge_url}/v1/{public_id}/jwks.json")
    key = jwks.get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token,
        key.key,
        algorithms=["ES256"],
        audience=public_id,  # tokens of your other apps are refused
        issuer=edge_url,  # the edge's origin
        options={"require": ["exp", "iat", "sub", "jti", "aud", "iss"]},
    )
    if expected_nonce is not None and claims.get("nonce") != expected_nonce:
        raise jwt.InvalidTokenError("nonce does not match this login session")
    # claims["sub"] is the facial ID; claims["jti"] is unique per ceremony: refuse one you have
    # seen before (or redeem the token with the edge's /verifytoken, which does that for you).
    return claims


if __name__ == "__main__":
    edge_url, public_id, token = sys.argv[1:4]
    nonce = sys.argv[4] if len(sys.argv) > 4 else None
    try:
        print(json.dumps(verify_login(edge_url, public_id, token, nonce)))
    except jwt.PyJWTError as e:
        print(f"invalid token: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
