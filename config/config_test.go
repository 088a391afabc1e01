package config

import (
	"strings"
	"testing"
)

func TestParseReportsProblemsWithLines(t *testing.T) {
	tests := []struct {
		desc string
		doc  string
		want string // substring of the error; empty means valid
	}{
		{"empty document takes defaults", "", ""},
		{"minimal", "mysql:\n  backend: 10.0.0.5:3306\n", ""},
		{"unknown key names key and line", "listen:\n  mysql: 127.0.0.1:3307\n  mysq: x\n", "line 3: unknown key mysq"},
		{"bad address", "listen:\n  admin: nowhere\n", "listen.admin"},
		{"cert without key", "mysql:\n  client_tls:\n    cert_file: a.pem\n", "cert_file and key_file"},
		{"bad level", "log:\n  level: loud\n", "log.level"},
		{"wrong type names line", "mysql:\n  max_packet: big\n", "line 2"},
	}
	for _, tc := range tests {
		c, err := Parse([]byte(tc.doc))
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: unexpected error %v", tc.desc, err)
				continue
			}
			if c.Listen.MySQL != "127.0.0.1:3307" || c.Listen.Admin != "127.0.0.1:9400" || c.MySQL.MaxPacket != 64<<20 {
				t.Errorf("%s: defaults not set: %+v", tc.desc, c)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.desc, err, tc.want)
		}
	}
}
