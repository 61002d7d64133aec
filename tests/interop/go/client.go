// client.go: tessera as a Go service sees it (tests/interop/go_client.sh
// builds and runs it).  Standard library plus golang-jwt only, written the
// way our users write Go services:
//
//   - the client: crypto/tls with the service's certificate
//     (tls.LoadX509KeyPair), trusting only the test CA, TLS 1.2 or later;
//     http.PostForm to /token with grant_type=client_credentials and an
//     audience;
//   - the resource server: fetch the JWKS over https (same CA), select the
//     key by kid, build an *rsa.PublicKey from n and e, verify with
//     golang-jwt restricted to RS256, check iss (exact), aud (contains),
//     exp (required, in the future), the header typ "at+jwt", and the
//     certificate binding cnf["x5t#S256"] against the client certificate.
//
// Negative checks keep the verifier honest: a tampered signature, a token
// for another audience, another issuer, a later clock, another
// certificate and an HS256 forgery keyed with the public key must all be
// refused.
//
// Output is TAP ("ok N - ...", "not ok N - ...", "# ..." diagnostics,
// "1..N" last); the exit status is 1 when any test failed.
//
// Debian 12 ships golang-jwt v4 (golang-github-golang-jwt-jwt-dev); build
// offline in GOPATH mode:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o client client.go
package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	// GOPATH mode: the Debian package's directory, which is module
	// github.com/golang-jwt/jwt/v4 (v4.4.3); with modules, import that path.
	"github.com/golang-jwt/jwt"
)

// --- TAP ---------------------------------------------------------------------

var tapN, tapFailed int

// check prints one TAP line: ok when err is nil, else not ok and the error
// as a diagnostic.  It returns err == nil.
func check(desc string, err error) bool {
	tapN++
	if err == nil {
		fmt.Printf("ok %d - %s\n", tapN, desc)
		return true
	}
	tapFailed++
	fmt.Printf("not ok %d - %s\n", tapN, desc)
	for _, l := range strings.Split(err.Error(), "\n") {
		fmt.Printf("#   %s\n", l)
	}
	return false
}

// refused is check for a negative case: err must be non-nil (and, when
// want is not empty, mention want).
func refused(desc string, err error, want string) bool {
	switch {
	case err == nil:
		return check(desc, errors.New("accepted; it must be refused"))
	case want != "" && !strings.Contains(err.Error(), want):
		return check(desc, fmt.Errorf("refused for the wrong reason: %v (want %q)", err, want))
	}
	return check(desc, nil)
}

func finish() {
	fmt.Printf("1..%d\n", tapN)
	if tapFailed > 0 {
		os.Exit(1)
	}
	os.Exit(0)
}

// bail ends the run after a failed prerequisite (the plan still counts).
func bail() {
	fmt.Println("# later tests need what just failed; stopping")
	finish()
}

// --- the client --------------------------------------------------------------

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
}

func newClient(certs []tls.Certificate, roots *x509.CertPool) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			Certificates: certs,
			RootCAs:      roots,
			MinVersion:   tls.VersionTLS12,
		}},
	}
}

// requestToken POSTs the client credentials grant for audience.  It
// returns the status, the raw body and the decoded response.
func requestToken(c *http.Client, base, audience string) (int, []byte, *tokenResponse, error) {
	resp, err := c.PostForm(base+"/token", url.Values{
		"grant_type": {"client_credentials"},
		"audience":   {audience},
	})
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return resp.StatusCode, nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, body, nil, fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return resp.StatusCode, body, nil, fmt.Errorf("bad JSON %q: %v", body, err)
	}
	if tr.AccessToken == "" || tr.TokenType != "Bearer" || tr.ExpiresIn <= 0 {
		return resp.StatusCode, body, &tr, fmt.Errorf("unexpected response %s", body)
	}
	return resp.StatusCode, body, &tr, nil
}

