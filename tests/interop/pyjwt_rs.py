"""pyjwt_rs.py: README's Python resource server, for tests/interop/python_rs.sh.

verify() below is README.md's "Verifying tokens in a resource server"
snippet, word for word except that ISSUER comes from the environment (the
test server listens on a free port).  PyJWKClient fetches the JWKS over
https with the system trust store; the test points SSL_CERT_FILE at its CA.

    pyjwt_rs.py accept TOKEN            verify; print the claims (JSON)
    pyjwt_rs.py reject ERROR [TEXT] TOKEN
        verify must raise jwt.ERROR (that class or a subclass) whose
        message contains TEXT; exit 0 if it does, 1 otherwise
    pyjwt_rs.py forge-none TOKEN        TOKEN re-signed with alg "none"
    pyjwt_rs.py forge-hs256 TOKEN       TOKEN re-signed with HS256, keyed
        with the PEM of the public key that verifies it (from the JWKS)
    pyjwt_rs.py tamper TOKEN            one character of the signature
        flipped
    pyjwt_rs.py retype TOKEN            header typ changed to "JWT",
        signature kept
    pyjwt_rs.py claim NAME TOKEN        one claim of TOKEN, unverified
"""
import base64
import hashlib
import hmac
import json
import os
import sys

# --- README.md, verbatim but for ISSUER ---------------------------------------
import jwt

ISSUER = os.environ["TSR_ISSUER"]
jwks = jwt.PyJWKClient(ISSUER + "/.well-known/jwks.json")

def verify(token: str) -> dict:
    if jwt.get_unverified_header(token).get("typ") != "at+jwt":
        raise jwt.InvalidTokenError("not an access token")
    key = jwks.get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["RS256"],
                      audience="inventory-service", issuer=ISSUER,
                      options={"require": ["exp", "iat", "sub", "jti"]})
# --- end of README.md ----------------------------------------------------------


def b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def reheader(token, **changes):
    h, p, _ = token.split(".")
    header = json.loads(b64d(h))
    header.update(changes)
    return b64e(json.dumps(header, separators=(",", ":")).encode()) + "." + p


def main(argv):
    cmd, args = argv[1], argv[2:]
    token = args[-1]
    if cmd == "accept":
        print(json.dumps(verify(token), sort_keys=True))
        return 0
    if cmd == "reject":
        name, text = args[0], (args[1] if len(args) == 3 else "")
        want = getattr(jwt, name)
        try:
            claims = verify(token)
        except want as e:
            if text in str(e):
                print("refused: %s: %s" % (type(e).__name__, e))
                return 0
            print("refused, but with %r, not %r" % (str(e), text))
            return 1
        except Exception as e:      # refused for another reason
            print("refused with %s: %s (want jwt.%s)" %
                  (type(e).__name__, e, name))
            return 1
        print("ACCEPTED: %s" % json.dumps(claims, sort_keys=True))
        return 1
    if cmd == "forge-none":
        print(reheader(token, alg="none") + ".")
        return 0
    if cmd == "forge-hs256":
        from cryptography.hazmat.primitives import serialization
        pub = jwks.get_signing_key_from_jwt(token).key
        secret = pub.public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo)
        signing_input = reheader(token, alg="HS256")
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256)
        print(signing_input + "." + b64e(mac.digest()))
        return 0
    if cmd == "tamper":
        # The first character of the signature: all six of its bits count
        # (the last character's low bits can be padding).
        h, p, s = token.split(".")
        print("%s.%s.%s%s" % (h, p, "B" if s[0] == "A" else "A", s[1:]))
        return 0
    if cmd == "retype":
        h, p, s = token.split(".")
        print(reheader(token, typ="JWT") + "." + s)
        return 0
    if cmd == "claim":
        v = json.loads(b64d(token.split(".")[1]))[args[0]]
        print(v if isinstance(v, str) else json.dumps(v))
        return 0
    print("unknown command %r" % cmd, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
