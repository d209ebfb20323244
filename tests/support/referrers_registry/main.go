// A registry with the OCI 1.1 referrers API for karmor's tests: go-containerregistry's
// pkg/registry with referrers support on (`crane registry serve` leaves it off). It listens on
// 127.0.0.1 with a port the kernel picks, prints "listening on 127.0.0.1:PORT" on stdout, and
// logs one line per request on stderr ("METHOD PATH STATUS"), so tests can count requests.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"

	"github.com/google/go-containerregistry/pkg/registry"
)

// requestLogger writes the request's line when the status is decided, before any of the response
// reaches the client, so a test that has its answer always finds the request in the log.
type requestLogger struct {
	http.ResponseWriter
	request *http.Request
	out     *log.Logger
	logged  bool
}

func (l *requestLogger) logStatus(status int) {
	if !l.logged {
		l.logged = true
		l.out.Printf("%s %s %d", l.request.Method, l.request.URL.RequestURI(), status)
	}
}

func (l *requestLogger) WriteHeader(status int) {
	l.logStatus(status)
	l.ResponseWriter.WriteHeader(status)
}

func (l *requestLogger) Write(body []byte) (int, error) {
	l.logStatus(http.StatusOK)
	return l.ResponseWriter.Write(body)
}

func main() {
	address := flag.String("address", "127.0.0.1:0", "where to listen (loopback only)")
	flag.Parse()

	host, _, err := net.SplitHostPort(*address)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("refusing to listen on %q: tests listen on loopback only", *address)
	}
	listener, err := net.Listen("tcp", *address)
	if err != nil {
		log.Fatalf("listen: %v", err)
	}
	fmt.Printf("listening on %s\n", listener.Addr().String())
	os.Stdout.Sync()

	quiet := log.New(os.Stderr, "", 0)
	handler := registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(os.Stderr, "registry: ", 0)))
	logged := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger := &requestLogger{ResponseWriter: w, request: r, out: quiet}
		handler.ServeHTTP(logger, r)
		logger.logStatus(http.StatusOK)
	})
	log.Fatal(http.Serve(listener, logged))
}