// postBig POSTs n bytes of form to /token and wants 413 invalid_request.
func postBig(c *http.Client, base string, n int) error {
	body := bytes.Repeat([]byte("a"), n)
	resp, err := c.Post(base+"/token", "application/x-www-form-urlencoded",
		bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusRequestEntityTooLarge ||
		!strings.Contains(string(got), `"invalid_request"`) {
		return fmt.Errorf("status %d, body %q", resp.StatusCode, got)
	}
	return nil
}

// --- the resource server -----------------------------------------------------

type jwk struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// fetchJWKS gets the key set over https and builds the RSA public keys,
// by kid.
func fetchJWKS(c *http.Client, jwksURL string) (map[string]*rsa.PublicKey, error) {
	resp, err := c.Get(jwksURL)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", jwksURL, resp.StatusCode)
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("JWKS: %v", err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Alg != "RS256" || k.Use != "sig" || k.Kid == "" {
			return nil, fmt.Errorf("JWKS: unexpected key %+v", k)
		}
		n, err := base64.RawURLEncoding.DecodeString(k.N)
		if err != nil {
			return nil, fmt.Errorf("JWKS: kid %s: n: %v", k.Kid, err)
		}
		e, err := base64.RawURLEncoding.DecodeString(k.E)
		if err != nil || len(e) == 0 || len(e) > 4 {
			return nil, fmt.Errorf("JWKS: kid %s: bad e %q", k.Kid, k.E)
		}
		pub := &rsa.PublicKey{
			N: new(big.Int).SetBytes(n),
			E: int(new(big.Int).SetBytes(e).Int64()),
		}
		if pub.N.BitLen() < 2048 || pub.E < 3 {
			return nil, fmt.Errorf("JWKS: kid %s: weak key (%d bits, e=%d)", k.Kid, pub.N.BitLen(), pub.E)
		}
		if _, dup := keys[k.Kid]; dup {
			return nil, fmt.Errorf("JWKS: kid %s twice", k.Kid)
		}
		keys[k.Kid] = pub
	}
	if len(keys) == 0 {
		return nil, errors.New("JWKS: no keys")
	}
	return keys, nil
}

type verifier struct {
	keys     map[string]*rsa.PublicKey
	issuer   string
	audience string
	now      func() time.Time
}

// verify is what a resource server does with a bearer token.
func (v *verifier) verify(raw string) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (interface{}, error) {
		if typ, _ := t.Header["typ"].(string); typ != "at+jwt" {
			return nil, fmt.Errorf("typ %v: not an access token", t.Header["typ"])
		}
		kid, _ := t.Header["kid"].(string)
		k, ok := v.keys[kid]
		if !ok {
			return nil, fmt.Errorf("unknown kid %q", kid)
		}
		return k, nil
	}, jwt.WithValidMethods([]string{"RS256"}))
	if err != nil {
		return nil, err
	}
	if !tok.Valid || tok.Method != jwt.SigningMethodRS256 {
		return nil, fmt.Errorf("invalid token (alg %v)", tok.Header["alg"])
	}
	// golang-jwt v4 checks exp only when present and knows nothing of iss
	// or aud unless asked: ask.
	if !claims.VerifyIssuer(v.issuer, true) {
		return nil, fmt.Errorf("iss %v is not %q", claims["iss"], v.issuer)
	}
	if !claims.VerifyAudience(v.audience, true) {
		return nil, fmt.Errorf("aud %v does not contain %q", claims["aud"], v.audience)
	}
	if !claims.VerifyExpiresAt(v.now().Unix(), true) {
		return nil, fmt.Errorf("exp %v missing or not in the future", claims["exp"])
	}
	return claims, nil
}

// x5t is the RFC 8705 certificate thumbprint: base64url(SHA-256(DER)).
func x5t(der []byte) string {
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// checkBinding compares the token's cnf["x5t#S256"] with a certificate.
func checkBinding(claims jwt.MapClaims, der []byte) error {
	cnf, ok := claims["cnf"].(map[string]interface{})
	if !ok {
		return fmt.Errorf("no cnf object: %v", claims["cnf"])
	}
	got, _ := cnf["x5t#S256"].(string)
	if want := x5t(der); got != want {
		return fmt.Errorf("cnf x5t#S256 %q, certificate %q", got, want)
	}
	return nil
}

// tamper flips one character of the signature: the first, whose six bits
// all count (the last character's low bits may be padding).
func tamper(raw string) string {
	i := strings.LastIndexByte(raw, '.') + 1
	c := byte('A')
	if raw[i] == 'A' {
		c = 'B'
	}
	return raw[:i] + string(c) + raw[i+1:]
}

// retype sets the header's typ to "JWT", keeping the signature (which no
// longer matches: the typ check must come first to name the reason).
func retype(raw string) string {
	parts := strings.SplitN(raw, ".", 2)
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return raw
	}
	h := strings.Replace(string(hb), `"typ":"at+jwt"`, `"typ":"JWT"`, 1)
	return base64.RawURLEncoding.EncodeToString([]byte(h)) + "." + parts[1]
}

