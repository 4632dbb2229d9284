package manager

import (
	"fmt"
	"strings"
)

// secretFlags are mpm-wsd flags whose value is a secret: an installed
// service would carry it in its unit's arguments, readable by every user
// (ps, systemctl show), so install refuses them and names the file flag.
var secretFlags = map[string]string{
	"nats-password": "--nats-password-file FILE (mode 0600)",
	"nats-token":    "--nats-token-file FILE (mode 0600)",
}

// checkSecretArgs refuses --wsd-arg values that put a secret in the
// service's arguments.
func checkSecretArgs(wsdArgs []string) error {
	for i, a := range wsdArgs {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") {
			continue
		}
		if use, ok := secretFlags[name]; ok {
			return flagError{fmt.Errorf("--wsd-arg=%s would put a secret in the service's arguments, which every user can read: use --wsd-arg=%s instead", firstPart(wsdArgs[i]), use)}
		}
	}
	return nil
}

func firstPart(a string) string {
	name, _, _ := strings.Cut(a, "=")
	return name
}
