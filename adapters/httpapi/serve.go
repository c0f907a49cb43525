package httpapi

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// jsonEncode writes v as JSON.
func jsonEncode(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(v)
}

// Server serves a handler on a listener until its context ends.
type Server struct {
	Listener net.Listener // open (Listen); Serve closes it
	Handler  http.Handler
	// TLS, if set, serves HTTPS with its certificates; nil: plain HTTP
	// (behind a reverse proxy that terminates TLS, or on loopback).
	TLS    *tls.Config
	Logger *slog.Logger
	// ShutdownTimeout bounds the wait for requests in flight when the
	// context ends (default 10s).
	ShutdownTimeout time.Duration
}

// Listen listens on addr (host:port), naming it in its error: the
// caller reports an address in use before anything else starts.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("http: listen on %s: %w", addr, err)
	}
	return ln, nil
}

// Serve serves until ctx ends, then shuts down gracefully: it stops
// accepting, waits for the requests in flight (at most
// ShutdownTimeout) and returns nil. A failure to serve is returned
// (the caller names the server).
func (s Server) Serve(ctx context.Context) error {
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Streams (the event feed) end when the shutdown begins: it waits
	// only for requests that end by themselves.
	streams, endStreams := context.WithCancel(context.Background())
	defer endStreams()
	srv := &http.Server{
		Handler:           s.Handler,
		TLSConfig:         s.TLS,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext: func(net.Listener) context.Context {
			return context.WithValue(context.WithoutCancel(ctx), closingKey{}, streams)
		},
	}
	srv.RegisterOnShutdown(endStreams) // once the listeners are closed
	ln := s.Listener
	if s.TLS != nil {
		ln = tls.NewListener(ln, s.TLS)
	}
	scheme := "http"
	if s.TLS != nil {
		scheme = "https"
	}
	log.Info("http: serving on "+s.Listener.Addr().String(), "addr", s.Listener.Addr().String(), "scheme", scheme)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	timeout := s.ShutdownTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serveErr := <-done; !errors.Is(serveErr, http.ErrServerClosed) && serveErr != nil {
		err = errors.Join(err, serveErr)
	}
	if err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}