// forgeHS256 signs the token's header and claims with HS256, keyed with
// the PEM of the RSA public key (the classic algorithm confusion).
func forgeHS256(raw string, pub *rsa.PublicKey) (string, error) {
	parts := strings.Split(raw, ".")
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return "", err
	}
	var h map[string]interface{}
	if err := json.Unmarshal(hb, &h); err != nil {
		return "", err
	}
	h["alg"] = "HS256"
	hb, err = json.Marshal(h)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	input := base64.RawURLEncoding.EncodeToString(hb) + "." + parts[1]
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}

func main() {
	base := flag.String("base", "", "server base URL, https://127.0.0.1:PORT")
	issuer := flag.String("issuer", "", "expected iss (default: -base)")
	certFile := flag.String("cert", "", "client certificate (PEM)")
	keyFile := flag.String("key", "", "client key (PEM)")
	caFile := flag.String("ca", "", "CA bundle (PEM)")
	audience := flag.String("audience", "", "audience to ask for and verify")
	otherAud := flag.String("other-audience", "", "a second audience granted to the client")
	otherCert := flag.String("other-cert", "", "another client's certificate (PEM)")
	flag.Parse()
	if *base == "" || *certFile == "" || *keyFile == "" || *caFile == "" ||
		*audience == "" || *otherAud == "" || *otherCert == "" {
		fmt.Fprintln(os.Stderr, "usage: client -base URL -cert F -key F -ca F -audience A -other-audience B -other-cert F [-issuer URL]")
		os.Exit(2)
	}
	if *issuer == "" {
		*issuer = *base
	}

	// --- the client side ---
	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if !check("client: tls.LoadX509KeyPair loads the client certificate", err) {
		bail()
	}
	caPEM, err := os.ReadFile(*caFile)
	roots := x509.NewCertPool()
	if err == nil && !roots.AppendCertsFromPEM(caPEM) {
		err = errors.New("no certificate in " + *caFile)
	}
	if !check("client: the test CA is the only root", err) {
		bail()
	}
	client := newClient([]tls.Certificate{cert}, roots)

	_, _, tr, err := requestToken(client, *base, *audience)
	if !check("client: mTLS PostForm to /token (client_credentials, audience) gives a Bearer token", err) {
		bail()
	}
	fmt.Printf("# expires_in %d, scope %q\n", tr.ExpiresIn, tr.Scope)
	_, _, trOther, err := requestToken(client, *base, *otherAud)
	if !check("client: a token for the second audience", err) {
		bail()
	}

	// The same request with no certificate: the handshake succeeds (the
	// server asks for one, does not require it) and /token refuses.
	status, body, _, err := requestToken(newClient(nil, roots), *base, *audience)
	if err != nil && status == 0 {
		check("client: without a certificate /token answers 401 invalid_client", err)
	} else if status != http.StatusUnauthorized || strings.TrimSpace(string(body)) != `{"error":"invalid_client"}` {
		check("client: without a certificate /token answers 401 invalid_client",
			fmt.Errorf("status %d, body %q", status, body))
	} else {
		check("client: without a certificate /token answers 401 invalid_client", nil)
	}

	// A client that trusts the system roots only must refuse the
	// server's certificate (the dev CA is not in the system store).
	sys := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
	}}
	_, _, _, err = requestToken(sys, *base, *audience)
	var uerr x509.UnknownAuthorityError
	if err != nil && !errors.As(err, &uerr) {
		err = fmt.Errorf("failed, but not for an unknown authority: %v", err)
	} else if err == nil {
		err = errors.New("a client without the test CA trusted the server")
	} else {
		err = nil
	}
	check("client: without the test CA in RootCAs the server is not trusted", err)

	// A body over the limit, sent whole as Go sends it: the client reads
	// the 413, not a reset, whether the server drains the body (3 MB) or
	// answers first and closes (8 MB).
	for _, mb := range []int{3, 8} {
		check(fmt.Sprintf("client: a body of %d MB gets 413 invalid_request", mb),
			postBig(client, *base, mb<<20))
	}

	// --- the resource server side ---
	jwksClient := newClient(nil, roots)
	keys, err := fetchJWKS(jwksClient, *base+"/.well-known/jwks.json")
	if !check("resource server: JWKS over https parses into RSA public keys", err) {
		bail()
	}
	fmt.Printf("# %d keys in the JWKS\n", len(keys))

	v := &verifier{keys: keys, issuer: *issuer, audience: *audience, now: time.Now}
	claims, err := v.verify(tr.AccessToken)
	if !check("resource server: golang-jwt verifies the token (RS256 only, kid, typ, iss, aud, exp)", err) {
		bail()
	}
	check("resource server: the token is bound to the client certificate (cnf x5t#S256)",
		checkBinding(claims, cert.Certificate[0]))

	// The claims a resource server reads.
	var cerr error
	if s, _ := claims["sub"].(string); s == "" {
		cerr = fmt.Errorf("sub %v", claims["sub"])
	} else if claims["client_id"] != claims["sub"] {
		cerr = fmt.Errorf("client_id %v != sub %v", claims["client_id"], claims["sub"])
	} else if tr.Scope != "" && claims["scope"] != tr.Scope {
		cerr = fmt.Errorf("scope claim %v, response scope %q", claims["scope"], tr.Scope)
	} else if exp, ok := claims["exp"].(float64); !ok {
		cerr = fmt.Errorf("exp %v", claims["exp"])
	} else if iat, ok := claims["iat"].(float64); !ok || int(exp-iat) != tr.ExpiresIn {
		cerr = fmt.Errorf("exp - iat = %v, expires_in %d", exp-iat, tr.ExpiresIn)
	}
	check("resource server: sub = client_id, scope as in the response, exp - iat = expires_in", cerr)

	// --- negative checks ---
	_, err = v.verify(tamper(tr.AccessToken))
	refused("refused: one character of the signature flipped", err, "verification error")

	_, err = v.verify(retype(tr.AccessToken))
	refused("refused: header typ \"JWT\" (checked before the signature)", err, "not an access token")

	vOther := &verifier{keys: keys, issuer: *issuer, audience: *otherAud, now: time.Now}
	_, err = vOther.verify(trOther.AccessToken)
	check("resource server for the second audience accepts its own token", err)
	_, err = v.verify(trOther.AccessToken)
	refused("refused: a token for another audience fails the aud check", err, "does not contain")

	vIss := &verifier{keys: keys, issuer: *issuer + "/", audience: *audience, now: time.Now}
	_, err = vIss.verify(tr.AccessToken)
	refused("refused: iss compared exactly (expected issuer with a trailing slash)", err, "iss ")

	exp, _ := claims["exp"].(float64) // checked above; 0 (long past) if not
	later := time.Unix(int64(exp), 0)
	vLate := &verifier{keys: keys, issuer: *issuer, audience: *audience,
		now: func() time.Time { return later }}
	_, err = vLate.verify(tr.AccessToken)
	refused("refused: at exp the token is expired", err, "exp ")

	otherPEM, err := os.ReadFile(*otherCert)
	var otherDER []byte
	if err == nil {
		if b, _ := pem.Decode(otherPEM); b != nil {
			otherDER = b.Bytes
		} else {
			err = errors.New("no PEM block in " + *otherCert)
		}
	}
	if err != nil {
		check("refused: the binding does not match another client's certificate", err)
	} else {
		refused("refused: the binding does not match another client's certificate",
			checkBinding(claims, otherDER), "cnf x5t#S256")
	}

	hdr, _, err := new(jwt.Parser).ParseUnverified(tr.AccessToken, jwt.MapClaims{})
	var forged string
	if err == nil {
		kid, _ := hdr.Header["kid"].(string)
		forged, err = forgeHS256(tr.AccessToken, keys[kid])
	}
	if err != nil {
		check("refused: HS256 forgery keyed with the public key", fmt.Errorf("cannot forge: %v", err))
	} else {
		_, err = v.verify(forged)
		refused("refused: HS256 forgery keyed with the public key", err, "signing method HS256 is invalid")
	}

	finish()
}
