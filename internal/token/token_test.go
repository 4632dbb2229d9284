package token

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "token")
	tests := []struct {
		name, content, want string
		ok                  bool
	}{
		{"trimmed", "  abc123\n", "abc123", true},
		{"empty", "\n", "", false},
		{"header injection", "abc\r\nInjected: 1\n", "", false},
		{"space inside", "ab c", "", false},
	}
	for _, tt := range tests {
		os.WriteFile(p, []byte(tt.content), 0o600)
		got, err := Read(p)
		if tt.ok && (err != nil || got != tt.want) {
			t.Errorf("%s: Read = %q, %v; want %q", tt.name, got, err, tt.want)
		}
		if !tt.ok && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Read = %q, %v; want ErrInvalid", tt.name, got, err)
		}
	}
	if _, err := Read(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
}
