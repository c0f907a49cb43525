// Package runflags is the command line's options for the parts of the
// running system (run, demo, chat): the dialog engine (scenario, model,
// reply timing), the admin bot and the HTTP server. Each part's options
// register on a flag set with their defaults from the environment, are
// checked naming the option (and variable) at fault, and give the
// system's configuration of that part.
package runflags

// envOr is the environment variable key, or def when it is empty or unset.
func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}
