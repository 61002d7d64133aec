// reload.go: a Go service whose certificate tessera agent renews
// (tests/interop/go_agent.sh builds and runs it).  It does what our users'
// services do: a crypto/tls client whose GetClientCertificate hands out
// the key pair last loaded from the files, reloaded when the certificate
// file changes (idle connections then closed, so the next request
// handshakes with the new pair).  It asks /token again and again, with no
// restart, until it has used a second certificate, and checks each
// token's cnf["x5t#S256"] names the certificate it presented.
//
// Output is TAP; the exit status is 1 when any test failed.
package main

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

var tapN, tapFailed int

func check(desc string, err error) {
	tapN++
	if err == nil {
		fmt.Printf("ok %d - %s\n", tapN, desc)
		return
	}
	tapFailed++
	fmt.Printf("not ok %d - %s\n#   %s\n", tapN, desc, err)
}

// pair: the key pair in use and the SHA-256 of its certificate.
type pair struct {
	mu    sync.Mutex
	cert  *tls.Certificate
	fp    string
	stamp string // size and mtime of the certificate file
}

func fileStamp(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%d/%d", st.Size(), st.ModTime().UnixNano())
}

// load reloads when the certificate file changed; a pair that does not
// load (the key not yet matching) is kept for the next look.
func (p *pair) load(certFile, keyFile string) (bool, error) {
	s := fileStamp(certFile)
	p.mu.Lock()
	defer p.mu.Unlock()
	if s == p.stamp {
		return false, nil
	}
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return false, err
	}
	sum := sha256.Sum256(c.Certificate[0])
	p.cert, p.fp, p.stamp = &c, base64.RawURLEncoding.EncodeToString(sum[:]), s
	return true, nil
}

func (p *pair) current() (*tls.Certificate, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cert, p.fp
}

// cnf: the x5t#S256 of a token, read from its payload.
func cnf(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("not a JWS")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var c struct {
		Cnf map[string]string `json:"cnf"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return "", err
	}
	return c.Cnf["x5t#S256"], nil
}

func main() {
	base := flag.String("base", "", "server URL")
	certFile := flag.String("cert", "", "certificate file")
	keyFile := flag.String("key", "", "key file")
	caFile := flag.String("ca", "", "CA of the server")
	aud := flag.String("audience", "", "audience")
	wait := flag.Duration("wait", 60*time.Second, "how long to wait for a renewal")
	flag.Parse()

	p := &pair{}
	_, err := p.load(*certFile, *keyFile)
	check("load the bootstrap key pair", err)
	caPEM, err := os.ReadFile(*caFile)
	roots := x509.NewCertPool()
	if err != nil || !roots.AppendCertsFromPEM(caPEM) {
		check("read the CA", errors.New("no CA"))
		os.Exit(1)
	}
	var mu sync.Mutex
	presented := ""
	tr := &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs:    roots,
		MinVersion: tls.VersionTLS12,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			c, fp := p.current()
			mu.Lock()
			presented = fp
			mu.Unlock()
			return c, nil
		},
	}}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	// The watcher: reload on change, then drop idle connections.
	go func() {
		for {
			time.Sleep(100 * time.Millisecond)
			if changed, _ := p.load(*certFile, *keyFile); changed {
				tr.CloseIdleConnections()
			}
		}
	}()

	seen := map[string]bool{}
	var first string
	failures, requests := 0, 0
	deadline := time.Now().Add(*wait)
	for len(seen) < 2 && time.Now().Before(deadline) {
		resp, err := client.PostForm(*base+"/token", url.Values{
			"grant_type": {"client_credentials"}, "audience": {*aud}})
		requests++
		if err != nil {
			failures++
			fmt.Printf("# request: %v\n", err)
			time.Sleep(200 * time.Millisecond)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if resp.StatusCode != 200 || json.Unmarshal(body, &tok) != nil {
			failures++
			fmt.Printf("# status %d: %s\n", resp.StatusCode, body)
			time.Sleep(200 * time.Millisecond)
			continue
		}
		x5t, err := cnf(tok.AccessToken)
		mu.Lock()
		used := presented
		mu.Unlock()
		if err != nil || x5t != used {
			failures++
			fmt.Printf("# cnf %q, presented %q (%v)\n", x5t, used, err)
		}
		if first == "" {
			first = x5t
		}
		seen[x5t] = true
		time.Sleep(200 * time.Millisecond)
	}
	check("a token with the bootstrap certificate", func() error {
		if first == "" {
			return errors.New("no token")
		}
		return nil
	}())
	check("a token bound to a renewed certificate, same process, no restart",
		func() error {
			if len(seen) < 2 {
				return fmt.Errorf("only %d certificate(s) seen in %v", len(seen), *wait)
			}
			return nil
		}())
	check(fmt.Sprintf("every one of %d requests got a token bound to the certificate it presented", requests),
		func() error {
			if failures > 0 {
				return fmt.Errorf("%d failed", failures)
			}
			return nil
		}())
	fmt.Printf("1..%d\n", tapN)
	if tapFailed > 0 {
		os.Exit(1)
	}
}
