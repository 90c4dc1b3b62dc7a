package sandbox

import "fmt"

// Mode says how strictly Apply enforces a policy.
type Mode int

const (
	// On enforces the policy: a system call outside the allowlist kills
	// the process (file-system look-ups fail with EPERM instead; see
	// Policy).
	On Mode = iota
	// Log installs the same filters, but a call outside the allowlist is
	// allowed and recorded by the kernel's audit log (dmesg, journalctl -k):
	// the mode for finding what a policy lacks. Landlock is not applied.
	Log
	// Off applies nothing, for debugging; the service says so loudly.
	Off
)

func (m Mode) String() string {
	switch m {
	case On:
		return "on"
	case Log:
		return "log"
	case Off:
		return "off"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ParseMode parses on, log or off.
func ParseMode(s string) (Mode, error) {
	for _, m := range []Mode{On, Log, Off} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("sandbox mode %q: want on, log or off", s)
}

// Set and String make a Mode a flag.Value.
func (m *Mode) Set(s string) error {
	v, err := ParseMode(s)
	if err != nil {
		return err
	}
	*m = v
	return nil
}
