package eventstore

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// LogURL names an event log on NATS JetStream:
//
//	nats://[user:pass@]host:4222[,host2:4222...]/NAME[?replicas=3]
//
// NAME names the log, so several logs can share one server or cluster;
// replicas is how many servers keep each message and key (1 on a single
// server, 3 on a cluster; default 1).
type LogURL struct {
	// Servers are the server URLs as nats.Connect takes them, credentials
	// included: never print them (String does not).
	Servers []string
	// Name is the log's name: 1..64 of A-Z a-z 0-9 - _.
	Name     string
	Replicas int
	redacted string
}

// String is the URL with its password replaced by "xxxxx", for logs and
// errors.
func (u LogURL) String() string { return u.redacted }

// IsLogURL says whether s names a log on a server (nats://...) rather
// than a data directory.
func IsLogURL(s string) bool {
	return strings.HasPrefix(s, "nats://") || strings.HasPrefix(s, "tls://")
}

// ParseLogURL parses a JetStream log URL (see LogURL). Its errors never
// include the credentials.
func ParseLogURL(s string) (LogURL, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || (scheme != "nats" && scheme != "tls") {
		return LogURL{}, fmt.Errorf("eventstore: log URL must start with nats:// or tls:// (nats://host:4222/NAME)")
	}
	hosts, path, _ := strings.Cut(rest, "/")
	path, query, _ := strings.Cut(path, "?")
	var user string
	if at := strings.LastIndex(hosts, "@"); at >= 0 {
		user, hosts = hosts[:at], hosts[at+1:]
	}
	redactedUser := ""
	if user != "" {
		name, _, hasPass := strings.Cut(user, ":")
		if hasPass {
			redactedUser = name + ":xxxxx@"
		} else {
			redactedUser = "xxxxx@" // a bare token
		}
	}
	u := LogURL{Name: path, Replicas: 1}
	u.redacted = scheme + "://" + redactedUser + hosts + "/" + path
	if query != "" {
		u.redacted += "?" + query
	}
	if hosts == "" {
		return LogURL{}, fmt.Errorf("eventstore: log URL %s names no server", u.redacted)
	}
	for _, h := range strings.Split(hosts, ",") {
		if h == "" || strings.ContainsAny(h, " /") {
			return LogURL{}, fmt.Errorf("eventstore: log URL %s: bad server %q", u.redacted, h)
		}
		srv := scheme + "://" + h
		if user != "" {
			srv = scheme + "://" + user + "@" + h
		}
		u.Servers = append(u.Servers, srv)
	}
	if err := checkLogName(path); err != nil {
		return LogURL{}, fmt.Errorf("eventstore: log URL %s: %w", u.redacted, err)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return LogURL{}, fmt.Errorf("eventstore: log URL %s: bad query: %w", u.redacted, err)
	}
	for k, v := range q {
		switch k {
		case "replicas":
			n, err := strconv.Atoi(v[0])
			if err != nil || n < 1 || n > 5 {
				return LogURL{}, fmt.Errorf("eventstore: log URL %s: replicas must be 1..5, got %q", u.redacted, v[0])
			}
			u.Replicas = n
		default:
			return LogURL{}, fmt.Errorf("eventstore: log URL %s: unknown option %q (known: replicas)", u.redacted, k)
		}
	}
	return u, nil
}

// checkLogName accepts names that are valid in stream, subject and bucket
// names alike.
func checkLogName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("the log name (the path) must be 1..64 characters, got %d", len(name))
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("the log name %q may hold only A-Z a-z 0-9 - _", name)
		}
	}
	return nil
}
