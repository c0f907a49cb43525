package crmtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
)

// Faults is a fake's queue of faults to inject (Fail, Drop, ...): each
// is used once, in order. It is not safe for concurrent use: the fake
// guards it with its own lock.
type Faults[F any] []F

// Add queues f.
func (q *Faults[F]) Add(f F) { *q = append(*q, f) }

// Take removes and returns the first fault that matches a request.
func (q *Faults[F]) Take(match func(F) bool) (F, bool) {
	for i, f := range *q {
		if match(f) {
			*q = append((*q)[:i:i], (*q)[i+1:]...)
			return f, true
		}
	}
	var zero F
	return zero, false
}

// DropConnection closes w's connection without an answer (a fake's
// Drop: the client cannot know whether the request succeeded).
func DropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // closes the connection too
}

// Strict decodes body, one JSON value, into v, refusing unknown keys.
func Strict(body []byte, v any) error { return strict(body, v, false) }

// StrictNumbers is Strict with numbers kept as json.Number.
func StrictNumbers(body []byte, v any) error { return strict(body, v, true) }

func strict(body []byte, v any, numbers bool) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if numbers {
		dec.UseNumber()
	}
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("data after the JSON value")
	}
	return nil
}
